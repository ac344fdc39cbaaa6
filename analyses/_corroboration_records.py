"""The records a diary entry's window is searched for (helpers of ``corroboration``).

Contact records (``call``, ``sms``, ``mms``, ``chat_message``, ``email``,
``social_interaction``) are selected by the attributions in ``case.toml``
(``atlas.attribution``), each with a ``basis``:

* ``attributed``: sent by an identifier attributed to a suspect and received by one
  attributed to a victim, or the reverse; a victim's chat message with no recipient
  counts when its thread on that exhibit has no other sender than a suspect's;
* ``unattributed_sender``: received by a victim's identifier from an identifier
  attributed to no one (a new number, an alias account);
* ``unattributed_recipient``: sent by a victim to an identifier attributed to no one
  that itself sent a record to a victim somewhere in the store;
* ``victim_exhibit``: on an exhibit attributed as a victim's device or account
  (``device:<ref>``), with no party attributed to anyone (a provider export that
  names both accounts by display name).

Location records are those of the suspect's devices: located records (fixes,
visits, ANPR reads) through ``device:`` / ``vrm:`` attributions, each with its
uncertainty radius (stated, or ``assumed_accuracy_m``), and serving-cell records of
the suspect's handset whose mast is in the store's cell list, taken as an area of
``cell_range_m`` round the mast (a convention, never a position).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analyses import _orders_terms as terms
from analyses._colocation_records import location_records
from analyses._places import device_owner
from atlas.attribution import attribute, role_ids
from atlas.case import Case
from atlas.provenance import exhibit_key

CONTACT_KINDS = ("call", "sms", "mms", "chat_message", "email", "social_interaction")
COMMUNICATION_KINDS = (*CONTACT_KINDS, "social_post")
LOCATION_GROUP_KINDS = ("location_fix", "location_visit", "anpr_read", "cell_event")
CONTACT_COLUMNS = ("event_id", "timestamp_utc", "exhibit_ref", "locator", "kind", "channel", "direction",
                   "sender", "counterparts", "basis")
LOCATION_COLUMNS = ("event_id", "start", "end", "exhibit_ref", "locator", "kind", "person", "latitude",
                    "longitude", "radius_m", "accuracy_assumed", "area", "basis")


def contact_records(events: pd.DataFrame, case: Case) -> pd.DataFrame:
    """Return the contact records between victim and suspect or unattributed identifiers, sorted."""
    rec = events.loc[events["kind"].isin(CONTACT_KINDS) & events["timestamp_utc"].notna()]
    att = attribute(rec, case)
    owners = case.identifier_owner()
    suspects, victims = role_ids(case, "suspect"), role_ids(case, "victim")
    sender_p = att["sender_person"]
    recips = att["recipient_persons"]
    to_victim = recips.map(lambda ps: any(p in victims for p in ps)).astype(bool)
    to_suspect = recips.map(lambda ps: any(p in suspects for p in ps)).astype(bool)
    from_victim, from_suspect = sender_p.isin(victims), sender_p.isin(suspects)
    raw_sender = rec["sender"].where(rec["sender"].notna(), None)
    unattributed_sender = raw_sender.notna() & ~raw_sender.isin(list(owners)) & sender_p.isna()

    thread_key = rec["exhibit_ref"].astype(str) + "\x1f" + rec["thread"].astype(str)
    has_thread = rec["thread"].notna()
    others = has_thread & ~from_victim
    only_suspect = pd.DataFrame({"key": thread_key[others], "s": from_suspect[others]}).groupby(
        "key", sort=True)["s"].all()
    suspect_threads = set(only_suspect.index[only_suspect.to_numpy(bool)])
    by_thread = (from_victim & (recips.map(len) == 0) & has_thread & thread_key.isin(suspect_threads))

    senders_to_victim = set(raw_sender[unattributed_sender & to_victim])
    unattributed_out = rec["recipients"].map(
        lambda rs: sorted(r for r in (rs if rs is not None else ()) if r in senders_to_victim))
    victim_devices = {ref for ref, pid in device_owner(case).items() if pid in victims}
    no_party = sender_p.isna() & (recips.map(len) == 0)

    attributed = (from_suspect & to_victim) | (from_victim & (to_suspect | by_thread))
    basis = np.select(
        [attributed, unattributed_sender & to_victim,
         from_victim & (unattributed_out.map(len) > 0),
         no_party & rec["exhibit_ref"].isin(victim_devices)],
        ["attributed", "unattributed_sender", "unattributed_recipient", "victim_exhibit"], default="")
    keep = basis != ""
    counterparts = [_counterparts(s, r) for s, r in
                    zip(raw_sender[keep], rec["recipients"][keep], strict=True)]
    out = pd.DataFrame({
        "event_id": rec["event_id"][keep], "timestamp_utc": rec["timestamp_utc"][keep],
        "exhibit_ref": rec["exhibit_ref"][keep], "locator": rec["locator"][keep],
        "kind": rec["kind"][keep], "channel": rec["channel"][keep].fillna(rec["kind"][keep]),
        "direction": rec["direction"][keep], "sender": raw_sender[keep], "counterparts": counterparts,
        "basis": basis[keep]}, columns=list(CONTACT_COLUMNS))
    out["unattributed"] = [[] if b == "attributed" else [p for p in c if p not in owners]
                           for c, b in zip(out["counterparts"], out["basis"], strict=True)]
    return out.sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)


def _counterparts(sender: object, recipients: object) -> list[str]:
    parties = ([sender] if isinstance(sender, str) else []) + list(recipients if recipients is not None else ())
    return sorted(set(parties))


def location_data(events: pd.DataFrame, case: Case, params: object) -> pd.DataFrame:
    """Return the suspect's located records and mast-known serving-cell records (``LOCATION_COLUMNS``)."""
    suspects = tuple(sorted(role_ids(case, "suspect")))
    located = location_records(events, case, params.assumed_accuracy_m)
    located = located[located["person"].isin(suspects)]
    parts = [pd.DataFrame({
        "event_id": located["event_id"], "start": located["start"], "end": located["end"],
        "exhibit_ref": located["exhibit_ref"], "locator": located["locator"], "kind": located["kind"],
        "person": located["person"], "latitude": located["latitude"], "longitude": located["longitude"],
        "radius_m": located["radius_m"], "accuracy_assumed": located["accuracy_assumed"],
        "area": located["basis"].eq("cell").to_numpy(), "basis": located["basis"]},
        columns=list(LOCATION_COLUMNS))]
    for person in suspects:
        cells = terms.served_cells(events, case, person)
        cells = cells[cells["mast_lat"].notna() & cells["mast_lon"].notna()]
        parts.append(pd.DataFrame({
            "event_id": cells["event_id"], "start": cells["timestamp_utc"], "end": cells["timestamp_utc"],
            "exhibit_ref": cells["exhibit_ref"], "locator": cells["locator"], "kind": cells["kind"],
            "person": person, "latitude": cells["mast_lat"], "longitude": cells["mast_lon"],
            "radius_m": float(params.cell_range_m), "accuracy_assumed": True, "area": True,
            "basis": "serving_cell"}, columns=list(LOCATION_COLUMNS)))
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else parts[0]
    # A call with a cell id on the suspect's CDR can also be a located record's twin: keep one row per id.
    out = out.drop_duplicates("event_id", keep="first")
    return out.sort_values(["start", "event_id"], kind="stable").reset_index(drop=True)


