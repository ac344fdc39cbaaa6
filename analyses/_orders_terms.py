"""Records an order's terms can concern: contacts between persons, and a subject's located records.

Shared by the ``orders`` and ``occasions`` analyses. Nothing here decides what
a record means: it selects records by the attributions in ``case.toml`` and
measures distances.

* Contacts: ``atlas.attribution.attribute`` gives the sender and recipient
  persons (identifiers, or a ``device:<exhibit>`` attribution of the exhibit).
* Located records: a ``location_fix`` or ``location_visit`` carries no sender,
  so it belongs to a person only through a ``device:<exhibit_ref>`` attribution
  of its exhibit; an ``anpr_read`` through a ``vrm:`` attribution of its sender
  (its position is the camera's).
* Serving-cell records (``cell_event``, ``call``, ``sms``, ``mms`` with a cell
  id) belong to a person through the record's ``extra.target`` identifier or
  the exhibit's device attribution. Their masts come from the ``cell_site``
  rows in the same frame; a mast position is never a handset position.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses._places import CELL_KINDS as CELL_KINDS
from analyses._places import LOCATION_KINDS as LOCATION_KINDS
from analyses._places import dated_cells, dated_locations, handset_person, location_person
from analyses._places import extras as extras
from atlas.attribution import attribute
from atlas.case import Case, Zone

EARTH_RADIUS_M = 6371008.8
CONTACT_KINDS = ("call", "sms", "mms", "chat_message", "email", "social_interaction", "social_post")
LOCATED_COLUMNS = ("event_id", "timestamp_utc", "kind", "channel", "exhibit_ref", "locator", "latitude",
                   "longitude", "accuracy_m", "radius_m", "accuracy_assumed", "cell_based", "basis")


def term_label(zone: Zone) -> str:
    """Return the zone term's label, e.g. ``zone: Victim home 500 m``."""
    return f"zone: {zone.place} {_metres(zone.radius_m)} m"


def _metres(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def haversine_m(lat1: object, lon1: object, lat2: object, lon2: object) -> np.ndarray:
    """Return great-circle distances in metres, elementwise (arrays broadcast)."""
    p1, p2 = np.radians(np.asarray(lat1, dtype="float64")), np.radians(np.asarray(lat2, dtype="float64"))
    dl = np.radians(np.asarray(lon2, dtype="float64") - np.asarray(lon1, dtype="float64"))
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def zone_status(distance: np.ndarray, radius: np.ndarray, zone_radius: float,
                cell_based: np.ndarray) -> np.ndarray:
    """Return ``within`` (d + r <= R), ``outside`` (d - r > R) or ``indeterminate`` per record.

    A cell-based position estimate is never ``within``: at most ``indeterminate``.
    """
    within = (distance + radius <= zone_radius) & ~cell_based
    outside = distance - radius > zone_radius
    return np.select([within, outside], ["within", "outside"], "indeterminate")


def contacts(events: pd.DataFrame, case: Case) -> pd.DataFrame:
    """Return dated contact records with ``sender_person`` and ``recipient_persons``, sorted by (time, id)."""
    rec = events.loc[events["kind"].isin(CONTACT_KINDS) & events["timestamp_utc"].notna()]
    out = rec.join(attribute(rec, case))
    return out.sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)


def located(events: pd.DataFrame, case: Case, person: str, assumed_accuracy_m: float) -> pd.DataFrame:
    """Return the dated located records attributed to ``person``, sorted by (time, id).

    ``radius_m`` is the stated accuracy, or ``assumed_accuracy_m`` where the source
    states none (``accuracy_assumed``); ``cell_based`` marks fixes whose method is ``cell``.
    """
    rec = dated_locations(events)
    rec = rec.loc[location_person(rec, case) == person]
    accuracy = rec["accuracy_m"].astype("float64")
    out = pd.DataFrame({
        "event_id": rec["event_id"], "timestamp_utc": rec["timestamp_utc"], "kind": rec["kind"],
        "channel": rec["channel"], "exhibit_ref": rec["exhibit_ref"], "locator": rec["locator"],
        "latitude": rec["latitude"].astype("float64"), "longitude": rec["longitude"].astype("float64"),
        "accuracy_m": accuracy, "radius_m": accuracy.fillna(assumed_accuracy_m),
        "accuracy_assumed": accuracy.isna(), "cell_based": rec["location_method"].eq("cell").fillna(False),
        "basis": np.where(rec["kind"] == "anpr_read", "vrm", "device_exhibit"),
    }, columns=list(LOCATED_COLUMNS))
    return out.sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)


def served_cells(events: pd.DataFrame, case: Case, person: str) -> pd.DataFrame:
    """Return dated serving-cell records of ``person``'s handset with the matched mast position.

    Columns: event_id, timestamp_utc, kind, channel, exhibit_ref, locator, cell_id,
    mast_lat, mast_lon, cell_site_event_id (mast columns null when the cell list
    has no single row for the cell).
    """
    rec = dated_cells(events)
    rec = rec.loc[handset_person(rec, case) == person]
    sites = events.loc[events["kind"] == "cell_site"]
    key = rec["cell_id"].map(_cell_key)
    site_key = sites["cell_id"].map(_cell_key)
    sites = sites.assign(_key=site_key)[site_key.notna() & sites["latitude"].notna()]
    # Several rows for one cell (a reconfigured network) leave the mast unknown: never guessed.
    rows_per_cell = sites["_key"].map(sites["_key"].value_counts())
    single = sites[rows_per_cell == 1].set_index("_key")
    out = pd.DataFrame({
        "event_id": rec["event_id"], "timestamp_utc": rec["timestamp_utc"], "kind": rec["kind"],
        "channel": rec["channel"], "exhibit_ref": rec["exhibit_ref"], "locator": rec["locator"],
        "cell_id": rec["cell_id"], "mast_lat": key.map(single["latitude"]).astype("float64"),
        "mast_lon": key.map(single["longitude"]).astype("float64"),
        "cell_site_event_id": key.map(single["event_id"]).astype(object),
    })
    return out.sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)


def _cell_key(raw: object) -> str | None:
    """Return the normalised cell identity (``atlas.cells`` when present), else the stripped text."""
    if raw is None or (isinstance(raw, float) and np.isnan(raw)):
        return None
    try:
        from atlas.cells import normalise_cgi
    except ImportError:  # the shared cell module is not installed: join on the id as written
        return str(raw).strip() or None
    return normalise_cgi(raw) or (str(raw).strip() or None)


def uk_time(times: pd.Series, tz: str) -> pd.Series:
    """Return times as ``YYYY-MM-DD HH:MM:SS GMT|BST`` text in the display zone."""
    if times.empty:
        return pd.Series([], index=times.index, dtype=object)
    return times.dt.tz_convert(tz).dt.strftime("%Y-%m-%d %H:%M:%S %Z").astype(object)


def uk_date(times: pd.Series, tz: str) -> pd.Series:
    """Return each time's calendar date in the display zone as ``YYYY-MM-DD`` text."""
    if times.empty:
        return pd.Series([], index=times.index, dtype=object)
    return times.dt.tz_convert(tz).dt.strftime("%Y-%m-%d").astype(object)


def joined(values: object) -> str:
    """Return a list-like cell as sorted, comma-separated text ("" when empty)."""
    if values is None or (isinstance(values, float) and np.isnan(values)):
        return ""
    return ", ".join(sorted(str(v) for v in values))
