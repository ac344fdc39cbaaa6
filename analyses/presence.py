"""Presence: the suspect's devices at the victim's places while her own are recorded elsewhere.

Method:
    Places are the case places linked to a person whose role is victim (or
    those named in ``places``), each with its own radius from case.toml unless
    ``radius_m`` overrides it. Devices are tied to persons only through the
    ``device:<exhibit_ref>`` attributions in case.toml (cell records through
    the CDR target or the handset's number), as in ``colocation``.

    (a) Suspect episodes. The suspect's location fixes and visits are tested
    against each place with the colocation geometry
    (``_colocation_tables.device_to_place``): with d the distance from the
    centre, r the record's stated or assumed uncertainty and R the radius,
    ``within`` if d + r <= R, ``indeterminate`` if the circle crosses the
    boundary; cell-based fixes are never ``within``. Records at most
    ``episode_gap_minutes`` apart form one episode. An episode is *reported*
    when at least one record is within and it holds at least ``min_records``
    records; others are kept in the table, not in the findings. ANPR reads
    are not used (they show a vehicle at a camera, not a device).

    (b) The victim's side. For each episode, every record of the victim's
    devices overlapping the episode widened by ``max_gap_minutes`` each side
    is classed against the same place (``_presence_victim``): a point record
    is ``at_place`` (d - r <= R), ``elsewhere`` (d - r >= ``min_separation_m``)
    or ``between``; a cell area (cell-based fix, very uncertain fix, or a
    serving cell's mast with ``cell_range_m``) ``area_overlaps`` or
    ``area_apart``. Status: ``no_data`` (no record in the window),
    ``at_place`` (any point at the place), ``indeterminate`` (any point
    between, or only areas), else ``elsewhere``. Areas never make an episode
    ``elsewhere``. The window search is a binary search over the victim's
    records sorted by time, never all pairs.

    Findings: one per reported ``elsewhere`` episode (both sides' event ids in
    time order), one per reported ``no_data`` episode (listed separately, never
    read as the victim's device being away), a summary per place.
Limitations:
    Records show devices, not people; the victim's device may have been left
    somewhere; nothing is known between records and a gap is not an absence;
    GPS accuracy is the source's estimate or an assumed radius; cell records
    give areas, never positions. Wording lives in
    report_templates/analyses/presence.toml under the keys in ``LIMITATIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pandas as pd

from analyses import _colocation_tables as coloc
from analyses import _presence_tables as tables
from analyses._colocation_geo import Area
from analyses._colocation_records import location_records
from analyses._presence_victim import TRACK_KINDS, victim_records
from atlas.analysis import AnalysisResult, AnalysisSpec, Finding
from atlas.attribution import role_ids
from atlas.case import Case
from atlas.errors import ParamError

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
    "latitude",
    "longitude",
    "accuracy_m",
    "location_method",
    "cell_id",
    "extra",
)
LIMITATIONS = tuple(
    f"presence.{k}"
    for k in (
        "device_not_person",
        "device_left",
        "records_not_movements",
        "gaps_not_absence",
        "accuracy",
        "cell_areas",
        "thresholds",
        "geometry_only",
        "no_opinion",
    )
)


@dataclass(frozen=True, kw_only=True)
class Params:
    """Thresholds for this analysis; every value is written to the analysis log."""

    places: tuple[str, ...] = ()
    """Names of case places to test; empty means every place linked to a victim in case.toml."""
    radius_m: float = 0.0
    """Radius used for every tested place; 0 means each place's own radius from case.toml."""
    min_separation_m: float = 500.0
    """A point record of the victim's device counts as elsewhere only when its whole uncertainty
    circle lies at least this far from the place's centre (d - r >= this). 500 m is more than
    three times a typical home radius and ten times the assumed GPS uncertainty."""
    max_gap_minutes: int = 30
    """Records of the victim's device up to this long before the episode's start or after its
    end are considered; with none in that window the episode is 'no data'."""
    min_records: int = 2
    """Fewest records of the suspect's device an episode must hold to be reported; one fix on
    its own may be a passing journey or a stray position."""
    episode_gap_minutes: int = 30
    """Records of the suspect's device at the place at most this far apart form one episode."""
    assumed_accuracy_m: float = 50.0
    """Uncertainty radius for a record whose source states none (GPX); such records are flagged."""
    max_accuracy_m: float = 200.0
    """Suspect records more uncertain than this are not tested; victim records more uncertain
    than this are treated as areas (they can never make an episode 'elsewhere')."""
    cell_range_m: float = 5000.0
    """Indicative radius of a serving cell's area around its mast (a convention, not coverage)."""

    def __post_init__(self) -> None:
        for name in (
            "radius_m",
            "min_separation_m",
            "assumed_accuracy_m",
            "max_accuracy_m",
            "cell_range_m",
        ):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                raise ParamError(name, value, "must be a finite number of metres, 0 or more")
        if self.min_separation_m <= 0 or self.cell_range_m <= 0:
            raise ParamError(
                "min_separation_m/cell_range_m",
                (self.min_separation_m, self.cell_range_m),
                "must be more than 0",
            )
        if self.max_accuracy_m < self.assumed_accuracy_m:
            raise ParamError(
                "max_accuracy_m", self.max_accuracy_m, "must not be below assumed_accuracy_m"
            )
        for name in ("max_gap_minutes", "episode_gap_minutes"):
            if getattr(self, name) < 0:
                raise ParamError(name, getattr(self, name), "must be 0 or more")
        if self.min_records < 1:
            raise ParamError("min_records", self.min_records, "must be 1 or more")
        if not all(isinstance(p, str) and p for p in self.places):
            raise ParamError("places", self.places, "must be place names")


