"""The victim's side of the presence analysis: her devices' records around each episode.

Records of the devices attributed to a victim are of two sorts:

* **points**: ``location_fix`` and ``location_visit`` records measured by GPS,
  Wi-Fi or an unknown method, with an uncertainty radius r no larger than
  ``max_accuracy_m`` (the stated accuracy, else ``assumed_accuracy_m``);
* **areas**: cell-based fixes, fixes whose uncertainty exceeds
  ``max_accuracy_m``, and serving-cell records (call, SMS, data, cell event)
  whose cell is in a cell list, taken as a circle of ``cell_range_m`` around
  the recorded mast (an indicative convention: the real coverage is unknown
  without a survey). A serving cell whose mast is unknown gives no area and is
  not used.

Each record inside an episode's window (the episode widened by
``max_gap_minutes`` on each side; an interval record counts when any part of
it falls inside) is classed against the place (centre c, radius R), with d the
distance from c to the recorded position:

* point ``at_place`` when d - r <= R (the record could lie within the place);
* point ``elsewhere`` when d - r >= ``min_separation_m`` (the whole
  uncertainty circle lies at least that far from the centre);
* point ``between`` otherwise (neither);
* area ``area_overlaps`` when d - r <= R, else ``area_apart``.

The episode's victim status: ``no_data`` when no record is in the window;
``at_place`` when any point is at the place; ``indeterminate`` when any point is
between, or there are only areas; ``elsewhere`` when every point is elsewhere
(areas never decide it: a cell area that overlaps the place is consistent with
both, and one that does not is not evidence of where the handset was).

The window search is one ``searchsorted`` per episode edge over the victim's
records sorted by start (intervals handled by widening with the longest
duration, then tested exactly), so the cost is O((n + k) log n + candidates).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analyses._colocation_records import cell_records, join_cells, site_frame
from atlas.case import Case

TRACK_KINDS = ("location_fix", "location_visit")
VICTIM_COLUMNS = (
    "person",
    "event_id",
    "exhibit_ref",
    "locator",
    "kind",
    "start",
    "end",
    "latitude",
    "longitude",
    "radius_m",
    "accuracy_assumed",
    "basis",
    "is_area",
)


def _us(values: pd.Series) -> np.ndarray:
    """Return UTC times as int64 microseconds."""
    return values.to_numpy(dtype="datetime64[us]").astype(np.int64)


def victim_records(
    events: pd.DataFrame, located: pd.DataFrame, case: Case, victims: tuple[str, ...], params: Any
) -> pd.DataFrame:
    """Return the victims' points and areas, one row per record, sorted by (start, event_id).

    ``located`` is ``_colocation_records.location_records`` of the same events.
    """
    rec = located[located["kind"].isin(TRACK_KINDS) & located["person"].isin(victims)]
    area = (rec["basis"] == "cell") | (rec["radius_m"] > params.max_accuracy_m)
    fixes = rec.assign(is_area=area.to_numpy())[list(VICTIM_COLUMNS)]
    cells = cell_records(events, case)
    cells = cells[cells["person"].isin(victims)]
    frames = [fixes]
    if len(cells):
        joined = join_cells(cells, site_frame(events), params.cell_range_m, case.display_timezone)
        joined = joined[joined["cell_site_status"] == "matched"]
        frames.append(
            pd.DataFrame(
                {
                    "person": joined["person"].to_numpy(),
                    "event_id": joined["event_id"].to_numpy(),
                    "exhibit_ref": joined["exhibit_ref"].to_numpy(),
                    "locator": joined["locator"].to_numpy(),
                    "kind": joined["kind"].to_numpy(),
                    "start": joined["timestamp_utc"].to_numpy(),
                    "end": joined["timestamp_utc"].to_numpy(),
                    "latitude": joined["cell_site_lat"].to_numpy("float64"),
                    "longitude": joined["cell_site_lon"].to_numpy("float64"),
                    "radius_m": np.full(len(joined), float(params.cell_range_m)),
                    "accuracy_assumed": np.zeros(len(joined), bool),
                    "basis": "cell_site",
                    "is_area": np.ones(len(joined), bool),
                }
            )
        )
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=list(VICTIM_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    out["start"] = pd.to_datetime(out["start"], utc=True)
    out["end"] = pd.to_datetime(out["end"], utc=True)
    return out.sort_values(["start", "event_id"], kind="stable").reset_index(drop=True)


def window_pairs(
    vstart: np.ndarray, vend: np.ndarray, lo_us: np.ndarray, hi_us: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return (episode index, record index) of records overlapping each window [lo, hi].

    ``vstart`` must be sorted ascending. A record overlaps when start <= hi and end >= lo.
    """
    if len(vstart) == 0 or len(lo_us) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    widen = int((vend - vstart).max())
    first = np.searchsorted(vstart, lo_us - widen, side="left")
    stop = np.searchsorted(vstart, hi_us, side="right")
    n = np.maximum(stop - first, 0)
    ep = np.repeat(np.arange(len(lo_us)), n)
    offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    rec = np.repeat(first, n) + offsets
    keep = vend[rec] >= lo_us[ep]
    return ep[keep].astype(np.int64), rec[keep].astype(np.int64)


def nearest_outside(
    vstart: np.ndarray, vend: np.ndarray, lo_us: np.ndarray, hi_us: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Return, per window, the latest record end before ``lo`` and the first start after ``hi``.

    Missing values are -1. Used to say how far the nearest record lies when a window is empty.
    """
    if len(vstart) == 0:
        none = np.full(len(lo_us), -1, np.int64)
        return none, none.copy()
    latest = np.maximum.accumulate(vend)
    before_n = np.searchsorted(vstart, lo_us, side="left")
    before = np.where(before_n > 0, latest[np.maximum(before_n - 1, 0)], -1)
    before = np.where(before < lo_us, before, -1)  # an overlapping record is not "before"
    after_i = np.searchsorted(vstart, hi_us, side="right")
    after = np.where(after_i < len(vstart), vstart[np.minimum(after_i, len(vstart) - 1)], -1)
    return before.astype(np.int64), after.astype(np.int64)


def classify(
    d: np.ndarray, r: np.ndarray, is_area: np.ndarray, radius_m: np.ndarray, min_separation_m: float
) -> np.ndarray:
    """Return each record's class against its place (see the module docstring)."""
    could_be_inside = d - r <= radius_m
    point = np.select(
        [could_be_inside, d - r >= min_separation_m], ["at_place", "elsewhere"], "between"
    )
    area = np.where(could_be_inside, "area_overlaps", "area_apart")
    return np.where(is_area, area, point).astype(object)
