"""The device-to-device sweep: every pair of records close in space and time, without all-pairs.

Two records a (one device) and b (the other) are a *hit* when

* their times are within ``window_s`` seconds: ``a.start <= b.end + T`` and
  ``b.start <= a.end + T`` (an instant has start == end; an interval, such as a
  provider's "visit", counts if any part of it is within T of the other), and
* their recorded positions *could* be within ``distance_m``:
  ``d - (r_a + r_b) <= D`` where d is the haversine distance between the
  positions and r the uncertainty radii.

Method: both sets are projected (local equirectangular, x scaled by the cosine
of the most poleward latitude present, so projected east-west distances never
exceed true ones) and put into square grid cells of side at least the largest
possible reach ``D + 2·r_max`` (plus a 1 % and 1 m margin). Records of the other
set are sorted by (cell, start time). For each record and each of its nine
neighbouring cells, two binary searches on a combined (cell rank, time rank) key
give the contiguous run of other-set records in that cell whose start lies in
the time window; only those candidates get an exact distance. Cost is
O((n + m) log m + candidates), not O(n·m). Interval records of the other set are
searched separately, with the window widened by their longest duration, so
instant records keep the tight window. ``brute_pairs`` is the O(n·m) reference
the tests compare against; both use the same distance function, so they agree
exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyses._colocation_geo import haversine_m, project

CHUNK = 32_768
"""Records of the first set handled per step, bounding the candidate arrays' memory."""


@dataclass(frozen=True)
class Track:
    """One device's records as arrays: start/end in int64 microseconds, WGS84, uncertainty (m)."""

    start: np.ndarray
    end: np.ndarray
    lat: np.ndarray
    lon: np.ndarray
    radius: np.ndarray

    def __len__(self) -> int:
        return len(self.start)