def victim_places(case: Case, params: Params) -> tuple[Area, ...]:
    """Return the places tested: the victims' places (or those named), with the radius used."""
    victims = role_ids(case, "victim")
    known = {p.name for p in case.places}
    unknown = [p for p in params.places if p not in known]
    if unknown:
        raise ParamError(
            "places",
            params.places,
            f"unknown place {unknown[0]!r}; known: {', '.join(sorted(known)) or 'none'}",
        )
    chosen = [
        p
        for p in case.places
        if (p.name in params.places if params.places else p.person in victims)
    ]
    radius = lambda p: params.radius_m or p.radius_m  # noqa: E731
    if any(radius(p) >= params.min_separation_m for p in chosen):
        raise ParamError(
            "min_separation_m",
            params.min_separation_m,
            "must be more than the radius of every tested place",
        )
    return tuple(Area(p.name, "place", p.name, p.lat, p.lon, float(radius(p))) for p in chosen)


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Find the suspect's episodes at her places and what her devices show; events are read only."""
    subjects = tuple(sorted(role_ids(case, "suspect")))
    victims = tuple(sorted(role_ids(case, "victim")))
    places = victim_places(case, params)
    recs = location_records(events, case, params.assumed_accuracy_m)
    suspect = recs[recs["person"].isin(subjects) & recs["kind"].isin(TRACK_KINDS)]
    usable = suspect[suspect["radius_m"] <= params.max_accuracy_m].reset_index(drop=True)
    place_rows, eps = coloc.device_to_place(
        usable, places, subjects, case, SimpleNamespace(gap_minutes=params.episode_gap_minutes)
    )
    vrec = victim_records(events, recs, case, victims, params)
    episodes, records = tables.match_victims(eps, place_rows, vrec, places, victims, case, params)

    out: list[Finding] = []
    if not places:
        out.append(Finding("presence.no_places", {}, ()))
    for victim in victims:
        if not (vrec["person"] == victim).any():
            out.append(Finding("presence.no_victim_records", {"victim": victim}, ()))
    out += tables.findings(episodes, records, places, subjects, victims, params)
    reported = episodes[episodes["reported"]]
    counts = {
        "places": len(places),
        "suspect_records_tested": len(usable),
        "suspect_records_too_uncertain": len(suspect) - len(usable),
        "victim_records": len(vrec),
        "victim_area_records": int(vrec["is_area"].sum()) if len(vrec) else 0,
        "episodes": len(episodes),
        "episodes_reported": len(reported),
        "episodes_not_reported": len(episodes) - len(reported),
        **{
            f"episodes_{s}": int((reported["victim_status"] == s).sum())
            for s in ("elsewhere", "at_place", "indeterminate", "no_data")
        },
    }
    return AnalysisResult(
        analysis=ANALYSIS,
        params=params,
        tables={"episodes": episodes, "episode_records": records},
        findings=tuple(out),
        limitations=LIMITATIONS,
        counts=counts,
    )


def _render(result: AnalysisResult, case: Case, folder):  # noqa: ANN001, ANN202 - Path in, list out
    from analyses._presence_render import render

    return render(result, case, folder)


ANALYSIS = AnalysisSpec(
    name="presence",
    version="1.0",
    summary="The suspect's devices at the victim's places, and what her own devices show then",
    requires=REQUIRES,
    params=Params,
    run=run,
    render=_render,
)
