"""Occasions: UK dates, per-day counts, and the advisory six-month calculator (uk-practice §6.3)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analyses import _occasions_limit as limit
from analyses import occasions
from atlas.analysis import TEMPLATES, render_text, run_analyses, templates
from atlas.case import Analyst, Attribution, Case, Order, Person, Place, Zone
from atlas.errors import ParamError
from atlas.store import load_events
from tests.analyses.helpers import event_ids_at, events, synthetic_case, utc

S, V, F = "tel:+447700900001", "tel:+447700900002", "tel:+447700900003"
LAT, LON = 53.8, -1.5
FORBIDDEN = ("breach", "violation", "stalking", "course of conduct", "harassment", "was at", "proves",
             "visited")


def _case(root: Path, *order_list: Order) -> Case:
    return Case(
        root=root, urn="01AB2345678", analyst=Analyst("Dana Irving", "Analyst", "", "DI"),
        persons=(Person("P1", "Sam Suspect", "suspect", (Attribution(S, "Statement"),
                                                         Attribution("device:AB/3", "His handset"))),
                 Person("P2", "Vic Victim", "victim", (Attribution(V, "Her number"),)),
                 Person("P3", "Fay Friend", "other", (Attribution(F, "Her number"),))),
        places=(Place("Vic home", LAT, LON, 150.0, "P2"), Place("Sam home", LAT + 0.05, LON, 150.0, "P1")),
        orders=order_list)


def _sms(when: str, sender: str = S, recipient: str = V, **more: object) -> dict:
    return {"kind": "sms", "timestamp_utc": when, "direction": "incoming", "sender": sender,
            "recipients": [recipient], "channel": "sms", **more}


def _run(rows: list[dict], root: Path, **params: object):
    frame = events(rows)
    return frame, occasions.run(frame, _case(root), occasions.Params(**params))


def _finding(result, key: str):
    return next(f for f in result.findings if f.key == key)


# ---------------------------------------------------------------- the counting rule (UKP-TIME-02)

@pytest.mark.parametrize(("last", "deadline", "clamped"), [
    ("2025-01-10", "2025-07-10", False),
    ("2025-08-31", "2026-02-28", True),   # no 31 February: month-end
    ("2023-08-31", "2024-02-29", True),   # leap year month-end
    ("2025-09-30", "2026-03-30", False),
    ("2025-02-28", "2025-08-28", False),
    ("2024-02-29", "2024-08-29", False),
    ("2025-03-31", "2025-09-30", True),
    ("2024-12-31", "2025-06-30", True),
    ("2025-07-01", "2026-01-01", False),  # crosses the year
    ("2024-10-27", "2025-04-27", False),  # the autumn clock-change date
], ids=lambda v: str(v))
def test_corresponding_date_rule(last, deadline, clamped):
    assert limit.six_months_on(dt.date.fromisoformat(last)) == (dt.date.fromisoformat(deadline), clamped)


def test_utc_to_bst_moves_the_date_and_the_working_says_so(tmp_path):
    # 23:30 UTC on 30 June 2025 is 00:30 BST on 1 July 2025: the incident date is 1 July.
    frame, result = _run([_sms("2025-06-01 10:00"), _sms("2025-06-30 23:30")], tmp_path)
    calc = _finding(result, "occasions.time_limit")
    assert calc.values["last_relied_on"] == dt.date(2025, 7, 1)
    assert calc.values["last_day_to_lay"] == dt.date(2026, 1, 1)
    assert calc.event_ids == (frame["event_id"].iloc[1],)
    steps = calc.values["working"]
    assert any("changed the date from 30 June 2025 (UTC) to 1 July 2025 (UK local)" in s for s in steps)
    assert any("00:30 BST on 1 July 2025" in s for s in steps)
    assert any("excluded" in s and "2 July 2025" in s for s in steps)
    assert list(result.tables["time_limit_working"]["text"]) == steps
    assert "advisory" in steps[-1]


@pytest.mark.parametrize(("when", "local_date", "deadline"), [
    ("2024-10-26 23:30", "2024-10-27", "2025-04-27"),  # 00:30 BST, the night the clocks go back
    ("2025-03-30 00:30", "2025-03-30", "2025-09-30"),  # 00:30 GMT, before the clocks go forward
    ("2025-03-30 23:30", "2025-03-31", "2025-09-30"),  # 00:30 BST on 31 March: month-end in September
    ("2025-01-15 23:30", "2025-01-15", "2025-07-15"),  # GMT: UTC and UK dates agree
], ids=lambda v: str(v))
def test_dst_crossing_local_dates(tmp_path, when, local_date, deadline):
    _frame, result = _run([_sms("2024-09-01 12:00"), _sms(when)], tmp_path)
    calc = _finding(result, "occasions.time_limit")
    assert calc.values["last_relied_on"].isoformat() == local_date
    assert calc.values["last_day_to_lay"].isoformat() == deadline
    changed = any("changed the date" in s for s in calc.values["working"])
    assert changed == (when[:10] != local_date)


def test_officer_date_records_after_it_and_days_remaining(tmp_path):
    rows = [_sms("2025-01-05 10:00"), _sms("2025-01-10 10:00"), _sms("2025-02-01 10:00")]
    frame, result = _run(rows, tmp_path, last_relied_on="2025-01-10", as_of="2025-06-30")
    calc = _finding(result, "occasions.time_limit")
    assert calc.values["chosen_by"] == "officer" and calc.values["last_day_to_lay"] == dt.date(2025, 7, 10)
    assert calc.values["days_remaining"] == 10
    assert calc.event_ids == (frame["event_id"].iloc[1],)
    later = _finding(result, "occasions.records_after_relied_on")
    assert later.event_ids == (frame["event_id"].iloc[2],)
    assert not [f for f in result.findings if f.key.startswith("occasions.warning")]
    _frame, passed = _run(rows, tmp_path, last_relied_on="2025-01-10", as_of="2025-07-12")
    assert _finding(passed, "occasions.time_limit").values["days_remaining"] == -2


def test_officer_date_without_a_record(tmp_path):
    _frame, result = _run([_sms("2025-01-05 10:00"), _sms("2025-01-06 10:00")], tmp_path,
                          last_relied_on="2025-01-20")
    assert "occasions.warning_no_record_on_date" in [f.key for f in result.findings]
    calc = _finding(result, "occasions.time_limit")
    assert calc.event_ids == () and calc.values["last_day_to_lay"] == dt.date(2025, 7, 20)


# ---------------------------------------------------------------- warnings (UKP-TIME-03)

def test_warns_on_fewer_than_two_and_on_one_date(tmp_path):
    frame, one = _run([_sms("2025-01-05 10:00")], tmp_path)
    warn = _finding(one, "occasions.warning_fewer_than_two")
    assert warn.values["records"] == 1 and warn.event_ids == tuple(frame["event_id"])
    _frame, same_day = _run([_sms("2025-01-05 10:00"), _sms("2025-01-05 11:00")], tmp_path)
    assert "occasions.warning_one_date" in [f.key for f in same_day.findings]
    assert "occasions.warning_fewer_than_two" not in [f.key for f in same_day.findings]


@pytest.mark.parametrize(("more", "reason"), [
    ({"tz_flag": "ambiguous"}, "tz_flag ambiguous"),
    ({"tz_flag": "nonexistent"}, "tz_flag nonexistent"),
    ({"extra": '{"time_precision": "day"}'}, "time precision day"),
    ({"extra": '{"time_precision": "part_of_day"}'}, "time precision part_of_day"),
    ({"tz_basis": "none"}, "no time zone or offset in the source"),
    ({"flags": ["approximate"]}, "time marked approximate in the source"),
], ids=lambda v: str(v))
def test_warns_when_the_last_date_is_uncertain(tmp_path, more, reason):
    frame, result = _run([_sms("2025-01-05 10:00"), _sms("2025-10-26 01:30", **more)], tmp_path)
    warn = _finding(result, "occasions.warning_date_uncertain")
    assert reason in warn.values["reasons"] and warn.event_ids == (frame["event_id"].iloc[1],)
    assert bool(result.tables["records"]["date_uncertain"].iloc[1])


def test_minute_precision_is_not_uncertain(tmp_path):
    _frame, result = _run([_sms("2025-01-05 10:00"), _sms("2025-01-06 10:00",
                                                          extra='{"time_precision": "minute"}')], tmp_path)
    assert not [f for f in result.findings if f.key.startswith("occasions.warning")]


# ---------------------------------------------------------------- what counts, per day

def test_records_per_uk_day_with_places_and_orders(tmp_path):
    order = Order(id="RO1", type="restraining_order", subject="P1", protected=("P2",),
                  prohibited_channels=("any",), zones=(Zone("Vic home", 500.0),), exceptions=(),
                  made=utc("2024-06-01 10:00"), served=utc("2024-06-02 10:00"), expires=None)
    rows = [
        _sms("2024-06-10 22:30"),                      # 23:30 BST 10 June
        _sms("2024-06-10 23:30"),                      # 00:30 BST 11 June
        _sms("2024-06-11 08:00", sender=F),            # third party: not counted
        _sms("2024-06-11 09:00", sender=V, recipient=S),  # victim to suspect: not counted
        {"kind": "location_fix", "timestamp_utc": "2024-06-11 01:00", "latitude": LAT, "longitude": LON,
         "accuracy_m": 10.0, "exhibit_ref": "AB/3"},   # within the victim's place and the zone
        {"kind": "location_fix", "timestamp_utc": "2024-06-11 02:00", "latitude": LAT + 0.003,
         "longitude": LON, "accuracy_m": 10.0, "exhibit_ref": "AB/3"},  # ~330 m: zone only
        {"kind": "location_fix", "timestamp_utc": "2024-06-11 03:00", "latitude": LAT + 0.05,
         "longitude": LON, "accuracy_m": 10.0, "exhibit_ref": "AB/3"},  # the suspect's own home
    ]
    frame = events(rows)
    result = occasions.run(frame, _case(tmp_path, order), occasions.Params())
    records = result.tables["records"]
    assert list(records.columns) == list(occasions.RECORD_COLUMNS)
    ids = frame["event_id"]
    assert list(records["event_id"]) == [ids[0], ids[1], ids[4], ids[5]]
    assert list(records["date_uk"]) == ["2024-06-10", "2024-06-11", "2024-06-11", "2024-06-11"]
    assert list(records["categories"]) == ["contact; order:RO1", "contact; order:RO1",
                                           "order:RO1; place:Vic home", "order:RO1"]
    per_day = result.tables["per_day"]
    assert list(per_day["date_uk"]) == ["2024-06-10", "2024-06-11"]
    assert list(per_day["records"]) == [1, 3] and list(per_day["contacts"]) == [1, 1]
    assert list(per_day["place_records"]) == [0, 1] and list(per_day["order_records"]) == [1, 3]
    summary = _finding(result, "occasions.summary")
    assert summary.values["days"] == 2 and summary.event_ids == tuple(records["event_id"])
    without = occasions.run(frame, _case(tmp_path, order), occasions.Params(include_order_records=False))
    assert list(without.tables["records"]["event_id"]) == [ids[0], ids[1], ids[4]]


def test_no_records(tmp_path):
    _frame, result = _run([_sms("2025-01-05 10:00", sender=F)], tmp_path)
    assert [f.key for f in result.findings] == ["occasions.none"]
    assert result.tables["per_day"].empty and result.tables["time_limit_working"].empty
    _frame, given = _run([_sms("2025-01-05 10:00", sender=F)], tmp_path, last_relied_on="2025-01-05")
    keys = [f.key for f in given.findings]
    assert "occasions.time_limit" in keys and "occasions.warning_fewer_than_two" in keys


def test_params_are_checked():
    for bad in ({"last_relied_on": "10/01/2025"}, {"as_of": "2025-02-30"}, {"assumed_accuracy_m": -1.0}):
        with pytest.raises(ParamError):
            occasions.Params(**bad)


def test_every_key_has_wording_without_legal_labels(tmp_path):
    words = tomllib.loads((TEMPLATES / "occasions.toml").read_text(encoding="utf-8"))
    assert set(occasions.LIMITATIONS) <= set(words["limitations"])
    assert not [w for w in FORBIDDEN if w in _without_statute(json.dumps(words))]
    keys = set()
    cases = [([_sms("2025-01-05 10:00"), _sms("2025-06-30 23:30", tz_flag="ambiguous")], {}),
             ([_sms("2025-01-05 10:00")], {}), ([_sms("2025-01-05 10:00", sender=F)], {}),
             ([_sms("2025-01-05 10:00"), _sms("2025-01-05 11:00")], {"last_relied_on": "2025-01-05"}),
             ([_sms("2025-01-05 10:00"), _sms("2025-01-07 11:00")], {"last_relied_on": "2025-01-06"})]
    for rows, params in cases:
        _frame, result = _run(rows, tmp_path, **params)
        for f in result.findings:
            keys.add(f.key)
            text = render_text(templates("occasions")["findings"][f.key], f.values, "Europe/London")
            assert "{" not in text and not [w for w in FORBIDDEN if w in _without_statute(text)]
    assert keys <= set(words["findings"]) and len(keys) == 10
    calc = render_text(words["findings"]["occasions.time_limit"], {}, "Europe/London")
    assert "ADVISORY" in calc and "officer and the CPS decide" in calc


def _without_statute(text: str) -> str:
    """Return lower-case text without the Act's title, which names a statute, not conduct."""
    return text.lower().replace("protection from harassment act", "pha")


