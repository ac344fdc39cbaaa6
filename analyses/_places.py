"""Selecting located and serving-cell records and the person each belongs to.

Shared by the ``colocation`` and ``orders``/``occasions`` analyses. Nothing here
infers a person from content: a record is attributed only through the
attributions in ``case.toml``.

* Located records (``location_fix``, ``location_visit``) carry no sender, so a
  record belongs to a person only through a ``device:<exhibit_ref>``
  attribution of its exhibit; an ``anpr_read`` names a vehicle, not a device,
  and belongs to a person through a ``vrm:`` attribution of its sender (its
  position is the camera's).
* Serving-cell records (``cell_event``, ``call``, ``sms``, ``mms`` with a cell
  id) belong to the handset of the record's ``extra.target`` identifier (the
  CDR's target number) when it is attributed, else to the exhibit's device.
"""

from __future__ import annotations

import json

import pandas as pd

from atlas.case import Case

LOCATION_KINDS = ("location_fix", "location_visit", "anpr_read")
CELL_KINDS = ("cell_event", "call", "sms", "mms")


def extras(values: pd.Series) -> pd.Series:
    """Return each row's ``extra`` JSON object as a dict (empty when absent or unreadable)."""
    def one(text: object) -> dict:
        if not isinstance(text, str) or not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}
    return values.map(one)


def device_owner(case: Case) -> dict[str, str]:
    """Return exhibit reference -> person id for the ``device:<exhibit_ref>`` attributions."""
    return {v.removeprefix("device:"): pid for v, pid in case.identifier_owner().items()
            if v.startswith("device:")}


def dated_locations(events: pd.DataFrame) -> pd.DataFrame:
    """Return the located records (``LOCATION_KINDS``) with a position and a time."""
    kind = events["kind"]
    mask = (kind.isin(LOCATION_KINDS) & events["latitude"].notna() & events["longitude"].notna()
            & events["timestamp_utc"].notna())
    return events.loc[mask]


def location_person(rec: pd.DataFrame, case: Case) -> pd.Series:
    """Return the person each located record belongs to: by exhibit, or by VRM for ANPR reads."""
    by_exhibit = rec["exhibit_ref"].map(device_owner(case))
    by_vrm = rec["sender"].map(case.identifier_owner())
    return by_exhibit.where(rec["kind"] != "anpr_read", by_vrm)


def dated_cells(events: pd.DataFrame) -> pd.DataFrame:
    """Return the serving-cell records (``CELL_KINDS``) with a cell id and a time."""
    mask = (events["kind"].isin(CELL_KINDS) & events["cell_id"].notna()
            & events["timestamp_utc"].notna())
    return events.loc[mask]


def handset_person(rec: pd.DataFrame, case: Case) -> pd.Series:
    """Return the person whose handset served each cell record: target number, else exhibit."""
    target = extras(rec["extra"]).map(lambda d: d.get("target")).map(case.identifier_owner())
    return target.where(target.notna(), rec["exhibit_ref"].map(device_owner(case)))
