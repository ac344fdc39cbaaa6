"""Tables and findings of the presence analysis (loops run over episodes and places, not events)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analyses import _presence_victim as pv
from analyses._colocation_geo import Area, haversine_m
from atlas.analysis import Finding
from atlas.case import Case
from atlas.provenance import exhibit_key

EPISODE_COLUMNS = (
    "place",
    "radius_m",
    "person",
    "victim",
    "episode",
    "start_utc",
    "end_utc",
    "first_local_date",
    "suspect_records",
    "suspect_within_records",
    "suspect_closest_m",
    "suspect_basis",
    "suspect_exhibits",
    "suspect_status",
    "reported",
    "victim_status",
    "victim_records",
    "victim_records_during",
    "victim_point_records",
    "victim_elsewhere_records",
    "victim_at_place_records",
    "victim_between_records",
    "victim_area_records",
    "victim_area_overlapping",
    "victim_min_distance_m",
    "victim_max_distance_m",
    "victim_near_places",
    "victim_exhibits",
    "victim_first_utc",
    "victim_last_utc",
    "nearest_victim_before_utc",
    "nearest_victim_after_utc",
)
RECORD_COLUMNS = (
    "place",
    "person",
    "victim",
    "episode",
    "side",
    "event_id",
    "exhibit_ref",
    "locator",
    "kind",
    "start_utc",
    "end_utc",
    "latitude",
    "longitude",
    "uncertainty_m",
    "distance_m",
    "record_class",
    "basis",
)


def _joined(values: pd.Series) -> str:
    return ", ".join(sorted(pd.unique(values.dropna().astype(str)), key=exhibit_key))


def _ts(us: int) -> pd.Timestamp | None:
    return None if us < 0 else pd.Timestamp(us, unit="us", tz="UTC")


def _ids(frame: pd.DataFrame) -> tuple[str, ...]:
    part = frame[["start_utc", "event_id"]].drop_duplicates("event_id")
    return tuple(part.sort_values(["start_utc", "event_id"], kind="stable")["event_id"])


def match_victims(
    eps: pd.DataFrame,
    place_rows: pd.DataFrame,
    vrec: pd.DataFrame,
    areas: tuple[Area, ...],
    victims: tuple[str, ...],
    case: Case,
    params: Any,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return (episodes with the victim's status, the records of both sides) for every victim."""
    by_area = {a.name: a for a in areas}
    gap_us = params.max_gap_minutes * 60_000_000
    episodes, records = [], []
    suspect_side = place_rows.assign(side="suspect", record_class=place_rows["status"])
    for victim in victims:
        mine = vrec[vrec["person"] == victim].reset_index(drop=True)
        vstart, vend = pv._us(mine["start"]), pv._us(mine["end"])
        lo = pv._us(eps["start_utc"]) - gap_us if len(eps) else np.zeros(0, np.int64)
        hi = pv._us(eps["end_utc"]) + gap_us if len(eps) else np.zeros(0, np.int64)
        ei, ri = pv.window_pairs(vstart, vend, lo, hi)
        before, after = pv.nearest_outside(vstart, vend, lo, hi)
        c_lat = np.array([by_area[a].lat for a in eps["place"]], dtype="float64")
        c_lon = np.array([by_area[a].lon for a in eps["place"]], dtype="float64")
        c_rad = eps["radius_m"].to_numpy("float64")
        lat, lon = mine["latitude"].to_numpy("float64"), mine["longitude"].to_numpy("float64")
        r, area = mine["radius_m"].to_numpy("float64"), mine["is_area"].to_numpy(bool)
        d = haversine_m(c_lat[ei], c_lon[ei], lat[ri], lon[ri])
        cls = pv.classify(d, r[ri], area[ri], c_rad[ei], params.min_separation_m)
        pairs = pd.DataFrame(
            {
                "ep": ei,
                "event_id": mine["event_id"].to_numpy()[ri],
                "exhibit_ref": mine["exhibit_ref"].to_numpy()[ri],
                "locator": mine["locator"].to_numpy()[ri],
                "kind": mine["kind"].to_numpy()[ri],
                "start_utc": mine["start"].to_numpy()[ri],
                "end_utc": mine["end"].to_numpy()[ri],
                "latitude": lat[ri],
                "longitude": lon[ri],
                "uncertainty_m": r[ri],
                "distance_m": np.round(d, 1),
                "record_class": cls,
                "basis": mine["basis"].to_numpy()[ri],
                "is_area": area[ri],
            }
        )
        grouped = dict(tuple(pairs.groupby("ep", sort=True))) if len(pairs) else {}
        for k, ep in enumerate(eps.itertuples(index=False)):
            got = grouped.get(k, pairs.iloc[0:0])
            episodes.append(_episode_row(ep, victim, got, before[k], after[k], case, params))
            sus = suspect_side[
                (suspect_side["area"] == ep.place)
                & (suspect_side["person"] == ep.person)
                & (suspect_side["episode"] == ep.episode)
            ]
            base = {"place": ep.place, "person": ep.person, "victim": victim, "episode": ep.episode}
            records.append(sus.assign(**base))
            records.append(got.assign(**base, side="victim"))
    ep_frame = (
        pd.DataFrame(episodes, columns=list(EPISODE_COLUMNS))
        .sort_values(["place", "person", "victim", "episode"], kind="stable")
        .reset_index(drop=True)
    )
    rec_frame = (
        pd.concat([f[list(RECORD_COLUMNS)] for f in records if len(f)], ignore_index=True)
        if any(len(f) for f in records)
        else pd.DataFrame(columns=list(RECORD_COLUMNS))
    )
    rec_frame = rec_frame.sort_values(
        ["place", "person", "victim", "episode", "start_utc", "side", "event_id"], kind="stable"
    ).reset_index(drop=True)
    return ep_frame, rec_frame


