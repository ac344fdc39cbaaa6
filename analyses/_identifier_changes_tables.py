"""The tables of ``identifier_changes``: candidate pairs ranked, anchors, contacts per day."""

from __future__ import annotations

import pandas as pd

from analyses import _identifier_changes_evidence as ev

CANDIDATE_COLUMNS = (
    "rank",
    "best",
    "identifier",
    "old_identifier",
    "old_person",
    "old_suspected",
    "anchor_kind",
    "anchor_source",
    "anchor_utc",
    "anchor_event_id",
    "first_utc",
    "first_event_id",
    "first_exhibit",
    "first_locator",
    "first_channel",
    "new_records",
    "new_channels",
    "gap_days",
    "old_last_before_utc",
    "old_last_before_event_id",
    "gap_from_old_last_days",
    "old_contacts_after_new_first",
    "shared_parties",
    "shared_party_list",
    "old_parties",
    "new_parties",
    "hour_cosine",
    "lexical_cosine",
    "old_mean_chars",
    "new_mean_chars",
    "old_messages",
    "new_messages",
    "terms_in_both",
    "terms_in_new",
    "term_event_ids",
    "old_channels",
    "same_channel",
    "score",
)
ANCHOR_COLUMNS = (
    "old_identifier",
    "old_person",
    "old_suspected",
    "anchor_kind",
    "anchor_source",
    "anchor_utc",
    "anchor_event_id",
    "old_records",
    "old_first_utc",
    "old_last_utc",
    "candidates",
)
DAILY_COLUMNS = ("identifier", "role", "date_local", "contacts")


def ranked(table: pd.DataFrame) -> pd.DataFrame:
    """Mark each candidate's best anchor, rank candidates, and sort by a total key."""
    if table.empty:
        return table[list(CANDIDATE_COLUMNS)]
    table = table.sort_values(
        [
            "identifier",
            "score",
            "gap_days",
            "anchor_utc",
            "old_identifier",
            "anchor_kind",
            "anchor_source",
        ],
        ascending=[True, False, True, True, True, True, True],
        kind="stable",
    ).reset_index(drop=True)
    first = ~table["identifier"].duplicated()
    table["best"] = first
    best = table.loc[first].sort_values(
        ["score", "gap_days", "identifier"], ascending=[False, True, True], kind="stable"
    )
    rank = {ident: n for n, ident in enumerate(best["identifier"], start=1)}
    table["rank"] = table["identifier"].map(rank).astype(int)
    table = table.sort_values(
        ["rank", "best", "score", "anchor_utc", "old_identifier", "anchor_kind", "anchor_source"],
        ascending=[True, False, False, True, True, True, True],
        kind="stable",
    )
    return table[list(CANDIDATE_COLUMNS)].reset_index(drop=True)


def anchor_table(
    anchors: list[ev.Anchor],
    per: pd.DataFrame,
    table: pd.DataFrame,
    owner: dict,
    names: dict,
    params,
) -> pd.DataFrame:
    rows = []
    for a in anchors:
        known = a.old in per.index
        person = owner.get(a.old)
        found = (
            table.loc[
                (table["old_identifier"] == a.old)
                & (table["anchor_source"] == a.source)
                & (table["anchor_kind"] == a.kind)
            ]
            if len(table)
            else table
        )
        rows.append(
            {
                "old_identifier": a.old,
                "old_person": f"{person} ({names[person]})" if person else "",
                "old_suspected": a.old in params.suspected_identifiers,
                "anchor_kind": a.kind,
                "anchor_source": a.source,
                "anchor_utc": a.at,
                "anchor_event_id": a.event_id,
                "old_records": int(per.loc[a.old, "records"]) if known else 0,
                "old_first_utc": per.loc[a.old, "first_utc"] if known else None,
                "old_last_utc": per.loc[a.old, "last_utc"] if known else None,
                "candidates": len(found),
            }
        )
    return pd.DataFrame(rows, columns=list(ANCHOR_COLUMNS))


def daily(
    contacts: pd.DataFrame, anchors: list[ev.Anchor], table: pd.DataFrame, tz: str
) -> pd.DataFrame:
    """Return contacts per UK local day for the old identifiers and the reported candidates."""
    roles = {a.old: "old" for a in anchors}
    if len(table):
        roles |= {i: "candidate" for i in table.loc[table["best"], "identifier"]}
    chosen = contacts.loc[contacts["sender"].isin(list(roles))]
    if chosen.empty:
        return pd.DataFrame(columns=list(DAILY_COLUMNS))
    day = chosen["timestamp_utc"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d")
    out = (
        chosen.assign(date_local=day)
        .groupby(["sender", "date_local"], sort=True)
        .size()
        .reset_index(name="contacts")
        .rename(columns={"sender": "identifier"})
    )
    out["role"] = out["identifier"].map(roles)
    return (
        out[list(DAILY_COLUMNS)]
        .sort_values(
            ["role", "identifier", "date_local"], kind="stable", ascending=[False, True, True]
        )
        .reset_index(drop=True)
    )
