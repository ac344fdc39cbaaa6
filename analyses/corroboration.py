"""Corroboration: what the records show in the time window of each diary entry, for and against.

Method:
    Each dated diary entry (``note`` on channel ``diary``) gets a window from the
    precision its words were recorded with (``analyses._corroboration_windows``):
    the minute +/- ``minute_margin_minutes``, the hour +/- ``hour_margin_minutes``,
    a part of the day as its local-time range (+/- ``part_margin_minutes``), a date
    alone as the whole UK local day (23 or 25 hours on a clock-change day). The
    windows are searched, by binary search over time-sorted records, for:

    (a) contact records between identifiers attributed to a suspect and to a
    victim, and contact records between a victim and identifiers attributed to no
    one (stated as unattributed; ``analyses._corroboration_records``);
    (b) location records of the suspect's devices within the radius of the
    victim's places, or of a place the entry names (a case.toml place name, or
    all the name's words other than role words and persons' names);
    (c) location records pointing the other way: every precise record of the
    suspect's devices in the window lies at least ``far_m`` beyond its uncertainty
    from every relevant place (the places the entry names, else the victim's), at
    least one does, and none is within a place. A cell-based fix or a serving
    cell (an area of ``cell_range_m`` round its mast) counts as far only when the
    whole area is; otherwise it neither supports nor points away. Such a finding
    has status ``data_pointing_away`` and ``disclosure`` ``may_undermine``;
    (d) when none of these is in the window: ``no_data``, with the sources whose
    records span the window (which may still hold a gap there) and those whose
    records do not reach it.

    Supporting and pointing-away records are both reported when both are there.
    Nothing weighs the account: the findings say which records fall in the
    window, never whether the entry is true. An entry's words appear only as a
    six-word quoted lead.
Limitations:
    Wording lives in report_templates/analyses/corroboration.toml under the keys
    in ``LIMITATIONS``; this module never writes prose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses import _corroboration_findings as cf
from analyses._colocation_geo import case_areas
from analyses._corroboration_records import contact_records, location_data, sources
from analyses._corroboration_windows import (
    diary_entries,
    named_places,
    place_words,
    topics,
    windows,
)
from atlas.analysis import AnalysisResult, AnalysisSpec, Finding
from atlas.attribution import role_ids
from atlas.case import Case
from atlas.errors import ParamError

REQUIRES = ("event_id", "exhibit_ref", "locator", "kind", "channel", "timestamp_utc", "end_utc", "tz_flag",
            "direction", "sender", "recipients", "thread", "text", "latitude", "longitude", "accuracy_m",
            "location_method", "cell_id", "extra")
LIMITATIONS = tuple(f"corroboration.{k}" for k in (
    "not_credibility", "window_from_words", "device_not_person", "unattributed", "gaps_not_absence",
    "cell_areas", "uncertainty", "places_by_name", "clock_offsets", "same_record_two_exhibits", "no_opinion"))
ENTRY_TABLE = ("entry", "event_id", "exhibit_ref", "locator", "precision", "written_start_utc",
               "window_start_utc", "window_end_utc", "tz_flag", "topics", "places", "contacts", "contacts_unattributed",
               "within_place", "far", "located_other", "areas_indeterminate", "statuses")
SOURCE_TABLE = ("exhibit_ref", "group", "records", "first_utc", "last_utc")


@dataclass(frozen=True, kw_only=True)
class Params:
    """Windows and distances; every value is written to the analysis log."""

    minute_margin_minutes: int = 10
    """An entry written to the minute ("21:40") is searched from this many minutes before to this
    many after (a source clock a few minutes out, or the diarist's watch)."""
    hour_margin_minutes: int = 60
    """An entry written to the hour ("about 9pm") is searched this many minutes either side of it."""
    part_margin_minutes: int = 0
    """Added to both ends of a part of the day ("late night" = 22:00-06:00 local)."""
    far_m: float = 500.0
    """A location record points away from a place when its whole uncertainty circle lies at least
    this many metres from the place's centre."""
    assumed_accuracy_m: float = 50.0
    """Uncertainty radius for a located record whose source states none (flagged assumed)."""
    cell_range_m: float = 5000.0
    """A serving-cell record is taken as an area of this radius round its recorded mast: a
    deliberately wide convention, so a cell counts as far only when it is far by any reading."""

    def __post_init__(self) -> None:
        for name in ("minute_margin_minutes", "hour_margin_minutes", "part_margin_minutes"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 0 or value > 24 * 60:
                raise ParamError(name, value, "must be whole minutes from 0 to 1440")
        for name in ("far_m", "assumed_accuracy_m", "cell_range_m"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value > 0):
                raise ParamError(name, value, "must be a finite number of metres, more than 0")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Report what the records show in each diary entry's window; ``events`` is not modified."""
    tz = case.display_timezone
    entries = windows(diary_entries(events), tz, params)
    contacts = contact_records(events, case)
    located = location_data(events, case, params)
    spans = sources(events, contacts, located)
    # Plain object columns: the per-entry slices below are then cheap (Arrow-backed text is not).
    contacts = contacts.astype({c: object for c in ("event_id", "exhibit_ref", "locator", "kind", "channel",
                                                   "direction", "sender", "basis")})
    located = located.astype({c: object for c in ("event_id", "exhibit_ref", "locator", "kind", "person",
                                                 "basis")})
    victims, suspects = role_ids(case, "victim"), role_ids(case, "suspect")
    victim_places = tuple(p for p in case.places if p.person in victims)
    areas = case_areas(case, tuple(sorted(suspects)), ())
    allowed = tuple(p.name for p in case.places if p.person not in suspects)
    words = place_words(case)
    by_name = {p.name: p for p in case.places}

    c_times = contacts["timestamp_utc"].to_numpy("datetime64[ns]")
    l_start = located["start"].to_numpy("datetime64[ns]")
    longest = (located["end"] - located["start"]).max() if len(located) else pd.Timedelta(0)
    findings: list[Finding] = []
    rows: list[dict] = []
    entry_rows: list[dict] = []
    for entry in entries.to_dict("records"):  # one pass per entry; records are found by binary search
        lo, hi = entry["window_start_utc"], entry["window_end_utc"]
        about = topics(entry["text"])
        named = named_places(entry["text"], words, allowed)
        wanted = set(named) | {p.name for p in victim_places}
        places = cf.PlaceSet(supporting=tuple(a for a in areas if a.place in wanted),
                             relevant=tuple(by_name[n] for n in named) or victim_places, named=bool(named))
        chits = contacts.iloc[cf.in_window(c_times, lo, hi)] if "contact" in about else contacts.iloc[:0]
        cand = located.iloc[cf.in_window(l_start, lo - longest, hi)] if "presence" in about else located.iloc[:0]
        lhits = cand[cand["end"] >= lo]
        got, crow = cf.contact_findings(entry, chits)
        lgot, lrow = cf.location_findings(entry, lhits, places, params.far_m)
        data = got + lgot
        if not data:
            groups = {"contact": "communications", "presence": "location"}
            relevant = spans[spans["group"].isin([groups[t] for t in about])]
            area_ids = tuple(r["event_id"] for r in lrow if r["role"] == "area_indeterminate")
            data = [cf.no_data_finding(entry, relevant, area_ids, params.far_m)]
        statuses = [f.values["status"] for f in data]
        findings += [cf.entry_finding(entry, statuses, places, about), *data]
        rows += crow + lrow
        roles = pd.Series([r["role"] for r in lrow], dtype=object)
        entry_rows.append({
            **{k: entry[k] for k in ("entry", "event_id", "exhibit_ref", "locator", "precision",
                                     "written_start_utc", "window_start_utc", "window_end_utc", "tz_flag")},
            "topics": ", ".join(about), "places": ", ".join(p.name for p in places.relevant),
            "contacts": int((chits["basis"] == "attributed").sum()),
            "contacts_unattributed": int((chits["basis"] != "attributed").sum()),
            "within_place": int((roles == "within_place").sum()), "far": int((roles == "far").sum()),
            "located_other": int((roles == "located").sum()),
            "areas_indeterminate": int((roles == "area_indeterminate").sum()), "statuses": ", ".join(sorted(set(statuses)))})
    if entries.empty:
        findings.append(Finding("corroboration.no_entries", {"status": "no_data"}, ()))

    record_table = pd.DataFrame(rows, columns=list(cf.RECORD_COLUMNS))
    record_table = record_table.sort_values(["entry", "timestamp_utc", "event_id"], kind="stable")
    return AnalysisResult(
        analysis=ANALYSIS,
        params=params,
        tables={"entries": pd.DataFrame(entry_rows, columns=list(ENTRY_TABLE)),
                "records": record_table.reset_index(drop=True),
                "sources": spans[list(SOURCE_TABLE)].reset_index(drop=True)},
        findings=tuple(findings),
        limitations=LIMITATIONS,
        counts={"entries": len(entries), "contact_records": len(contacts), "location_records": len(located),
                **{s: sum(1 for f in findings if f.key != "corroboration.entry" and f.values.get("status") == s)
                   for s in cf.STATUSES}},
    )


ANALYSIS = AnalysisSpec(
    name="corroboration",
    version="1.0",
    summary="What the records show in the time window of each diary entry",
    requires=REQUIRES,
    params=Params,
    run=run,
)
