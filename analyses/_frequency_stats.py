"""Exact Poisson and binomial statistics for ``frequency``, in plain numpy (no scipy).

Every function is deterministic. Tail sums are taken over the whole support in log
space, so the answers are exact to floating-point rounding, and quantiles are found
by bisection on those sums (80 halvings: far below the printed precision).
"""

from __future__ import annotations

import math

import numpy as np

_HALVINGS = 80


def _log_factorials(n: int) -> np.ndarray:
    return np.concatenate(([0.0], np.cumsum(np.log(np.arange(1, n + 1, dtype=float)))))


def binom_pmf(n: int, p: float) -> np.ndarray:
    """Return the binomial probabilities of 0..n successes."""
    k = np.arange(n + 1)
    if p <= 0.0:
        return (k == 0).astype(float)
    if p >= 1.0:
        return (k == n).astype(float)
    lf = _log_factorials(n)
    return np.exp(lf[n] - lf[k] - lf[n - k] + k * math.log(p) + (n - k) * math.log1p(-p))


def binom_two_sided_p(x: int, n: int, p: float) -> float:
    """Return the exact two-sided binomial p-value (outcomes no more probable than ``x``).

    This is the rule of R's ``binom.test``: a relative tolerance of 1e-7 keeps outcomes
    exactly as probable as ``x`` in the sum despite rounding.
    """
    pmf = binom_pmf(n, p)
    return float(min(1.0, pmf[pmf <= pmf[x] * (1 + 1e-7)].sum()))


def _bisect(f, lo: float, hi: float) -> float:
    """Return the root of an increasing function ``f`` on ``[lo, hi]``."""
    for _ in range(_HALVINGS):
        mid = (lo + hi) / 2
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def clopper_pearson(x: int, n: int, confidence: float) -> tuple[float, float]:
    """Return the exact (Clopper-Pearson) interval for a binomial proportion."""
    a = (1 - confidence) / 2
    lower = 0.0 if x == 0 else _bisect(lambda p: binom_pmf(n, p)[x:].sum() - a, 0.0, 1.0)
    upper = 1.0 if x == n else _bisect(lambda p: a - binom_pmf(n, p)[: x + 1].sum(), 0.0, 1.0)
    return lower, upper


def poisson_cdf(k: int, mean: float) -> float:
    """Return P(X <= k) for a Poisson count with the given mean."""
    if k < 0:
        return 0.0
    if mean <= 0:
        return 1.0
    j = np.arange(k + 1)
    logs = j * math.log(mean) - mean - _log_factorials(k)
    return float(min(1.0, np.exp(logs).sum()))


def poisson_ci(count: int, confidence: float) -> tuple[float, float]:
    """Return the exact (Garwood) interval for the mean of a Poisson count."""
    a = (1 - confidence) / 2
    top = count + 20 * math.sqrt(count + 1) + 20
    lower = 0.0 if count == 0 else _bisect(lambda m: (1 - poisson_cdf(count - 1, m)) - a, 0.0, top)
    upper = _bisect(lambda m: a - poisson_cdf(count, m), 0.0, top)
    return lower, upper


def normal_quantile(q: float) -> float:
    """Return the standard normal quantile (inverse of 0.5·erfc(-z/√2))."""
    return _bisect(lambda z: 0.5 * math.erfc(-z / math.sqrt(2)) - q, -40.0, 40.0)


def chi2_sf_1(x: float) -> float:
    """Return the upper tail of a chi-squared variable with one degree of freedom."""
    return math.erfc(math.sqrt(max(x, 0.0) / 2))


