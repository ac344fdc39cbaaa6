"""Tables and findings of the colocation analysis (loops run over persons, areas and episodes only)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from analyses._colocation_geo import Area, haversine_m, zone_status
from analyses._colocation_sweep import Track, merge_spans, sweep_pairs
from atlas.analysis import Finding
from atlas.case import Case
from atlas.provenance import exhibit_key

PLACE_RECORD_COLUMNS = (
    "area", "area_kind", "person", "episode", "event_id", "exhibit_ref", "locator", "kind",
    "start_utc", "end_utc", "latitude", "longitude", "accuracy_m", "uncertainty_m",
    "accuracy_assumed", "distance_m", "status", "basis", "flags")
PLACE_EPISODE_COLUMNS = (
    "area", "area_kind", "place", "order_id", "radius_m", "person", "episode", "start_utc",
    "end_utc", "first_local_date", "closest_m", "records", "within_records",
    "indeterminate_records", "outside_records_during", "basis", "status", "accuracy_assumed",
    "order_period", "exhibits")
PAIR_COLUMNS = (
    "person_a", "person_b", "episode", "event_id_a", "event_id_b", "exhibit_a", "exhibit_b",
    "start_a", "end_a", "start_b", "end_b", "latitude_a", "longitude_a", "latitude_b",
    "longitude_b", "distance_m", "uncertainty_m", "status", "basis_a", "basis_b")
DEVICE_EPISODE_COLUMNS = (
    "person_a", "person_b", "episode", "start_utc", "end_utc", "first_local_date", "closest_m",
    "pairs", "records_a", "records_b", "basis", "status", "accuracy_assumed", "exhibits")
CELL_COLUMNS = (
    "area", "person", "event_id", "exhibit_ref", "locator", "kind", "time_utc", "cell_id",
    "cell_site_status", "mast_latitude", "mast_longitude", "azimuth_deg", "beamwidth_deg",
    "bearing_from_deg", "bearing_to_deg", "cell_list_event_id", "cell_list_exhibit_ref",
    "mast_distance_m")
TRACK_KINDS = ("location_fix", "location_visit")


def _us(values: pd.Series) -> np.ndarray:
    """Return UTC times as int64 microseconds."""
    return values.to_numpy(dtype="datetime64[us]").astype(np.int64)


def _local_date(ts: pd.Timestamp, zone: str) -> str:
    return ts.tz_convert(zone).date().isoformat()


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted(pd.unique(values.dropna().astype(str)), key=exhibit_key))


ORDER_PERIOD_TEXT = {
    "before_made": "before the order was made",
    "made_not_served": "after the order was made and before it was served",
    "after_service": "after the order was served",
    "after_expiry": "after the order expired",
    None: "not applicable (the place is not an order zone)",
}


def _order_period(case: Case, area: Area, start: pd.Timestamp) -> str | None:
    """Return where ``start`` falls against the area's order: before_made … after_expiry."""
    if area.order_id is None:
        return None
    order = next(o for o in case.orders if o.id == area.order_id)
    when = start.to_pydatetime()
    if when < order.made:
        return "before_made"
    if order.served is None or when < order.served:
        return "made_not_served"
    expires = order.expires
    if isinstance(expires, dt.datetime) and when > expires:
        return "after_expiry"
    if isinstance(expires, dt.date) and not isinstance(expires, dt.datetime) and \
            start.tz_convert(case.display_timezone).date() > expires:
        return "after_expiry"
    return "after_service"


# ---------------------------------------------------------------- device to place