def _episode_row(
    ep: Any, victim: str, got: pd.DataFrame, before: int, after: int, case: Case, params: Any
) -> dict[str, Any]:
    """Return one episode's row: the suspect side from colocation, the victim side from ``got``."""
    status = pv.episode_status(got["record_class"])
    s_us, e_us = pv._us(pd.Series([ep.start_utc]))[0], pv._us(pd.Series([ep.end_utc]))[0]
    during = (
        got[(pv._us(got["start_utc"]) <= e_us) & (pv._us(got["end_utc"]) >= s_us)]
        if len(got)
        else got
    )
    points = got[~got["is_area"]] if len(got) else got
    away = got[got["record_class"] == "elsewhere"] if len(got) else got
    reported = bool(ep.status == "within" and ep.records >= params.min_records)
    return {
        "place": ep.place,
        "radius_m": ep.radius_m,
        "person": ep.person,
        "victim": victim,
        "episode": ep.episode,
        "start_utc": ep.start_utc,
        "end_utc": ep.end_utc,
        "first_local_date": ep.first_local_date,
        "suspect_records": ep.records,
        "suspect_within_records": ep.within_records,
        "suspect_closest_m": ep.closest_m,
        "suspect_basis": ep.basis,
        "suspect_exhibits": ep.exhibits,
        "suspect_status": ep.status,
        "reported": reported,
        "victim_status": status,
        "victim_records": len(got),
        "victim_records_during": len(during),
        "victim_point_records": len(points),
        "victim_elsewhere_records": len(away),
        "victim_at_place_records": int((got["record_class"] == "at_place").sum())
        if len(got)
        else 0,
        "victim_between_records": int((got["record_class"] == "between").sum()) if len(got) else 0,
        "victim_area_records": int(got["is_area"].sum()) if len(got) else 0,
        "victim_area_overlapping": int((got["record_class"] == "area_overlaps").sum())
        if len(got)
        else 0,
        "victim_min_distance_m": float(away["distance_m"].min()) if len(away) else None,
        "victim_max_distance_m": float(away["distance_m"].max()) if len(away) else None,
        "victim_near_places": ", ".join(
            pv.near_places(
                case,
                ep.place,
                away["latitude"].to_numpy("float64") if len(away) else np.zeros(0),
                away["longitude"].to_numpy("float64") if len(away) else np.zeros(0),
                away["uncertainty_m"].to_numpy("float64") if len(away) else np.zeros(0),
            )
        ),
        "victim_exhibits": _joined(got["exhibit_ref"]) if len(got) else "",
        "victim_first_utc": got["start_utc"].min() if len(got) else None,
        "victim_last_utc": got["end_utc"].max() if len(got) else None,
        "nearest_victim_before_utc": _ts(int(before)) if not len(got) else None,
        "nearest_victim_after_utc": _ts(int(after)) if not len(got) else None,
    }


