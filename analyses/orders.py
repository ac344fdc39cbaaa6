"""Orders: records relevant to the terms of the protective orders in case.toml, by when they fall.

Method:
    Each order in case.toml is a set of terms: ``prohibited_channels`` (``any``,
    or kinds/channels such as ``call``, ``sms``, ``whatsapp``) and ``zones`` (a
    case place with the order's radius). For each order:

    Channel terms. Contact records (call, sms, mms, chat_message, email,
    social_interaction, social_post) whose sender is attributed to the order's
    subject and a recipient to a protected person (``atlas.attribution``:
    identifiers, or a ``device:<exhibit>`` attribution of the exhibit) are
    relevant to the term ``prohibited_channels: any``, or to the first listed
    value equal (case-insensitively) to the record's kind or channel.

    Zone terms. Located records attributed to the subject (location fixes and
    visits through a ``device:<exhibit>`` attribution, ANPR reads through a
    ``vrm:`` attribution: the camera's position) are tested against the zone
    with their own uncertainty r (the stated accuracy, else
    ``assumed_accuracy_m``, flagged): with d the great-circle distance from the
    place's centre and R the order's radius, ``within`` if d + r <= R,
    ``indeterminate`` if d - r <= R < d + r; outside records are not listed.
    A fix whose method is ``cell`` is never ``within``. Serving-cell records of
    the subject's handset never count as within a zone: where the cell list in
    the store gives one mast position for the cell and it lies within
    ``cell_report_m`` of the zone's edge, the record is listed in the separate
    ``cell_masts`` table ("serving cell mast N m from the zone").

    Periods, by the record's start time: ``before_made`` (at or before the
    time the order was made), ``made_not_served`` (after making, at or before
    service; every record after making when no service time is recorded),
    ``after_service`` (after service and before expiry) and ``after_expiry``.
    An expiry given as a date runs to the end of that UK calendar date.
    Tables: ``events_after_service``; ``events_before_service`` (both earlier
    periods, each row flagged when the order had been made but not served);
    ``events_made_not_served`` (that subset); ``cell_masts`` (every period).
    Contacts reaching a protected person after service from senders attributed
    to nobody are counted and listed by id, not counted against any term.
    Exceptions are listed for the officer; Atlas cannot apply free text.
Limitations:
    Wording lives in report_templates/analyses/orders.toml under the keys in
    ``LIMITATIONS``; this module never writes prose. Whether any record falls
    within an exception, or amounts to an offence, is not assessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses import _orders_terms as terms
from analyses._orders_findings import order_findings
from atlas.analysis import AnalysisResult, AnalysisSpec, Finding
from atlas.case import Case, Order, Zone
from atlas.errors import ParamError

REQUIRES = ("event_id", "exhibit_ref", "locator", "kind", "timestamp_utc", "direction", "sender",
            "recipients", "channel", "latitude", "longitude", "accuracy_m", "location_method", "cell_id",
            "extra")
LIMITATIONS = tuple(f"orders.{k}" for k in (
    "device_not_person", "attribution_from_case", "exceptions_not_applied", "indirect_contact",
    "zone_uncertainty", "assumed_accuracy", "cell_site", "gaps_not_absence", "order_times",
    "same_message_two_exhibits", "store_only", "no_legal_judgement"))
ROW_COLUMNS = ("order_id", "term", "period", "made_not_served", "event_id", "timestamp_utc", "time_uk",
               "exhibit_ref", "locator", "kind", "channel", "sender", "recipients", "from_person",
               "to_persons", "basis", "zone_status", "distance_m", "accuracy_m", "accuracy_assumed", "flags")
CELL_COLUMNS = ("order_id", "term", "period", "event_id", "timestamp_utc", "time_uk", "exhibit_ref",
                "locator", "kind", "cell_id", "mast_to_centre_m", "mast_to_zone_m", "cell_site_event_id",
                "flags")
SORT = ["timestamp_utc", "event_id", "order_id", "term"]
PERIODS = ("before_made", "made_not_served", "after_service", "after_expiry")


@dataclass(frozen=True, kw_only=True)
class Params:
    """Settings for the order check; every value is written to the analysis log."""

    assumed_accuracy_m: float = 50.0
    """Uncertainty radius used for a located record whose source states none (GPX states none);
    such records are flagged ``accuracy_assumed``."""
    cell_report_m: float = 2000.0
    """A serving-cell record of the subject's handset is listed when its cell's recorded mast lies
    within this distance of a zone's edge (it is never counted as within the zone)."""

    def __post_init__(self) -> None:
        if not 0 <= self.assumed_accuracy_m <= 10_000:
            raise ParamError("assumed_accuracy_m", self.assumed_accuracy_m, "must be 0 to 10000 metres")
        if not 0 <= self.cell_report_m <= 100_000:
            raise ParamError("cell_report_m", self.cell_report_m, "must be 0 to 100000 metres")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """List the records relevant to each order's terms by period; ``events`` is not modified."""
    contacts = terms.contacts(events, case)
    rows, cells, stray = order_rows(events, case, params, contacts)
    before = rows[rows["period"].isin(PERIODS[:2])].reset_index(drop=True)
    tables = {"events_after_service": rows[rows["period"] == "after_service"].reset_index(drop=True),
              "events_before_service": before,
              "events_made_not_served": before[before["made_not_served"]].reset_index(drop=True),
              "cell_masts": cells}
    findings: list[Finding] = []
    for order in case.orders:
        findings += order_findings(order, case, rows, cells, stray)
    if not case.orders:
        findings.append(Finding("orders.none", {}, ()))
    counts = {"orders": len(case.orders), "contacts_considered": len(contacts),
              "undated_records_excluded": int((events["timestamp_utc"].isna() & events["kind"].isin(
                  (*terms.CONTACT_KINDS, *terms.LOCATION_KINDS, *terms.CELL_KINDS))).sum()),
              "cell_mast_rows": len(cells)}
    counts |= {f"rows_{p}": int((rows["period"] == p).sum()) for p in PERIODS}
    return AnalysisResult(analysis=ANALYSIS, params=params, tables=tables, findings=tuple(findings),
                          limitations=LIMITATIONS, counts=counts)


