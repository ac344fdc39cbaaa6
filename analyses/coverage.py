"""Coverage: the period each source covers, the days it holds records for, and its gaps.

Method:
    Records with a time are grouped into sources by (exhibit, source file, kind
    group); the kind groups are communications (calls, messages, email, social
    media), location (fixes, visits, cell events, ANPR reads) and other. Each
    record is given its UK local calendar date (the case's display zone,
    Europe/London, so a record at 23:30 UTC in summer falls on the next day).
    For each source the period runs from its first to its last record; the
    daily table counts records per local date and source over the whole span of
    the store, zeros included. A gap is a run of at least ``gap_days`` whole local
    dates with no records between two dates that have records; it is reported
    with its first and last empty date, its length, and the last record before
    and the first record after it (the two records a gap finding cites; a period
    finding cites the first and last record of the source). Key dates and order
    dates from case.toml are checked against every source: covered, inside a
    gap, before the first record or after the last. One pass of ``numpy.diff``
    and ``searchsorted`` per source; no loop runs over records.
Limitations:
    Wording lives in report_templates/analyses/coverage.toml under the keys
    listed in ``LIMITATIONS``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses import _coverage_render as _render
from atlas.analysis import AnalysisResult, AnalysisSpec, Finding
from atlas.case import Case
from atlas.errors import ParamError

KIND_GROUPS = {
    "communications": ("call", "sms", "mms", "chat_message", "email", "social_post", "social_interaction"),
    "location": ("location_fix", "location_visit", "cell_event", "anpr_read"),
}
OTHER_GROUP = "other"
REQUIRES = ("event_id", "timestamp_utc", "kind", "exhibit_ref", "source_path")
LIMITATIONS = ("coverage.holds_only_what_was_there", "coverage.deleted_data", "coverage.coverage_not_activity",
               "coverage.gap_not_absence", "coverage.local_dates", "coverage.undated_excluded")
SOURCE_COLUMNS = ("source", "exhibit_ref", "source_path", "kind_group", "events", "first_utc", "last_utc",
                  "first_date", "last_date", "days_in_period", "days_with_records", "gaps", "days_in_gaps")
GAP_COLUMNS = ("source", "exhibit_ref", "source_path", "kind_group", "gap_start", "gap_end", "days",
               "last_before_utc", "first_after_utc", "last_before_event", "first_after_event")
KEY_DATE_COLUMNS = ("key_date", "date", "source", "status")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December")
DAY = np.timedelta64(1, "D")


@dataclass(frozen=True, kw_only=True)
class Params:
    """Settings for coverage; every value is written to the analysis log."""

    gap_days: int = 3
    """Smallest number of whole UK local calendar days without records, between two days with
    records, that is reported as a gap."""

    def __post_init__(self) -> None:
        if self.gap_days < 1:
            raise ParamError("gap_days", self.gap_days, "must be 1 or more")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Measure each source's coverage and gaps; ``events`` is not modified."""
    dated = events["timestamp_utc"].notna()
    frame = events.loc[dated, list(REQUIRES)]
    group = pd.Series(OTHER_GROUP, index=frame.index, dtype=object)
    for name, kinds in KIND_GROUPS.items():
        group = group.mask(frame["kind"].isin(kinds), name)
    local = frame["timestamp_utc"].dt.tz_convert(case.display_timezone).dt.tz_localize(None)
    frame = frame.assign(kind_group=group, day=local.dt.floor("D"))
    keys = ["exhibit_ref", "source_path", "kind_group"]
    frame = (frame.merge(_labels(frame[keys]), on=keys, how="left", sort=False)
             .sort_values([*keys, "timestamp_utc", "event_id"], kind="stable").reset_index(drop=True))

    sources, gaps, findings = [], [], []
    for _key, part in frame.groupby(keys, sort=True):
        row, found = _source(part, params)
        sources.append(row)
        findings.append(Finding(key="coverage.period", values={**row, "gap_days": params.gap_days},
                                event_ids=tuple(dict.fromkeys(part["event_id"].iloc[[0, -1]]))))
        gaps += found
        findings += [Finding(key="coverage.gap", values={k: g[k] for k in GAP_COLUMNS[:-2]} | {
            "gap_start_text": _long(g["gap_start"]), "gap_end_text": _long(g["gap_end"])},
            event_ids=(g["last_before_event"], g["first_after_event"])) for g in found]

    source_table = pd.DataFrame(sources, columns=list(SOURCE_COLUMNS))
    gap_table = pd.DataFrame(gaps, columns=list(GAP_COLUMNS))
    daily = _daily(frame, source_table)
    key_table = _key_dates(case, source_table, gap_table, daily)
    findings += [Finding(key="coverage.key_date_in_gap", values=dict(zip(KEY_DATE_COLUMNS, r, strict=True)),
                         event_ids=_gap_bounds(gap_table, r[2], r[1]))
                 for r in key_table.itertuples(index=False) if r.status == "in_gap"]
    return AnalysisResult(
        analysis=ANALYSIS, params=params,
        tables={"sources": source_table, "daily": daily, "gaps": gap_table,
                "key_dates": key_table},
        findings=tuple(findings), limitations=LIMITATIONS,
        counts={"events_considered": len(frame), "undated_excluded": int((~dated).sum()),
                "sources": len(source_table), "gaps": len(gap_table)})


