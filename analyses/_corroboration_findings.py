"""What the records show in one diary entry's window: findings and table rows (helpers of ``corroboration``).

Per entry, in this order: the entry itself (citing only the diary record, whose
time is the start of the written window), then contact records, location records
within a place's radius, location records that all lie far from the relevant
places (``data_pointing_away``, marked ``may_undermine`` for the disclosure
officer), other location records, or, when there is none of these, ``no_data``
with the sources whose records span the window and those whose records do not.
Each data finding cites its records in time order and names the entry's event id
in ``values["entry_event_id"]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses._colocation_geo import haversine_m
from atlas.analysis import Finding
from atlas.provenance import exhibit_key

STATUSES = ("data_in_window", "data_pointing_away", "no_data")
RECORD_COLUMNS = ("entry", "entry_event_id", "role", "event_id", "timestamp_utc", "exhibit_ref", "locator",
                  "kind", "basis", "detail")


@dataclass(frozen=True)
class PlaceSet:
    """The places an entry's location records are measured against."""

    supporting: tuple  # areas (analyses._colocation_geo.Area) tested for "within the radius"
    relevant: tuple  # case Places the "far" test uses (named in the entry, else the victim's)
    named: bool


def in_window(times: np.ndarray, lo: pd.Timestamp, hi: pd.Timestamp) -> slice:
    """Return the slice of sorted ``times`` (datetime64[ns]) inside the closed window."""
    a = np.searchsorted(times, np.datetime64(lo.tz_convert(None).to_datetime64(), "ns"), side="left")
    b = np.searchsorted(times, np.datetime64(hi.tz_convert(None).to_datetime64(), "ns"), side="right")
    return slice(int(a), int(b))


def _base(entry: dict, status: str) -> dict:
    return {"entry": entry["entry"], "entry_event_id": entry["event_id"], "lead": entry["lead"],
            "window_start_utc": entry["window_start_utc"], "window_end_utc": entry["window_end_utc"],
            "status": status}


def _span(frame: pd.DataFrame, col: str) -> dict:
    return {"count": len(frame), "first_utc": frame[col].iloc[0], "last_utc": frame[col].iloc[-1],
            "exhibits": sorted(set(frame["exhibit_ref"]), key=exhibit_key)}


def contact_findings(entry: dict, hits: pd.DataFrame) -> tuple[list[Finding], list[dict]]:
    """Return the contact findings of one entry and their table rows."""
    findings, rows = [], []
    for key, part in (("corroboration.contact", hits[hits["basis"] == "attributed"]),
                      ("corroboration.contact_unattributed", hits[hits["basis"] != "attributed"])):
        if part.empty:
            continue
        values = {**_base(entry, "data_in_window"), **_span(part, "timestamp_utc"),
                  "channels": sorted(set(part["channel"].astype(str)))}
        if key == "corroboration.contact_unattributed":
            values["identifiers"] = sorted({i for ids in part["unattributed"] for i in ids})
            values["bases"] = sorted(set(part["basis"]))
        findings.append(Finding(key, values, tuple(part["event_id"])))
        rows += [{"entry": entry["entry"], "entry_event_id": entry["event_id"], "role": "contact",
                  "event_id": r.event_id, "timestamp_utc": r.timestamp_utc, "exhibit_ref": r.exhibit_ref,
                  "locator": r.locator, "kind": r.kind, "basis": r.basis,
                  "detail": ", ".join(r.counterparts)} for r in part.itertuples(index=False)]
    return findings, rows