# ---------------------------------------------------------------- the synthetic case

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("occasions") / "case"
    case, truth = synthetic_case(root, device_owners={"DI/1": "P2", "DI/2": "P2", "DI/3": "P1", "DI/4": "P2"})
    new = Attribution(truth["identifiers"]["suspect_new"], "Officer's enquiry (test)")
    case = dataclasses.replace(case, persons=tuple(
        dataclasses.replace(p, identifiers=(*p.identifiers, new)) if p.id == "P1" else p for p in case.persons))
    return case, truth


def test_synthetic_first_last_and_days(synthetic):
    case, truth = synthetic
    (doc,) = run_analyses(case, specs=(occasions.ANALYSIS,))
    stored = load_events(case.root)
    records = pd.read_csv(case.root / "results" / "occasions" / "records.csv", encoding="utf-8-sig")
    ids = set(records["event_id"])
    assert set(event_ids_at(stored, truth["contacts_after_service"]["records"])) <= ids
    assert set(event_ids_at(stored, truth["threats"])) <= ids
    planted = truth["contacts_after_service"]["records"]
    latest = [r for r in planted if r["utc"] == planted[-1]["utc"]]  # several in one minute: id breaks ties
    last = records["event_id"].iloc[-1]
    assert last == max(event_ids_at(stored, latest))
    first = min(stored.loc[stored["event_id"].isin(ids), "timestamp_utc"])
    assert pd.Timestamp(records["timestamp_utc"].iloc[0]) == first
    # Every planted visit yields location records within the victim's home, on the visit's night.
    places = records[records["categories"].str.contains("place:Victim home", regex=False)]
    for visit in truth["visits"]:
        span = pd.to_datetime(places["timestamp_utc"]).between(pd.Timestamp(visit["start_utc"]),
                                                               pd.Timestamp(visit["end_utc"]))
        assert span.any(), visit["index"]
    when = pd.to_datetime(records["timestamp_utc"], utc=True).dt.tz_convert("Europe/London")
    days = when.dt.strftime("%Y-%m-%d")
    assert list(days) == list(records["date_uk"])
    summary = next(f for f in doc["findings"] if f["key"] == "occasions.summary")
    assert summary["values"]["days"] == days.nunique() and summary["values"]["records"] == len(records)
    calc = next(f for f in doc["findings"] if f["key"] == "occasions.time_limit")
    last_local = when.iloc[-1].date()
    assert calc["values"]["last_relied_on"] == last_local.isoformat()
    assert calc["values"]["last_day_to_lay"] == limit.six_months_on(last_local)[0].isoformat()
    assert calc["text"].startswith("ADVISORY") and calc["event_ids"] == [last]


