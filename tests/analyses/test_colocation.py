"""Colocation: zone status with accuracy, visits as intervals, cell masts, the sweep, the synthetic case."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses import colocation
from analyses._colocation_sweep import Track, brute_pairs, sweep_pairs
from atlas.analysis import TEMPLATES, run_analyses
from atlas.case import Analyst, Attribution, Case, Order, Person, Place, Zone
from atlas.errors import ParamError
from atlas.store import load_events
from fixtures._geo import destination
from tests.analyses.helpers import events, synthetic_case

FORBIDDEN = ("stalking", "course of conduct", "breach", "harassment", "was at", "proves", "visited")
HOME = (53.8190, -1.5780)
SUSPECT_TEL = "tel:+447700900111"
HOME_PLACE = Place("Victim home", *HOME, 100.0, "P2")


def _case(root: Path, places=(HOME_PLACE,), orders=()) -> Case:
    suspect = Person("P1", "Suspect Person", "suspect", (
        Attribution("device:AB/3", "handset seized (test)"), Attribution(SUSPECT_TEL, "test"),
        Attribution("vrm:YA17ABC", "keeper check (test)")))
    victim = Person("P2", "Victim Person", "victim", (Attribution("device:AB/4", "her handset (test)"),))
    return Case(root=root, urn="01AB2345678", analyst=Analyst("Dana Irving", "Analyst", "", "DI"),
                persons=(suspect, victim), places=tuple(places), orders=tuple(orders))


def _at(dist_m: float, bearing: float = 90.0, centre=HOME) -> tuple[float, float]:
    return destination(centre[0], centre[1], dist_m, bearing)


def _fix(when: str, dist_m: float, accuracy: float | None = None, exhibit: str = "AB/3", bearing=90.0,
         **extra) -> dict:
    lat, lon = _at(dist_m, bearing)
    return {"kind": "location_fix", "timestamp_utc": when, "exhibit_ref": exhibit, "latitude": lat,
            "longitude": lon, "accuracy_m": accuracy, "location_method": "gps", **extra}


def _run(frame: pd.DataFrame, case: Case, **params) -> colocation.AnalysisResult:
    before = frame.copy()
    result = colocation.run(frame, case, colocation.Params(**params))
    pd.testing.assert_frame_equal(frame, before)  # events are not modified
    return result


# ---------------------------------------------------------------- device to place

def test_within_outside_indeterminate_by_accuracy(tmp_path):
    frame = events([
        _fix("2024-06-01 22:00", 50, 10),    # 60 <= 100: within
        _fix("2024-06-01 22:05", 95, 10),    # straddles the boundary: indeterminate
        _fix("2024-06-01 22:10", 150, 10),   # 140 > 100: outside
        _fix("2024-06-01 22:15", 105, 20),   # centre outside, circle reaches in: indeterminate
        _fix("2024-06-01 22:20", 60),        # no accuracy: 60 + assumed 50 > 100: indeterminate, flagged
        _fix("2024-06-01 22:25", 30),        # no accuracy: 30 + 50 <= 100: within, flagged
    ])
    result = _run(frame, _case(tmp_path))
    rows = result.tables["place_records"]
    assert list(rows.columns) == list(colocation.tables.PLACE_RECORD_COLUMNS)
    got = dict(zip(rows["event_id"], rows["status"], strict=True))
    ids = frame["event_id"].tolist()
    assert got == {ids[0]: "within", ids[1]: "indeterminate", ids[3]: "indeterminate",
                   ids[4]: "indeterminate", ids[5]: "within"}
    flags = dict(zip(rows["event_id"], rows["flags"], strict=True))
    assert flags[ids[4]] == "accuracy_assumed" and flags[ids[0]] == ""
    # one episode: the 10-minute hole left by the outside fix is within the 30-minute gap
    eps = result.tables["place_episodes"]
    assert len(eps) == 1 and eps.iloc[0]["status"] == "within" and eps.iloc[0]["records"] == 5
    assert eps.iloc[0]["outside_records_during"] == 1
    ep = next(f for f in result.findings if f.key == "colocation.place_episode_within")
    assert ep.event_ids == tuple(ids[i] for i in (0, 1, 3, 4, 5))
    # with a zero assumed accuracy the unflagged fix at 60 m is within
    strict = _run(frame, _case(tmp_path), assumed_accuracy_m=0.0)
    assert dict(zip(strict.tables["place_records"]["event_id"],
                    strict.tables["place_records"]["status"], strict=True))[ids[4]] == "within"


def test_victim_device_and_unattributed_exhibits_are_not_tested(tmp_path):
    frame = events([_fix("2024-06-01 22:00", 10, 5, exhibit="AB/4"), _fix("2024-06-01 22:00", 10, 5,
                                                                            exhibit="ZZ/9")])
    result = _run(frame, _case(tmp_path))
    assert result.tables["place_records"].empty
    assert result.counts["location_records_unattributed"] == 1
    assert [f.key for f in result.findings if f.key.startswith("colocation.place")] == ["colocation.place_none"]


def test_visit_interval_is_tested_over_its_whole_span(tmp_path):
    lat, lon = _at(40)
    frame = events([
        {"kind": "location_visit", "timestamp_utc": "2024-06-01 22:00", "end_utc": dt.datetime(
            2024, 6, 1, 23, 30, tzinfo=dt.UTC), "exhibit_ref": "AB/3", "latitude": lat, "longitude": lon,
         "accuracy_m": 25.0, "location_method": "fused"},
        _fix("2024-06-01 23:55", 20, 5),        # 25 minutes after the visit ends: same episode
        _fix("2024-06-02 01:00", 20, 5),        # 65 minutes later: a new episode
        {"kind": "location_visit", "timestamp_utc": "2024-06-03 10:00", "exhibit_ref": "AB/3",
         "latitude": lat, "longitude": lon, "accuracy_m": 25.0},   # no end: an instant, flagged
    ])
    result = _run(frame, _case(tmp_path))
    eps = result.tables["place_episodes"]
    assert eps["records"].tolist() == [2, 1, 1]
    first = eps.iloc[0]
    assert first["start_utc"] == pd.Timestamp("2024-06-01 22:00", tz="UTC")
    assert first["end_utc"] == pd.Timestamp("2024-06-01 23:55", tz="UTC")
    assert first["basis"] == "fused, gps"
    rows = result.tables["place_records"]
    assert rows.iloc[0]["end_utc"] == pd.Timestamp("2024-06-01 23:30", tz="UTC")
    assert rows.iloc[-1]["flags"] == "visit_end_missing"
    summary = next(f for f in result.findings if f.key == "colocation.place_summary")
    assert (summary.values["episodes"], summary.values["days"]) == (3, 3)  # UK dates 1, 2 and 3 June


def test_order_zone_uses_the_order_radius_and_period(tmp_path):
    order = Order("RO1", "restraining_order", "P1", ("P2",), ("any",), (Zone("Victim home", 500.0),), (),
                  dt.datetime(2024, 6, 1, 9, tzinfo=dt.UTC), dt.datetime(2024, 6, 2, 9, tzinfo=dt.UTC), None)
    frame = events([_fix("2024-06-01 22:00", 300, 10), _fix("2024-06-03 22:00", 300, 10),
                    _fix("2024-06-04 22:00", 775, 10)])   # the near miss: outside 500 m
    result = _run(frame, _case(tmp_path, orders=(order,)))
    eps = result.tables["place_episodes"]
    zone = eps[eps["area_kind"] == "order_zone"]
    assert zone["area"].tolist() == ["RO1 zone: Victim home"] * 2
    assert zone["order_period"].tolist() == ["made_not_served", "after_service"]
    assert eps[eps["area_kind"] == "place"].empty   # 300 m is outside the 100 m place
    assert frame["event_id"].iloc[2] not in set(result.tables["place_records"]["event_id"])


def test_anpr_read_uses_the_camera_position_and_the_vrm_attribution(tmp_path):
    lat, lon = _at(40)
    frame = events([{"kind": "anpr_read", "timestamp_utc": "2024-06-01 22:00", "exhibit_ref": "AB/9",
                     "sender": "vrm:YA17ABC", "latitude": lat, "longitude": lon, "accuracy_m": 15.0},
                    {"kind": "anpr_read", "timestamp_utc": "2024-06-01 22:00", "exhibit_ref": "AB/9",
                     "sender": "vrm:ZZ99ZZZ", "latitude": lat, "longitude": lon, "accuracy_m": 15.0}])
    result = _run(frame, _case(tmp_path))
    rows = result.tables["place_records"]
    assert rows["event_id"].tolist() == [frame["event_id"].iloc[0]]
    assert rows.iloc[0]["basis"] == "anpr" and rows.iloc[0]["status"] == "within"


# ---------------------------------------------------------------- cells never place a device

def _sites() -> list[dict]:
    mlat, mlon = _at(300, 0.0)
    far_lat, far_lon = _at(9000, 0.0)
    return [
        {"kind": "cell_site", "timestamp_utc": None, "exhibit_ref": "CL/1", "cell_id": "234-15-100-1",
         "latitude": mlat, "longitude": mlon, "location_method": "cell",
         "extra": json.dumps({"azimuth_deg": 180.0, "beamwidth_deg": 120.0})},
        {"kind": "cell_site", "timestamp_utc": None, "exhibit_ref": "CL/1", "cell_id": "234-15-100-2",
         "latitude": far_lat, "longitude": far_lon, "location_method": "cell", "extra": "{}"},
    ]


def test_cell_event_is_reported_as_mast_distance_never_within(tmp_path):
    frame = events([
        *_sites(),
        {"kind": "call", "timestamp_utc": "2024-06-01 22:00", "exhibit_ref": "CD/1", "direction": "outgoing",
         "sender": SUSPECT_TEL, "recipients": ["tel:+447700900222"], "cell_id": "234-15-100-1",
         "location_method": "cell"},
        {"kind": "cell_event", "timestamp_utc": "2024-06-01 22:10", "exhibit_ref": "CD/1", "direction": "none",
         "cell_id": "234-15-100-9", "extra": json.dumps({"target": SUSPECT_TEL})},
        {"kind": "cell_event", "timestamp_utc": "2024-06-01 22:20", "exhibit_ref": "CD/1", "direction": "none",
         "cell_id": "234-15-100-2", "extra": json.dumps({"target": SUSPECT_TEL})},
        # a handset's own cell-based position estimate: never "within", however small its radius
        _fix("2024-06-01 22:30", 5, 20, location_method="cell"),
    ])
    result = _run(frame, _case(tmp_path))
    cells = result.tables["cell_events"]
    ids = frame["event_id"].tolist()
    assert list(cells.columns) == list(colocation.tables.CELL_COLUMNS)
    near = cells[cells["area"] == "Victim home"]
    assert near["event_id"].tolist() == [ids[2]]
    assert near.iloc[0]["mast_distance_m"] == pytest.approx(300.0, abs=0.2)
    assert (near.iloc[0]["bearing_from_deg"], near.iloc[0]["bearing_to_deg"]) == (120.0, 240.0)
    unknown = cells[cells["area"] == ""]
    assert unknown["event_id"].tolist() == [ids[3]] and unknown.iloc[0]["cell_site_status"] == "unknown_cell"
    assert ids[4] not in set(cells["event_id"])  # mast 9 km away: not listed against the place
    assert "status" not in cells.columns and "latitude" not in cells.columns  # no handset position column
    rows = result.tables["place_records"]
    assert set(rows["event_id"]) == {ids[5]} and rows.iloc[0]["status"] == "indeterminate"
    assert rows.iloc[0]["flags"] == "cell_based_estimate"
    keys = [f.key for f in result.findings]
    assert "colocation.cell_mast" in keys and "colocation.cell_mast_unknown" in keys
    assert "colocation.place_episode_within" not in keys
    mast = next(f for f in result.findings if f.key == "colocation.cell_mast")
    assert mast.event_ids == (ids[2],) and mast.values["cell_list_exhibit"] == "CL/1"
    assert "colocation.cell_site" in result.limitations


# ---------------------------------------------------------------- device to device

def _random_track(rng: np.random.Generator, n: int, intervals: bool) -> Track:
    start = rng.integers(0, 4 * 3_600_000_000, n)
    dur = np.where(rng.random(n) < 0.3, rng.integers(0, 1_800_000_000, n), 0) if intervals else np.zeros(n, int)
    lat = 53.80 + rng.uniform(0, 0.01, n)
    lon = -1.55 + rng.uniform(0, 0.016, n)
    return Track(start, start + dur, lat, lon, rng.choice([0.0, 5.0, 20.0, 50.0], n))


@pytest.mark.parametrize("intervals", [False, True], ids=["fixes", "with_intervals"])
def test_sweep_agrees_exactly_with_brute_force(intervals):
    for seed in range(150):
        rng = np.random.default_rng(seed)
        a = _random_track(rng, int(rng.integers(0, 60)), intervals)
        b = _random_track(rng, int(rng.integers(0, 60)), intervals)
        distance = float(rng.choice([10.0, 100.0, 250.0]))
        window = int(rng.choice([0, 60, 600, 1800])) * 1_000_000
        fast = sweep_pairs(a, b, distance, window)
        slow = brute_pairs(a, b, distance, window)
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1]), seed


def test_device_pairs_respect_both_tolerances(tmp_path):
    frame = events([
        _fix("2024-06-01 22:00", 0, 5),                                # suspect
        _fix("2024-06-01 22:00", 130, 5, exhibit="AB/4"),              # 130 m: 130 - 10 > 100, not reported
        _fix("2024-06-01 22:30", 0, 5),
        _fix("2024-06-01 22:41", 20, 5, exhibit="AB/4"),               # 11 minutes later: not reported
        _fix("2024-06-02 22:00", 0, 5),
        _fix("2024-06-02 22:09", 60, 5, exhibit="AB/4"),               # 60 m, 9 min: within (60+10 <= 100)
        _fix("2024-06-02 22:09", 95, 5, bearing=270.0, exhibit="AB/4"),  # 95 m: indeterminate
    ])
    result = _run(frame, _case(tmp_path))
    pairs = result.tables["device_pairs"]
    ids = frame["event_id"].tolist()
    assert list(zip(pairs["event_id_a"], pairs["event_id_b"], pairs["status"], strict=True)) == [
        (ids[4], ids[5], "within"), (ids[4], ids[6], "indeterminate")]
    eps = result.tables["device_episodes"]
    assert len(eps) == 1 and eps.iloc[0]["status"] == "within" and eps.iloc[0]["closest_m"] == 60.0
    ep = next(f for f in result.findings if f.key == "colocation.device_episode_within")
    assert ep.event_ids == (ids[4], ids[5], ids[6])


def test_params_are_checked():
    with pytest.raises(ParamError):
        colocation.Params(distance_m=0)
    with pytest.raises(ParamError):
        colocation.Params(assumed_accuracy_m=300, max_accuracy_m=200)
    with pytest.raises(ParamError):
        colocation.Params(gap_minutes=-1)


def test_every_key_has_wording_and_no_forbidden_words():
    words = tomllib.loads((TEMPLATES / "colocation.toml").read_text(encoding="utf-8"))
    keys = set(words["findings"]) | set(words["limitations"])
    assert set(colocation.LIMITATIONS) <= keys
    for key in ("coverage", "no_location_records", "place_episode_within", "place_episode_indeterminate",
                "place_summary", "place_none", "device_episode_within", "device_episode_indeterminate",
                "device_summary", "device_none", "cell_mast", "cell_mast_unknown", "excluded_uncertain"):
        assert f"colocation.{key}" in words["findings"]
    for text in [*words["findings"].values(), *words["limitations"].values()]:
        assert not any(bad in text.lower() for bad in FORBIDDEN), text


# ---------------------------------------------------------------- the synthetic case

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("colocation_case")
    case, truth = synthetic_case(root, device_owners={"DI/3": "P1", "DI/4": "P2"})
    return case, truth, load_events(root)


def _ids_between(store: pd.DataFrame, exhibit: str, start: str, end: str) -> tuple[str, ...]:
    sel = store[(store["exhibit_ref"] == exhibit) & (store["timestamp_utc"] >= pd.Timestamp(start))
                & (store["timestamp_utc"] <= pd.Timestamp(end))]
    return tuple(sel.sort_values(["timestamp_utc", "event_id"])["event_id"])


def _episode_ids(doc: dict, area: str) -> list[tuple[str, ...]]:
    return [tuple(f["event_ids"]) for f in doc["findings"]
            if f["key"].startswith("colocation.place_episode") and f["values"]["area"] == area]


def test_synthetic_visits_found_exactly_with_point_positions(synthetic):
    case, truth, store = synthetic
    (doc,) = run_analyses(case, specs=(colocation.ANALYSIS,), param_pairs=("assumed_accuracy_m=0",))
    home = [_ids_between(store, "DI/3", v["at_home_radius"]["start_utc"], v["at_home_radius"]["end_utc"])
            for v in truth["visits"]]
    zone = [_ids_between(store, "DI/3", v["start_utc"], v["end_utc"]) for v in truth["visits"]]
    assert _episode_ids(doc, "Victim home") == home
    assert _episode_ids(doc, "RO1 zone: Victim home") == zone
    assert [len(z) for z in zone] == [v["points_in_zone"] for v in truth["visits"]]


def test_synthetic_case_with_assumed_accuracy(synthetic):
    case, truth, store = synthetic
    (doc,) = run_analyses(case, specs=(colocation.ANALYSIS,))
    zone_eps = [f for f in doc["findings"] if f["key"].startswith("colocation.place_episode")
                and f["values"]["area"] == "RO1 zone: Victim home"]
    assert len(zone_eps) == len(truth["visits"])
    for f, v in zip(zone_eps, truth["visits"], strict=True):
        planted = set(_ids_between(store, "DI/3", v["start_utc"], v["end_utc"]))
        # every planted fix is found; any extra is an indeterminate fix just beyond the radius
        assert planted <= set(f["event_ids"]) and f["key"] == "colocation.place_episode_within"
        assert len(set(f["event_ids"]) - planted) == f["values"]["indeterminate_records"]
    near = truth["near_miss"]
    near_ids = set(_ids_between(store, "DI/3", near["start_utc"], near["end_utc"]))
    cited = {e for f in doc["findings"] if f["key"] != "colocation.coverage" for e in f["event_ids"]}
    assert near_ids and not near_ids & cited       # the ~775 m near miss is reported nowhere
    summary = next(f for f in doc["findings"] if f["key"] == "colocation.place_summary"
                   and f["values"]["area"] == "RO1 zone: Victim home")
    assert (summary["values"]["episodes"], summary["values"]["days"]) == (7, 7)
    # device to device: the victim's device is recorded at work on two visit nights: no pair then
    work_nights = [v for v in truth["visits"] if v["victim_phone"] == "work"]
    for f in doc["findings"]:
        if f["key"].startswith("colocation.device_episode"):
            assert not any(v["start_utc"] <= f["values"]["start_utc"].replace("+00:00", "Z") <= v["end_utc"]
                           for v in work_nights)
    for f in doc["findings"]:
        text = (f["text"] or "").lower()
        assert not any(bad in text for bad in FORBIDDEN), f["text"]


def test_synthetic_results_are_byte_identical_across_runs(synthetic):
    case, _truth, _store = synthetic
    digests = []
    for _ in range(2):
        run_analyses(case, specs=(colocation.ANALYSIS,))
        folder = case.root / "results"
        files = [folder / "colocation.json", *sorted((folder / "colocation").iterdir())]
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert digests[0] == digests[1]
    assert {"colocation_map.png", "colocation.kml", "place_episodes.csv"} <= set(digests[0])
    kml = (case.root / "results" / "colocation" / "colocation.kml").read_text(encoding="utf-8")
    assert "mast location, not handset location" in kml.lower() and "RO1 zone: Victim home" in kml


def test_exact_cell_join_used_without_the_shared_helper():
    from analyses._colocation_records import _exact_join, site_frame

    frame = events([*_sites(), {"kind": "cell_event", "timestamp_utc": "2024-06-01 22:00",
                                "cell_id": "234-15-100-1"},
                    {"kind": "cell_event", "timestamp_utc": "2024-06-01 22:05", "cell_id": "234-15-100-7"}])
    joined = _exact_join(frame[frame["kind"] == "cell_event"], site_frame(frame))
    assert joined["cell_site_status"].tolist() == ["matched", "unknown_cell"]
    assert joined["cell_bearing_from_deg"].iloc[0] == 120.0 and np.isnan(joined["cell_site_lat"].iloc[1])


def test_too_uncertain_records_are_listed_not_tested(tmp_path):
    frame = events([_fix("2024-06-01 22:00", 10, 500), _fix("2024-06-01 22:00", 10, 10)])
    result = _run(frame, _case(tmp_path))
    excluded = next(f for f in result.findings if f.key == "colocation.excluded_uncertain")
    assert excluded.event_ids == (frame["event_id"].iloc[0],)
    assert result.tables["place_records"]["event_id"].tolist() == [frame["event_id"].iloc[1]]
    keys = [f.key for f in result.findings]
    assert "colocation.no_location_records" in keys  # the victim's device has no records at all
