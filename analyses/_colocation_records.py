"""Selecting the colocation analysis' records and saying whose device each one comes from.

Location records (``location_fix``, ``location_visit``) carry no sender, so a
record is attributed to a person only through a ``device:<exhibit_ref>``
attribution in ``case.toml`` naming the exhibit it came from. An ANPR read
names a vehicle, not a device: it is attributed through a ``vrm:`` attribution
of its sender, and its position is the camera's. A call, SMS, MMS or
``cell_event`` with a cell id belongs to the handset of the CDR's target
number (extra ``target``) when the record gives one, else to the exhibit's
attributed device, else to the sender of an outgoing or the single recipient
of an incoming record. Nothing here infers a person from content.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses._places import dated_cells, dated_locations, extras, handset_person, location_person
from atlas.attribution import attribute
from atlas.case import Case

SITE_FIELDS = ("azimuth_deg", "beamwidth_deg", "active_from", "active_to")


def location_records(events: pd.DataFrame, case: Case, assumed_accuracy_m: float) -> pd.DataFrame:
    """Return located records attributed to a person, one row each, sorted by (start, event_id).

    Columns: event_id, exhibit_ref, locator, kind, person, person_basis, start,
    end, end_missing, latitude, longitude, accuracy_m, radius_m,
    accuracy_assumed, basis.
    """
    rec = dated_locations(events)
    person = location_person(rec, case)
    basis_person = np.where(rec["kind"] == "anpr_read", "vrm", "device_exhibit")
    start = rec["timestamp_utc"]
    end = rec["end_utc"].where(rec["kind"] == "location_visit")
    end_missing = (rec["kind"] == "location_visit") & end.isna()
    end = end.where(end.notna() & (end >= start), start)
    accuracy = rec["accuracy_m"].astype("float64")
    method = rec["location_method"].where(rec["location_method"].notna(),
                                          np.where(rec["kind"] == "anpr_read", "anpr", "unknown"))
    out = pd.DataFrame({
        "event_id": rec["event_id"], "exhibit_ref": rec["exhibit_ref"], "locator": rec["locator"],
        "kind": rec["kind"], "person": person, "person_basis": basis_person,
        "start": start, "end": end, "end_missing": end_missing,
        "latitude": rec["latitude"].astype("float64"), "longitude": rec["longitude"].astype("float64"),
        "accuracy_m": accuracy, "radius_m": accuracy.fillna(assumed_accuracy_m),
        "accuracy_assumed": accuracy.isna(), "basis": method.astype(object),
    })
    out = out[out["person"].notna()]
    return out.sort_values(["start", "event_id"], kind="stable").reset_index(drop=True)


def cell_records(events: pd.DataFrame, case: Case) -> pd.DataFrame:
    """Return records with a serving cell id attributed to a person's handset, sorted by (time, id)."""
    rec = dated_cells(events)
    if rec.empty:
        return rec.assign(person=pd.Series(dtype=object))
    handset = handset_person(rec, case)
    parties = attribute(rec, case)
    single = parties["recipient_persons"].map(lambda ps: ps[0] if len(ps) == 1 else None)
    by_direction = parties["sender_person"].where(rec["direction"] == "outgoing",
                                                  single.where(rec["direction"] == "incoming"))
    person = handset.where(handset.notna(), by_direction)
    out = rec.assign(person=person.astype(object))
    out = out[out["person"].notna()]
    return out.sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)


def site_frame(events: pd.DataFrame) -> pd.DataFrame:
    """Return the store's ``cell_site`` rows as a site list (mast positions; never phone positions)."""
    sites = events.loc[events["kind"] == "cell_site"]
    extra = extras(sites["extra"])
    frame = pd.DataFrame({"event_id": sites["event_id"], "exhibit_ref": sites["exhibit_ref"],
                          "cell_id": sites["cell_id"], "latitude": sites["latitude"],
                          "longitude": sites["longitude"]})
    for key in SITE_FIELDS:
        frame[key] = extra.map(lambda d, k=key: d.get(k))
    for key in ("azimuth_deg", "beamwidth_deg"):
        frame[key] = pd.to_numeric(frame[key], errors="coerce").astype("float64")
    return frame.sort_values("event_id", kind="stable").reset_index(drop=True)


def join_cells(cells: pd.DataFrame, sites: pd.DataFrame, range_m: float, zone: str) -> pd.DataFrame:
    """Add mast columns to cell records: ``atlas.cells.cell_areas`` when present, else an exact join."""
    try:
        from atlas.cells import cell_areas
    except ImportError:  # the shared helper is not there: join on the cell id as written
        return _exact_join(cells, sites)
    return cell_areas(cells, sites, range_m, zone)


def _exact_join(cells: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """Join cell records to site rows on the verbatim cell id; several rows is ambiguous."""
    n = sites.groupby("cell_id").size()
    one = sites[sites["cell_id"].map(n) == 1].set_index("cell_id")
    count = cells["cell_id"].map(n).fillna(0).astype("int64")
    status = np.select([count == 0, count == 1], ["unknown_cell", "matched"], "ambiguous_cell_site")
    pick = lambda c: cells["cell_id"].map(one[c]).where(count == 1)  # noqa: E731
    az, bw = pick("azimuth_deg").astype("float64"), pick("beamwidth_deg").astype("float64")
    omni = (count == 1) & (az.isna() | (bw >= 360))
    return cells.assign(
        cell_site_status=status, cell_site_lat=pick("latitude").astype("float64"),
        cell_site_lon=pick("longitude").astype("float64"), cell_azimuth_deg=az, cell_beamwidth_deg=bw,
        cell_bearing_from_deg=np.where(omni, 0.0, (az - bw / 2) % 360),  # NaN when unmatched
        cell_bearing_to_deg=np.where(omni, 360.0, (az + bw / 2) % 360),
        cell_site_event_id=pick("event_id"), cell_site_exhibit_ref=pick("exhibit_ref"))
