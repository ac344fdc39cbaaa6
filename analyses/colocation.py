"""Colocation: location records of the suspect's devices near the case's places and the victim's device.

Method:
    Devices are tied to persons only through ``case.toml``: location records
    through a ``device:<exhibit_ref>`` attribution of their exhibit, ANPR reads
    through a ``vrm:`` attribution (the position is the camera's, not the
    vehicle's), cell records through the CDR target or the handset's number.

    (a) Device to place. Each area is a case place not linked to the suspect,
    or a zone of an order whose subject is the suspect (the order's radius).
    Each record of the suspect's devices is tested with its own uncertainty r
    (``accuracy_m``; where the source gives none, ``assumed_accuracy_m`` and the
    flag ``accuracy_assumed``): with d the haversine distance from the area's
    centre and R its radius, the record is ``within`` if d + r <= R, ``outside``
    if d - r > R, else ``indeterminate``. A provider "visit" is an interval with
    one position and is tested the same way over its whole interval. A
    ``location_fix`` whose method is ``cell`` is never reported ``within``
    (at most ``indeterminate``, flag ``cell_based_estimate``).

    (b) Device to device. Location fixes and visits of a suspect's device and
    a victim's device form a hit when their times are within T minutes and
    their positions could be within D metres (d - r_a - r_b <= D); ``within``
    when d + r_a + r_b <= D. The join is a sweep over grid cells with binary
    searches (``analyses/_colocation_sweep.py``), never all pairs.

    (c) Hits whose spans lie at most ``gap_minutes`` apart merge into one
    episode (start, end, closest distance, records, basis, status: ``within``
    if any record or pair is within, else ``indeterminate``). Occasions are
    episodes; distinct days are UK calendar dates of episode starts.

    Cell records never place a device: a call, SMS or data session with a
    serving cell is reported as "served by cell X whose recorded mast lies N m
    from the place" when a ``cell_site`` list is in the store and the mast lies
    within ``cell_report_m`` of an area, else "mast position unknown".
Limitations:
    Records show devices, vehicles and SIMs, not people, and only when a record
    was made: nothing is interpolated between records and a gap is not an
    absence. A stated accuracy is the source's own estimate; an assumed one is
    a convention (flagged). ANPR gives the camera's position. Cell records give
    a mast position, never the handset's; mast distances are plain geometry
    for an expert. Places are circles. The wording lives in
    report_templates/analyses/colocation.toml under the keys in
    ``LIMITATIONS``; this module never writes prose.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses import _colocation_tables as tables
from analyses._colocation_geo import case_areas
from analyses._colocation_records import cell_records, join_cells, location_records, site_frame
from atlas.analysis import AnalysisResult, AnalysisSpec, Finding
from atlas.attribution import role_ids
from atlas.case import Case
from atlas.errors import ParamError

REQUIRES = ("event_id", "exhibit_ref", "locator", "kind", "timestamp_utc", "end_utc", "direction",
            "sender", "recipients", "latitude", "longitude", "accuracy_m", "location_method",
            "cell_id", "extra")
LIMITATIONS = tuple(f"colocation.{k}" for k in (
    "device_not_person", "records_not_movements", "uncertainty", "assumed_accuracy",
    "gaps_not_absence", "anpr_camera", "cell_site", "geometry_only", "no_opinion"))


@dataclass(frozen=True, kw_only=True)
class Params:
    """Thresholds for this analysis; every value is written to the analysis log."""

    places: tuple[str, ...] = ()
    """Names of case places to test (their order zones included); empty means every place not
    linked to the suspect."""
    assumed_accuracy_m: float = 50.0
    """Uncertainty radius used for a record whose source states none (GPX states none); such
    records are flagged ``accuracy_assumed``. 50 m is deliberately wider than a typical
    open-sky phone GPS fix."""
    max_accuracy_m: float = 200.0
    """Records whose uncertainty radius is larger are not tested at all (counted and listed)."""
    gap_minutes: int = 30
    """Hits at most this far apart (from the end of one to the start of the next) form one episode."""
    distance_m: float = 100.0
    """D, device to device: the largest separation reported."""
    window_minutes: int = 10
    """T, device to device: the largest time difference between the two records."""
    cell_report_m: float = 3000.0
    """A cell record is listed against an area when the recorded mast lies within this distance."""
    cell_range_m: float = 5000.0
    """Indicative cell range passed to the cell-site join (a display convention, not coverage)."""

    def __post_init__(self) -> None:
        for name in ("assumed_accuracy_m", "max_accuracy_m", "distance_m", "cell_report_m",
                     "cell_range_m"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and np.isfinite(value) and value >= 0):
                raise ParamError(name, value, "must be a finite number of metres, 0 or more")
        if self.distance_m <= 0 or self.cell_range_m <= 0:
            raise ParamError("distance_m/cell_range_m", (self.distance_m, self.cell_range_m),
                             "must be more than 0")
        if self.max_accuracy_m < self.assumed_accuracy_m:
            raise ParamError("max_accuracy_m", self.max_accuracy_m,
                             "must not be below assumed_accuracy_m (records without accuracy would all be dropped)")
        if self.gap_minutes < 0:
            raise ParamError("gap_minutes", self.gap_minutes, "must be 0 or more")
        if self.window_minutes < 0:
            raise ParamError("window_minutes", self.window_minutes, "must be 0 or more")
        if not all(isinstance(p, str) and p for p in self.places):
            raise ParamError("places", self.places, "must be place names")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Find the suspect's location records near places and near the victim's; ``events`` is not modified."""
    known = {p.name for p in case.places}
    unknown = [p for p in params.places if p not in known]
    if unknown:
        raise ParamError("places", params.places, f"unknown place {unknown[0]!r}; known: "
                         f"{', '.join(sorted(known)) or 'none'}")
    subjects = tuple(sorted(role_ids(case, "suspect")))
    victims = tuple(sorted(role_ids(case, "victim")))
    areas = case_areas(case, subjects, params.places)
    records = location_records(events, case, params.assumed_accuracy_m)
    usable = records[records["radius_m"] <= params.max_accuracy_m].reset_index(drop=True)
    too_wide = records[records["radius_m"] > params.max_accuracy_m]

    place_rows, place_eps = tables.device_to_place(usable, areas, subjects, case, params)
    pairs, device_eps = tables.device_to_device(usable, subjects, victims, params,
                                             case.display_timezone)
    cells = cell_records(events, case)
    cells = cells[cells["person"].isin(subjects)]
    joined = join_cells(cells, site_frame(events), params.cell_range_m, case.display_timezone)
    cell_rows = tables.cell_table(joined, areas, params)

    findings: list[Finding] = []
    findings += tables.coverage_findings(records, subjects + victims)
    findings += tables.place_findings(place_rows, place_eps, areas, subjects, case)
    findings += tables.device_findings(pairs, device_eps, subjects, victims, params, case)
    findings += tables.cell_findings(cell_rows)
    if len(too_wide):
        findings.append(Finding("colocation.excluded_uncertain",
                                {"count": len(too_wide), "max_accuracy_m": params.max_accuracy_m},
                                tuple(too_wide["event_id"])))
    counts = {
        "location_records_attributed": len(records),
        "location_records_unattributed": int(events["kind"].isin(("location_fix", "location_visit",
                                                                    "anpr_read")).sum()) - len(records),
        "records_too_uncertain": len(too_wide),
        "suspect_records_tested": int(usable["person"].isin(subjects).sum()),
        "areas": len(areas),
        "place_records_reported": len(place_rows),
        "place_episodes": len(place_eps),
        "device_pairs": len(pairs),
        "device_episodes": len(device_eps),
        "cell_records_considered": len(cells),
        "cell_rows_reported": len(cell_rows),
    }
    return AnalysisResult(
        analysis=ANALYSIS, params=params,
        tables={"place_records": place_rows, "place_episodes": place_eps, "device_pairs": pairs,
                "device_episodes": device_eps, "cell_events": cell_rows},
        findings=tuple(findings), limitations=LIMITATIONS, counts=counts)


def _render(result: AnalysisResult, case: Case, folder):  # noqa: ANN001, ANN202 - Path in, list out
    from analyses._colocation_render import render

    return render(result, case, folder)


ANALYSIS = AnalysisSpec(
    name="colocation",
    version="1.0",
    summary="Location records of the suspect's devices near the case's places and the victim's device",
    requires=REQUIRES,
    params=Params,
    run=run,
    render=_render,
)
