"""Findings and the offsets table of both_ends: keys and values only (wording in the TOML)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analyses._clock_agreement_findings import seconds_text
from atlas.analysis import Finding
from atlas.case import Case
from atlas.timeparse import display

if TYPE_CHECKING:
    from analyses.both_ends import Params
    from analyses.clock_agreement import Estimate

KIND = {"call:tel": "call", "text:tel": "SMS"}
CATEGORY = {
    "withheld": "with no calling number shown",
    "unattributed": "from numbers that case.toml attributes to no person",
}
OFFSET_COLUMNS = (
    "exhibit",
    "clock_agreement_status",
    "pairs",
    "estimated_offset_s",
    "applied_offset_s",
)


def offsets_table(est: Estimate, applied: dict[str, float], apply: bool) -> pd.DataFrame:
    """Return each exhibit's clock_agreement result and the offset taken off its times here."""
    t = est.offsets
    out = pd.DataFrame(
        {
            "exhibit": t["exhibit"],
            "clock_agreement_status": t["status"],
            "pairs": t["pairs"],
            "estimated_offset_s": t["offset_s"].where(t["status"] == "estimated"),
            "applied_offset_s": t["exhibit"].map(applied).fillna(0.0) if apply else 0.0,
        }
    )
    return out[list(OFFSET_COLUMNS)].sort_values("exhibit", kind="stable").reset_index(drop=True)


def _offsets_text(exhibits: list[str], table: pd.DataFrame, apply: bool) -> str:
    """Return what was done to each exhibit's times, for the findings."""
    if not apply:
        return "none applied (run parameter apply_clock_offsets=false)"
    rows = table.set_index("exhibit")
    parts = []
    for e in sorted(set(exhibits)):
        status = rows["clock_agreement_status"].get(e, "not_estimated")
        if status == "estimated":
            parts.append(
                f"{e} {seconds_text(rows.at[e, 'applied_offset_s'], signed=True)} taken off"
            )
        elif status == "reference":
            parts.append(f"{e} none (reference)")
        else:
            parts.append(f"{e} none (offset not estimated; times as recorded)")
    return "; ".join(parts)


def _when(t: pd.Timestamp, tz: str) -> str:
    return display(t.to_pydatetime(), tz)


def _ids(*frames: tuple[pd.Series, pd.Series]) -> tuple[str, ...]:
    """Return event ids from (time, id) columns, once each, in time order (ties by id)."""
    both = pd.concat(
        [pd.DataFrame({"t": t.to_numpy(), "id": i.to_numpy()}) for t, i in frames],
        ignore_index=True,
    ).drop_duplicates("id")
    return tuple(both.sort_values(["t", "id"], kind="stable")["id"])


def _basis(row: Any, case: Case) -> str:
    person = case.person(row.sent_person)
    who = f"{person.id} ({person.name})"
    if row.sent_basis == "identifier":
        return f"the calling number {row.sent_sender} is attributed in case.toml to {who}"
    return f"exhibit {row.sent_exhibit} is a device attributed in case.toml to {who}"


def findings_for(
    pairs: pd.DataFrame,
    unmatched: pd.DataFrame,
    recv: pd.DataFrame,
    sent: pd.DataFrame,
    table: pd.DataFrame,
    case: Case,
    params: Params,
) -> tuple[Finding, ...]:
    """Return the findings in a fixed order: matches, identifiers, ambiguity, unmatched."""
    tz = case.display_timezone
    out: list[Finding] = []
    to_victim = sent.loc[sent["to_victim"]]
    sent_exhibits = ", ".join(sorted(to_victim["exhibit_ref"].unique())) or "none"
    if recv.empty:
        return (Finding("both_ends.no_received_records", {}, ()),)
    if to_victim.empty:
        return (
            Finding(
                "both_ends.no_sent_records",
                {"received": recv["event_id"].nunique()},
                _ids((recv["timestamp_utc"], recv["event_id"])),
            ),
        )
    matched = pairs.loc[pairs["status"] == "matched"]
    for _sid, group in matched.loc[matched["category"] == "withheld"].groupby(
        "sent_event_id", sort=False
    ):
        r = group.iloc[0]
        prefix = (
            f" (dialled with the prefix {r.sent_prefix}, which withholds the calling number)"
            if r.sent_prefix == "141"
            else f" (dialled with the prefix {r.sent_prefix})"
            if r.sent_prefix
            else ""
        )
        durations = ""
        answered = group.loc[group["received_duration_s"].fillna(0) > 0]
        if r.family == "call:tel" and (r.sent_duration_s or 0) > 0 and len(answered):
            durations = (
                f" Call durations: {r.sent_duration_s:g} s on {r.sent_exhibit}; "
                + "; ".join(
                    f"{g.received_duration_s:g} s on {g.received_exhibit}"
                    for g in answered.itertuples()
                )
                + "."
            )
        out.append(
            Finding(
                "both_ends.withheld_match",
                {
                    "kind": KIND[r.family],
                    "victim_number": r.victim_number,
                    "received_records": "; ".join(
                        f"{g.received_exhibit} {g.received_locator} ({_when(g.received_utc, tz)})"
                        for g in group.itertuples()
                    ),
                    "sent_exhibit": r.sent_exhibit,
                    "sent_locator": r.sent_locator,
                    "sent_utc": r.sent_utc,
                    "sent_sender": r.sent_sender or "not recorded",
                    "prefix_text": prefix,
                    "basis": _basis(r, case),
                    "differences": "; ".join(
                        f"{seconds_text(g.difference_s, signed=True)} on {g.received_exhibit}"
                        for g in group.itertuples()
                    ),
                    "tolerance_s": params.tolerance_s,
                    "duration_text": durations,
                    "offsets_text": _offsets_text(
                        [r.sent_exhibit, *group["received_exhibit"]],
                        table,
                        params.apply_clock_offsets,
                    ),
                },
                _ids(
                    (group["received_utc"], group["received_event_id"]),
                    (group["sent_utc"].iloc[:1], group["sent_event_id"].iloc[:1]),
                ),
            )
        )
    out += _identifier_findings(pairs, unmatched, recv, table, case, params, tz)
    out += _ambiguous_findings(pairs, table, params, tz)
    for category in ("withheld", "unattributed"):
        rest = unmatched.loc[unmatched["category"] == category]
        if rest.empty:
            continue
        near = rest["nearest_same_number_s"].notna()
        out.append(
            Finding(
                "both_ends.unmatched",
                {
                    "count": len(rest),
                    "category_text": CATEGORY[category],
                    "exhibits": ", ".join(sorted(rest["exhibit_ref"].unique())),
                    "sent_exhibits": sent_exhibits,
                    "tolerance_s": params.tolerance_s,
                    "other_number": int(rest["other_number_event_ids"].map(len).gt(0).sum()),
                    "nearest_within_hour": int(near.sum()),
                    "offsets_text": _offsets_text(
                        [*rest["exhibit_ref"], *to_victim["exhibit_ref"]],
                        table,
                        params.apply_clock_offsets,
                    ),
                },
                _ids((rest["timestamp_utc"], rest["event_id"])),
            )
        )
    return tuple(out)


