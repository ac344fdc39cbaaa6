"""Frequency: how often the suspect's identifiers contacted the complainant's, and when.

Method:
    Contacts are communication records (calls, SMS, MMS, chat messages, e-mails, social
    interactions) attributed by ``case.toml`` as sent by a suspect and received by a
    victim; replies go the other way (see ``_frequency_select`` for the thread rule that
    lets a chat export's own-device messages count). Days, weeks (Monday to Sunday) and
    hours are UK local time. Tables: contacts and replies per day and per week by channel;
    contacts per reply per week; contacts by weekday and hour.

    Bursts: runs of at least ``burst_min_contacts`` contacts within
    ``burst_window_minutes`` (end included), found by one binary search per contact;
    overlapping windows merge into one episode.

    Stop requests: the complainant's replies containing a phrase from
    ``frequency_stop_phrases.txt`` are listed as candidates for the officer to confirm.
    Contacts strictly after each stop request, block, police warning (the key dates in
    ``case.toml``), each order's service and each candidate are counted; a key date given
    without a time takes effect at the end of that UK day.

    Rates: the records' span is cut at the key dates named in ``period_key_dates``. Each
    period's rate per day has an exact (Garwood) Poisson interval; adjacent periods are
    compared by the ratio of their rates with the exact conditional test (the later
    period's share of both periods' contacts is binomial under equal rates) and its
    Clopper-Pearson interval. Contacts come in bursts, so daily counts vary more than a
    Poisson count would: the Pearson dispersion of whole-day counts about their period's
    rate is reported, with the likelihood-ratio test and a Wald interval scaled by it
    (quasi-Poisson). Change points in the daily series are found by binary segmentation
    on the Poisson likelihood, each kept when a seeded permutation test (days shuffled
    within the segment) gives p at most ``changepoint_alpha``. No scipy: the exact sums
    are in ``_frequency_stats`` and tested against known answers.
Limitations:
    Wording lives in report_templates/analyses/frequency.toml under the keys in
    ``LIMITATIONS``. In short: records show devices and accounts, not people; only the
    channels in the store are counted and a gap in a source is not an absence of contact;
    identifiers not attributed in ``case.toml`` are not counted; the stop-phrase list
    finds leads, not determinations; the statistics describe the counts, not why they
    changed, and p-values are per comparison, not adjusted for the number made.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analyses import _frequency_counts as fc
from analyses._same_contact import clusters_table, collapse
from analyses import _frequency_escalation as fe
from analyses._frequency_findings import findings_for
from analyses._frequency_render import render
from analyses._frequency_select import marks, select
from atlas.analysis import AnalysisResult, AnalysisSpec
from atlas.case import KEY_DATE_KINDS, Case
from atlas.errors import ParamError

REQUIRES = ("event_id", "timestamp_utc", "kind", "channel", "direction", "sender", "recipients",
            "exhibit_ref", "source_sha256", "seq", "thread", "text", "parser", "locator")
LIMITATIONS = ("frequency.device_not_person", "frequency.channels_in_store_only",
               "frequency.gaps_not_absence", "frequency.unattributed_not_counted",
               "frequency.replies_thread_basis", "frequency.stop_phrases_are_leads",
               "frequency.key_dates_as_declared", "frequency.statistics_describe_counts",
               "frequency.uk_local_time", "frequency.same_contact_lower_bound")
MARK_KINDS = (*KEY_DATE_KINDS, "order_served")
AFTER_COLUMNS = ("mark", "kind", "at_utc", "day_only", "event_id", "identifier", "contacts_after",
                 "first_after_utc", "last_after_utc", "from_identifier")


@dataclass(frozen=True, kw_only=True)
class Params:
    """Thresholds and choices for this analysis; every value is written to the analysis log."""

    burst_min_contacts: int = 5
    """K, the smallest number of contacts that makes a burst."""
    burst_window_minutes: int = 10
    """T, the width of the burst window in minutes (end included)."""
    period_key_dates: tuple[str, ...] = ("relationship_ended", "stop_requested", "blocked", "warned",
                                         "order_served")
    """Key-date kinds (and ``order_served``) that cut the records' span into periods."""
    after_key_dates: tuple[str, ...] = ("stop_requested", "blocked", "warned", "order_served")
    """Key-date kinds (and ``order_served``) after which contacts are counted."""
    confidence: float = 0.95
    """Confidence level of every interval."""
    changepoint_alpha: float = 0.01
    """Largest permutation p-value at which a change point is kept."""
    changepoint_permutations: int = 999
    """Number of shuffles in each change point's permutation test."""
    changepoint_min_days: int = 7
    """Fewest days either side of a change point."""
    changepoint_max: int = 3
    """Most change points reported."""
    seed: int = 1
    """Seed of the permutation tests (same seed, same output)."""
    same_contact_seconds: int = 120
    """Records of the same kind of contact in different exhibits this close in time (seconds,
    chaining) are taken as one contact recorded twice; 0 counts every record."""
    same_contact_clock_offsets: bool = True
    """Take each exhibit's clock offset (as the clock_agreement analysis estimates it, with its
    default parameters) off its times before matching records of the same contact."""
    stop_phrases: tuple[str, ...] = fc.load_phrases()
    """Phrases that make a complainant's message a stop-request candidate (default: the file)."""

    def __post_init__(self) -> None:
        checks = (
            ("burst_min_contacts", self.burst_min_contacts >= 2, "must be 2 or more"),
            ("burst_window_minutes", self.burst_window_minutes >= 1, "must be 1 or more"),
            ("confidence", 0.5 <= self.confidence < 1, "must be at least 0.5 and below 1"),
            ("changepoint_alpha", 0 < self.changepoint_alpha < 1, "must be between 0 and 1"),
            ("changepoint_permutations", 99 <= self.changepoint_permutations <= 100_000,
             "must be 99 to 100000"),
            ("changepoint_min_days", self.changepoint_min_days >= 2, "must be 2 or more"),
            ("changepoint_max", 0 <= self.changepoint_max <= 20, "must be 0 to 20"),
            ("same_contact_seconds", 0 <= self.same_contact_seconds <= 3600, "must be 0 to 3600"),
            ("stop_phrases", all(fc.normalise_text(p) for p in self.stop_phrases),
             "phrases must not be empty"),
        )
        for name, ok, rule in checks:
            if not ok:
                raise ParamError(name, getattr(self, name), rule)
        for name in ("period_key_dates", "after_key_dates"):
            bad = [k for k in getattr(self, name) if k not in MARK_KINDS]
            if bad:
                raise ParamError(name, getattr(self, name),
                                 f"{bad[0]!r} is not one of {', '.join(MARK_KINDS)}")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Count and compare contacts from suspect to victim; ``events`` is not modified."""
    tz = case.display_timezone
    contacts, replies, window = select(events, case)
    if contacts.empty:
        return _empty(params, len(replies))
    # The same contact held by several exhibits (handset, CDR, UFED report) is counted once.
    # Clocks that disagree with the network's are corrected for this matching only.
    offsets = _offsets(events, case) if params.same_contact_clock_offsets else {}
    same = clusters_table(contacts, params.same_contact_seconds, offsets)
    contacts, sent = collapse(contacts, params.same_contact_seconds, offsets)
    replies, replied = collapse(replies, params.same_contact_seconds, offsets)
    sent["offsets"] = offsets
    tables = fc.per_day_and_week(contacts, replies, window, tz)
    tables["heatmap"] = fc.heatmap(contacts, tz)
    tables["same_contact"] = same

    ts = fe.utc_ns(contacts["timestamp_utc"])
    spans = fc.episodes(ts, params.burst_min_contacts, params.burst_window_minutes)
    tables["bursts"] = _bursts(contacts, spans)

    phrases = tuple(fc.normalise_text(p) for p in params.stop_phrases)
    tables["stop_candidates"] = fc.stop_candidates(replies, phrases)
    all_marks = marks(case, tz)
    tables["after_marks"] = _after(contacts, all_marks, tables["stop_candidates"], params.after_key_dates)

    tables["periods"], members = fe.periods(contacts, window, all_marks, params.period_key_dates,
                                            params.confidence)
    tables["rate_changes"], phi = fe.comparisons(contacts, tables["periods"], tz, params.confidence)
    daily = fc.daily_totals(contacts, window, tz)
    tables["change_points"] = fe.changes(
        daily, min_segment=params.changepoint_min_days, alpha=params.changepoint_alpha,
        permutations=params.changepoint_permutations, max_changes=params.changepoint_max, seed=params.seed)

    findings = findings_for(contacts, replies, window, tables, members, spans, params, tz,
                            records={"contacts": sent, "replies": replied})
    counts = {"contacts": len(contacts), "replies": len(replies),
              "contact_records": sent["records"], "reply_records": replied["records"],
              "contact_records_in_several_exhibits": sent["records_in_several_exhibits"],
              "replies_by_thread": int((replies["reply_basis"] == "thread").sum()),
              "days": len(daily), "bursts": len(spans), "stop_candidates": len(tables["stop_candidates"]),
              "periods": len(tables["periods"]), "change_points": len(tables["change_points"]),
              "dispersion_x1000": round(phi * 1000)}
    return AnalysisResult(analysis=ANALYSIS, params=params, tables=tables, findings=findings,
                          limitations=LIMITATIONS, counts=counts)


def _offsets(events: pd.DataFrame, case: Case) -> dict[str, float]:
    from analyses import clock_agreement

    est = clock_agreement.estimate(events[list(clock_agreement.REQUIRES)], case, clock_agreement.Params())
    return {e: o for e, o in sorted(est.offset_s().items()) if o != 0.0}


def _bursts(contacts: pd.DataFrame, spans: list[tuple[int, int]]) -> pd.DataFrame:
    rows = []
    for n, (a, b) in enumerate(spans, start=1):
        burst = contacts.iloc[a:b]
        start, end = burst["timestamp_utc"].iloc[0], burst["timestamp_utc"].iloc[-1]
        rows.append({"episode": n, "start_utc": start, "end_utc": end,
                     "minutes": round((end - start) / pd.Timedelta(minutes=1), 2), "contacts": b - a,
                     "channels": ", ".join(sorted(burst["channel"].unique().tolist())),
                     "first_event_id": burst["event_id"].iloc[0]})
    return pd.DataFrame(rows, columns=list(fc.BURST_COLUMNS))


def _after(contacts: pd.DataFrame, all_marks: list[dict], candidates: pd.DataFrame,
           kinds: tuple[str, ...]) -> pd.DataFrame:
    chosen = [{**m, "event_id": ""} for m in all_marks if m["kind"] in kinds]
    chosen += [{"mark": f"candidate {c.event_id}", "kind": "stop_request_candidate",
                "at_utc": c.timestamp_utc, "day_only": False, "note": c.phrase, "identifier": "",
                "event_id": c.event_id}
               for c in candidates.itertuples(index=False)]
    rows = []
    for m in sorted(chosen, key=lambda m: (m["at_utc"], m["mark"])):
        a = fc.after(contacts, m["at_utc"], m["identifier"])
        rows.append({"mark": m["mark"], "kind": m["kind"], "at_utc": m["at_utc"], "day_only": m["day_only"],
                     "event_id": m["event_id"], "identifier": m["identifier"], "contacts_after": a["count"],
                     "first_after_utc": a["first_utc"], "last_after_utc": a["last_utc"],
                     "from_identifier": a["from_identifier"]})
    return pd.DataFrame(rows, columns=list(AFTER_COLUMNS))


def _empty(params: Params, replies: int) -> AnalysisResult:
    from analyses._frequency_findings import no_contacts

    return AnalysisResult(analysis=ANALYSIS, params=params, tables={}, findings=(no_contacts(),),
                          limitations=LIMITATIONS, counts={"contacts": 0, "replies": replies})


ANALYSIS = AnalysisSpec(
    name="frequency",
    version="1.0",
    summary="Contacts from suspect to victim per day, week and hour, bursts, contacts after stop "
            "requests, blocks and warnings, and rate changes between key dates",
    requires=REQUIRES,
    params=Params,
    run=run,
    render=render,
)
