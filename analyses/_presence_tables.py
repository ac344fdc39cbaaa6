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
    """Return (episodes with the victim's status, the records of both sides) for every victim.

    Vectorised over episodes: one window search per victim, then group-bys on the episode index.
    """
    by_area = {a.name: a for a in areas}
    gap_us = params.max_gap_minutes * 60_000_000
    eps = eps.reset_index(drop=True)
    s_us, e_us = pv._us(eps["start_utc"]), pv._us(eps["end_utc"])
    lo, hi = s_us - gap_us, e_us + gap_us
    c_lat = np.array([by_area[a].lat for a in eps["place"]], dtype="float64")
    c_lon = np.array([by_area[a].lon for a in eps["place"]], dtype="float64")
    c_rad = eps["radius_m"].to_numpy("float64")
    suspect_side = place_rows.rename(columns={"area": "place", "status": "record_class"}).assign(
        side="suspect"
    )
    ep_frames, rec_frames = [], []
    for victim in victims:
        mine = vrec[vrec["person"] == victim].reset_index(drop=True)
        vstart, vend = pv._us(mine["start"]), pv._us(mine["end"])
        ei, ri = pv.window_pairs(vstart, vend, lo, hi)
        before, after = pv.nearest_outside(vstart, vend, lo, hi)
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
                "during": (vstart[ri] <= e_us[ei]) & (vend[ri] >= s_us[ei]),
            }
        )
        ep_frames.append(_victim_side(eps, victim, pairs, before, after, case, params))
        keys = eps[["place", "person", "episode"]]
        rec_frames.append(suspect_side.assign(victim=victim))
        rec_frames.append(
            pairs.assign(
                place=keys["place"].to_numpy()[ei],
                person=keys["person"].to_numpy()[ei],
                episode=keys["episode"].to_numpy()[ei],
                victim=victim,
                side="victim",
            )
        )
    ep_frame = (
        pd.concat(ep_frames, ignore_index=True)
        if ep_frames
        else pd.DataFrame(columns=list(EPISODE_COLUMNS))
    )
    ep_frame = (
        ep_frame[list(EPISODE_COLUMNS)]
        .sort_values(["place", "person", "victim", "episode"], kind="stable")
        .reset_index(drop=True)
    )
    parts = [f[list(RECORD_COLUMNS)] for f in rec_frames if len(f)]
    rec_frame = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=list(RECORD_COLUMNS))
    )
    rec_frame = rec_frame.sort_values(
        ["place", "person", "victim", "episode", "start_utc", "side", "event_id"], kind="stable"
    ).reset_index(drop=True)
    return ep_frame, rec_frame


