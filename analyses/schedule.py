"""Schedule: a dated schedule of occasions, each tagged with the kinds of record the listed behaviours describe.

Method:
    Every record is tested by the selectors of ``analyses/_schedule_tags.py``
    (the table ``TAGS``): contact records sent from identifiers attributed to a
    suspect to identifiers attributed to a victim (``contact``; calls whatever
    their status, so missed, rejected and blocked attempts count), those from an
    identifier first recorded after the first block (``new_identifier``),
    social-media approaches (``profile_interaction``), searches and posts of a
    suspect's accounts that name a victim (``search``, ``publishing``), location
    records of a suspect's devices within a victim's place allowing for their
    uncertainty (``at_place``: d + r <= R) and within D metres and T minutes of a
    victim's device record (``near_victim_device``: d + r1 + r2 <= D). Each tag
    maps to the s.2A(3) examples and online behaviours it describes; a record can
    carry several tags. A tag with no possible source in the store is reported
    "not assessable from these records" (``tracking`` and ``property`` always:
    the event model has no such record type).

    Tagged records are grouped into occasions (``_schedule_occasions.py``): by
    UK local date, or with ``grouping=episode`` location records in runs split
    by gaps over ``episode_gap_minutes``. The schedule gives per occasion the
    tags, the record counts per tag and per channel, the first and last time
    (UK local with GMT/BST, and UTC) and the event ids.

    Contact through third parties is selected separately and never added to
    the direct counts: records from a suspect's identifiers to a person with
    role ``other`` (and to no victim) whose text names a victim, and records
    from a person with role ``other`` to a victim whose text names a suspect.
    Names are the person's name in case.toml, its words of three or more
    letters, the display names of ``name:`` identifiers, handles, and the
    ``victim_aliases`` / ``suspect_aliases`` parameters, matched as whole words
    ignoring case.
Limitations:
    A tag says that a record is of a kind the list describes, never that the
    conduct occurred or what it amounts to. Wording lives in
    report_templates/analyses/schedule.toml under the keys in ``LIMITATIONS``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from analyses import _schedule_occasions as occ
from analyses._schedule_tags import S2A3, TAGS, select
from atlas.analysis import AnalysisResult, AnalysisSpec, Finding
from atlas.case import Case
from atlas.errors import ParamError
from atlas.provenance import exhibit_key

REQUIRES = (
    "event_id",
    "exhibit_ref",
    "locator",
    "kind",
    "timestamp_utc",
    "end_utc",
    "direction",
    "sender",
    "recipients",
    "channel",
    "text",
    "status",
    "latitude",
    "longitude",
    "accuracy_m",
    "location_method",
    "cell_id",
    "extra",
)
LIMITATIONS = tuple(
    f"schedule.{k}"
    for k in (
        "tags_not_conclusions",
        "occasion_grouping",
        "uk_local_dates",
        "device_not_person",
        "attribution_only",
        "location_uncertainty",
        "name_matching",
        "third_party_separate",
        "same_record_two_exhibits",
        "not_assessable",
        "gaps_not_absence",
    )
)
GROUPINGS = ("date", "episode")


@dataclass(frozen=True, kw_only=True)
class Params:
    """Settings for the schedule; every value is written to the analysis log."""

    grouping: str = "date"
    """How tagged records form occasions: ``date`` (UK local calendar date) or ``episode`` (location
    records in runs split by gaps over ``episode_gap_minutes``; other records by UK date)."""
    episode_gap_minutes: int = 60
    """With ``grouping=episode``, a gap longer than this between location records starts a new occasion."""
    assumed_accuracy_m: float = 50.0
    """Uncertainty radius for a location record whose source states none."""
    device_distance_m: float = 200.0
    """D for ``near_victim_device``: the two records' positions, each widened by its uncertainty, lie within D."""
    device_window_minutes: int = 5
    """T for ``near_victim_device``: the largest time difference between the two records."""
    from_date: str = ""
    """UK local date (YYYY-MM-DD): tagged records dated before it are left out (counted in a finding);
    empty keeps every record."""
    victim_aliases: tuple[str, ...] = ()
    """Other names of the victim(s) to look for in text (nicknames, previous names)."""
    suspect_aliases: tuple[str, ...] = ()
    """Other names of the suspect(s) to look for in text."""

    def __post_init__(self) -> None:
        if self.grouping not in GROUPINGS:
            raise ParamError("grouping", self.grouping, f"must be one of {', '.join(GROUPINGS)}")
        if self.episode_gap_minutes < 1:
            raise ParamError("episode_gap_minutes", self.episode_gap_minutes, "must be 1 or more")
        if not 0 <= self.assumed_accuracy_m <= 10_000:
            raise ParamError(
                "assumed_accuracy_m", self.assumed_accuracy_m, "must be 0 to 10000 metres"
            )
        if not 0 < self.device_distance_m <= 10_000:
            raise ParamError(
                "device_distance_m",
                self.device_distance_m,
                "must be more than 0, up to 10000 metres",
            )
        if not 0 <= self.device_window_minutes <= 24 * 60:
            raise ParamError(
                "device_window_minutes", self.device_window_minutes, "must be 0 to 1440 minutes"
            )
        if self.from_date:
            try:
                dt.date.fromisoformat(self.from_date)
            except ValueError:
                raise ParamError(
                    "from_date", self.from_date, "must be a date written YYYY-MM-DD"
                ) from None
        for name in ("victim_aliases", "suspect_aliases"):
            if not all(isinstance(a, str) and a.strip() for a in getattr(self, name)):
                raise ParamError(name, getattr(self, name), "must be non-empty names")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Tag records, group them into occasions and count; ``events`` is not modified."""
    tz = case.display_timezone
    sel = select(events, case, params)
    records = occ.tagged_records(events, sel, tz)
    earlier = (
        records[records["date_uk"] < params.from_date] if params.from_date else records.iloc[0:0]
    )
    records = records.drop(earlier.index).reset_index(drop=True)
    records, kinds = occ.group(records, params.grouping, params.episode_gap_minutes)
    table = occ.schedule(records, kinds)
    tags = occ.tag_table(records, sel)
    third = occ.third_party_table(events, sel, tz)
    if params.from_date:
        third = third[third["date_uk"] >= params.from_date].reset_index(drop=True)

    findings: list[Finding] = []
    if records.empty:
        findings.append(Finding("schedule.none", {}, ()))
    else:
        findings.append(
            Finding(
                "schedule.summary",
                {
                    "occasions": len(table),
                    "records": len(records),
                    "grouping": _grouping_text(params),
                    "first_utc": records["timestamp_utc"].iloc[0],
                    "last_utc": records["timestamp_utc"].iloc[-1],
                    "tags": [t for t in tags.loc[tags["records"].fillna(0) > 0, "tag"]],
                },
                tuple(records["event_id"]),
            )
        )
    if params.from_date:
        findings.append(
            Finding(
                "schedule.from_date",
                {"records": len(earlier), "from_date": params.from_date},
                tuple(earlier["event_id"]),
            )
        )
    findings += _tag_findings(records, tags, sel, params)
    findings += _third_party_findings(third)
    for row in table.itertuples(index=False):
        channels = [
            f"{c.removeprefix('channel_')} {getattr(row, c)}"
            for c in table.columns
            if c.startswith("channel_") and getattr(row, c)
        ]
        findings.append(
            Finding(
                "schedule.occasion",
                {
                    "occasion": row.occasion,
                    "grouping": row.grouping,
                    "date_uk": row.date_uk,
                    "first_utc": row.first_utc,
                    "last_utc": row.last_utc,
                    "records": row.records,
                    "tags": row.tags.split("; "),
                    "channels": channels,
                },
                tuple(row.event_ids),
            )
        )
    counts = {
        "tagged_records": len(records),
        "records_before_from_date": len(earlier),
        "occasions": len(table),
        "third_party_records": len(third),
        **{
            f"records_{t.key}": int(v) for t, v in zip(TAGS, tags["records"].fillna(0), strict=True)
        },
    }
    return AnalysisResult(
        analysis=ANALYSIS,
        params=params,
        tables={"schedule": table, "records": records, "tags": tags, "third_party": third},
        findings=tuple(findings),
        limitations=LIMITATIONS,
        counts=counts,
    )


def _grouping_text(params: Params) -> str:
    if params.grouping == "episode":
        return (
            f"location records in runs with no gap over {params.episode_gap_minutes} minutes, other "
            "records by UK local date"
        )
    return "UK local calendar date"


def _refs(tag_key: str) -> list[str]:
    tag = next(t for t in TAGS if t.key == tag_key)
    return [f"({r}) '{S2A3[r]}'" for r in tag.refs]


def _tag_findings(records: pd.DataFrame, tags: pd.DataFrame, sel, params: Params) -> list[Finding]:  # noqa: ANN001
    out: list[Finding] = []
    matrix = occ.tag_matrix(records)
    for row in tags.itertuples(index=False):
        key = row.tag
        if row.assessable != "yes":
            out.append(Finding(f"schedule.not_assessable.{key}", {"s2a3": _refs(key)}, ()))
            continue
        mine = records[matrix[key].to_numpy(dtype=bool)]
        if mine.empty:
            out.append(Finding(f"schedule.none.{key}", {"s2a3": _refs(key)}, ()))
            continue
        if key in ("at_place", "near_victim_device"):
            hits = sel.hits[sel.hits["tag"] == key]
            for grp in sorted(hits["group"].unique()):
                ids = set(hits.loc[hits["group"] == grp, "event_id"])
                part = mine[mine["event_id"].isin(ids)]
                first, second = grp.split("|", 1)
                values = _span(part) | {
                    "s2a3": _refs(key),
                    "exhibits": sorted(part["exhibit_ref"].unique(), key=exhibit_key),
                }
                if key == "at_place":
                    radius = next(r for name, _p, r in sel.places if name == first)
                    values |= {"place": first, "person": second, "radius_m": radius}
                else:
                    values |= {
                        "person": first,
                        "victim": second,
                        "distance_m": params.device_distance_m,
                        "window_minutes": params.device_window_minutes,
                    }
                out.append(Finding(f"schedule.tag.{key}", values, tuple(part["event_id"])))
            continue
        values = _span(mine) | {"s2a3": _refs(key)}
        if key == "contact":
            counts = mine["channel"].astype(str).value_counts().sort_index()
            values["channels"] = [f"{ch} {n}" for ch, n in counts.items()]
        out.append(Finding(f"schedule.tag.{key}", values, tuple(mine["event_id"])))
    return out


def _span(part: pd.DataFrame) -> dict[str, object]:
    return {
        "records": len(part),
        "occasions": int(part["occasion"].nunique()),
        "dates": int(part["date_uk"].nunique()),
        "first_utc": part["timestamp_utc"].iloc[0],
        "last_utc": part["timestamp_utc"].iloc[-1],
    }


def _third_party_findings(third: pd.DataFrame) -> list[Finding]:
    out = []
    for route in ("suspect_to_other", "other_to_victim"):
        part = third[third["route"] == route]
        if part.empty:
            out.append(Finding(f"schedule.third_party.{route}_none", {}, ()))
            continue
        out.append(
            Finding(
                f"schedule.third_party.{route}",
                {
                    "records": len(part),
                    "dates": int(part["date_uk"].nunique()),
                    "first_utc": part["timestamp_utc"].iloc[0],
                    "last_utc": part["timestamp_utc"].iloc[-1],
                    "senders": sorted(part["sender_person"].unique()),
                    "recipients": sorted(part["recipient_persons"].unique()),
                },
                tuple(part["event_id"]),
            )
        )
    return out


ANALYSIS = AnalysisSpec(
    name="schedule",
    version="1.0",
    summary="Dated schedule of occasions tagged with the kinds of record the s.2A(3) examples describe",
    requires=REQUIRES,
    params=Params,
    run=run,
)
