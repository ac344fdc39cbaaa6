"""Presence: the suspect's device at the victim's places while hers is elsewhere, no data, or there.

Unit frames are built to fool it (a victim point just inside the separation threshold, victim data
just outside the time tolerance, a cell area overlapping the place, a single stray fix); the seeded
synthetic case checks the planted night-time presence is found with the right event ids and that
visits with her device at home, the near miss and the no-data visits are not reported as presence.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses import presence
from analyses._presence_victim import window_pairs
from atlas.analysis import TEMPLATES, run_analyses
from atlas.case import Analyst, Attribution, Case, Person, Place
from atlas.errors import ParamError
from atlas.store import load_events
from fixtures._geo import destination
from tests.analyses.helpers import event_ids_at, events, synthetic_case

FORBIDDEN = (
    "stalking",
    "course of conduct",
    "breach",
    "harassment",
    "was at",
    "proves",
    "visited",
    "she was not",
    "was not there",
)
HOME = (53.8190, -1.5780)
WORK = destination(*HOME, 3000.0, 180.0)
VICTIM_TEL = "tel:+447700900222"


def _case(root: Path) -> Case:
    suspect = Person(
        "P1", "Suspect Person", "suspect", (Attribution("device:AB/3", "his handset (test)"),)
    )
    victim = Person(
        "P2",
        "Victim Person",
        "victim",
        (
            Attribution("device:AB/4", "her handset (test)"),
            Attribution(VICTIM_TEL, "her number (test)"),
        ),
    )
    places = (
        Place("Victim home", *HOME, 100.0, "P2"),
        Place("Victim work", *WORK, 200.0, "P2"),
        Place("Suspect home", *destination(*HOME, 8000.0, 270.0), 100.0, "P1"),
    )
    return Case(
        root=root,
        urn="01AB2345678",
        analyst=Analyst("Dana Irving", "Analyst", "", "DI"),
        persons=(suspect, victim),
        places=places,
    )


def _fix(
    when: str,
    dist_m: float,
    accuracy: float | None = 10.0,
    exhibit: str = "AB/3",
    bearing: float = 90.0,
    **extra,
) -> dict:
    lat, lon = destination(*HOME, dist_m, bearing)
    return {
        "kind": "location_fix",
        "timestamp_utc": when,
        "exhibit_ref": exhibit,
        "latitude": lat,
        "longitude": lon,
        "accuracy_m": accuracy,
        "location_method": "gps",
        **extra,
    }


def _her(
    when: str, dist_m: float, accuracy: float | None = 10.0, bearing: float = 180.0, **extra
) -> dict:
    return _fix(when, dist_m, accuracy, "AB/4", bearing, **extra)


SUSPECT_NIGHT = [
    _fix("2024-06-01 22:00", 20),
    _fix("2024-06-01 22:20", 30),
    _fix("2024-06-01 22:40", 25),
]


def _run(frame: pd.DataFrame, case: Case, **params) -> presence.AnalysisResult:
    before = frame.copy()
    result = presence.run(frame, case, presence.Params(**params))
    pd.testing.assert_frame_equal(frame, before)  # events are not modified
    return result


def _home(result) -> pd.Series:
    eps = result.tables["episodes"]
    (row,) = eps[eps["place"] == "Victim home"].itertuples(index=False)
    return row


# ---------------------------------------------------------------- the victim's side


def test_elsewhere_reports_both_sides_in_time_order_and_her_other_place(tmp_path):
    frame = events([*SUSPECT_NIGHT, _her("2024-06-01 21:45", 3000), _her("2024-06-01 22:30", 3005)])
    result = _run(frame, _case(tmp_path))
    ids = frame["event_id"].tolist()
    ep = _home(result)
    assert (ep.victim_status, ep.reported, ep.victim_records, ep.victim_records_during) == (
        "elsewhere",
        True,
        2,
        1,
    )
    assert ep.victim_near_places == "Victim work"
    (f,) = [f for f in result.findings if f.key.startswith("presence.elsewhere")]
    assert f.key == "presence.elsewhere_near_place"
    assert f.event_ids == (ids[3], ids[0], ids[1], ids[4], ids[2])  # both sides, by time
    assert f.values["victim_min_distance_m"] == pytest.approx(3000, abs=1)
    assert f.values["victim_max_distance_m"] == pytest.approx(3005, abs=1)
    assert f.values["suspect_records"] == 3 and f.values["victim_exhibits"] == "AB/4"
    assert result.counts["episodes_elsewhere"] == 1


def test_victim_point_just_inside_the_separation_is_indeterminate(tmp_path):
    # d - r = 499 m: not at the place, but not clearly away from it either.
    inside = events([*SUSPECT_NIGHT, _her("2024-06-01 22:10", 509, 10, bearing=0.0)])
    ep = _home(_run(inside, _case(tmp_path)))
    assert ep.victim_status == "indeterminate" and ep.victim_between_records == 1
    assert not [
        f for f in _run(inside, _case(tmp_path)).findings if f.key.startswith("presence.elsewhere")
    ]
    # d - r = 501 m: elsewhere; with no other case place near it.
    outside = events([*SUSPECT_NIGHT, _her("2024-06-01 22:10", 511, 10, bearing=0.0)])
    result = _run(outside, _case(tmp_path))
    assert _home(result).victim_status == "elsewhere"
    assert [f.key for f in result.findings if f.key.startswith("presence.elsewhere")] == [
        "presence.elsewhere"
    ]
    # the same position with an assumed (GPX) uncertainty of 50 m is no longer clear of 500 m
    assumed = events([*SUSPECT_NIGHT, _her("2024-06-01 22:10", 511, None, bearing=0.0)])
    assert _home(_run(assumed, _case(tmp_path))).victim_status == "indeterminate"


def test_victim_data_just_outside_the_gap_is_no_data(tmp_path):
    # The episode runs 22:00-22:40; records 31 min either side are outside a 30-minute tolerance.
    frame = events([*SUSPECT_NIGHT, _her("2024-06-01 21:29", 3000), _her("2024-06-01 23:11", 3000)])
    result = _run(frame, _case(tmp_path))
    ids = frame["event_id"].tolist()
    ep = _home(result)
    assert ep.victim_status == "no_data" and ep.victim_records == 0
    assert ep.nearest_victim_before_utc == pd.Timestamp("2024-06-01 21:29", tz="UTC")
    assert ep.nearest_victim_after_utc == pd.Timestamp("2024-06-01 23:11", tz="UTC")
    (f,) = [f for f in result.findings if f.key == "presence.no_data"]
    assert f.event_ids == tuple(ids[:3])  # the suspect's records only
    assert not [f for f in result.findings if f.key.startswith("presence.elsewhere")]
    # one minute inside the tolerance, the same record counts
    assert _home(_run(frame, _case(tmp_path), max_gap_minutes=31)).victim_status == "elsewhere"


def test_a_visit_interval_overlapping_the_window_counts(tmp_path):
    # A provider "visit" at her work, 18:00-23:30, covers the episode though it starts hours before.
    visit = _her(
        "2024-06-01 18:00",
        3000,
        20,
        kind="location_visit",
        end_utc=pd.Timestamp("2024-06-01 23:30", tz="UTC"),
    )
    frame = events([*SUSPECT_NIGHT, _her("2024-06-01 12:00", 5), visit])
    ep = _home(_run(frame, _case(tmp_path)))
    assert (ep.victim_status, ep.victim_records, ep.victim_records_during) == ("elsewhere", 1, 1)


def test_her_device_at_the_place_outweighs_records_elsewhere(tmp_path):
    frame = events([*SUSPECT_NIGHT, _her("2024-06-01 22:05", 3000), _her("2024-06-01 22:35", 40)])
    result = _run(frame, _case(tmp_path))
    assert _home(result).victim_status == "at_place"
    assert not [
        f for f in result.findings if f.key.startswith("presence.") and "elsewhere" in f.key
    ]
    summary = next(
        f
        for f in result.findings
        if f.key == "presence.summary" and f.values["place"] == "Victim home"
    )
    assert (summary.values["at_place"], summary.values["elsewhere"]) == (1, 0)


def _sites(mast_dist_m: float) -> list[dict]:
    lat, lon = destination(*HOME, mast_dist_m, 45.0)
    return [
        {
            "kind": "cell_site",
            "timestamp_utc": None,
            "exhibit_ref": "CL/1",
            "cell_id": "234-15-100-1",
            "latitude": lat,
            "longitude": lon,
            "location_method": "cell",
            "extra": "{}",
        }
    ]


def _her_call(when: str) -> dict:
    return {
        "kind": "call",
        "timestamp_utc": when,
        "exhibit_ref": "CD/2",
        "direction": "outgoing",
        "sender": VICTIM_TEL,
        "recipients": ["tel:+447700900333"],
        "cell_id": "234-15-100-1",
    }


def test_cell_area_overlapping_the_place_is_indeterminate_never_elsewhere(tmp_path):
    # Her serving cell's mast 2 km away: with a 5 km indicative range its area covers the place.
    frame = events([*_sites(2000), *SUSPECT_NIGHT, _her_call("2024-06-01 22:10")])
    ep = _home(_run(frame, _case(tmp_path)))
    assert (ep.victim_status, ep.victim_area_records, ep.victim_area_overlapping) == (
        "indeterminate",
        1,
        1,
    )
    # a handset's own cell-based estimate overlapping the place: indeterminate too
    cellfix = events([*SUSPECT_NIGHT, _her("2024-06-01 22:10", 1200, 1500, location_method="cell")])
    assert _home(_run(cellfix, _case(tmp_path))).victim_status == "indeterminate"
    # an area that does not reach the place still does not make the episode "elsewhere"
    apart = _run(frame, _case(tmp_path), cell_range_m=1000.0)
    ep = _home(apart)
    assert ep.victim_status == "indeterminate" and ep.victim_area_overlapping == 0
    assert not [f for f in apart.findings if f.key.startswith("presence.elsewhere")]


def test_gps_elsewhere_decides_when_a_cell_area_also_covers_both(tmp_path):
    frame = events(
        [
            *_sites(2000),
            *SUSPECT_NIGHT,
            _her_call("2024-06-01 22:10"),
            _her("2024-06-01 22:12", 3000),
        ]
    )
    result = _run(frame, _case(tmp_path))
    ep = _home(result)
    assert (ep.victim_status, ep.victim_area_overlapping, ep.victim_point_records) == (
        "elsewhere",
        1,
        1,
    )
    (f,) = [f for f in result.findings if f.key.startswith("presence.elsewhere")]
    ids = frame["event_id"].tolist()
    assert ids[5] in f.event_ids and ids[4] in f.event_ids and f.values["victim_area_records"] == 1


def test_a_single_fix_or_an_indeterminate_episode_is_not_reported(tmp_path):
    frame = events(
        [
            _fix("2024-06-01 22:00", 20),
            _her("2024-06-01 22:00", 3000),
            # across the boundary only: 120 m from the centre with 30 m uncertainty
            _fix("2024-06-02 22:00", 120, 30),
            _fix("2024-06-02 22:10", 115, 30),
            _her("2024-06-02 22:05", 3000),
        ]
    )
    result = _run(frame, _case(tmp_path))
    eps = result.tables["episodes"]
    home = eps[eps["place"] == "Victim home"]
    assert home["reported"].tolist() == [False, False]
    assert home["suspect_status"].tolist() == ["within", "indeterminate"]
    assert not [f for f in result.findings if f.key.startswith("presence.elsewhere")]
    assert result.counts["episodes_not_reported"] == 2
    assert _run(frame, _case(tmp_path), min_records=1).tables["episodes"]["reported"].tolist()[0]


def test_places_radius_override_and_suspect_place_not_tested(tmp_path):
    frame = events([*SUSPECT_NIGHT, _her("2024-06-01 22:10", 3000)])
    result = _run(frame, _case(tmp_path))
    assert sorted(set(result.tables["episodes"]["place"])) == ["Victim home"]
    assert {f.values["place"] for f in result.findings if f.key == "presence.none"} == {
        "Victim work"
    }
    # a 10 m radius: the suspect's records (20-30 m out, 10 m uncertainty) are never wholly within
    small = _run(frame, _case(tmp_path), radius_m=10.0, places=("Victim home",))
    assert not small.tables["episodes"]["reported"].any()
    with pytest.raises(ParamError):
        _run(frame, _case(tmp_path), places=("Nowhere",))
    with pytest.raises(ParamError):
        _run(frame, _case(tmp_path), radius_m=600.0)  # not below the separation


def test_no_victim_records_is_said(tmp_path):
    result = _run(events(SUSPECT_NIGHT), _case(tmp_path))
    keys = [f.key for f in result.findings]
    assert "presence.no_victim_records" in keys and "presence.no_data" in keys


@pytest.mark.parametrize(
    "bad",
    [
        {"min_separation_m": 0},
        {"max_gap_minutes": -1},
        {"min_records": 0},
        {"assumed_accuracy_m": float("nan")},
        {"max_accuracy_m": 10.0},
        {"places": ("",)},
    ],
)
def test_params_are_checked(bad):
    with pytest.raises(ParamError):
        presence.Params(**bad)


def test_window_search_agrees_with_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(200):
        n, k = int(rng.integers(0, 40)), int(rng.integers(0, 10))
        start = np.sort(rng.integers(0, 1000, n))
        end = start + np.where(rng.random(n) < 0.3, rng.integers(0, 300, n), 0)
        lo = rng.integers(0, 1000, k)
        hi = lo + rng.integers(0, 200, k)
        ei, ri = window_pairs(start, end, lo, hi)
        want = sorted(
            (e, r) for e in range(k) for r in range(n) if start[r] <= hi[e] and end[r] >= lo[e]
        )
        assert sorted(zip(ei.tolist(), ri.tolist(), strict=True)) == want


def test_every_key_has_wording_and_no_forbidden_words():
    words = tomllib.loads((TEMPLATES / "presence.toml").read_text(encoding="utf-8"))
    keys = set(words["findings"]) | set(words["limitations"])
    assert set(presence.LIMITATIONS) <= keys
    for key in (
        "presence.elsewhere",
        "presence.elsewhere_near_place",
        "presence.no_data",
        "presence.summary",
        "presence.none",
        "presence.no_places",
        "presence.no_victim_records",
    ):
        assert key in words["findings"]
    text = " ".join([*words["findings"].values(), *words["limitations"].values()]).lower()
    assert not [w for w in FORBIDDEN if w in text]


# ---------------------------------------------------------------- the synthetic case


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("presence_case")
    case, truth = synthetic_case(root, extended=True)
    store = load_events(root)
    (doc,) = run_analyses(case, specs=(presence.ANALYSIS,))
    return case, truth, store, doc


def _between(
    store: pd.DataFrame, exhibit: str, start: pd.Timestamp, end: pd.Timestamp
) -> list[str]:
    sel = store[
        (store["exhibit_ref"] == exhibit)
        & (store["timestamp_utc"] >= start)
        & (store["timestamp_utc"] <= end)
    ]
    return sel.sort_values(["timestamp_utc", "event_id"])["event_id"].tolist()


def test_synthetic_planted_presence_found_with_both_sides_ids(synthetic):
    case, truth, store, doc = synthetic
    planted = truth["presence_without_victim"]
    found = [f for f in doc["findings"] if f["key"].startswith("presence.elsewhere")]
    assert len(planted) >= 1 and len(found) == len(planted)
    times = store.set_index("event_id")["timestamp_utc"]
    for f, p in zip(found, planted, strict=True):
        start, end = pd.Timestamp(p["suspect_start_utc"]), pd.Timestamp(p["suspect_end_utc"])
        assert (pd.Timestamp(f["values"]["start_utc"]), pd.Timestamp(f["values"]["end_utc"])) == (
            start,
            end,
        )
        ids = f["event_ids"]
        assert [times[i] for i in ids] == sorted(times[i] for i in ids)
        # every record of the suspect's GPX in the span, and every planted record of her GPX
        assert set(_between(store, "DI/3", start, end)) <= set(ids)
        assert set(event_ids_at(store, p["victim_points"])) <= set(ids)
        gap = pd.Timedelta(minutes=30)
        assert {
            i for i in ids if i in set(store.loc[store["exhibit_ref"] == "DI/4", "event_id"])
        } == set(_between(store, "DI/4", start - gap, end + gap))
        assert f["values"]["victim_near_places"] == "Victim work"
        assert f["values"]["victim_min_distance_m"] > 2000
        assert "BST" in f["text"] or "GMT" in f["text"]


def test_synthetic_home_visits_near_miss_and_no_data_are_not_presence(synthetic):
    case, truth, store, doc = synthetic
    eps = pd.read_csv(case.root / doc["tables"]["episodes"]["path"], encoding="utf-8-sig")
    eps = eps[eps["reported"]]
    starts = pd.to_datetime(eps["start_utc"], utc=True, format="ISO8601")
    ends = pd.to_datetime(eps["end_utc"], utc=True, format="ISO8601")
    for v in truth["visits"]:
        s, e = (
            pd.Timestamp(v["at_home_radius"]["start_utc"]),
            pd.Timestamp(v["at_home_radius"]["end_utc"]),
        )
        (row,) = eps[(starts <= e) & (ends >= s)].itertuples(index=False)
        if v["victim_phone"] == "work":
            assert row.victim_status == "elsewhere"
        elif v["victim_points_during"]:
            assert row.victim_status == "at_place"
        else:
            assert row.victim_status in ("at_place", "no_data")
    nm0, nm1 = (
        pd.Timestamp(truth["near_miss"]["start_utc"]),
        pd.Timestamp(truth["near_miss"]["end_utc"]),
    )
    assert not ((starts <= nm1) & (ends >= nm0)).any()
    no_data = [f for f in doc["findings"] if f["key"] == "presence.no_data"]
    assert len(no_data) == int((eps["victim_status"] == "no_data").sum()) >= 1
    for f in no_data:
        assert "No data for the victim's device" in f["text"]
    summary = next(f for f in doc["findings"] if f["key"] == "presence.summary")
    assert summary["values"]["elsewhere"] == len(truth["presence_without_victim"])
    assert (
        summary["values"]["at_place"]
        == int((eps["victim_status"] == "at_place").sum())
        >= sum(
            1 for v in truth["visits"] if v["victim_points_during"] and v["victim_phone"] == "home"
        )
    )


def test_synthetic_rerun_is_byte_identical(synthetic):
    case, _truth, _store, _doc = synthetic
    out = case.root / "results"
    first = {p.name: p.read_bytes() for p in sorted((out / "presence").iterdir())}
    first["json"] = (out / "presence.json").read_bytes()
    run_analyses(case, specs=(presence.ANALYSIS,))
    again = {p.name: p.read_bytes() for p in sorted((out / "presence").iterdir())}
    again["json"] = (out / "presence.json").read_bytes()
    assert first == again and "presence.png" in first
    assert b"NaT" not in first["episodes.csv"] and b"nan" not in first["episodes.csv"]
    doc = json.loads(first["json"])
    assert [lim["key"] for lim in doc["limitations"]] == list(presence.LIMITATIONS)