def sources(events: pd.DataFrame, contacts: pd.DataFrame, located: pd.DataFrame) -> pd.DataFrame:
    """Return the period each relevant source's records span: exhibit and group, first and last time.

    A source is an exhibit holding a selected contact record (group ``communications``,
    measured over its communication records) or a location record of the suspect's
    devices (group ``location``, measured over its location and cell records).
    """
    timed = events.loc[events["timestamp_utc"].notna(), ["event_id", "exhibit_ref", "kind", "timestamp_utc"]]
    located_ids = set(located["event_id"])
    groups = (("communications", set(contacts["exhibit_ref"]), timed["kind"].isin(COMMUNICATION_KINDS)),
              ("location", set(located["exhibit_ref"]),
               timed["kind"].isin(LOCATION_GROUP_KINDS) | timed["event_id"].isin(located_ids)))
    rows = []
    for group, refs, kinds in groups:
        part = timed[timed["exhibit_ref"].isin(refs) & kinds]
        for ref, frame in part.groupby("exhibit_ref", sort=True):
            rows.append({"exhibit_ref": ref, "group": group, "records": len(frame),
                         "first_utc": frame["timestamp_utc"].min(), "last_utc": frame["timestamp_utc"].max()})
    rows.sort(key=lambda r: (r["group"], exhibit_key(r["exhibit_ref"])))
    return pd.DataFrame(rows, columns=["exhibit_ref", "group", "records", "first_utc", "last_utc"])