def _identifier_findings(
    pairs: pd.DataFrame,
    unmatched: pd.DataFrame,
    recv: pd.DataFrame,
    table: pd.DataFrame,
    case: Case,
    params: Params,
    tz: str,
) -> list[Finding]:
    """Return one finding per unattributed calling number received (few: one per number)."""
    out = []
    anon = recv.loc[recv["category"] == "unattributed"].drop_duplicates("event_id")
    for ident, rec in anon.groupby("originator", sort=True):
        mine = pairs.loc[pairs["received_sender"] == ident]
        ok = mine.loc[mine["status"] == "matched"]
        matched_ids = set(ok["received_event_id"])
        ambiguous = len(
            set(mine.loc[mine["status"] == "ambiguous", "received_event_id"]) - matched_ids
        )
        diffs = ok["difference_s"].to_numpy()
        sent_desc = (
            "; ".join(
                f"{e} ({_basis(g.iloc[0], case)})" for e, g in ok.groupby("sent_exhibit", sort=True)
            )
            or "none"
        )
        values = {
            "identifier": ident,
            "records": len(rec),
            "received_exhibits": ", ".join(sorted(rec["exhibit_ref"].unique())),
            "first_utc": rec["timestamp_utc"].min(),
            "last_utc": rec["timestamp_utc"].max(),
            "matched": len(matched_ids),
            "ambiguous": ambiguous,
            "unmatched": int((unmatched["originator"] == ident).sum()),
            "sent_exhibits": sent_desc,
            "tolerance_s": params.tolerance_s,
            "sms_delay_s": params.sms_delay_s,
            "median_difference": seconds_text(float(np.median(diffs)), signed=True)
            if len(diffs)
            else "",
            "largest_difference": seconds_text(float(np.max(np.abs(diffs)))) if len(diffs) else "",
            "offsets_text": _offsets_text(
                [*rec["exhibit_ref"], *ok["sent_exhibit"]], table, params.apply_clock_offsets
            ),
        }
        key = "both_ends.identifier_matches" if len(ok) else "both_ends.identifier_none"
        ids = (
            _ids(
                (ok["received_utc"], ok["received_event_id"]), (ok["sent_utc"], ok["sent_event_id"])
            )
            if len(ok)
            else ()
        )
        out.append(Finding(key, values, ids))
    return out


def _ambiguous_findings(
    pairs: pd.DataFrame, table: pd.DataFrame, params: Params, tz: str
) -> list[Finding]:
    """Return one finding per received record with more than one candidate (none chosen)."""
    out = []
    amb = pairs.loc[pairs["status"] == "ambiguous"]
    matched_ids = set(pairs.loc[pairs["status"] == "matched", "received_event_id"])
    amb = amb.loc[~amb["received_event_id"].isin(matched_ids)]
    for _rid, group in amb.groupby("received_event_id", sort=False):
        r = group.iloc[0]
        out.append(
            Finding(
                "both_ends.ambiguous",
                {
                    "kind": KIND[r.family],
                    "category_text": CATEGORY[r.category],
                    "received_exhibit": r.received_exhibit,
                    "received_locator": r.received_locator,
                    "received_utc": r.received_utc,
                    "received_sender": r.received_sender or "not shown",
                    "victim_number": r.victim_number,
                    "candidates": len(group),
                    "candidate_records": "; ".join(
                        f"{g.sent_exhibit} {g.sent_locator} "
                        f"({seconds_text(g.difference_s, signed=True)})"
                        for g in group.itertuples()
                    ),
                    "tolerance_s": params.tolerance_s,
                    "offsets_text": _offsets_text(
                        [r.received_exhibit, *group["sent_exhibit"]],
                        table,
                        params.apply_clock_offsets,
                    ),
                },
                _ids(
                    (group["received_utc"].iloc[:1], group["received_event_id"].iloc[:1]),
                    (group["sent_utc"], group["sent_event_id"]),
                ),
            )
        )
    return out
