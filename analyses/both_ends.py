"""Both ends of a contact: anonymous calls and SMS received, matched to outgoing records.

Method:
    The received side (``_both_ends_select.received``) is every incoming call and SMS on a
    source attributed to a victim (her number, or a device of hers) whose calling number
    is not given (withheld) or is attributed to no person in case.toml (an unknown or new
    number). The sending side (``_both_ends_select.sent``) is every outgoing call and SMS
    whose sender case.toml attributes to a suspect, or that is held on a device exhibit
    attributed to a suspect, to one of the victim's numbers (a UK ``141``/``1470`` prefix
    dialled before it is set aside and reported). A record to any other number is never a
    match, however close in time.

    Each exhibit's clock offset comes from ``clock_agreement.estimate`` (called here, with
    its default parameters, on the same events) and is taken off that exhibit's times
    before comparing; an exhibit without an estimated offset is used as recorded. The
    offsets applied are stated in every finding and in the ``offsets`` table.

    Pairs are found by time-sorted binary search (``_both_ends_match``): same family (call
    with call, SMS with SMS), same victim number, corrected times within ``tolerance_s``
    (an SMS may reach her phone up to ``sms_delay_s`` later than it was sent, never
    earlier), the calling numbers equal where both records give one, and durations within
    ``duration_tolerance_s`` where both records give an answered call's duration. A pair is
    reported as matched only when it is the only candidate on that sending exhibit and the
    sending record is the candidate of no other record on that receiving exhibit; otherwise
    every candidate is listed as ambiguous and none is chosen. Received records with no
    candidate are counted and listed as unmatched, with the nearest record to the same
    number outside the tolerance and any record to another number inside it, for the
    officer to see what was set aside.

    Default tolerance: 10 s. After the clock offsets are taken off, the two records of one
    call differ by the call set-up time (the network and the calling handset stamp the
    attempt, the called handset the ringing: a few seconds), by whole-second rounding (up
    to 1 s each) and by the spread left in the offset estimate (about a second): 10 s
    covers these with room and is far shorter than the gap between most separate calls.
    The 60 s SMS allowance covers ordinary store-and-forward delivery; a text delivered
    later (her phone off) is left unmatched, not guessed.

    ``statement_role`` is ``leads``: a match says that two records, one on each side, are
    close in time and agree in number and kind; whether they are the same contact, and who
    made it, is for the officer to establish (subscriber checks, the handset itself).
Limitations:
    Wording lives in report_templates/analyses/both_ends.toml under the keys in
    ``LIMITATIONS``: a lead, not an attribution; coincidence cannot be excluded; the clock
    offsets are estimates; unmatched is not absence; SMS timing; devices, not people.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analyses import _both_ends_match as bm
from analyses import _both_ends_select as sel
from analyses import clock_agreement
from analyses._both_ends_findings import findings_for, offsets_table
from analyses._clock_agreement_ends import ends as contact_ends
from atlas.analysis import AnalysisResult, AnalysisSpec
from atlas.attribution import attribute
from atlas.case import Case
from atlas.errors import ParamError

REQUIRES = tuple(dict.fromkeys((*clock_agreement.REQUIRES, "duration_s", "status")))
LIMITATIONS = tuple(
    f"both_ends.{k}"
    for k in (
        "lead_not_attribution",
        "coincidence",
        "clock_offsets",
        "unmatched_not_absence",
        "sms_timing",
        "device_not_person",
        "scope",
    )
)


@dataclass(frozen=True, kw_only=True)
class Params:
    """Choices for this analysis; every value is written to the analysis log."""

    tolerance_s: float = 10.0
    """Largest difference, in seconds, between the two records' corrected times (see Method)."""
    sms_delay_s: float = 60.0
    """How much later than the sending record an SMS may be recorded as received, beyond
    ``tolerance_s`` (store-and-forward delivery)."""
    duration_tolerance_s: float = 10.0
    """Largest difference between two answered calls' durations when both records give one."""
    apply_clock_offsets: bool = True
    """Take each exhibit's clock offset (from clock_agreement) off its times before matching."""

    def __post_init__(self) -> None:
        for name, hi in (
            ("tolerance_s", 600),
            ("sms_delay_s", 86400),
            ("duration_tolerance_s", 3600),
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= hi):
                raise ParamError(name, value, f"must be a number of seconds from 0 to {hi}")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Match anonymous contact received by the victim with the suspect's outgoing records."""
    ends = contact_ends(events, case.default_region)
    est = clock_agreement.estimate(events, case, clock_agreement.Params(), ends=ends)
    offsets = est.offset_s() if params.apply_clock_offsets else {}
    offsets_ms = {e: int(round(s * 1000)) for e, s in offsets.items()}
    att = attribute(events, case).set_index(events["event_id"])
    recv = sel.received(ends, att, case, offsets_ms)
    sent = sel.sent(ends, att, case, offsets_ms)
    cand = bm.candidates(
        recv, sent, params.tolerance_s, params.sms_delay_s, params.duration_tolerance_s
    )
    kept = bm.classify(cand, recv, sent)
    pairs = bm.pair_rows(kept, recv, sent)
    rejected = bm.pair_rows(cand.loc[cand["reason"] != ""].assign(candidates=1), recv, sent)
    done = set(kept["v_id"])
    unmatched = bm.unmatched_rows(recv, sent, done, params.tolerance_s, params.sms_delay_s)
    table = offsets_table(est, offsets, params.apply_clock_offsets)
    findings = findings_for(pairs, unmatched, recv, sent, table, case, params)

    received_ids = recv.drop_duplicates("event_id")
    matched_ids = set(pairs.loc[pairs["status"] == "matched", "received_event_id"])
    ambiguous_ids = (
        set(pairs.loc[pairs["status"] == "ambiguous", "received_event_id"]) - matched_ids
    )
    to_victim = sent.loc[sent["to_victim"]]
    counts = {
        "received_records": len(received_ids),
        "received_withheld": int((received_ids["category"] == "withheld").sum()),
        "received_unattributed": int((received_ids["category"] == "unattributed").sum()),
        "sent_records_to_victim": len(to_victim),
        "candidate_pairs": len(cand),
        "rejected_sender_differs": int((cand["reason"] == "sender_differs").sum()),
        "rejected_duration_differs": int((cand["reason"] == "duration_differs").sum()),
        "received_matched": len(matched_ids),
        "received_ambiguous": len(ambiguous_ids),
        "received_unmatched": len(unmatched),
        "sent_matched": int(pairs.loc[pairs["status"] == "matched", "sent_event_id"].nunique()),
    }
    counts |= {f"offset_ms.{e}": ms for e, ms in sorted(offsets_ms.items())}
    unmatched_table = unmatched[
        [
            "category",
            "family",
            "victim_number",
            "event_id",
            "exhibit_ref",
            "locator",
            "timestamp_utc",
            "offset_ms",
            "originator",
            "nearest_same_number_s",
            "nearest_same_number_event_id",
            "other_number_event_ids",
        ]
    ].rename(
        columns={
            "event_id": "received_event_id",
            "exhibit_ref": "received_exhibit",
            "locator": "received_locator",
            "timestamp_utc": "received_utc",
            "originator": "received_sender",
        }
    )
    unmatched_table = unmatched_table.assign(
        received_offset_s=unmatched_table.pop("offset_ms") / 1000.0
    )
    return AnalysisResult(
        analysis=ANALYSIS,
        params=params,
        tables={
            "pairs": pairs,
            "rejected": rejected,
            "unmatched": unmatched_table,
            "offsets": table,
        },
        findings=findings,
        limitations=LIMITATIONS,
        counts=counts,
    )


ANALYSIS = AnalysisSpec(
    name="both_ends",
    version="1.0",
    summary="Leads: calls and SMS from withheld or unattributed numbers received by the "
    "complainant, matched in time, number and kind to outgoing records on sources attributed "
    "to the suspect",
    requires=REQUIRES,
    params=Params,
    run=run,
    statement_role="leads",
)