def test_synthetic_dst_ambiguous_record_warns_when_relied_on(synthetic):
    case, truth = synthetic
    planted = truth["dst_ambiguous"]
    local = pd.Timestamp(planted["planted_utc"]).tz_convert("Europe/London").date().isoformat()
    stored = load_events(case.root)
    (dst_id,) = event_ids_at(stored, [planted])
    same_day = stored[stored["timestamp_utc"].dt.tz_convert("Europe/London").dt.strftime("%Y-%m-%d") == local]
    (doc,) = run_analyses(case, specs=(occasions.ANALYSIS,), param_pairs=(f"occasions.last_relied_on={local}",))
    calc = next(f for f in doc["findings"] if f["key"] == "occasions.time_limit")
    assert calc["values"]["chosen_by"] == "officer"
    warned = [f for f in doc["findings"] if f["key"] == "occasions.warning_date_uncertain"]
    records = pd.read_csv(case.root / "results" / "occasions" / "records.csv", encoding="utf-8-sig")
    on_day = records[records["date_uk"] == local]
    # The warning follows the last relevant record of that day, whichever it is.
    assert bool(warned) == bool(on_day["date_uncertain"].iloc[-1])
    assert dst_id in set(on_day["event_id"]) and len(same_day) >= 1
    assert bool(records.set_index("event_id").loc[dst_id, "date_uncertain"])


def test_synthetic_byte_identical(synthetic):
    case, _truth = synthetic
    digests = []
    for _ in range(2):
        run_analyses(case, specs=(occasions.ANALYSIS,), param_pairs=("occasions.as_of=2025-03-01",))
        files = [case.root / "results" / "occasions.json",
                 *sorted((case.root / "results" / "occasions").glob("*"))]
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert digests[0] == digests[1] and len(digests[0]) == 4