def findings(
    eps: pd.DataFrame,
    recs: pd.DataFrame,
    places: tuple[Area, ...],
    subjects: tuple[str, ...],
    victims: tuple[str, ...],
    params: Any,
) -> list[Finding]:
    """Return one finding per reported elsewhere or no-data episode, and a summary per place."""
    out: list[Finding] = []
    common = {
        "min_separation_m": params.min_separation_m,
        "max_gap_minutes": params.max_gap_minutes,
    }
    for area in places:
        for person in subjects:
            for victim in victims:
                base = {
                    "place": area.name,
                    "radius_m": area.radius_m,
                    "person": person,
                    "victim": victim,
                }
                mine = eps[
                    (eps["place"] == area.name)
                    & (eps["person"] == person)
                    & (eps["victim"] == victim)
                ]
                if mine.empty:
                    out.append(
                        Finding("presence.none", {**base, "min_records": params.min_records}, ())
                    )
                    continue
                rec = recs[
                    (recs["place"] == area.name)
                    & (recs["person"] == person)
                    & (recs["victim"] == victim)
                ]
                shown = mine[mine["reported"]]
                for ep in shown.itertuples(index=False):
                    if ep.victim_status not in ("elsewhere", "no_data"):
                        continue
                    one = rec[rec["episode"] == ep.episode]
                    sus = one[one["side"] == "suspect"]
                    values = {
                        **base,
                        **common,
                        "episode": ep.episode,
                        "start_utc": ep.start_utc,
                        "end_utc": ep.end_utc,
                        "suspect_records": ep.suspect_records,
                        "suspect_exhibits": ep.suspect_exhibits,
                        "suspect_basis": ep.suspect_basis,
                        "suspect_closest_m": ep.suspect_closest_m,
                        "suspect_within_records": ep.suspect_within_records,
                    }
                    if ep.victim_status == "elsewhere":
                        key = (
                            "presence.elsewhere_near_place"
                            if ep.victim_near_places
                            else "presence.elsewhere"
                        )
                        values.update(
                            {
                                "victim_records": ep.victim_records,
                                "victim_records_during": ep.victim_records_during,
                                "victim_exhibits": ep.victim_exhibits,
                                "victim_min_distance_m": ep.victim_min_distance_m,
                                "victim_max_distance_m": ep.victim_max_distance_m,
                                "victim_near_places": ep.victim_near_places,
                                "victim_area_records": ep.victim_area_records,
                                "victim_first_utc": ep.victim_first_utc,
                                "victim_last_utc": ep.victim_last_utc,
                            }
                        )
                        out.append(Finding(key, values, _ids(one)))
                    else:
                        values.update(
                            {
                                "nearest_before_utc": ep.nearest_victim_before_utc,
                                "nearest_after_utc": ep.nearest_victim_after_utc,
                            }
                        )
                        out.append(Finding("presence.no_data", values, _ids(sus)))
                status = shown["victim_status"]
                out.append(
                    Finding(
                        "presence.summary",
                        {
                            **base,
                            **common,
                            "min_records": params.min_records,
                            "episodes": len(mine),
                            "reported": len(shown),
                            "not_reported": len(mine) - len(shown),
                            "elsewhere": int((status == "elsewhere").sum()),
                            "at_place": int((status == "at_place").sum()),
                            "indeterminate": int((status == "indeterminate").sum()),
                            "no_data": int((status == "no_data").sum()),
                            "days": int(shown["first_local_date"].nunique()),
                        },
                        _ids(
                            rec[
                                rec["episode"].isin(
                                    shown.loc[shown["victim_status"] == "elsewhere", "episode"]
                                )
                            ]
                        ),
                    )
                )
    return out