def pair_ok(a: Track, b: Track, i: np.ndarray, j: np.ndarray, distance_m: float,
            window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (mask, distance) of the exact hit test for index pairs ``i`` of ``a`` and ``j`` of ``b``."""
    d = haversine_m(a.lat[i], a.lon[i], b.lat[j], b.lon[j])
    ok = ((a.start[i] <= b.end[j] + window_us) & (b.start[j] <= a.end[i] + window_us)
          & (d - (a.radius[i] + b.radius[j]) <= distance_m))
    return ok, d


def brute_pairs(a: Track, b: Track, distance_m: float, window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Return all hit pairs (i, j), sorted, by testing every pair: the O(n·m) reference."""
    i, j = np.meshgrid(np.arange(len(a)), np.arange(len(b)), indexing="ij")
    i, j = i.ravel(), j.ravel()
    ok, _ = pair_ok(a, b, i, j, distance_m, window_us)
    return i[ok], j[ok]


def sweep_pairs(a: Track, b: Track, distance_m: float, window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Return all hit pairs (i, j) sorted by i then j, using spatial cells and binary search."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    if len(a) == 0 or len(b) == 0:
        return empty
    lat_ref = float(min(89.0, max(np.abs(a.lat).max(), np.abs(b.lat).max())))
    lon0 = float(a.lon[0])
    r_max = float(max(a.radius.max(), b.radius.max()))
    cell = (distance_m + 2.0 * r_max) * 1.01 + 1.0
    ax, ay = project(a.lat, a.lon, lat_ref, lon0)
    bx, by = project(b.lat, b.lon, lat_ref, lon0)
    acx, acy = np.floor(ax / cell).astype(np.int64), np.floor(ay / cell).astype(np.int64)
    bcx, bcy = np.floor(bx / cell).astype(np.int64), np.floor(by / cell).astype(np.int64)

    found_i, found_j = [], []
    duration = b.end - b.start
    for part in (duration == 0, duration != 0):
        idx = np.flatnonzero(part)
        if idx.size == 0:
            continue
        widen = int(duration[idx].max())
        pi, pj = _sweep_part(a, b, idx, acx, acy, bcx[idx], bcy[idx], widen, distance_m, window_us)
        found_i.append(pi)
        found_j.append(pj)
    i = np.concatenate(found_i) if found_i else empty[0]
    j = np.concatenate(found_j) if found_j else empty[1]
    order = np.lexsort((j, i))
    return i[order], j[order]


def _sweep_part(a: Track, b: Track, bidx: np.ndarray, acx: np.ndarray, acy: np.ndarray,
                bcx: np.ndarray, bcy: np.ndarray, widen: int, distance_m: float,
                window_us: int) -> tuple[np.ndarray, np.ndarray]:
    """Sweep ``a`` against the subset ``bidx`` of ``b`` whose durations are at most ``widen``."""
    # Dense cell ranks over b's occupied cells; a key is (cx, cy) packed after offsetting.
    ox, oy = min(acx.min(), bcx.min()) - 1, min(acy.min(), bcy.min()) - 1
    span_y = int(max(acy.max(), bcy.max()) - oy + 2)
    bkey = (bcx - ox) * span_y + (bcy - oy)
    ukeys = np.unique(bkey)
    brank = np.searchsorted(ukeys, bkey)
    bstart = b.start[bidx]
    times = np.sort(bstart, kind="stable")
    trank = np.searchsorted(times, bstart, side="left")
    base = np.int64(len(bidx) + 1)
    comp = brank.astype(np.int64) * base + trank
    order = np.argsort(comp, kind="stable")
    comp = comp[order]
    bsorted = bidx[order]

    # Time ranks are looked up in a's own (time) order, then a is walked in (cell, time)
    # order so that every later binary search gets nearly sorted keys (cache-friendly).
    lo_all = np.searchsorted(times, a.start - window_us - widen, side="left")
    hi_all = np.searchsorted(times, a.end + window_us, side="right")
    akey = (acx - ox) * span_y + (acy - oy)
    walk = np.lexsort((a.start, akey))
    out_i, out_j = [], []
    for c0 in range(0, len(a), CHUNK):
        ai = walk[c0:c0 + CHUNK]
        lo_t, hi_t = lo_all[ai], hi_all[ai]
        # This chunk's neighbours lie in one stretch of b's sorted keys: search only there,
        # so the binary searches stay in cache whatever the size of b.
        first = np.searchsorted(ukeys, akey[ai[0]] - span_y - 1, side="left")
        last = np.searchsorted(ukeys, akey[ai[-1]] + span_y + 1, side="right")
        c_lo = np.searchsorted(comp, first * base, side="left")
        c_hi = np.searchsorted(comp, last * base, side="left")
        part = comp[c_lo:c_hi]
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                key = (acx[ai] + dx - ox) * span_y + (acy[ai] + dy - oy)
                r = np.searchsorted(ukeys, key)
                present = (r < len(ukeys)) & (ukeys[np.minimum(r, len(ukeys) - 1)] == key)
                if not present.any():
                    continue
                qa, qr = ai[present], r[present].astype(np.int64)
                lo = np.searchsorted(part, qr * base + lo_t[present], side="left") + c_lo
                hi = np.searchsorted(part, qr * base + hi_t[present], side="left") + c_lo
                n = hi - lo
                keep = n > 0
                if not keep.any():
                    continue
                qa, lo, n = qa[keep], lo[keep], n[keep]
                ci = np.repeat(qa, n)
                offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
                cj = bsorted[np.repeat(lo, n) + offsets]
                ok, _ = pair_ok(a, b, ci, cj, distance_m, window_us)
                out_i.append(ci[ok])
                out_j.append(cj[ok])
    if not out_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(out_i), np.concatenate(out_j)


def merge_spans(start: np.ndarray, end: np.ndarray, gap_us: int) -> np.ndarray:
    """Return an episode number (0-based) per span; spans must be sorted by start.

    A span opens a new episode when it starts more than ``gap_us`` after the
    latest end seen so far.
    """
    if len(start) == 0:
        return np.zeros(0, np.int64)
    latest = np.maximum.accumulate(end)
    opens = np.r_[True, start[1:] - latest[:-1] > gap_us]
    return np.cumsum(opens) - 1
