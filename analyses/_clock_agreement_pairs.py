"""Pairing a source's call and SMS records with the reference records of the same contacts.

Three steps, none of which assumes the offset it measures (so the result is not circular):

1. *Candidates.* A record and a reference record are candidates when they are of the same
   family (call or SMS) and agree on every end both give (``pair_key``), and their times lie
   within ``window_s`` of each other either way. A reference record (a CDR names both
   ends) offers three keys: both ends, the originator alone and the receiver alone, so a
   handset record naming only the other party still finds it.
2. *Mode.* The differences (record minus reference) of all candidates of one exhibit are
   counted in one-second bins; the bin with the most candidates in it and its two
   neighbours is the mode (a tie goes to the smaller offset). The same contact recorded
   twice gives the same difference every time, while unrelated records nearby give
   differences scattered over the window, so the mode finds the offset even when calls
   come in bursts closer together than the offset itself (nearest-in-time pairing alone
   would pair each call with its neighbour).
3. *Nearest unique pairing.* Around the mode (within ``pair_tolerance_s``), each record
   keeps its nearest candidate, and each reference record keeps the nearest of the records
   of that exhibit that kept it; the rest are dropped, not re-paired.

The offset is then the median of the kept differences, with the median absolute deviation,
the quartiles, and the medians of the earlier and later halves of the pairs.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses._clock_agreement_ends import key_codes, window_pairs

PAIR_COLUMNS = (
    "exhibit",
    "event_id",
    "locator",
    "timestamp_utc",
    "family",
    "originator",
    "receiver",
    "reference_exhibit",
    "reference_event_id",
    "reference_locator",
    "reference_utc",
    "difference_s",
)


def pair_key(ends: pd.DataFrame) -> pd.Series:
    """Return each record's key: its family and the ends it gives (``?`` for an end not given)."""
    o = ends["originator"].fillna("?").astype(str)
    r = ends["receiver"].fillna("?").astype(str)
    key = ends["family"].astype(str) + "|" + o + "|" + r
    return key.where(ends["originator"].notna() | ends["receiver"].notna(), None)


def reference_keys(ref: pd.DataFrame) -> pd.DataFrame:
    """Return the reference records once per key they offer (both ends, each end alone)."""
    parts = []
    for keep_o, keep_r in ((True, True), (True, False), (False, True)):
        # Only ends the record gives: a key naming an end it lacks is the same as a shorter key.
        mask = pd.Series(True, index=ref.index)
        if keep_o:
            mask &= ref["originator"].notna()
        if keep_r:
            mask &= ref["receiver"].notna()
        part = ref.loc[mask].copy()
        if not keep_o:
            part["originator"] = None
        if not keep_r:
            part["receiver"] = None
        part["key"] = pair_key(part)
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    out = out.loc[out["key"].notna()]
    return out.drop_duplicates(["key", "event_id"]).reset_index(drop=True)


def candidates(ends: pd.DataFrame, references: tuple[str, ...], window_s: float) -> pd.DataFrame:
    """Return every (record, reference record) candidate within the window, with its difference.

    Columns: ``x`` and ``r`` (row positions in ``ends``), ``exhibit``, ``d_ms``.
    """
    is_ref = ends["exhibit_ref"].isin(references)
    ref = ends.loc[is_ref].assign(row=np.flatnonzero(is_ref.to_numpy()))
    oth = ends.loc[~is_ref].assign(row=np.flatnonzero(~is_ref.to_numpy()))
    oth = oth.assign(key=pair_key(oth))
    oth = oth.loc[oth["key"].notna()]
    offered = reference_keys(ref)
    empty = pd.DataFrame(
        {
            "x": pd.Series(dtype="int64"),
            "r": pd.Series(dtype="int64"),
            "exhibit": pd.Series(dtype=object),
            "d_ms": pd.Series(dtype="int64"),
        }
    )
    if oth.empty or offered.empty:
        return empty
    oth_code, ref_code = key_codes(oth["key"], offered["key"])
    order = np.lexsort((offered["t_ms"].to_numpy(), ref_code))
    ref_code, offered = ref_code[order], offered.iloc[order].reset_index(drop=True)
    w = int(round(window_s * 1000))
    i, j = window_pairs(
        oth_code, oth["t_ms"].to_numpy(), ref_code, offered["t_ms"].to_numpy(), w, w
    )
    if len(i) == 0:
        return empty
    x_rows = oth["row"].to_numpy()[i]
    r_rows = offered["row"].to_numpy()[j]
    out = pd.DataFrame(
        {
            "x": x_rows,
            "r": r_rows,
            "exhibit": oth["exhibit_ref"].to_numpy()[i],
            "d_ms": oth["t_ms"].to_numpy()[i] - offered["t_ms"].to_numpy()[j],
        }
    )
    # One reference record may be offered under two keys that the same record matches only
    # once; keep each (record, reference record) pair once.
    return out.drop_duplicates(["x", "r"]).reset_index(drop=True)


