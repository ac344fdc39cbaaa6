"""Serving cells: one spelling of a cell identity, and the join of events to a cell site list.

A serving cell is an **area, never a point**. The cell site list gives the
position of the *mast* (and, for a sectored cell, the direction its antenna
points); it does not give the position of the phone. A handset may be
anywhere in the cell's best-serving area, which is not necessarily near the
mast, overlaps neighbouring cells, and whose extent is unknown without a
radio survey; networks are reconfigured, so a list is only good for the dates
it covers. ``cell_areas`` therefore carries the mast position *and* the
uncertainty (sector bearings, an indicative range radius) onto each event,
and never a "phone location". Interpreting it is a matter for an expert.

Cell identities are normalised by ``normalise_cgi`` to one spelling, decimal
numbers joined by hyphens: ``MCC-MNC-LAC-CI`` (2G/3G) or ``MCC-MNC-eNB-cell``
(4G), e.g. ``234-15-1234-56789``. Leading zeros of the area and cell numbers
are dropped; the MCC (3 digits) and MNC (2 or 3 digits) keep their digits as
written, since ``234-015`` and ``234-15`` are different networks in principle.
A 4G ECGI written as three parts (``MCC-MNC-ECI``) has its 28-bit ECI split
into eNodeB id (upper 20 bits) and cell id (lower 8 bits); a 5G NCI cannot be
split without knowing the gNB id length, so an identity whose third part is
over 28 bits is refused.

``cell_areas(events, sites, range_m)`` is a pure, vectorised join (no loops
over events) on the normalised cell id. For each event with a cell id
(``cell_site`` rows themselves are skipped) it adds:

* ``cell_site_status``: ``matched`` (exactly one site row for that cell is in
  force at the event's date), ``unknown_cell`` (the list has no such cell:
  the event is **kept**, with no position), ``inactive_cell_site`` (the list
  has the cell but none of its rows is in force at that date) or
  ``ambiguous_cell_site`` (several rows are in force and nothing decides
  between them). Only ``matched`` events get a position: an ambiguous or
  out-of-date cell is shown as "mast position unknown", never guessed.
  Events without a cell id get null.
* ``cell_site_lat``/``cell_site_lon`` (mast, WGS84), ``cell_azimuth_deg``,
  ``cell_beamwidth_deg``, ``cell_bearing_from_deg``/``cell_bearing_to_deg``
  (clockwise from true north: azimuth ± half the beamwidth, modulo 360; an
  omni cell (no azimuth) or a beamwidth of 360° or more gives 0..360; a
  sectored cell whose beamwidth is not in the list gives null bearings,
  never an assumed 120°), ``cell_range_m`` (the configurable indicative
  radius, the same for every matched event: it is a display convention, not
  a measured coverage), ``cell_site_event_id`` (the ``cell_site`` event the
  position came from), ``cell_site_exhibit_ref`` (the cell list's exhibit)
  and ``cell_site_position_source`` (operator list or crowd-sourced estimate),
  the last two when the site frame has them.
* ``cell_site_candidates``: how many site rows share the event's cell id.

A site row is "in force" when the event's date in ``zone`` (default
Europe/London, the operators' local dates) lies between its ``active_from``
and ``active_to`` dates inclusive; a missing date is open-ended, and an event
without a time is taken to be covered (it can exclude nothing).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from atlas.errors import ParamError

CELL_COLUMNS = (
    "cell_site_status", "cell_site_lat", "cell_site_lon", "cell_azimuth_deg",
    "cell_beamwidth_deg", "cell_bearing_from_deg", "cell_bearing_to_deg", "cell_range_m",
    "cell_site_event_id", "cell_site_exhibit_ref", "cell_site_position_source",
    "cell_site_candidates",
)
SITE_COLUMNS = ("event_id", "cell_id", "latitude", "longitude", "azimuth_deg", "beamwidth_deg",
                "active_from", "active_to")

_SPLIT = re.compile(r"\s*[-/:. _]\s*|\s+")
ECI_BITS = 28


def normalise_cgi(raw: object) -> str | None:
    """Return the canonical ``MCC-MNC-X-Y`` spelling of a cell identity, or None if it is not one.

    Accepts four parts (``234-15-1234-56789``, ``234 15 01234 56789``,
    ``234/15/1234/56789``) or a three-part ECGI (``234-30-31604993``).
    """
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        return None
    parts = [p for p in _SPLIT.split(text) if p]
    if not all(p.isascii() and p.isdigit() for p in parts):
        return None
    if len(parts) == 3:
        eci = int(parts[2])
        if eci >= 1 << ECI_BITS:
            return None
        parts = [parts[0], parts[1], str(eci >> 8), str(eci & 0xFF)]
    if len(parts) != 4:
        return None
    mcc, mnc, area, cell = parts
    if len(mcc) != 3 or len(mnc) not in (2, 3):
        return None
    return f"{mcc}-{mnc}-{int(area)}-{int(cell)}"


def cgi_from_parts(mcc: object, mnc: object, area: object, cell: object) -> str | None:
    """Return the canonical identity from separate MCC, MNC, LAC/eNB and CI/cell values."""
    values = [str(v).strip() for v in (mcc, mnc, area, cell)]
    if not all(v.isascii() and v.isdigit() for v in values):
        return None
    return normalise_cgi("-".join(values))


def eci_cgi(mcc: object, mnc: object, eci: object) -> str | None:
    """Return the canonical ``MCC-MNC-eNB-cell`` identity of a 4G cell given by its 28-bit ECI."""
    values = [str(v).strip() for v in (mcc, mnc, eci)]
    if not all(v.isascii() and v.isdigit() for v in values):
        return None
    return normalise_cgi("-".join(values))


def load_cell_sites(case_root: Path) -> pd.DataFrame:
    """Return the case's ``cell_site`` events as a site frame for ``cell_areas``.

    Columns: ``event_id``, ``exhibit_ref``, ``source_path``, ``cell_id``,
    ``latitude``, ``longitude`` and, from each row's ``extra``,
    ``azimuth_deg``, ``beamwidth_deg``, ``active_from``, ``active_to``,
    ``site_name``, ``technology`` and ``position_source`` (null when absent).
    """
    from atlas.store import load_events  # the store pulls in pyarrow datasets; keep import local

    sites = load_events(case_root, columns=["event_id", "exhibit_ref", "source_path", "cell_id", "latitude",
                                            "longitude", "extra", "kind"], kinds=["cell_site"])
    sites = sites.reset_index(drop=True)
    extra = sites["extra"].map(lambda text: json.loads(text) if isinstance(text, str) else {})
    frame = sites[["event_id", "exhibit_ref", "source_path", "cell_id", "latitude",
                   "longitude"]].copy()
    for key in ("azimuth_deg", "beamwidth_deg", "active_from", "active_to", "site_name",
                "technology", "position_source"):
        frame[key] = extra.map(lambda d, k=key: d.get(k))
    for key in ("azimuth_deg", "beamwidth_deg"):
        frame[key] = pd.to_numeric(frame[key], errors="coerce").astype("float64")
    return frame


def cell_areas(events: pd.DataFrame, sites: pd.DataFrame, range_m: float = 5000.0,
               zone: str = "Europe/London") -> pd.DataFrame:
    """Return ``events`` with the cell-site columns added (see the module docstring); rows kept."""
    if (isinstance(range_m, bool) or not isinstance(range_m, (int, float))
            or not np.isfinite(range_m) or range_m <= 0):
        raise ParamError("range_m", range_m, "must be a positive number of metres")
    missing = [c for c in SITE_COLUMNS if c not in sites.columns]
    if missing:
        raise ValueError(f"site frame lacks columns {missing} (use load_cell_sites)")
    out = events.copy()
    row = pd.RangeIndex(len(out))
    is_site = (out["kind"].eq("cell_site") if "kind" in out.columns
               else pd.Series(False, index=out.index))
    keys = _keys(out["cell_id"]).where(~is_site.to_numpy(), None)
    left = pd.DataFrame({"_row": row, "_key": keys.to_numpy(),
                         "_day": _local_day(out.get("timestamp_utc"), len(out), zone)})
    site_frame = sites.copy()
    site_frame["_key"] = _keys(site_frame["cell_id"]).to_numpy()
    site_frame = site_frame[site_frame["_key"].notna() & site_frame["latitude"].notna()
                            & site_frame["longitude"].notna()]
    site_frame = site_frame.sort_values(["_key", "event_id"], kind="stable")
    site_frame["_from"] = pd.to_datetime(site_frame["active_from"], errors="coerce")
    site_frame["_to"] = pd.to_datetime(site_frame["active_to"], errors="coerce")

    cand = left[left["_key"].notna()].merge(site_frame, on="_key", how="inner")
    day = cand["_day"]
    cand["_in_force"] = (day.isna() | ((cand["_from"].isna() | (cand["_from"] <= day))
                                      & (cand["_to"].isna() | (day <= cand["_to"]))))
    counts = cand.groupby("_row").agg(_n=("_in_force", "size"), _e=("_in_force", "sum"))
    chosen = cand[cand["_in_force"]].merge(counts[counts["_e"] == 1], left_on="_row",
                                           right_index=True)
    chosen = chosen.set_index("_row")

    has_key = left["_key"].notna().to_numpy()
    n = counts["_n"].reindex(row).fillna(0).astype("int64").to_numpy()
    e = counts["_e"].reindex(row).fillna(0).astype("int64").to_numpy()
    status = np.select([~has_key, n == 0, e == 1, e == 0], [None, "unknown_cell", "matched",
                                                            "inactive_cell_site"],
                       default="ambiguous_cell_site")
    out["cell_site_status"] = pd.Series(status, index=out.index, dtype="object")

    def pick(column: str) -> np.ndarray:
        if column not in chosen:
            return np.full(len(out), None)
        return chosen[column].reindex(row).to_numpy()

    az = pd.to_numeric(pd.Series(pick("azimuth_deg")), errors="coerce").to_numpy(dtype="float64")
    bw = pd.to_numeric(pd.Series(pick("beamwidth_deg")), errors="coerce").to_numpy(dtype="float64")
    matched = status == "matched"
    omni = matched & (np.isnan(az) | (bw >= 360))
    sector = matched & ~omni & ~np.isnan(bw)
    out["cell_site_lat"] = pd.to_numeric(pd.Series(pick("latitude")), errors="coerce").to_numpy()
    out["cell_site_lon"] = pd.to_numeric(pd.Series(pick("longitude")), errors="coerce").to_numpy()
    out["cell_azimuth_deg"] = az
    out["cell_beamwidth_deg"] = bw
    low, high = (az - bw / 2) % 360, (az + bw / 2) % 360
    out["cell_bearing_from_deg"] = np.where(omni, 0.0, np.where(sector, low, np.nan))
    out["cell_bearing_to_deg"] = np.where(omni, 360.0, np.where(sector, high, np.nan))
    out["cell_range_m"] = np.where(matched, float(range_m), np.nan)
    for column, source in (("cell_site_event_id", "event_id"),
                           ("cell_site_exhibit_ref", "exhibit_ref"),
                           ("cell_site_position_source", "position_source")):
        values = pd.Series(pick(source), index=out.index, dtype="object")
        out[column] = values.where(values.notna(), None)
    out["cell_site_candidates"] = n
    return out


def _keys(cell_ids: pd.Series) -> pd.Series:
    """Return the join key of each cell id, computed once per distinct id.

    The key is the normalised identity, or the stripped text when it does not
    normalise (so an unparseable id can still match the same spelling in a
    list, and is otherwise reported as an unknown cell); None when blank.
    """
    distinct = pd.unique(cell_ids.dropna())
    table: dict[Any, str | None] = {
        v: normalise_cgi(v) or (str(v).strip() or None) for v in distinct}
    return cell_ids.map(table).astype("object").where(cell_ids.notna(), None)


def _local_day(times: pd.Series | None, length: int, zone: str) -> pd.Series:
    """Return each event's calendar date in ``zone`` as a midnight Timestamp (NaT without time)."""
    if times is None:
        return pd.Series(pd.NaT, index=range(length), dtype="datetime64[ns]")
    stamps = pd.to_datetime(times.reset_index(drop=True), utc=True)
    return stamps.dt.tz_convert(zone).dt.tz_localize(None).dt.normalize()