def device_to_place(recs: pd.DataFrame, areas: tuple[Area, ...], subjects: tuple[str, ...], case: Case,
                    params: Any) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (records within or indeterminate per area, their episodes)."""
    gap_us = params.gap_minutes * 60_000_000
    frames, episodes = [], []
    for person in subjects:
        mine = recs[recs["person"] == person].reset_index(drop=True)
        if mine.empty:
            continue
        start, end = _us(mine["start"]), _us(mine["end"])
        lat, lon, r = (mine[c].to_numpy("float64") for c in ("latitude", "longitude", "radius_m"))
        cell_fix = ((mine["basis"] == "cell") & (mine["kind"] == "location_fix")).to_numpy()
        for area in areas:
            d = haversine_m(area.lat, area.lon, lat, lon)
            status = zone_status(d, r, area.radius_m)
            status[cell_fix & (status == "within")] = "indeterminate"
            hit = status != "outside"
            if not hit.any():
                continue
            ep = merge_spans(start[hit], end[hit], gap_us)
            flags = np.where(mine["accuracy_assumed"], "accuracy_assumed", "")
            flags = np.char.add(flags.astype(str), np.where(cell_fix, " cell_based_estimate", ""))
            flags = np.char.add(flags, np.where(mine["end_missing"], " visit_end_missing", ""))
            sub = mine[hit]
            frame = pd.DataFrame({
                "area": area.name, "area_kind": area.kind, "person": person, "episode": ep + 1,
                "event_id": sub["event_id"].to_numpy(), "exhibit_ref": sub["exhibit_ref"].to_numpy(),
                "locator": sub["locator"].to_numpy(), "kind": sub["kind"].to_numpy(),
                "start_utc": sub["start"].to_numpy(), "end_utc": sub["end"].to_numpy(),
                "latitude": lat[hit], "longitude": lon[hit], "accuracy_m": sub["accuracy_m"].to_numpy(),
                "uncertainty_m": r[hit], "accuracy_assumed": sub["accuracy_assumed"].to_numpy(),
                "distance_m": np.round(d[hit], 1), "status": status[hit], "basis": sub["basis"].to_numpy(),
                "flags": pd.Series(flags[hit]).str.strip().to_numpy()})
            frames.append(frame)
            outside_start = np.sort(start[~hit])
            for number, group in frame.groupby("episode", sort=True):
                s, e = group["start_utc"].min(), group["end_utc"].max()
                lo = np.searchsorted(outside_start, _us(pd.Series([s]))[0], side="left")
                hi = np.searchsorted(outside_start, _us(pd.Series([e]))[0], side="right")
                within = int((group["status"] == "within").sum())
                episodes.append({
                    "area": area.name, "area_kind": area.kind, "place": area.place,
                    "order_id": area.order_id, "radius_m": area.radius_m, "person": person,
                    "episode": int(number), "start_utc": s, "end_utc": e,
                    "first_local_date": _local_date(s, case.display_timezone),
                    "closest_m": float(group["distance_m"].min()), "records": len(group),
                    "within_records": within, "indeterminate_records": len(group) - within,
                    "outside_records_during": int(hi - lo), "basis": _joined(group["basis"]),
                    "status": "within" if within else "indeterminate",
                    "accuracy_assumed": bool(group["accuracy_assumed"].any()),
                    "order_period": _order_period(case, area, s),
                    "exhibits": _joined(group["exhibit_ref"])})
    rows = (pd.concat(frames, ignore_index=True) if frames
            else pd.DataFrame(columns=list(PLACE_RECORD_COLUMNS)))
    rows = rows[list(PLACE_RECORD_COLUMNS)].sort_values(
        ["area", "person", "start_utc", "event_id"], kind="stable").reset_index(drop=True)
    eps = pd.DataFrame(episodes, columns=list(PLACE_EPISODE_COLUMNS)).sort_values(
        ["area", "person", "episode"], kind="stable").reset_index(drop=True)
    return rows, eps


# ---------------------------------------------------------------- device to device

def _track(frame: pd.DataFrame) -> Track:
    return Track(_us(frame["start"]), _us(frame["end"]), frame["latitude"].to_numpy("float64"),
                 frame["longitude"].to_numpy("float64"), frame["radius_m"].to_numpy("float64"))


def device_to_device(recs: pd.DataFrame, subjects: tuple[str, ...], victims: tuple[str, ...],
                     params: Any, zone: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (hit pairs, episodes) between each suspect's and each victim's device records."""
    usable = recs[recs["kind"].isin(TRACK_KINDS) & (recs["basis"] != "cell")]
    window_us = params.window_minutes * 60_000_000
    gap_us = params.gap_minutes * 60_000_000
    frames, episodes = [], []
    for pa_ in subjects:
        a = usable[usable["person"] == pa_].reset_index(drop=True)
        for pb in victims:
            b = usable[usable["person"] == pb].reset_index(drop=True)
            ta, tb = _track(a), _track(b)
            i, j = sweep_pairs(ta, tb, params.distance_m, window_us)
            if i.size == 0:
                continue
            pstart = np.minimum(ta.start[i], tb.start[j])
            pend = np.maximum(ta.end[i], tb.end[j])
            order = np.lexsort((j, i, pstart))
            i, j, pstart, pend = i[order], j[order], pstart[order], pend[order]
            ep = merge_spans(pstart, pend, gap_us)
            d = haversine_m(ta.lat[i], ta.lon[i], tb.lat[j], tb.lon[j])
            unc = ta.radius[i] + tb.radius[j]
            frame = pd.DataFrame({
                "person_a": pa_, "person_b": pb, "episode": ep + 1,
                "event_id_a": a["event_id"].to_numpy()[i], "event_id_b": b["event_id"].to_numpy()[j],
                "exhibit_a": a["exhibit_ref"].to_numpy()[i], "exhibit_b": b["exhibit_ref"].to_numpy()[j],
                "start_a": a["start"].to_numpy()[i], "end_a": a["end"].to_numpy()[i],
                "start_b": b["start"].to_numpy()[j], "end_b": b["end"].to_numpy()[j],
                "latitude_a": ta.lat[i], "longitude_a": ta.lon[i],
                "latitude_b": tb.lat[j], "longitude_b": tb.lon[j],
                "distance_m": np.round(d, 1), "uncertainty_m": unc,
                "status": np.where(d + unc <= params.distance_m, "within", "indeterminate").astype(object),
                "basis_a": a["basis"].to_numpy()[i], "basis_b": b["basis"].to_numpy()[j]})
            assumed = (a["accuracy_assumed"].to_numpy()[i] | b["accuracy_assumed"].to_numpy()[j])
            frames.append(frame)
            for number, group in frame.groupby("episode", sort=True):
                within = bool((group["status"] == "within").any())
                s = min(group["start_a"].min(), group["start_b"].min())
                episodes.append({
                    "person_a": pa_, "person_b": pb, "episode": int(number), "start_utc": s,
                    "end_utc": max(group["end_a"].max(), group["end_b"].max()),
                    "first_local_date": _local_date(pd.Timestamp(s), zone),
                    "closest_m": float(group["distance_m"].min()), "pairs": len(group),
                    "records_a": group["event_id_a"].nunique(), "records_b": group["event_id_b"].nunique(),
                    "basis": _joined(pd.concat([group["basis_a"], group["basis_b"]])),
                    "status": "within" if within else "indeterminate",
                    "accuracy_assumed": bool(assumed[group.index.to_numpy()].any()),
                    "exhibits": _joined(pd.concat([group["exhibit_a"], group["exhibit_b"]]))})
    pairs = (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(PAIR_COLUMNS)))
    pairs = pairs[list(PAIR_COLUMNS)].reset_index(drop=True)
    eps = pd.DataFrame(episodes, columns=list(DEVICE_EPISODE_COLUMNS))
    return pairs, eps