def mode_ms(d_ms: np.ndarray) -> float:
    """Return the centre of the busiest one-second bin (with its neighbours) of the differences."""
    bins = np.floor_divide(d_ms, 1000)
    values, counts = np.unique(bins, return_counts=True)
    per_bin = pd.Series(counts, index=values)
    score = (
        counts
        + per_bin.reindex(values - 1, fill_value=0).to_numpy()
        + per_bin.reindex(values + 1, fill_value=0).to_numpy()
    )
    best = np.lexsort((values, np.abs(values), -score))[0]
    centre = values[best]
    near = d_ms[(bins >= centre - 1) & (bins <= centre + 1)]
    return float(np.median(near))


def unique_pairs(cand: pd.DataFrame, ends: pd.DataFrame, pair_tolerance_s: float) -> pd.DataFrame:
    """Return the kept pairs of each exhibit: around its mode, nearest first, each record once."""
    kept = []
    tol = pair_tolerance_s * 1000
    t_ms = ends["t_ms"].to_numpy()
    ids = ends["event_id"].to_numpy()
    for _exhibit, group in cand.groupby("exhibit", sort=True):  # one pass per exhibit
        centre = mode_ms(group["d_ms"].to_numpy())
        g = group.assign(res=(group["d_ms"] - centre).abs())
        g = g.loc[g["res"] <= tol]
        g = g.assign(
            r_ms=t_ms[g["r"].to_numpy()],
            r_id=ids[g["r"].to_numpy()],
            x_ms=t_ms[g["x"].to_numpy()],
            x_id=ids[g["x"].to_numpy()],
        )
        g = g.sort_values(["x", "res", "r_ms", "r_id"], kind="stable").drop_duplicates("x")
        g = g.sort_values(["r", "res", "x_ms", "x_id"], kind="stable").drop_duplicates("r")
        kept.append(g.assign(mode_ms=centre))
    if not kept:
        return cand.assign(res=pd.Series(dtype=float), mode_ms=pd.Series(dtype=float))
    return pd.concat(kept, ignore_index=True).sort_values(
        ["exhibit", "x_ms", "x_id"], kind="stable"
    )


def pair_table(pairs: pd.DataFrame, ends: pd.DataFrame) -> pd.DataFrame:
    """Return the kept pairs as a table (``PAIR_COLUMNS``), by exhibit then time."""
    x = ends.iloc[pairs["x"].to_numpy()].reset_index(drop=True)
    r = ends.iloc[pairs["r"].to_numpy()].reset_index(drop=True)
    locator = x["locator"] if "locator" in x else pd.Series([""] * len(x))
    ref_locator = r["locator"] if "locator" in r else pd.Series([""] * len(r))
    out = pd.DataFrame(
        {
            "exhibit": x["exhibit_ref"],
            "event_id": x["event_id"],
            "locator": locator,
            "timestamp_utc": x["timestamp_utc"],
            "family": x["family"],
            "originator": x["originator"],
            "receiver": x["receiver"],
            "reference_exhibit": r["exhibit_ref"],
            "reference_event_id": r["event_id"],
            "reference_locator": ref_locator,
            "reference_utc": r["timestamp_utc"],
            "difference_s": pairs["d_ms"].to_numpy() / 1000.0,
        }
    )
    return out.sort_values(["exhibit", "timestamp_utc", "event_id"], kind="stable").reset_index(
        drop=True
    )


def summary(diffs: np.ndarray) -> dict[str, float]:
    """Return the median, spread and half medians of differences (seconds, in pair time order)."""
    med = float(np.median(diffs))
    half = len(diffs) // 2
    return {
        "offset_s": med,
        "mad_s": float(np.median(np.abs(diffs - med))),
        "q1_s": float(np.percentile(diffs, 25)),
        "q3_s": float(np.percentile(diffs, 75)),
        "first_half_offset_s": float(np.median(diffs[:half])) if half else med,
        "second_half_offset_s": float(np.median(diffs[half:])),
        # Spread about each half's own median: a step between the halves does not inflate it.
        "half_mad_s": float(
            np.median(
                np.abs(
                    np.r_[
                        diffs[:half] - np.median(diffs[:half]) if half else [],
                        diffs[half:] - np.median(diffs[half:]),
                    ]
                )
            )
        ),
    }


def second_offset(
    cand: pd.DataFrame, kept: pd.DataFrame, ends: pd.DataFrame, pair_tolerance_s: float
) -> pd.DataFrame:
    """Return the pairs of a second offset among one exhibit's records left unpaired.

    The same steps (mode, nearest unique pairing) run again on the candidates whose record
    and reference record were both left out of ``kept``: a clock reset by more than the
    pairing tolerance during the period leaves its later (or earlier) records unpaired
    at the first offset, and they pair here at the second.
    """
    rest = cand.loc[~cand["x"].isin(kept["x"]) & ~cand["r"].isin(kept["r"])]
    if rest.empty:
        return rest.assign(res=pd.Series(dtype=float))
    return unique_pairs(rest, ends, pair_tolerance_s)
