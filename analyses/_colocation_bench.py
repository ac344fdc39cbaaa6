"""Benchmark of the colocation device-to-device sweep on two random tracks (``make bench``).

``bench(n_a, n_b, seed)`` builds two seeded random-walk tracks in the same
10 km square, one fix about every 30 s on average (so 1,000,000 fixes cover
about a year and the density of fixes is the same at every size), accuracies
5-30 m; the walks are reflected at the square's edges. One per cent of the
second track's fixes are planted near a random fix of the first (within five
minutes, about 30 m off), so the number of hits grows with the size. It then
times
``sweep_pairs`` with D = 100 m and T = 10 minutes. Wall-clock time is measured
here only; the analysis itself never reads the clock.

Run ``python -m analyses._colocation_bench`` for the 100k and 1M sizes and the
scaling ratio.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np

from analyses._colocation_sweep import Track, sweep_pairs

LAT0, LON0 = 53.80, -1.55
SIDE_M = 10_000.0
EVERY_US = 30 * 1_000_000


def random_track(n: int, rng: np.random.Generator) -> Track:
    """Return a random-walk track of ``n`` fixes, time-sorted, in a 10 km square."""
    t = np.sort(rng.integers(0, max(n, 1) * EVERY_US, n))
    steps = rng.normal(0.0, 15.0, (n, 2))
    walk = np.cumsum(steps, axis=0) + rng.uniform(0, SIDE_M, 2)
    folded = np.abs(np.mod(walk, 2 * SIDE_M) - SIDE_M)  # reflect into [0, SIDE_M]
    lat = LAT0 + folded[:, 1] / 111_195.0
    lon = LON0 + folded[:, 0] / (111_195.0 * np.cos(np.radians(LAT0)))
    return Track(t, t.copy(), lat, lon, rng.uniform(5.0, 30.0, n))


def bench(n_a: int = 1_000_000, n_b: int = 1_000_000, seed: int = 1,
          repeat: int = 3) -> dict[str, float | int]:
    """Time the device-to-device sweep on two random tracks; return sizes, best seconds and pairs."""
    rng = np.random.default_rng(seed)
    a, b = random_track(n_a, rng), random_track(n_b, rng)
    if n_a and n_b:  # plant meetings: 1 % of b's fixes copy a random fix of a, +-5 min, ~30 m off
        k = rng.choice(n_b, n_b // 100, replace=False)
        src = rng.integers(0, n_a, k.size)
        b.start[k] = a.start[src] + rng.integers(-300, 301, k.size) * 1_000_000
        b.end[k] = b.start[k]
        b.lat[k] = a.lat[src] + rng.normal(0, 30 / 111_195.0, k.size)
        b.lon[k] = a.lon[src] + rng.normal(0, 30 / 65_600.0, k.size)
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        i, _ = sweep_pairs(a, b, 100.0, 10 * 60 * 1_000_000)
        times.append(time.perf_counter() - start)
    return {"n_a": n_a, "n_b": n_b, "seed": seed, "seconds": round(min(times), 3),
            "seconds_first": round(times[0], 3), "pairs": int(i.size)}


def main() -> None:
    """Print the 100k and 1M timings and their ratio as JSON."""
    big = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    small = bench(big // 10, big // 10)
    large = bench(big, big)
    ratio = large["seconds"] / max(small["seconds"], 1e-9)
    per = {k: round(r["seconds"] / (r["n_a"] + r["n_b"]) * 1e9) for k, r in (("small", small), ("large", large))}
    print(json.dumps({"small": small, "large": large, "time_ratio": round(ratio, 2),
                      "ns_per_record": per}, indent=2))


if __name__ == "__main__":
    main()
