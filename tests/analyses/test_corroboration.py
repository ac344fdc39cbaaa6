"""Corroboration: windows from a diary entry's precision; records in, near and far; the synthetic diary."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analyses import corroboration
from analyses._corroboration_windows import lead, topics
from atlas.analysis import render_text, templates
from atlas.case import Analyst, Attribution, Case, Person, Place
from atlas.errors import ParamError
from atlas.store import load_events
from fixtures._geo import destination
from tests.analyses.helpers import event_ids_at, events, synthetic_case, utc

HOME = (53.8190, -1.5780)
WORK = destination(*HOME, 3000.0, 90.0)
SUSPECT_TEL, VICTIM_TEL, NEW_TEL = "tel:+447700900111", "tel:+447700900222", "tel:+447700900999"
PLACES = (Place("Victim home", *HOME, 150.0, "P2"), Place("Victim work", *WORK, 250.0, "P2"))


def _case(root: Path) -> Case:
    suspect = Person("P1", "Suspect Person", "suspect", (
        Attribution("device:AB/3", "handset seized (test)"), Attribution(SUSPECT_TEL, "test")))
    victim = Person("P2", "Victim Person", "victim", (Attribution(VICTIM_TEL, "her number (test)"),))
    return Case(root=root, urn="01AB2345678", analyst=Analyst("Dana Irving", "Analyst", "", "DI"),
                persons=(suspect, victim), places=PLACES)


def _entry(start: str, end: str | None, precision: str, text: str, **extra) -> dict:
    return {"kind": "note", "channel": "diary", "direction": "none", "exhibit_ref": "AB/9",
            "timestamp_utc": start, "end_utc": utc(end) if end else None, "text": text,
            "extra": json.dumps({"time_precision": precision, **extra})}


def _call(when: str, sender: str = SUSPECT_TEL, to: str = VICTIM_TEL) -> dict:
    return {"kind": "call", "channel": "phone", "direction": "outgoing", "exhibit_ref": "AB/2",
            "timestamp_utc": when, "sender": sender, "recipients": [to]}


def _fix(when: str, dist_m: float, accuracy: float | None = 10.0, bearing: float = 270.0,
         method: str = "gps", centre=HOME) -> dict:
    lat, lon = destination(centre[0], centre[1], dist_m, bearing)
    return {"kind": "location_fix", "channel": "gpx", "timestamp_utc": when, "exhibit_ref": "AB/3",
            "latitude": lat, "longitude": lon, "accuracy_m": accuracy, "location_method": method}


def _run(rows: list[dict], tmp_path: Path, **params) -> tuple[pd.DataFrame, corroboration.AnalysisResult]:
    frame = events(rows)
    before = frame.copy()
    result = corroboration.run(frame, _case(tmp_path), corroboration.Params(**params))
    pd.testing.assert_frame_equal(frame, before)  # events are not modified
    return frame, result


def _data(result, entry_id: str) -> dict[str, object]:
    """Return key -> finding for one entry's data findings (the entry's own finding left out)."""
    return {f.key: f for f in result.findings
            if f.values.get("entry_event_id") == entry_id and f.key != "corroboration.entry"}


# ---------------------------------------------------------------- windows

def test_hour_window_takes_records_an_hour_either_side_not_beyond(tmp_path):
    # "about 9pm" BST on 12 Oct 2024: written hour 20:00-21:00 UTC, searched 19:00-21:00 UTC.
    rows = [_entry("2024-10-12 20:00", "2024-10-12 21:00", "hour", "Sat 12th Oct about 9pm - he rang"),
            _call("2024-10-12 18:59:59"), _call("2024-10-12 19:00:30"), _call("2024-10-12 21:00:00"),
            _call("2024-10-12 21:00:01")]
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    found = _data(result, ids[0])
    assert set(found) == {"corroboration.contact"}
    assert found["corroboration.contact"].event_ids == (ids[2], ids[3])
    assert found["corroboration.contact"].values["status"] == "data_in_window"
    entry = result.tables["entries"].iloc[0]
    assert (entry["window_start_utc"], entry["window_end_utc"]) == (pd.Timestamp("2024-10-12 19:00", tz="UTC"),
                                                                    pd.Timestamp("2024-10-12 21:00", tz="UTC"))


def test_minute_window_uses_the_minute_margin(tmp_path):
    rows = [_entry("2024-10-12 20:40", None, "minute", "12/10 21:40 he texted"),
            _call("2024-10-12 20:29:00"), _call("2024-10-12 20:31:00"), _call("2024-10-12 20:51:00")]
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    assert _data(result, ids[0])["corroboration.contact"].event_ids == (ids[2],)
    _, wider = _run(rows, tmp_path, minute_margin_minutes=12)
    assert _data(wider, ids[0])["corroboration.contact"].event_ids == (ids[1], ids[2], ids[3])


@pytest.mark.parametrize("day_start, inside, outside, hours", [
    # 27 Oct 2024 (BST ends): the UK day runs 26 Oct 23:00 UTC to 28 Oct 00:00 UTC, 25 hours.
    ("2024-10-26 23:00", "2024-10-27 23:30", "2024-10-28 00:00:30", 25),
    # 31 Mar 2024 (BST starts): 31 Mar 00:00 UTC to 31 Mar 23:00 UTC, 23 hours.
    ("2024-03-31 00:00", "2024-03-31 22:59", "2024-03-31 23:30", 23),
], ids=["autumn_25h", "spring_23h"])
def test_day_precision_is_the_whole_uk_day_across_a_clock_change(tmp_path, day_start, inside, outside, hours):
    # The parser's end_utc is deliberately left out: the window comes from the local date.
    rows = [_entry(day_start, None, "day", "Sun - he messaged me"), _call(inside), _call(outside),
            _call((pd.Timestamp(day_start) - pd.Timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M:%S"))]
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    assert _data(result, ids[0])["corroboration.contact"].event_ids == (ids[1],)
    entry = result.tables["entries"].iloc[0]
    assert entry["window_end_utc"] - entry["window_start_utc"] == pd.Timedelta(hours=hours)


def test_ambiguous_clock_change_time_is_widened_to_both_readings(tmp_path):
    # 01:30 on 27 Oct 2024 happens twice (00:30 and 01:30 UTC); the parser keeps the earlier.
    rows = [_entry("2024-10-27 00:30", None, "minute", "27/10 01:30 he rang"),
            _call("2024-10-27 01:32")]
    rows[0]["tz_flag"] = "ambiguous"
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    assert _data(result, ids[0])["corroboration.contact"].event_ids == (ids[1],)


# ---------------------------------------------------------------- location: for and against

def test_far_precise_fixes_point_away_and_are_marked_for_disclosure(tmp_path):
    rows = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day", "his car outside the house"),
            _fix("2024-10-12 22:10", 2000.0), _fix("2024-10-12 23:50", 1500.0)]
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    found = _data(result, ids[0])
    assert set(found) == {"corroboration.away"}
    away = found["corroboration.away"]
    assert away.values["status"] == "data_pointing_away"
    assert away.values["disclosure"] == "may_undermine"
    assert away.event_ids == (ids[1], ids[2])
    assert away.values["nearest_m"] == pytest.approx(1490.0, abs=2.0)


def test_a_far_fix_outside_the_window_is_not_reported(tmp_path):
    rows = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day", "his car outside the house"),
            _fix("2024-10-12 21:59", 2000.0), _fix("2024-10-13 00:01", 2000.0)]
    frame, result = _run(rows, tmp_path)
    found = _data(result, frame["event_id"].iloc[0])
    assert set(found) == {"corroboration.no_data"}
    assert found["corroboration.no_data"].values["status"] == "no_data"
    assert found["corroboration.no_data"].values["covering"] == ["AB/3 (location)"]
    assert not any(f.values.get("disclosure") for f in result.findings)


def test_a_cell_area_covering_the_place_points_neither_way(tmp_path):
    # A cell-based fix 300 m from home with 2 km accuracy: the area covers the home.
    rows = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day", "his car outside the house"),
            _fix("2024-10-12 22:30", 300.0, accuracy=2000.0, method="cell")]
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    found = _data(result, ids[0])
    assert set(found) == {"corroboration.no_data_areas"}
    assert found["corroboration.no_data_areas"].event_ids == (ids[1],)
    assert found["corroboration.no_data_areas"].values["status"] == "no_data"
    text = render_text(templates("corroboration")["findings"]["corroboration.no_data_areas"],
                       found["corroboration.no_data_areas"].values, "Europe/London")
    assert "{" not in text and "500 m" in text
    # The same area far away (its whole circle at least far_m from both places) does point away.
    far = rows[:1] + [_fix("2024-10-12 22:30", 6000.0, accuracy=2000.0, method="cell", bearing=180.0)]
    frame, result = _run(far, tmp_path)
    assert set(_data(result, frame["event_id"].iloc[0])) == {"corroboration.away"}


def test_one_precise_fix_near_the_place_stops_pointing_away(tmp_path):
    rows = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day", "his car outside the house"),
            _fix("2024-10-12 22:10", 2000.0), _fix("2024-10-12 23:00", 300.0)]
    frame, result = _run(rows, tmp_path)
    found = _data(result, frame["event_id"].iloc[0])
    assert set(found) == {"corroboration.located"}
    assert found["corroboration.located"].values["far_records"] == 1


def test_within_the_place_and_far_later_is_reported_as_within_not_away(tmp_path):
    rows = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day", "saw his car outside"),
            _fix("2024-10-12 22:10", 40.0), _fix("2024-10-12 23:30", 3000.0)]
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    found = _data(result, ids[0])
    assert set(found) == {"corroboration.at_place"}
    assert found["corroboration.at_place"].event_ids == (ids[1],)
    assert found["corroboration.at_place"].values["places"] == ["Victim home"]


def test_supporting_and_pointing_away_are_both_reported(tmp_path):
    rows = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day",
                   "He messaged me, then his car was outside"),
            _call("2024-10-12 22:05"), _fix("2024-10-12 22:10", 2500.0)]
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    found = _data(result, ids[0])
    assert set(found) == {"corroboration.contact", "corroboration.away"}
    entry = next(f for f in result.findings if f.key == "corroboration.entry")
    assert entry.event_ids == (ids[0],)
    assert entry.values["statuses"] == ["data_in_window", "data_pointing_away"]


def test_a_place_named_in_the_entry_is_the_one_measured(tmp_path):
    # 300 m from home (not far from it), 2.7 km from work.
    named = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day", "he turned up at my work"),
             _fix("2024-10-12 22:10", 300.0)]
    frame, result = _run(named, tmp_path)
    away = _data(result, frame["event_id"].iloc[0])["corroboration.away"]
    assert away.values["places"] == ["Victim work"] and away.values["places_named_in_entry"] is True
    unnamed = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day", "his car outside"), named[1]]
    frame, result = _run(unnamed, tmp_path)
    assert set(_data(result, frame["event_id"].iloc[0])) == {"corroboration.located"}


def test_location_is_not_searched_for_an_entry_about_contact(tmp_path):
    rows = [_entry("2024-10-12 22:00", "2024-10-13 00:00", "part_of_day", "he texted me all night"),
            _fix("2024-10-12 22:10", 2500.0)]
    frame, result = _run(rows, tmp_path)
    found = _data(result, frame["event_id"].iloc[0])
    assert set(found) == {"corroboration.no_data"}
    assert found["corroboration.no_data"].values["covering"] == ["none"]


# ---------------------------------------------------------------- unattributed, wording, params

def test_unattributed_sender_is_listed_as_such(tmp_path):
    rows = [_entry("2024-10-12 20:00", "2024-10-12 21:00", "hour", "12/10 about 9pm unknown number rang"),
            {**_call("2024-10-12 20:10", sender=NEW_TEL), "direction": "incoming"},
            _call("2024-10-12 20:20", sender="tel:+447700900333", to="tel:+447700900444")]
    frame, result = _run(rows, tmp_path)
    ids = list(frame["event_id"])
    found = _data(result, ids[0])
    assert set(found) == {"corroboration.contact_unattributed"}
    assert found["corroboration.contact_unattributed"].event_ids == (ids[1],)
    assert found["corroboration.contact_unattributed"].values["identifiers"] == [NEW_TEL]


def test_findings_quote_only_a_short_lead_and_have_wording(tmp_path):
    text = "Sat 12th Oct about 9pm - he rang and said something I will not repeat here at all"
    rows = [_entry("2024-10-12 20:00", "2024-10-12 21:00", "hour", text), _call("2024-10-12 20:10")]
    _, result = _run(rows, tmp_path)
    words = templates("corroboration")
    for f in result.findings:
        assert f.key in words["findings"]
        assert f.values["status"] in ("data_in_window", "data_pointing_away", "no_data")
        rendered = render_text(words["findings"][f.key], f.values, "Europe/London")
        assert "{" not in rendered and "not repeat" not in rendered
    assert lead(text) == "Sat 12th Oct about 9pm -\u2026"
    assert all(k in words["limitations"] for k in corroboration.LIMITATIONS)


def test_topics_read_from_the_words():
    assert topics("Flowers left on the doorstep, no card.") == ("presence",)
    assert topics("A new account started following me on Instagram.") == ("contact",)
    assert topics("He followed me down the road") == ("presence",)
    assert topics("Nothing I can describe") == ("contact", "presence")


@pytest.mark.parametrize("name, value", [("far_m", 0.0), ("hour_margin_minutes", -1), ("cell_range_m", float("nan")),
                                         ("minute_margin_minutes", 2000)])
def test_bad_params_are_refused(name, value):
    with pytest.raises(ParamError):
        corroboration.Params(**{name: value})


# ---------------------------------------------------------------- the synthetic diary

EXPECTED = {"corroborated": {"data_in_window"}, "contradicted": {"data_pointing_away"}, "no_data": {"no_data"}}


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("corroboration") / "case"
    # case.toml attributes neither e-mail address; DI/10 was saved from the victim's mailbox.
    case, truth = synthetic_case(root, extended=True, device_owners={"DI/10": "P2"})
    frame = load_events(root)
    result = corroboration.run(frame[list(dict.fromkeys(("event_id", *corroboration.REQUIRES)))], case,
                               corroboration.Params())
    return frame, truth, result


def test_every_synthetic_entry_gets_its_expected_status_and_evidence(synthetic):
    frame, truth, result = synthetic
    diary = truth["diary"]
    entry_ids = event_ids_at(frame, [{"file": diary["file"], "locator": e["locator"]} for e in diary["entries"]])
    assert len(entry_ids) == len(diary["entries"]) == result.counts["entries"]
    for e, entry_id in zip(diary["entries"], entry_ids, strict=True):
        found = _data(result, entry_id)
        statuses = {f.values["status"] for f in found.values()}
        assert statuses == EXPECTED[e["expected_status"]], (e["lead"], statuses)
        cited = {i for f in found.values() for i in f.event_ids}
        assert set(event_ids_at(frame, e["evidence"])) <= cited, e["lead"]
        if e["expected_status"] == "contradicted":
            assert found["corroboration.away"].values["disclosure"] == "may_undermine"
            assert found["corroboration.away"].values["nearest_m"] >= 500.0
        if e["expected_status"] == "no_data":
            no_data = next(iter(found.values()))
            assert "DI/3 (location)" in no_data.values["not_covering"]


def test_synthetic_findings_cite_the_entry_first_and_records_in_time_order(synthetic):
    frame, truth, result = synthetic
    when = dict(zip(frame["event_id"], frame["timestamp_utc"], strict=True))
    kinds = dict(zip(frame["event_id"], frame["kind"], strict=True))
    for f in result.findings:
        times = [when[i] for i in f.event_ids]
        assert times == sorted(times), f.key
        if f.key == "corroboration.entry":
            assert len(f.event_ids) == 1 and kinds[f.event_ids[0]] == "note"
    # The entry's finding comes before its data findings.
    keys = [f.key for f in result.findings]
    assert keys[0] == "corroboration.entry"
    texts = {e["text"] for e in truth["diary"]["entries"]}
    words = templates("corroboration")["findings"]
    for f in result.findings:
        rendered = render_text(words[f.key], f.values, "Europe/London")
        assert not any(t in rendered for t in texts)
        assert "{" not in rendered, f.key  # every placeholder has a value