def _labels(keys: pd.DataFrame) -> pd.DataFrame:
    """Return a short, unique label per source: the exhibit and kind group, plus the file when needed."""
    keys = keys.drop_duplicates().sort_values(list(keys.columns), kind="stable")
    paths = keys.groupby("exhibit_ref")["source_path"].nunique()
    labels = [f"{r} {g}" + (f" ({p.rsplit('/', 1)[-1]})" if paths[r] > 1 else "")
              for r, p, g in keys.itertuples(index=False)]
    return keys.assign(source=labels)


def _source(part: pd.DataFrame, params: Params) -> tuple[dict[str, object], list[dict[str, object]]]:
    """Return one source's period row and its gaps (``part`` sorted by time)."""
    days = part["day"].to_numpy("datetime64[D]")
    unique = np.unique(days)
    empty = (np.diff(unique) // DAY).astype(np.int64) - 1
    at = np.flatnonzero(empty >= params.gap_days)
    # The last record before a gap is the last one dated on or before the day the gap follows.
    after = np.searchsorted(days, unique[at + 1], side="left")
    ids, times = part["event_id"].to_numpy(), part["timestamp_utc"]
    first_label = part.iloc[0]
    gaps = [{"source": first_label["source"], "exhibit_ref": first_label["exhibit_ref"],
             "source_path": first_label["source_path"], "kind_group": first_label["kind_group"],
             "gap_start": _iso(unique[i] + DAY), "gap_end": _iso(unique[i + 1] - DAY), "days": int(empty[i]),
             "last_before_utc": times.iloc[a - 1], "first_after_utc": times.iloc[a],
             "last_before_event": str(ids[a - 1]), "first_after_event": str(ids[a])}
            for i, a in zip(at.tolist(), after.tolist(), strict=True)]
    row = {"source": first_label["source"], "exhibit_ref": first_label["exhibit_ref"],
           "source_path": first_label["source_path"], "kind_group": first_label["kind_group"],
           "events": len(part), "first_utc": times.iloc[0], "last_utc": times.iloc[-1],
           "first_date": _iso(unique[0]), "last_date": _iso(unique[-1]),
           "days_in_period": int((unique[-1] - unique[0]) // DAY) + 1, "days_with_records": len(unique),
           "gaps": len(gaps), "days_in_gaps": int(sum(g["days"] for g in gaps))}
    return row, gaps


def _daily(frame: pd.DataFrame, sources: pd.DataFrame) -> pd.DataFrame:
    """Return records per UK local date (rows, every date in the span) and source (columns)."""
    if frame.empty:
        return pd.DataFrame(columns=["date"])
    day = frame["day"].dt.strftime("%Y-%m-%d")
    counts = frame.assign(date=day).groupby(["date", "source"], sort=True).size().unstack("source", fill_value=0)
    span = np.arange(frame["day"].min().to_datetime64().astype("datetime64[D]"),
                     frame["day"].max().to_datetime64().astype("datetime64[D]") + DAY, DAY).astype(str)
    counts = counts.reindex(index=span, columns=list(sources["source"]), fill_value=0).astype("int64")
    counts.insert(0, "date", span)
    return counts.reset_index(drop=True).rename_axis(columns=None)


def _key_dates(case: Case, sources: pd.DataFrame, gaps: pd.DataFrame, daily: pd.DataFrame) -> pd.DataFrame:
    """Return, for each key date and order date in case.toml, how each source covers that local date.

    The status is ``records_on_date``, ``no_records_on_date`` (inside the period, not in a reported
    gap), ``in_gap``, ``before_first_record`` or ``after_last_record``.
    """
    by_date = daily.set_index("date") if "date" in daily else pd.DataFrame()
    zone = case.display_timezone
    marks = [(f"{k.kind}{': ' + k.note if k.note else ''}", _local_date(k.at, zone)) for k in case.key_dates]
    for order in case.orders:
        marks += [(f"order {order.id} {what}", _local_date(at, zone))
                  for what, at in (("made", order.made), ("served", order.served)) if at is not None]
    rows = []
    for label, day in sorted(marks, key=lambda m: (m[1], m[0])):
        for src in sources.itertuples(index=False):
            inside = gaps[(gaps["source"] == src.source) & (gaps["gap_start"] <= day) & (gaps["gap_end"] >= day)]
            status = ("before_first_record" if day < src.first_date else "after_last_record"
                      if day > src.last_date else "in_gap" if len(inside) else "records_on_date"
                      if by_date.at[day, src.source] > 0 else "no_records_on_date")
            rows.append((label, day, src.source, status))
    return pd.DataFrame(rows, columns=list(KEY_DATE_COLUMNS))


def _gap_bounds(gaps: pd.DataFrame, source: str, day: str) -> tuple[str, ...]:
    hit = gaps[(gaps["source"] == source) & (gaps["gap_start"] <= day) & (gaps["gap_end"] >= day)].iloc[0]
    return (hit["last_before_event"], hit["first_after_event"])


def _local_date(at: dt.datetime | dt.date, zone: str) -> str:
    if isinstance(at, dt.datetime):
        return pd.Timestamp(at).tz_convert(zone).date().isoformat()
    return at.isoformat()


def _iso(day: np.datetime64) -> str:
    return str(np.datetime64(day, "D"))


def _long(iso: str) -> str:
    """Return an ISO date as e.g. ``Thursday 12 September 2024`` without the locale."""
    d = dt.date.fromisoformat(iso)
    return f"{('Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday')[d.weekday()]} " \
           f"{d.day} {MONTHS[d.month - 1]} {d.year}"


ANALYSIS = AnalysisSpec(
    name="coverage",
    version="1.0",
    summary="Period covered, daily presence and gaps of records per exhibit and source",
    requires=REQUIRES,
    params=Params,
    run=run,
    render=_render.render,
)