def order_rows(events: pd.DataFrame, case: Case, params: Params, contacts: pd.DataFrame | None = None
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (term rows, cell-mast rows, unattributed contacts) over every order and period."""
    contacts = terms.contacts(events, case) if contacts is None else contacts
    places = {p.name: p for p in case.places}
    parts, cell_parts, stray = [], [], []
    for order in case.orders:
        parts.append(_channel_rows(order, contacts))
        stray.append(_unattributed(order, contacts))
        located = terms.located(events, case, order.subject, params.assumed_accuracy_m)
        served = terms.served_cells(events, case, order.subject)
        for zone in order.zones:
            place = places[zone.place]
            parts.append(_zone_rows(order, zone, place.lat, place.lon, located))
            cell_parts.append(_cell_rows(order, zone, place.lat, place.lon, served, params.cell_report_m))
    tz = case.display_timezone
    rows = _finish(parts, ROW_COLUMNS, case, tz)
    rows["made_not_served"] = rows["period"].eq("made_not_served").astype(bool)
    return rows, _finish(cell_parts, CELL_COLUMNS, case, tz), _finish(stray, ROW_COLUMNS, case, tz)


def _channel_rows(order: Order, contacts: pd.DataFrame) -> pd.DataFrame:
    """Return contacts from the subject to a protected person, each with the channel term it falls under."""
    listed = [c.strip().lower() for c in order.prohibited_channels]
    to_protected = contacts["recipient_persons"].map(lambda ps: any(p in order.protected for p in ps))
    rec = contacts.loc[(contacts["sender_person"] == order.subject) & to_protected.astype(bool)]
    if "any" in listed:
        term = pd.Series("prohibited_channels: any", index=rec.index, dtype=object)
    else:
        kind, channel = rec["kind"].str.lower(), rec["channel"].fillna("").str.lower()
        term = pd.Series(np.select([(kind == c) | (channel == c) for c in listed],
                                   [f"prohibited_channels: {c}" for c in listed], ""), index=rec.index,
                         dtype=object) if listed else pd.Series("", index=rec.index, dtype=object)
    rec, term = rec[term != ""], term[term != ""]
    return _contact_frame(order, rec, term)


def _unattributed(order: Order, contacts: pd.DataFrame) -> pd.DataFrame:
    """Return contacts reaching a protected person from a sender attributed to nobody."""
    to_protected = contacts["recipient_persons"].map(lambda ps: any(p in order.protected for p in ps))
    rec = contacts.loc[contacts["sender_person"].isna() & to_protected.astype(bool)]
    return _contact_frame(order, rec, pd.Series("unattributed sender", index=rec.index, dtype=object))


def _contact_frame(order: Order, rec: pd.DataFrame, term: pd.Series) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": order.id, "term": term, "event_id": rec["event_id"],
        "timestamp_utc": rec["timestamp_utc"], "exhibit_ref": rec["exhibit_ref"], "locator": rec["locator"],
        "kind": rec["kind"], "channel": rec["channel"], "sender": rec["sender"],
        "recipients": rec["recipients"].map(terms.joined),
        "from_person": rec["sender_person"],
        "to_persons": rec["recipient_persons"].map(lambda ps: ", ".join(p for p in ps if p in order.protected)),
        "basis": rec["sender_basis"].fillna("none") + "/" + rec["recipient_basis"].fillna("none"),
        "flags": "",
    })


def _zone_rows(order: Order, zone: Zone, lat: float, lon: float, loc: pd.DataFrame) -> pd.DataFrame:
    """Return the subject's located records within or indeterminate for the zone."""
    distance = terms.haversine_m(lat, lon, loc["latitude"].to_numpy(), loc["longitude"].to_numpy())
    status = terms.zone_status(distance, loc["radius_m"].to_numpy(), zone.radius_m,
                               loc["cell_based"].to_numpy(dtype=bool))
    keep = status != "outside"
    rec = loc.loc[keep]
    flags = np.where(rec["accuracy_assumed"], "accuracy_assumed", "")
    flags = np.where(rec["cell_based"], np.char.add(flags.astype(str), " cell_based_estimate"), flags)
    return pd.DataFrame({
        "order_id": order.id, "term": terms.term_label(zone), "event_id": rec["event_id"],
        "timestamp_utc": rec["timestamp_utc"], "exhibit_ref": rec["exhibit_ref"], "locator": rec["locator"],
        "kind": rec["kind"], "channel": rec["channel"], "from_person": order.subject, "to_persons": "",
        "basis": rec["basis"], "zone_status": status[keep], "distance_m": np.round(distance[keep], 1),
        "accuracy_m": rec["radius_m"], "accuracy_assumed": rec["accuracy_assumed"],
        "flags": pd.Series(flags, index=rec.index).str.strip(),
    })


def _cell_rows(order: Order, zone: Zone, lat: float, lon: float, cells: pd.DataFrame,
               report_m: float) -> pd.DataFrame:
    """Return the subject's serving-cell records whose mast lies within ``report_m`` of the zone's edge."""
    centre = terms.haversine_m(lat, lon, cells["mast_lat"].to_numpy(), cells["mast_lon"].to_numpy())
    edge = np.maximum(centre - zone.radius_m, 0.0)
    keep = cells["mast_lat"].notna().to_numpy() & (edge <= report_m)
    rec = cells.loc[keep]
    return pd.DataFrame({
        "order_id": order.id, "term": terms.term_label(zone), "event_id": rec["event_id"],
        "timestamp_utc": rec["timestamp_utc"], "exhibit_ref": rec["exhibit_ref"], "locator": rec["locator"],
        "kind": rec["kind"], "cell_id": rec["cell_id"], "mast_to_centre_m": np.round(centre[keep], 1),
        "mast_to_zone_m": np.round(edge[keep], 1), "cell_site_event_id": rec["cell_site_event_id"],
        "flags": "cell_mast_only",
    })


def _finish(parts: list[pd.DataFrame], columns: tuple[str, ...], case: Case, tz: str) -> pd.DataFrame:
    """Concatenate parts, add period and UK time, fix the column order and sort totally."""
    parts = [p for p in parts if not p.empty]
    if not parts:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        frame["timestamp_utc"] = pd.Series(dtype="datetime64[us, UTC]")
        return frame[list(columns)]
    frame = pd.concat(parts, ignore_index=True)
    orders = {o.id: o for o in case.orders}
    period = pd.Series("", index=frame.index, dtype=object)
    for oid, idx in frame.groupby("order_id", sort=True).groups.items():
        period[idx] = _period(frame.loc[idx, "timestamp_utc"], orders[oid], tz)
    frame["period"] = period
    frame["made_not_served"] = period.eq("made_not_served")
    frame["time_uk"] = terms.uk_time(frame["timestamp_utc"], tz)
    for c in columns:
        if c not in frame:
            frame[c] = None
    return frame[list(columns)].sort_values(SORT, kind="stable").reset_index(drop=True)


def _period(ts: pd.Series, order: Order, tz: str) -> np.ndarray:
    """Return each time's period relative to the order's making, service and expiry."""
    made = pd.Timestamp(order.made)
    conds = [(ts <= made).to_numpy()]
    end = expiry_end(order, tz)
    conds.append((ts >= end).to_numpy() if end is not None else np.zeros(len(ts), dtype=bool))
    served = pd.Timestamp(order.served) if order.served is not None else None
    conds.append((ts > served).to_numpy() if served is not None else np.zeros(len(ts), dtype=bool))
    return np.select(conds, ["before_made", "after_expiry", "after_service"], "made_not_served")


def expiry_end(order: Order, tz: str) -> pd.Timestamp | None:
    """Return the instant the order stops: its expiry time, or the end of its expiry date (UK local)."""
    if order.expires is None:
        return None
    if isinstance(order.expires, dt.datetime):
        return pd.Timestamp(order.expires)
    return pd.Timestamp(order.expires + dt.timedelta(days=1)).tz_localize(tz).tz_convert("UTC")


ANALYSIS = AnalysisSpec(
    name="orders",
    version="1.0",
    summary="Records relevant to the terms of each protective order, before and after service",
    requires=REQUIRES,
    params=Params,
    run=run,
)
