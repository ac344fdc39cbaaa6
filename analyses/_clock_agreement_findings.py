"""Findings of clock_agreement: one per exhibit, keys and values only (wording in the TOML)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from atlas.analysis import Finding

if TYPE_CHECKING:
    from analyses.clock_agreement import Estimate, Params

AGREES_S = 1.0
"""A median difference smaller than this is reported as agreement to within a second."""


def seconds_text(value: float, signed: bool = False) -> str:
    """Return a number of seconds for people: ``3 min 7.2 s``, ``+0.4 s``, ``1 h 2 min 0.0 s``."""
    rest = round(abs(value), 1)
    sign = ("+" if value > 0 else "-") if signed and rest > 0 else ""
    hours, rest = divmod(rest, 3600)
    minutes, rest = divmod(rest, 60)
    parts = [f"{int(hours)} h"] if hours else []
    if hours or minutes:
        parts.append(f"{int(minutes)} min")
    parts.append(f"{rest:.1f} s")
    return sign + " ".join(parts)


def _event_ids(pairs: pd.DataFrame) -> tuple[str, ...]:
    """Return both sides' event ids of the pairs, in time order (ties by id)."""
    both = pd.concat(
        [
            pd.DataFrame({"t": pairs["timestamp_utc"], "id": pairs["event_id"]}),
            pd.DataFrame({"t": pairs["reference_utc"], "id": pairs["reference_event_id"]}),
        ],
        ignore_index=True,
    ).drop_duplicates("id")
    return tuple(both.sort_values(["t", "id"], kind="stable")["id"])


def findings_for(est: Estimate, params: Params) -> tuple[Finding, ...]:
    """Return the findings: offsets, agreement, changes over time, exhibits not estimated."""
    out: list[Finding] = []
    refs = ", ".join(est.references)
    if not est.references:
        rule = (
            "exhibits named in the run's parameters"
            if params.reference_exhibits
            else "exhibits read as operator call data records"
        )
        return (Finding("clock_agreement.no_reference", {"reference_rule": rule}, ()),)
    for row in est.offsets.itertuples(index=False):
        if row.status == "reference":
            continue
        if row.status == "not_estimated":
            mine = est.pairs.loc[est.pairs["exhibit"] == row.exhibit]
            out.append(
                Finding(
                    "clock_agreement.not_estimated",
                    {
                        "exhibit": row.exhibit,
                        "records": int(row.records),
                        "pairs": int(row.pairs),
                        "min_pairs": params.min_pairs,
                        "references": refs,
                    },
                    _event_ids(mine),
                )
            )
            continue
        mine = est.pairs.loc[est.pairs["exhibit"] == row.exhibit]
        values = {
            "exhibit": row.exhibit,
            "pairs": int(row.pairs),
            "unpaired": int(row.records_with_candidates) - int(row.pairs),
            "references": row.references,
            "offset_s": float(row.offset_s),
            "offset_text": seconds_text(row.offset_s),
            "offset_signed": seconds_text(row.offset_s, signed=True),
            "relation": "later than" if row.offset_s > 0 else "earlier than",
            "q1_text": seconds_text(row.q1_s, signed=True),
            "q3_text": seconds_text(row.q3_s, signed=True),
            "mad_text": seconds_text(row.mad_s),
            "first_utc": row.first_pair_utc,
            "last_utc": row.last_pair_utc,
            "first_half_text": seconds_text(row.first_half_offset_s, signed=True),
            "second_half_text": seconds_text(row.second_half_offset_s, signed=True),
        }
        ids = _event_ids(mine)
        key = "clock_agreement.agrees" if abs(row.offset_s) < AGREES_S else "clock_agreement.offset"
        out.append(Finding(key, values, ids))
        change = abs(row.second_half_offset_s - row.first_half_offset_s)
        if change > max(2.0, 3 * row.half_mad_s):
            split = mine["timestamp_utc"].iloc[len(mine) // 2]
            shown = {"split_utc": split, "change_text": seconds_text(change)}
            out.append(Finding("clock_agreement.offset_drifts", {**values, **shown}, ids))
        if pd.notna(row.second_offset_s):
            second = {
                "second_pairs": int(row.second_offset_pairs),
                "second_offset_signed": seconds_text(row.second_offset_s, signed=True),
                "second_mad_text": seconds_text(row.second_offset_mad_s),
                "second_first_utc": row.second_first_utc,
                "second_last_utc": row.second_last_utc,
            }
            out.append(Finding("clock_agreement.second_offset", {**values, **second}, ids))
    return tuple(out)
