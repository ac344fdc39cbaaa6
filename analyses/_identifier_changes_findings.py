"""Turn ``identifier_changes``' tables into findings: keys, values, event ids in time order."""

from __future__ import annotations

import pandas as pd

from atlas.analysis import Finding

KEYS = {
    "key_date_block": "identifier_changes.candidate_after_block",
    "block_record": "identifier_changes.candidate_after_block_record",
    "last_contact": "identifier_changes.candidate_after_last_contact",
}


def findings_for(table: pd.DataFrame, anchors: pd.DataFrame, params) -> tuple[Finding, ...]:
    """Return the findings: one per candidate in rank order, or why there are none."""
    if anchors.empty:
        return (Finding("identifier_changes.no_old_identifiers", {}, ()),)
    if table.empty:
        return (
            Finding(
                "identifier_changes.no_candidates",
                {
                    "window_days": params.window_days,
                    "anchors": len(anchors),
                    "old_identifiers": sorted(anchors["old_identifier"].unique().tolist()),
                },
                tuple(_in_order(anchors, "anchor_utc", "anchor_event_id")),
            ),
        )
    out = []
    for r in table.loc[table["best"]].itertuples(index=False):
        others = table.loc[(table["identifier"] == r.identifier) & ~table["best"]]
        values = {
            "rank": r.rank,
            "identifier": r.identifier,
            "first_utc": r.first_utc,
            "first_exhibit": r.first_exhibit,
            "first_locator": r.first_locator,
            "first_channel": r.first_channel,
            "new_records": r.new_records,
            "new_channels": list(r.new_channels),
            "old_identifier": r.old_identifier,
            "old_person": r.old_person or "no person",
            "old_suspected": "yes" if r.old_suspected else "no",
            "anchor_source": r.anchor_source,
            "anchor_utc": r.anchor_utc,
            "window_days": params.window_days,
            "gap_days": r.gap_days,
            "gap_days_text": _num(r.gap_days),
            "old_last_before_utc": "none recorded"
            if _missing(r.old_last_before_utc)
            else r.old_last_before_utc,
            "gap_from_old_last_days": r.gap_from_old_last_days,
            "gap_from_old_last_text": _num(r.gap_from_old_last_days),
            "old_contacts_after_new_first": r.old_contacts_after_new_first,
            "shared_parties": r.shared_parties,
            "shared_party_list": list(r.shared_party_list) or ["none"],
            "old_parties": r.old_parties,
            "new_parties": r.new_parties,
            "hour_cosine": r.hour_cosine,
            "hour_cosine_text": _num(r.hour_cosine),
            "lexical_cosine": r.lexical_cosine,
            "lexical_cosine_text": _num(r.lexical_cosine),
            "old_mean_chars_text": _num(r.old_mean_chars, 1),
            "new_mean_chars_text": _num(r.new_mean_chars, 1),
            "old_messages": r.old_messages,
            "new_messages": r.new_messages,
            "terms_in_both": list(r.terms_in_both) or ["none"],
            "terms_in_new": list(r.terms_in_new) or ["none"],
            "old_channels": list(r.old_channels) or ["none"],
            "same_channel": "yes" if r.same_channel else "no",
            "score": r.score,
            "score_text": _num(r.score, 1),
            "other_anchors": len(others),
        }
        lead = [
            (r.anchor_utc, r.anchor_event_id),
            (r.old_last_before_utc, r.old_last_before_event_id),
            (r.first_utc, r.first_event_id),
        ]
        ids = [e for _t, e in sorted((t, e) for t, e in lead if e)]
        # The candidate's messages naming a person are its own, all at or after its first contact.
        ids += list(r.term_event_ids)
        out.append(Finding(KEYS[r.anchor_kind], values, tuple(dict.fromkeys(ids))))
    return tuple(out)


def _in_order(frame: pd.DataFrame, time_col: str, id_col: str) -> list[str]:
    rows = frame.loc[frame[id_col] != ""].sort_values([time_col, id_col], kind="stable")
    return list(dict.fromkeys(rows[id_col]))


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _num(value: float | None, places: int = 2) -> str:
    if value is None or pd.isna(value):
        return "not computed"
    return f"{value:,.{places}f}"