# ---------------------------------------------------------------- cells

def cell_table(joined: pd.DataFrame, areas: tuple[Area, ...], params: Any) -> pd.DataFrame:
    """Return cell records against areas (mast within ``cell_report_m``) and those with no mast position."""
    if joined.empty:
        return pd.DataFrame(columns=list(CELL_COLUMNS))
    base = pd.DataFrame({
        "person": joined["person"].to_numpy(), "event_id": joined["event_id"].to_numpy(),
        "exhibit_ref": joined["exhibit_ref"].to_numpy(), "locator": joined["locator"].to_numpy(),
        "kind": joined["kind"].to_numpy(), "time_utc": joined["timestamp_utc"].to_numpy(),
        "cell_id": joined["cell_id"].to_numpy(), "cell_site_status": joined["cell_site_status"].to_numpy(),
        "mast_latitude": joined["cell_site_lat"].to_numpy("float64"),
        "mast_longitude": joined["cell_site_lon"].to_numpy("float64"),
        "azimuth_deg": joined["cell_azimuth_deg"].to_numpy("float64"),
        "beamwidth_deg": joined["cell_beamwidth_deg"].to_numpy("float64"),
        "bearing_from_deg": joined["cell_bearing_from_deg"].to_numpy("float64"),
        "bearing_to_deg": joined["cell_bearing_to_deg"].to_numpy("float64"),
        "cell_list_event_id": joined["cell_site_event_id"].to_numpy(),
        "cell_list_exhibit_ref": joined["cell_site_exhibit_ref"].to_numpy()})
    matched = (base["cell_site_status"] == "matched").to_numpy()
    parts = [base[~matched].assign(area="", mast_distance_m=np.nan)]
    for area in areas:
        d = haversine_m(area.lat, area.lon, base["mast_latitude"].to_numpy(), base["mast_longitude"].to_numpy())
        near = matched & (d <= params.cell_report_m)
        parts.append(base[near].assign(area=area.name, mast_distance_m=np.round(d[near], 1)))
    out = pd.concat(parts, ignore_index=True)[list(CELL_COLUMNS)]
    return out.sort_values(["area", "time_utc", "event_id"], kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- findings

def _ids(frame: pd.DataFrame, time_col: str, id_col: str) -> tuple[str, ...]:
    part = frame[[time_col, id_col]].drop_duplicates(id_col).sort_values([time_col, id_col], kind="stable")
    return tuple(part[id_col])


def coverage_findings(records: pd.DataFrame, persons: tuple[str, ...]) -> list[Finding]:
    """Return, per person, what location records exist (so "none found" is not read as "none made")."""
    out = []
    for person in persons:
        mine = records[records["person"] == person]
        if mine.empty:
            out.append(Finding("colocation.no_location_records", {"person": person}, ()))
            continue
        out.append(Finding("colocation.coverage", {
            "person": person, "records": len(mine), "first_utc": mine["start"].iloc[0],
            "last_utc": mine["end"].max(), "exhibits": sorted(pd.unique(mine["exhibit_ref"]).tolist(), key=exhibit_key),
            "assumed_accuracy_records": int(mine["accuracy_assumed"].sum())},
            (mine["event_id"].iloc[0], mine["event_id"].iloc[-1]) if len(mine) > 1 else (mine["event_id"].iloc[0],)))
    return out


def place_findings(rows: pd.DataFrame, eps: pd.DataFrame, areas: tuple[Area, ...],
                   subjects: tuple[str, ...], case: Case) -> list[Finding]:
    """Return one finding per episode and one summary per (area, person)."""
    out = []
    for area in areas:
        for person in subjects:
            mine = eps[(eps["area"] == area.name) & (eps["person"] == person)]
            rec = rows[(rows["area"] == area.name) & (rows["person"] == person)]
            base = {"area": area.name, "radius_m": area.radius_m, "person": person,
                    "order_id": area.order_id}
            if mine.empty:
                out.append(Finding("colocation.place_none", base, ()))
                continue
            for ep in mine.itertuples(index=False):
                ids = _ids(rec[rec["episode"] == ep.episode], "start_utc", "event_id")
                out.append(Finding(f"colocation.place_episode_{ep.status}", {
                    **base, "episode": ep.episode, "start_utc": ep.start_utc, "end_utc": ep.end_utc,
                    "closest_m": ep.closest_m, "records": ep.records, "within_records": ep.within_records,
                    "indeterminate_records": ep.indeterminate_records, "basis": ep.basis,
                    "status": ep.status, "exhibits": ep.exhibits, "accuracy_assumed": ep.accuracy_assumed,
                    "order_period": ep.order_period,
                    "order_period_text": ORDER_PERIOD_TEXT.get(ep.order_period if isinstance(ep.order_period, str)
                                                               else None, ORDER_PERIOD_TEXT[None]),
                    "outside_records_during": ep.outside_records_during},
                    ids))
            out.append(Finding("colocation.place_summary", {
                **base, "episodes": len(mine), "days": int(mine["first_local_date"].nunique()),
                "within_episodes": int((mine["status"] == "within").sum()),
                "indeterminate_episodes": int((mine["status"] == "indeterminate").sum()),
                "records": len(rec)}, _ids(rec, "start_utc", "event_id")))
    return out


def device_findings(pairs: pd.DataFrame, eps: pd.DataFrame, subjects: tuple[str, ...],
                    victims: tuple[str, ...], params: Any, case: Case) -> list[Finding]:
    """Return one finding per device-to-device episode and a summary per pair of persons."""
    out = []
    for pa_ in subjects:
        for pb in victims:
            mine = eps[(eps["person_a"] == pa_) & (eps["person_b"] == pb)]
            ps = pairs[(pairs["person_a"] == pa_) & (pairs["person_b"] == pb)]
            base = {"person_a": pa_, "person_b": pb, "distance_m": params.distance_m,
                    "window_minutes": params.window_minutes}
            if mine.empty:
                out.append(Finding("colocation.device_none", base, ()))
                continue
            for ep in mine.itertuples(index=False):
                group = ps[ps["episode"] == ep.episode]
                out.append(Finding(f"colocation.device_episode_{ep.status}", {
                    **base, "episode": ep.episode, "start_utc": ep.start_utc, "end_utc": ep.end_utc,
                    "closest_m": ep.closest_m, "pairs": ep.pairs, "records_a": ep.records_a,
                    "records_b": ep.records_b, "basis": ep.basis, "status": ep.status,
                    "exhibits": ep.exhibits, "accuracy_assumed": ep.accuracy_assumed},
                    _pair_ids(group)))
            out.append(Finding("colocation.device_summary", {
                **base, "episodes": len(mine), "days": int(mine["first_local_date"].nunique()),
                "within_episodes": int((mine["status"] == "within").sum()),
                "indeterminate_episodes": int((mine["status"] == "indeterminate").sum())},
                _pair_ids(ps)))
    return out


def _pair_ids(group: pd.DataFrame) -> tuple[str, ...]:
    both = pd.concat([group[["start_a", "event_id_a"]].set_axis(["t", "id"], axis=1),
                      group[["start_b", "event_id_b"]].set_axis(["t", "id"], axis=1)], ignore_index=True)
    return _ids(both, "t", "id")


def cell_findings(rows: pd.DataFrame) -> list[Finding]:
    """Return one finding per (area, cell) with a known mast, and one per unknown-mast status."""
    out = []
    known = rows[rows["area"] != ""]
    for (area, cell), group in known.groupby(["area", "cell_id"], sort=True):
        first = group.iloc[0]
        out.append(Finding("colocation.cell_mast", {
            "area": area, "cell_id": cell, "person": first["person"], "records": len(group),
            "mast_distance_m": float(first["mast_distance_m"]), "first_utc": group["time_utc"].min(),
            "last_utc": group["time_utc"].max(), "cell_list_exhibit": first["cell_list_exhibit_ref"],
            "azimuth_deg": None if pd.isna(first["azimuth_deg"]) else float(first["azimuth_deg"])},
            _ids(group, "time_utc", "event_id")))
    unknown = rows[rows["area"] == ""]
    for (person, status), group in unknown.groupby(["person", "cell_site_status"], sort=True):
        out.append(Finding("colocation.cell_mast_unknown", {
            "person": person, "status": status, "records": len(group),
            "cells": int(group["cell_id"].nunique())},
            _ids(group, "time_utc", "event_id")))
    return out
