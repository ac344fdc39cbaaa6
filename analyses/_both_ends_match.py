"""Matching received anonymous contact with the suspect's outgoing records (both_ends).

A *candidate* is a pair of one received record and one sending record of the same family
(call or SMS) to the same victim number whose corrected times satisfy
``-tolerance <= received - sent <= tolerance`` (calls) or ``<= tolerance + sms_delay``
(SMS: a text can reach a phone some time after it was sent, never before). It is found by
one sort and two binary searches per side (``window_pairs``), never by comparing all pairs.
A candidate is *rejected* when both records name a calling number and the numbers differ,
or when both give a call duration above zero that differ by more than the duration
tolerance. The remaining candidates of a received record on one sending exhibit:

* exactly one, and that sending record is a candidate of no other record on the same
  receiving exhibit: *matched*;
* more than one, or a sending record shared by two records of one receiving exhibit:
  *ambiguous* (all candidates are listed; none is chosen).

The same contact held by two exhibits on either side (her call log and her UFED report,
his handset and his CDR) is matched once per pair of exhibits, never counted as ambiguity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses._clock_agreement_ends import key_codes, window_pairs

NEAREST_WINDOW_S = 3600
"""How far the nearest same-number record of an unmatched record is looked for (reported only)."""
SIDE_COLUMNS = (
    "event_id",
    "exhibit_ref",
    "locator",
    "timestamp_utc",
    "corrected_ms",
    "offset_ms",
    "family",
    "originator",
    "prefix",
    "duration_s",
)


def _key(frame: pd.DataFrame, number: str) -> pd.Series:
    return frame["family"].astype(str) + "|" + frame[number].astype(str)


def candidates(
    recv: pd.DataFrame,
    sent: pd.DataFrame,
    tolerance_s: float,
    sms_delay_s: float,
    duration_tolerance_s: float,
) -> pd.DataFrame:
    """Return every candidate pair with ``v``, ``s`` (row positions), ``d_ms`` and ``reason``.

    ``reason`` is empty for a kept candidate, else ``sender_differs`` or ``duration_differs``.
    """
    to_victim = sent.loc[sent["to_victim"]]
    if recv.empty or to_victim.empty:
        return pd.DataFrame(
            {
                "v": pd.Series(dtype="int64"),
                "s": pd.Series(dtype="int64"),
                "d_ms": pd.Series(dtype="int64"),
                "reason": pd.Series(dtype=object),
            }
        )
    v_code, s_code = key_codes(_key(recv, "victim_number"), _key(to_victim, "receiver"))
    s_ms = to_victim["corrected_ms"].to_numpy()
    order = np.lexsort((s_ms, s_code))
    s_rows = np.flatnonzero(sent["to_victim"].to_numpy())[order]
    tol = int(round(tolerance_s * 1000))
    delay = int(round(sms_delay_s * 1000))
    i, j = window_pairs(
        v_code, recv["corrected_ms"].to_numpy(), s_code[order], s_ms[order], tol + delay, tol
    )
    s_idx = s_rows[j]
    d = recv["corrected_ms"].to_numpy()[i] - sent["corrected_ms"].to_numpy()[s_idx]
    is_call = recv["family"].to_numpy()[i] == "call:tel"
    keep = ~is_call | (d <= tol)
    i, s_idx, d = i[keep], s_idx[keep], d[keep]
    vo, so = recv["originator"].to_numpy()[i], sent["originator"].to_numpy()[s_idx]
    differs = pd.notna(vo) & pd.notna(so) & (vo != so)
    vd = recv["duration_s"].to_numpy(dtype=float)[i]
    sd = sent["duration_s"].to_numpy(dtype=float)[s_idx]
    both = (recv["family"].to_numpy()[i] == "call:tel") & (vd > 0) & (sd > 0)
    long = both & (np.abs(np.nan_to_num(vd) - np.nan_to_num(sd)) > duration_tolerance_s)
    reason = np.where(differs, "sender_differs", np.where(long, "duration_differs", ""))
    return pd.DataFrame({"v": i, "s": s_idx, "d_ms": d, "reason": reason.astype(object)})


def classify(cand: pd.DataFrame, recv: pd.DataFrame, sent: pd.DataFrame) -> pd.DataFrame:
    """Return the kept candidates with ``status`` (matched or ambiguous) and ``candidates``."""
    ok = cand.loc[cand["reason"] == ""].copy()
    ok["v_id"] = recv["event_id"].to_numpy()[ok["v"].to_numpy()]
    ok["v_ex"] = recv["exhibit_ref"].to_numpy()[ok["v"].to_numpy()]
    ok["s_id"] = sent["event_id"].to_numpy()[ok["s"].to_numpy()]
    ok["s_ex"] = sent["exhibit_ref"].to_numpy()[ok["s"].to_numpy()]
    # A record offered for two victim numbers counts once per sending record.
    ok = ok.drop_duplicates(["v_id", "s_id"])
    per_v = ok.groupby(["v_id", "s_ex"])["s_id"].transform("size")
    per_s = ok.groupby(["s_id", "v_ex"])["v_id"].transform("nunique")
    ok["candidates"] = per_v.astype("int64")
    ok["claims"] = per_s.astype("int64")
    ok["status"] = np.where((per_v == 1) & (per_s == 1), "matched", "ambiguous")
    return ok.reset_index(drop=True)


def pair_rows(pairs: pd.DataFrame, recv: pd.DataFrame, sent: pd.DataFrame) -> pd.DataFrame:
    """Return one table row per pair: both records side by side, and their difference."""
    v = recv.iloc[pairs["v"].to_numpy()].reset_index(drop=True)
    s = sent.iloc[pairs["s"].to_numpy()].reset_index(drop=True)
    out = pd.DataFrame(
        {
            "status": pairs["status"].to_numpy()
            if "status" in pairs
            else pairs["reason"].to_numpy(),
            "category": v["category"],
            "family": v["family"],
            "victim_number": v["victim_number"],
            "received_event_id": v["event_id"],
            "received_exhibit": v["exhibit_ref"],
            "received_locator": v["locator"],
            "received_utc": v["timestamp_utc"],
            "received_offset_s": v["offset_ms"] / 1000.0,
            "received_sender": v["originator"],
            "received_duration_s": v["duration_s"],
            "sent_event_id": s["event_id"],
            "sent_exhibit": s["exhibit_ref"],
            "sent_locator": s["locator"],
            "sent_utc": s["timestamp_utc"],
            "sent_offset_s": s["offset_ms"] / 1000.0,
            "sent_sender": s["originator"],
            "sent_prefix": s["prefix"],
            "sent_basis": s["basis"],
            "sent_person": s["person"],
            "sent_duration_s": s["duration_s"],
            "difference_s": pairs["d_ms"].to_numpy() / 1000.0,
            "candidates": pairs["candidates"].to_numpy() if "candidates" in pairs else 1,
        }
    )
    return out.sort_values(
        ["received_utc", "received_exhibit", "received_event_id", "sent_utc", "sent_event_id"],
        kind="stable",
    ).reset_index(drop=True)


def unmatched_rows(
    recv: pd.DataFrame, sent: pd.DataFrame, done: set[str], tolerance_s: float, sms_delay_s: float
) -> pd.DataFrame:
    """Return the received records with no kept candidate, with what lies nearest.

    ``nearest_same_number_s``: the corrected difference to the nearest sending record to the
    same number within ``NEAREST_WINDOW_S`` (outside the tolerance, else it would be a
    candidate). ``other_number_event_ids``: sending records of the same family to another
    number inside the tolerance window: close in time, but not a match.
    """
    rest = recv.loc[~recv["event_id"].isin(done)].reset_index(drop=True)
    rest = rest.assign(key=_key(rest, "victim_number"))
    to_victim = sent.loc[sent["to_victim"]].assign(key=lambda f: _key(f, "receiver"))
    near = pd.merge_asof(
        rest[["corrected_ms", "key"]].assign(row=np.arange(len(rest))).sort_values("corrected_ms"),
        to_victim[["corrected_ms", "key", "event_id"]]
        .rename(columns={"corrected_ms": "s_ms"})
        .sort_values(["s_ms", "event_id"])
        .assign(corrected_ms=lambda f: f["s_ms"]),
        on="corrected_ms",
        by="key",
        direction="nearest",
        tolerance=NEAREST_WINDOW_S * 1000,
    ).sort_values("row")
    rest["nearest_same_number_s"] = ((near["corrected_ms"] - near["s_ms"]) / 1000.0).to_numpy()
    rest["nearest_same_number_event_id"] = near["event_id"].to_numpy()
    other = sent.loc[~sent["to_victim"]]
    v_code, s_code = key_codes(rest["family"], other["family"])
    o_ms = other["corrected_ms"].to_numpy()
    order = np.lexsort((o_ms, s_code))
    tol, delay = int(round(tolerance_s * 1000)), int(round(sms_delay_s * 1000))
    i, j = window_pairs(
        v_code, rest["corrected_ms"].to_numpy(), s_code[order], o_ms[order], tol + delay, tol
    )
    ids = other["event_id"].to_numpy()[order][j]
    d = rest["corrected_ms"].to_numpy()[i] - o_ms[order][j]
    keep = (rest["family"].to_numpy()[i] != "call:tel") | (d <= tol)
    found = pd.Series(ids[keep]).groupby(i[keep]).agg(lambda s: sorted(s))
    rest["other_number_event_ids"] = [found.get(k, []) for k in range(len(rest))]
    return rest.drop_duplicates("event_id").drop(columns=["key"]).reset_index(drop=True)