def location_findings(entry: dict, hits: pd.DataFrame, places: PlaceSet, far_m: float
                      ) -> tuple[list[Finding], list[dict]]:
    """Return the location findings of one entry (within, pointing away, or other) and table rows."""
    if hits.empty:
        return [], []
    lat, lon, r = (hits[c].to_numpy("float64") for c in ("latitude", "longitude", "radius_m"))
    area = hits["area"].to_numpy(bool)
    within = np.zeros(len(hits), bool)
    where = np.full(len(hits), "", dtype=object)
    for a in places.supporting:
        d = haversine_m(a.lat, a.lon, lat, lon)
        now = ~area & (d + r <= a.radius_m) & ~within
        where[now] = a.name
        within |= now
    dist = np.min([haversine_m(p.lat, p.lon, lat, lon) for p in places.relevant], axis=0) \
        if places.relevant else np.full(len(hits), np.nan)
    far = (dist - r >= far_m) if places.relevant else np.zeros(len(hits), bool)
    pointing_away = bool(far.any() and far[~area].all() and not within.any())
    role = np.where(within, "within_place", np.where(far, "far", np.where(area, "area_indeterminate",
                                                                            "located")))
    detail = [f"{w}: within the radius" if w else
              f"{d:.0f} m from the nearest relevant place centre, uncertainty {x:.0f} m"
              for w, d, x in zip(where, dist, r, strict=True)]
    rows = [{"entry": entry["entry"], "entry_event_id": entry["event_id"], "role": ro, "event_id": e,
             "timestamp_utc": t, "exhibit_ref": x, "locator": loc, "kind": k, "basis": b, "detail": de}
            for ro, e, t, x, loc, k, b, de in zip(role, hits["event_id"], hits["start"], hits["exhibit_ref"],
                                                 hits["locator"], hits["kind"], hits["basis"], detail,
                                                 strict=True)]
    findings = []
    place_names = [p.name for p in places.relevant]
    if within.any():
        part = hits[within]
        findings.append(Finding("corroboration.at_place", {
            **_base(entry, "data_in_window"), **_span(part, "start"),
            "places": sorted(set(where[within])), "bases": sorted(set(part["basis"]))}, tuple(part["event_id"])))
    if pointing_away:
        findings.append(Finding("corroboration.away", {
            **_base(entry, "data_pointing_away"), **_span(hits, "start"), "disclosure": "may_undermine",
            "places": place_names, "places_named_in_entry": places.named, "far_m": far_m,
            "nearest_m": round(float(np.min(dist - r)), 0), "area_records": int(area.sum()),
            "bases": sorted(set(hits["basis"]))}, tuple(hits["event_id"])))
    elif not within.any() and (~area).any():
        findings.append(Finding("corroboration.located", {
            **_base(entry, "data_in_window"), **_span(hits, "start"), "places": place_names, "far_m": far_m,
            "far_records": int(far.sum()), "area_records": int(area.sum()),
            "nearest_m": round(float(np.min(dist)), 0), "bases": sorted(set(hits["basis"]))},
            tuple(hits["event_id"])))
    return findings, rows


def no_data_finding(entry: dict, sources: pd.DataFrame, area_ids: tuple[str, ...], far_m: float) -> Finding:
    """Return the no-data finding: which sources' records span the window, which do not.

    ``area_ids`` are cell areas in the window that neither lie within a place nor wholly far
    from it; they are cited, and say nothing either way.
    """
    lo, hi = entry["window_start_utc"], entry["window_end_utc"]
    spans = ((sources["first_utc"] <= hi) & (sources["last_utc"] >= lo)).tolist() if len(sources) else []
    ordered = sorted(zip(sources["exhibit_ref"], sources["group"], spans, strict=True),
                     key=lambda r: (exhibit_key(r[0]), r[1]))
    covering = [f"{ref} ({group})" for ref, group, inside in ordered if inside]
    outside = [f"{ref} ({group})" for ref, group, inside in ordered if not inside]
    key = "corroboration.no_data_areas" if area_ids else "corroboration.no_data"
    return Finding(key, {
        **_base(entry, "no_data"), "covering": covering or ["none"], "not_covering": outside or ["none"],
        "covering_count": len(covering), "area_records": len(area_ids), "far_m": far_m}, area_ids)


def entry_finding(entry: dict, statuses: list[str], places: PlaceSet, about: tuple[str, ...]) -> Finding:
    """Return the finding that states the entry's window (it cites the diary record alone)."""
    status = ("data_pointing_away" if "data_pointing_away" in statuses else
              "data_in_window" if "data_in_window" in statuses else "no_data")
    return Finding("corroboration.entry", {
        **_base(entry, status), "statuses": sorted(set(statuses)), "precision": entry["precision"],
        "topics": list(about),
        "exhibit_ref": entry["exhibit_ref"], "locator": entry["locator"],
        "written_start_utc": entry["written_start_utc"], "written_end_utc": entry["written_end_utc"],
        "places": [p.name for p in places.relevant], "places_named_in_entry": places.named},
        (entry["event_id"],))
