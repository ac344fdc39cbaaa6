"""Contact rates between the case's key dates, their comparison, and change points."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from analyses._frequency_stats import (
    binary_segmentation,
    chi2_sf_1,
    dispersion,
    normal_quantile,
    poisson_ci,
    rate_ratio,
)

PERIOD_COLUMNS = ("period", "starts_at", "ends_at", "start_utc", "end_utc", "days", "contacts",
                  "rate_per_day", "ci_low", "ci_high")
COMPARISON_COLUMNS = ("earlier", "later", "boundary", "rate_earlier", "rate_later", "ratio", "ci_low",
                      "ci_high", "p_exact", "dispersion", "ci_low_adjusted", "ci_high_adjusted",
                      "p_adjusted")
CHANGE_COLUMNS = ("change", "date_local", "segment_start_local", "segment_end_local", "days_before",
                  "days_after", "contacts_before", "contacts_after", "rate_before", "rate_after",
                  "gain", "p_value")
DAY = pd.Timedelta(days=1)


def periods(contacts: pd.DataFrame, window: tuple, marks: list[dict], kinds: tuple[str, ...],
            confidence: float) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Return the period table and, per period, the row numbers of its contacts.

    Periods run between consecutive marks of ``kinds`` that fall inside the window; marks
    at the same instant make one boundary. The first period starts at the window's first
    record, the last ends at its last record (that record included).
    """
    lo, hi = window
    bounds: dict[pd.Timestamp, list[str]] = {}
    for m in marks:
        if m["kind"] in kinds and lo < m["at_utc"] < hi:
            bounds.setdefault(m["at_utc"], []).append(m["kind"])
    edges = [lo, *sorted(bounds), hi]
    names = ["start_of_records", *(" + ".join(bounds[b]) for b in sorted(bounds)), "end_of_records"]
    ts = utc_ns(contacts["timestamp_utc"])
    cuts = np.searchsorted(ts, utc_ns(pd.Series(edges)), side="left")
    cuts[-1] = len(ts)
    rows, members = [], []
    for i in range(len(edges) - 1):
        n = int(cuts[i + 1] - cuts[i])
        days = (edges[i + 1] - edges[i]) / DAY
        low, high = poisson_ci(n, confidence)
        rows.append({"period": i + 1, "starts_at": names[i], "ends_at": names[i + 1], "start_utc": edges[i],
                     "end_utc": edges[i + 1], "days": round(days, 4), "contacts": n,
                     "rate_per_day": round(n / days, 4), "ci_low": round(low / days, 4),
                     "ci_high": round(high / days, 4)})
        members.append(np.arange(cuts[i], cuts[i + 1]))
    return pd.DataFrame(rows, columns=list(PERIOD_COLUMNS)), members


def _slices(contacts: pd.DataFrame, table: pd.DataFrame, tz: str) -> tuple[np.ndarray, ...]:
    """Cut the window into UK days split at period edges; return whole-day slice counts."""
    lo, hi = table["start_utc"].iloc[0], table["end_utc"].iloc[-1]
    first = lo.tz_convert(tz).normalize()
    midnights = pd.date_range(first, hi.tz_convert(tz).normalize() + DAY, freq="D").tz_convert("UTC")
    edges = sorted(set([t for t in midnights if lo < t < hi] + list(table["start_utc"]) + [hi]))
    edges_ns = utc_ns(pd.Series(edges))
    cuts = np.searchsorted(utc_ns(contacts["timestamp_utc"]), edges_ns, side="left")
    cuts[-1] = len(contacts)
    counts = np.diff(cuts).astype(float)
    exposure = np.diff(edges_ns) / np.timedelta64(1, "D")
    group = np.searchsorted(utc_ns(table["start_utc"]), edges_ns[:-1], side="right") - 1
    # Only (nearly) whole days: a sliver of a day either side of a key date has an expected
    # count near zero and would swamp the Pearson statistic.
    whole = exposure >= 22 / 24
    return counts[whole], exposure[whole], group[whole]


def comparisons(contacts: pd.DataFrame, table: pd.DataFrame, tz: str,
                confidence: float) -> tuple[pd.DataFrame, float]:
    """Compare each period's rate with the next one's; return the table and the dispersion."""
    if len(table) < 2:
        return pd.DataFrame(columns=list(COMPARISON_COLUMNS)), 1.0
    phi = dispersion(*_slices(contacts, table, tz))
    z = normal_quantile(1 - (1 - confidence) / 2)
    rows = []
    for a, b in zip(table.itertuples(index=False), table.iloc[1:].itertuples(index=False), strict=False):
        r = rate_ratio(a.contacts, a.days, b.contacts, b.days, confidence)
        lo_adj = hi_adj = None
        if a.contacts > 0 and b.contacts > 0:
            half = z * math.sqrt(phi * (1 / a.contacts + 1 / b.contacts))
            lo_adj, hi_adj = r["ratio"] * math.exp(-half), r["ratio"] * math.exp(half)
        rows.append({"earlier": a.period, "later": b.period, "boundary": b.starts_at,
                     "rate_earlier": a.rate_per_day, "rate_later": b.rate_per_day,
                     "ratio": _r(r["ratio"]), "ci_low": _r(r["ci_low"]), "ci_high": _r(r["ci_high"]),
                     "p_exact": _p(r["p_exact"]), "dispersion": round(phi, 4),
                     "ci_low_adjusted": _r(lo_adj), "ci_high_adjusted": _r(hi_adj),
                     "p_adjusted": _p(chi2_sf_1(r["lr_stat"] / phi))})
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)), phi


def changes(daily: pd.Series, *, min_segment: int, alpha: float, permutations: int, max_changes: int,
            seed: int) -> pd.DataFrame:
    """Return the change points found in the daily contact counts, with the rates either side."""
    y = daily.to_numpy(float)
    found = binary_segmentation(y, min_segment=min_segment, alpha=alpha, permutations=permutations,
                                max_changes=max_changes, seed=seed)
    days = daily.index
    rows = []
    for n, c in enumerate(found, start=1):
        a, k, b = int(c["start"]), int(c["index"]), int(c["end"])
        before, after = y[a:k].sum(), y[k:b].sum()
        rows.append({"change": n, "date_local": days[k].strftime("%Y-%m-%d"),
                     "segment_start_local": days[a].strftime("%Y-%m-%d"),
                     "segment_end_local": days[b - 1].strftime("%Y-%m-%d"), "days_before": k - a,
                     "days_after": b - k, "contacts_before": int(before), "contacts_after": int(after),
                     "rate_before": round(before / (k - a), 4), "rate_after": round(after / (b - k), 4),
                     "gain": round(c["gain"], 4), "p_value": _p(c["p_value"])})
    return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))


def utc_ns(times: pd.Series) -> np.ndarray:
    """Return tz-aware UTC times as a naive ``datetime64[ns]`` array (for searchsorted)."""
    return pd.to_datetime(times, utc=True).dt.tz_localize(None).to_numpy("datetime64[ns]")


def _r(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def _p(v: float) -> float:
    """Round a p-value to 4 significant figures (small values keep their magnitude)."""
    return float(f"{v:.4g}")