def _victim_side(
    eps: pd.DataFrame,
    victim: str,
    pairs: pd.DataFrame,
    before: np.ndarray,
    after: np.ndarray,
    case: Case,
    params: Any,
) -> pd.DataFrame:
    """Return one victim's episode rows: the suspect side as found, the victim side aggregated."""
    n = len(eps)
    cls = pairs["record_class"]
    away = cls == "elsewhere"
    flags = pd.DataFrame(
        {
            "ep": pairs["ep"],
            "records": 1,
            "during": pairs["during"].astype("int64"),
            "points": (~pairs["is_area"]).astype("int64"),
            "elsewhere": away.astype("int64"),
            "at_place": (cls == "at_place").astype("int64"),
            "between": (cls == "between").astype("int64"),
            "areas": pairs["is_area"].astype("int64"),
            "overlapping": (cls == "area_overlaps").astype("int64"),
        }
    )
    sums = flags.groupby("ep").sum().reindex(range(n), fill_value=0)
    dist = pairs["distance_m"].where(away)
    by_ep = pd.DataFrame({"ep": pairs["ep"], "dist": dist}).groupby("ep")["dist"]
    dmin = by_ep.min().reindex(range(n))
    dmax = by_ep.max().reindex(range(n))
    first = pairs.groupby("ep")["start_utc"].min().reindex(range(n))
    last = pairs.groupby("ep")["end_utc"].max().reindex(range(n))
    exhibits = _joined_by_ep(pairs["ep"], pairs["exhibit_ref"], n)
    near = _near_places_by_ep(pairs[away], eps, case, n)
    status = np.select(
        [sums["records"] == 0, sums["at_place"] > 0, sums["between"] > 0, sums["elsewhere"] > 0],
        ["no_data", "at_place", "indeterminate", "elsewhere"],
        "indeterminate",
    ).astype(object)
    empty = (sums["records"] == 0).to_numpy()
    reported = (eps["status"] == "within") & (eps["records"] >= params.min_records)
    nan_to_none = lambda v: [None if pd.isna(x) else float(x) for x in v]  # noqa: E731
    return pd.DataFrame(
        {
            "place": eps["place"],
            "radius_m": eps["radius_m"],
            "person": eps["person"],
            "victim": victim,
            "episode": eps["episode"],
            "start_utc": eps["start_utc"],
            "end_utc": eps["end_utc"],
            "first_local_date": eps["first_local_date"],
            "suspect_records": eps["records"],
            "suspect_within_records": eps["within_records"],
            "suspect_closest_m": eps["closest_m"],
            "suspect_basis": eps["basis"],
            "suspect_exhibits": eps["exhibits"],
            "suspect_status": eps["status"],
            "reported": reported.to_numpy(bool),
            "victim_status": status,
            "victim_records": sums["records"].to_numpy(),
            "victim_records_during": sums["during"].to_numpy(),
            "victim_point_records": sums["points"].to_numpy(),
            "victim_elsewhere_records": sums["elsewhere"].to_numpy(),
            "victim_at_place_records": sums["at_place"].to_numpy(),
            "victim_between_records": sums["between"].to_numpy(),
            "victim_area_records": sums["areas"].to_numpy(),
            "victim_area_overlapping": sums["overlapping"].to_numpy(),
            "victim_min_distance_m": pd.Series(nan_to_none(dmin), dtype=object),
            "victim_max_distance_m": pd.Series(nan_to_none(dmax), dtype=object),
            "victim_near_places": near,
            "victim_exhibits": exhibits,
            "victim_first_utc": _times(first),
            "victim_last_utc": _times(last),
            "nearest_victim_before_utc": pd.Series(
                [_ts(int(b)) if e else None for b, e in zip(before, empty, strict=True)],
                dtype=object,
            ),
            "nearest_victim_after_utc": pd.Series(
                [_ts(int(a)) if e else None for a, e in zip(after, empty, strict=True)],
                dtype=object,
            ),
        }
    )


def _times(values: pd.Series) -> pd.Series:
    """Return times as an object column, None where missing (so no 'NaT' reaches a table)."""
    return pd.Series([None if pd.isna(v) else pd.Timestamp(v) for v in values], dtype=object)


def _joined_by_ep(ep: pd.Series, exhibit: pd.Series, n: int) -> list[str]:
    """Return, per episode, its exhibits joined in natural order ('' when none)."""
    out = [""] * n
    if ep.empty:
        return out
    order = {x: i for i, x in enumerate(sorted(pd.unique(exhibit.astype(str)), key=exhibit_key))}
    dd = pd.DataFrame({"ep": ep, "x": exhibit.astype(str)}).drop_duplicates()
    dd = dd.assign(rank=dd["x"].map(order)).sort_values(["ep", "rank"], kind="stable")
    for k, text in dd.groupby("ep", sort=True)["x"].agg(", ".join).items():
        out[int(k)] = text
    return out


def _near_places_by_ep(away: pd.DataFrame, eps: pd.DataFrame, case: Case, n: int) -> list[str]:
    """Return, per episode, the other case places that could hold any elsewhere record."""
    names: list[list[str]] = [[] for _ in range(n)]
    lat, lon = away["latitude"].to_numpy("float64"), away["longitude"].to_numpy("float64")
    r, ep = away["uncertainty_m"].to_numpy("float64"), away["ep"].to_numpy()
    own = eps["place"].to_numpy()[ep] if len(ep) else np.zeros(0, object)
    for p in sorted(case.places, key=lambda p: p.name):
        hit = (haversine_m(p.lat, p.lon, lat, lon) - r <= p.radius_m) & (own != p.name)
        for k in np.unique(ep[hit]):
            names[int(k)].append(p.name)
    return [", ".join(x) for x in names]


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
                groups = dict(tuple(rec.groupby("episode", sort=True)))
                for ep in shown.itertuples(index=False):
                    if ep.victim_status not in ("elsewhere", "no_data"):
                        continue
                    one = groups[ep.episode]
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