def rate_ratio(x1: int, t1: float, x2: int, t2: float, confidence: float) -> dict[str, float | None]:
    """Compare two Poisson rates: count ``x1`` over exposure ``t1`` against ``x2`` over ``t2``.

    Returns the ratio rate2/rate1, its exact conditional interval (Clopper-Pearson on the
    share of period 2 in ``x1 + x2``, transformed), the exact conditional binomial test of
    equal rates, and the likelihood-ratio statistic (for the over-dispersion adjustment).
    """
    n = x1 + x2
    p0 = t2 / (t1 + t2)
    out: dict[str, float | None] = {"ratio": None, "ci_low": None, "ci_high": None,
                                    "p_exact": 1.0, "lr_stat": 0.0}
    if n == 0:
        return out
    out["ratio"] = None if x1 == 0 else (x2 / t2) / (x1 / t1)
    lo, hi = clopper_pearson(x2, n, confidence)
    odds = t1 / t2
    out["ci_low"] = lo / (1 - lo) * odds if lo < 1 else None
    out["ci_high"] = hi / (1 - hi) * odds if hi < 1 else None
    out["p_exact"] = binom_two_sided_p(x2, n, p0)
    pooled = n / (t1 + t2)
    lr = sum(2 * x * math.log(x / (t * pooled)) for x, t in ((x1, t1), (x2, t2)) if x > 0)
    out["lr_stat"] = max(lr, 0.0)
    return out


def dispersion(counts: np.ndarray, exposure: np.ndarray, group: np.ndarray) -> float:
    """Return the Pearson dispersion of counts about their group's Poisson rate (at least 1).

    ``counts`` and ``exposure`` are per slice (a day, cut at period boundaries), ``group``
    the period of each slice. Bursty contact makes daily counts vary more than a Poisson
    count would; the ratio (Pearson chi-squared / degrees of freedom) measures by how much.
    """
    groups = np.unique(group)
    df = len(counts) - len(groups)
    if df <= 0:
        return 1.0
    chi2 = 0.0
    for g in groups:
        m = group == g
        rate = counts[m].sum() / exposure[m].sum()
        expected = rate * exposure[m]
        ok = expected > 0
        chi2 += float((((counts[m] - expected) ** 2)[ok] / expected[ok]).sum())
    return max(1.0, chi2 / df)


def split_gain(y: np.ndarray, min_segment: int) -> tuple[np.ndarray, np.ndarray]:
    """Return, for each row of ``y`` (rows are series), the best split and its log-likelihood gain.

    A split at ``k`` gives segments ``y[:k]`` and ``y[k:]``, each with its own Poisson mean;
    the gain is twice the log-likelihood improvement over one mean for the whole series.
    Splits leaving a segment shorter than ``min_segment`` are not considered.
    """
    y = np.atleast_2d(y).astype(float)
    n = y.shape[1]
    ks = np.arange(min_segment, n - min_segment + 1)
    if ks.size == 0:
        return np.full(y.shape[0], -1), np.zeros(y.shape[0])
    cum = np.cumsum(y, axis=1)
    total = cum[:, -1:]
    left = cum[:, ks - 1]
    right = total - left

    def ll(s: np.ndarray, length: np.ndarray | float) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(s > 0, s * np.log(s / length), 0.0)

    gain = 2 * (ll(left, ks) + ll(right, n - ks) - ll(total, n))
    best = np.argmax(gain, axis=1)  # first maximum: ties resolve to the earliest split
    return ks[best], gain[np.arange(y.shape[0]), best]


def binary_segmentation(y: np.ndarray, *, min_segment: int, alpha: float, permutations: int,
                        max_changes: int, seed: int) -> list[dict[str, float | int]]:
    """Find change points in a daily count series by binary segmentation.

    Each segment's best split is kept when a permutation test of its gain (days of the
    segment shuffled ``permutations`` times) gives p <= ``alpha``; then both halves are
    searched in turn, left to right, until ``max_changes`` are found. The shuffle makes no
    Poisson assumption, so bursty days do not shrink the p-value.
    """
    rng = np.random.default_rng(seed)
    found: list[dict[str, float | int]] = []
    queue = [(0, len(y))]
    while queue and len(found) < max_changes:
        a, b = queue.pop(0)
        seg = np.asarray(y[a:b], dtype=float)
        k, g = split_gain(seg, min_segment)
        if k[0] < 0 or g[0] <= 0:
            continue
        shuffled = np.array([rng.permutation(seg) for _ in range(permutations)])
        _, null = split_gain(shuffled, min_segment)
        p = (1 + int(np.sum(null >= g[0] - 1e-9))) / (permutations + 1)
        if p > alpha:
            continue
        cut = a + int(k[0])
        found.append({"index": cut, "start": a, "end": b, "gain": float(g[0]), "p_value": p})
        queue += [(a, cut), (cut, b)]
    return sorted(found, key=lambda c: c["index"])
