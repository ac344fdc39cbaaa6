"""Orders: terms by period, zone uncertainty, cell masts kept apart, wording, synthetic case."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from analyses import orders
from atlas.analysis import TEMPLATES, render_text, run_analyses, templates
from atlas.case import Analyst, Attribution, Case, Order, Person, Place, Zone
from atlas.errors import ParamError
from atlas.store import load_events
from tests.analyses.helpers import event_ids_at, events, synthetic_case, utc

S, V, NEW = "tel:+447700900001", "tel:+447700900002", "tel:+447700900099"
LAT, LON = 53.8, -1.5
M_PER_DEG = 111_195.0  # metres per degree of latitude on the sphere haversine_m uses
FORBIDDEN = ("breach", "violation", "stalking", "course of conduct", "harassment", "was at", "proves",
             "visited")


def _order(**changes: object) -> Order:
    base = Order(id="RO1", type="restraining_order", subject="P1", protected=("P2",),
                 prohibited_channels=("any",), zones=(Zone("Home", 500.0),),
                 exceptions=("Contact through solicitors",), made=utc("2024-06-01 10:00"),
                 served=utc("2024-06-03 12:00"), expires=dt.date(2024, 12, 31))
    return dataclasses.replace(base, **changes)


def _case(root: Path, *order_list: Order) -> Case:
    return Case(
        root=root, urn="01AB2345678", analyst=Analyst("Dana Irving", "Analyst", "", "DI"),
        persons=(Person("P1", "Sam Suspect", "suspect", (Attribution(S, "Victim's statement"),
                                                         Attribution("device:AB/3", "His handset"))),
                 Person("P2", "Vic Victim", "victim", (Attribution(V, "Her own number"),
                                                       Attribution("device:AB/1", "Her handset")))),
        places=(Place("Home", LAT, LON, 100.0, "P2"),), orders=order_list)


def _sms(when: str, sender: str = S, recipient: str = V, kind: str = "sms", channel: str = "sms") -> dict:
    return {"kind": kind, "timestamp_utc": when, "direction": "incoming", "sender": sender,
            "recipients": [recipient], "channel": channel, "exhibit_ref": "AB/1"}


def _fix(when: str, north_m: float, accuracy: float | None, exhibit: str = "AB/3", method: str = "gps") -> dict:
    return {"kind": "location_fix", "timestamp_utc": when, "latitude": LAT + north_m / M_PER_DEG,
            "longitude": LON, "accuracy_m": accuracy, "location_method": method, "exhibit_ref": exhibit,
            "channel": "gps", "direction": "none"}


ROWS = [
    _sms("2024-05-30 09:00"),                       # 1 before the order was made
    _sms("2024-06-02 09:00"),                       # 2 made, not served
    _sms("2024-06-03 12:00"),                       # 3 at the exact time of service: not after it
    _sms("2024-06-04 09:00"),                       # 4 after service
    _sms("2024-06-05 09:00", sender=V, recipient=S),  # 5 protected person to subject: not listed
    _sms("2024-06-05 10:00", sender=NEW),           # 6 unattributed sender
    _fix("2024-06-06 01:00", 0.0, 10.0),            # 7 within
    _fix("2024-06-06 01:10", 480.0, 50.0),          # 8 indeterminate (circle crosses 500 m)
    _fix("2024-06-06 01:20", 2000.0, 10.0),         # 9 outside: not listed
    _fix("2024-06-06 01:30", 0.0, 10.0, exhibit="AB/1"),  # 10 the protected person's device
    _fix("2024-06-06 01:40", 0.0, 10.0, method="cell"),   # 11 cell estimate: never within
    _fix("2024-06-06 01:50", 100.0, None),          # 12 no accuracy: assumed 50 m, within
    {"kind": "cell_event", "timestamp_utc": "2024-06-07 03:00", "cell_id": "234-15-1234-56789",
     "exhibit_ref": "AB/3", "direction": "none"},   # 13 mast 1 km north: cell_masts only
    {"kind": "cell_site", "timestamp_utc": None, "cell_id": "234-15-01234-56789", "exhibit_ref": "AB/9",
     "latitude": LAT + 1000.0 / M_PER_DEG, "longitude": LON},  # 14 the cell list row
    _sms("2024-12-31 23:30"),                       # 15 23:30 GMT on the expiry date: in force
    _sms("2025-01-01 00:30"),                       # 16 after the expiry date
]


@pytest.fixture
def frame() -> pd.DataFrame:
    return events(ROWS)


def _ids(frame: pd.DataFrame, rows: list[int]) -> list[str]:
    return [frame["event_id"].iloc[r - 1] for r in rows]


def test_records_fall_into_periods(frame, tmp_path):
    result = orders.run(frame, _case(tmp_path, _order()), orders.Params())
    after, before = result.tables["events_after_service"], result.tables["events_before_service"]
    made_not_served = result.tables["events_made_not_served"]
    assert list(after.columns) == list(orders.ROW_COLUMNS)
    assert list(after["event_id"]) == _ids(frame, [4, 7, 8, 11, 12, 15])
    assert list(before["event_id"]) == _ids(frame, [1, 2, 3])
    assert list(before["made_not_served"]) == [False, True, True]
    assert list(made_not_served["event_id"]) == _ids(frame, [2, 3])
    assert result.counts["rows_after_expiry"] == 1
    keys = [f.key for f in result.findings]
    expired = next(f for f in result.findings if f.key == "orders.term_after_expiry")
    assert expired.event_ids == tuple(_ids(frame, [16]))
    assert "orders.term_made_not_served" in keys and "orders.term_before_made" in keys


def test_zone_status_uses_accuracy_and_never_cell(frame, tmp_path):
    result = orders.run(frame, _case(tmp_path, _order()), orders.Params())
    zone = result.tables["events_after_service"].set_index("event_id")
    ids = dict(zip([7, 8, 11, 12], _ids(frame, [7, 8, 11, 12]), strict=True))
    assert zone.loc[ids[7], "zone_status"] == "within" and zone.loc[ids[7], "term"] == "zone: Home 500 m"
    assert zone.loc[ids[8], "zone_status"] == "indeterminate"
    assert zone.loc[ids[11], "zone_status"] == "indeterminate"
    assert "cell_based_estimate" in zone.loc[ids[11], "flags"]
    assert zone.loc[ids[12], "zone_status"] == "within" and zone.loc[ids[12], "accuracy_assumed"]
    assert zone.loc[ids[12], "accuracy_m"] == 50.0
    assert zone.loc[ids[12], "distance_m"] == pytest.approx(100, abs=0.5)
    finding = next(f for f in result.findings if f.key == "orders.zone_after_service")
    assert finding.values["within"] == 2 and finding.values["indeterminate"] == 2
    assert finding.event_ids == tuple(_ids(frame, [7, 8, 11, 12]))


def test_cell_records_are_listed_apart_with_mast_distance(frame, tmp_path):
    result = orders.run(frame, _case(tmp_path, _order()), orders.Params())
    cells = result.tables["cell_masts"]
    assert list(cells["event_id"]) == _ids(frame, [13])
    assert cells["mast_to_centre_m"].iloc[0] == pytest.approx(1000, abs=1)
    assert cells["mast_to_zone_m"].iloc[0] == pytest.approx(500, abs=1)
    assert cells["flags"].iloc[0] == "cell_mast_only"
    assert cells["cell_site_event_id"].iloc[0] == _ids(frame, [14])[0]
    assert _ids(frame, [13])[0] not in set(result.tables["events_after_service"]["event_id"])
    assert orders.run(frame, _case(tmp_path, _order()), orders.Params(cell_report_m=100)).tables[
        "cell_masts"].empty


def test_channel_terms_unattributed_and_exceptions(frame, tmp_path):
    result = orders.run(frame, _case(tmp_path, _order()), orders.Params())
    contact = next(f for f in result.findings if f.key == "orders.channel_after_service")
    assert contact.values["term"] == "prohibited_channels: any"
    assert contact.event_ids == tuple(_ids(frame, [4, 15]))
    stray = next(f for f in result.findings if f.key == "orders.unattributed_after_service")
    assert stray.event_ids == tuple(_ids(frame, [6])) and stray.values["senders"] == [NEW]
    exc = next(f for f in result.findings if f.key == "orders.exceptions")
    assert exc.values["exceptions"] == ["Contact through solicitors"]


def test_listed_channels_match_kind_or_channel(tmp_path):
    frame = events([_sms("2024-06-04 09:00"), _sms("2024-06-04 10:00", kind="call", channel="call"),
                    _sms("2024-06-04 11:00", kind="chat_message", channel="whatsapp")])
    result = orders.run(frame, _case(tmp_path, _order(prohibited_channels=("call", "WhatsApp"), zones=())),
                        orders.Params())
    after = result.tables["events_after_service"]
    assert list(after["term"]) == ["prohibited_channels: call", "prohibited_channels: whatsapp"]
    assert list(after["event_id"]) == list(frame["event_id"].iloc[1:])


def test_order_without_service_time(frame, tmp_path):
    result = orders.run(frame, _case(tmp_path, _order(served=None, expires=None)), orders.Params())
    assert result.tables["events_after_service"].empty
    made = result.tables["events_made_not_served"]
    assert _ids(frame, [2, 4, 16])[2] in set(made["event_id"])
    assert result.tables["events_before_service"]["made_not_served"].sum() == len(made)
    keys = [f.key for f in result.findings]
    assert "orders.not_served" in keys and "orders.term_none_after_service" not in keys
    summary = next(f for f in result.findings if f.key == "orders.order")
    assert summary.values["expires"] == "until further order" and summary.values["served_utc"] == "not recorded"


def test_short_spo_and_no_orders(frame, tmp_path):
    def keys(order: Order) -> list[str]:
        return [f.key for f in orders.run(frame, _case(tmp_path, order), orders.Params()).findings]

    assert "orders.spo_short_term" in keys(_order(type="stalking_protection_order",
                                                  expires=dt.date(2025, 6, 1)))
    # Made 1 June 2024: a term to 1 June 2026 is two years, though 730 days span a 29 February.
    assert "orders.spo_short_term" not in keys(_order(type="stalking_protection_order",
                                                      expires=dt.date(2026, 6, 1)))
    empty = orders.run(frame, _case(tmp_path), orders.Params())
    assert [f.key for f in empty.findings] == ["orders.none"]
    assert all(t.empty for t in empty.tables.values())
    assert list(empty.tables["cell_masts"].columns) == list(orders.CELL_COLUMNS)


def test_input_frame_not_modified(frame, tmp_path):
    before = frame.copy()
    orders.run(frame, _case(tmp_path, _order()), orders.Params())
    pd.testing.assert_frame_equal(frame, before)


def test_params_are_checked():
    with pytest.raises(ParamError):
        orders.Params(assumed_accuracy_m=-1)
    with pytest.raises(ParamError):
        orders.Params(cell_report_m=1e9)


def test_every_key_has_wording_without_legal_labels(frame, tmp_path):
    words = tomllib.loads((TEMPLATES / "orders.toml").read_text(encoding="utf-8"))
    assert set(orders.LIMITATIONS) <= set(words["limitations"])
    keys = set()
    for case in (_case(tmp_path, _order()), _case(tmp_path, _order(served=None)), _case(tmp_path),
                 _case(tmp_path, _order(type="stalking_protection_order", expires=dt.date(2025, 1, 1)))):
        result = orders.run(frame, case, orders.Params())
        keys |= {f.key for f in result.findings}
        for f in result.findings:
            text = render_text(templates("orders")["findings"][f.key], f.values, "Europe/London")
            # The order's own name is a fact of the case, not a label given by Atlas.
            plain = text.lower().replace("stalking protection order", "spo")
            assert "{" not in text and not [w for w in FORBIDDEN if w in plain]
    assert keys <= set(words["findings"])
    assert not [w for w in FORBIDDEN if w in json.dumps(words).lower()]


# ---------------------------------------------------------------- the synthetic case

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("orders") / "case"
    case, truth = synthetic_case(root, device_owners={"DI/1": "P2", "DI/2": "P2", "DI/3": "P1", "DI/4": "P2"})
    return case, truth


def test_synthetic_contacts_after_service(synthetic):
    case, truth = synthetic
    (doc,) = run_analyses(case, specs=(orders.ANALYSIS,))
    stored = load_events(case.root)
    planted = truth["contacts_after_service"]
    planted_ids = event_ids_at(stored, planted["records"])
    channel = next(f for f in doc["findings"] if f["key"] == "orders.channel_after_service")
    stray = next(f for f in doc["findings"] if f["key"] == "orders.unattributed_after_service")
    # The planted count includes the new number, which case.toml does not attribute to the
    # subject: those records are listed apart as unattributed, and together they are the planted set.
    assert channel["values"]["count"] + stray["values"]["count"] == planted["count"]
    assert sorted(channel["event_ids"] + stray["event_ids"]) == sorted(planted_ids)
    assert stray["values"]["senders"] == [truth["identifiers"]["suspect_new"]]
    assert channel["event_ids"][0] == event_ids_at(stored, [planted["first"]])[0]
    when = stored.set_index("event_id")["timestamp_utc"]
    assert when[channel["event_ids"]].is_monotonic_increasing

    # Once an officer attributes the new number to the subject, the count is the planted one.
    person = case.person("P1")
    attributed = dataclasses.replace(case, persons=tuple(
        dataclasses.replace(p, identifiers=(*p.identifiers, Attribution(truth["identifiers"]["suspect_new"],
                                                                        "test")))
        if p is person else p for p in case.persons))
    (doc2,) = run_analyses(attributed, specs=(orders.ANALYSIS,))
    channel2 = next(f for f in doc2["findings"] if f["key"] == "orders.channel_after_service")
    assert channel2["values"]["count"] == planted["count"]
    assert channel2["event_ids"] == sorted(planted_ids, key=lambda e: (when[e], e))
    assert "orders.unattributed_after_service" not in [f["key"] for f in doc2["findings"]]


def test_synthetic_night_zone_entries_after_service(synthetic):
    case, truth = synthetic
    (doc,) = run_analyses(case, specs=(orders.ANALYSIS,))
    stored = load_events(case.root)
    after = pd.read_csv(case.root / "results" / "orders" / "events_after_service.csv", encoding="utf-8-sig")
    before = pd.read_csv(case.root / "results" / "orders" / "events_before_service.csv", encoding="utf-8-sig")
    zone_after = after[after["term"] == "zone: Victim home 500 m"]
    zone_before = before[before["term"] == "zone: Victim home 500 m"]
    for visit in truth["visits"]:
        ends = event_ids_at(stored, [visit["first"], visit["last"]])
        target = zone_after if visit["after_service"] else zone_before
        assert set(ends) <= set(target["event_id"]), visit["index"]
        local = pd.Timestamp(visit["start_utc"]).tz_convert("Europe/London")
        assert local.hour >= 22 or local.hour < 6  # planted as night-time entries
    expected = sum(v["points_in_zone"] for v in truth["visits"] if v["after_service"])
    assert (zone_after["zone_status"] == "within").sum() == expected
    # Anything else near the zone is an edge point of a planted visit, and only ever indeterminate.
    planted_points = sum(v["points_in_zone"] for v in truth["visits"] if not v["after_service"])
    extra = zone_before[zone_before["zone_status"] == "within"]
    assert len(extra) == planted_points
    assert set(zone_before["zone_status"]) <= {"within", "indeterminate"}
    assert len(zone_before) - planted_points <= 2 * sum(not v["after_service"] for v in truth["visits"])
    near_miss = event_ids_at(stored, [truth["near_miss"]["first"], truth["near_miss"]["last"]])
    assert not set(near_miss) & (set(after["event_id"]) | set(before["event_id"]))
    finding = next(f for f in doc["findings"] if f["key"] == "orders.zone_after_service")
    assert finding["values"]["count"] == len(zone_after)


def test_synthetic_outputs_never_say_breach_and_are_byte_identical(synthetic):
    case, _truth = synthetic
    digests = []
    for _ in range(2):
        run_analyses(case, specs=(orders.ANALYSIS,))
        files = [case.root / "results" / "orders.json",
                 *sorted((case.root / "results" / "orders").glob("*.csv"))]
        for path in files:
            text = path.read_text(encoding="utf-8-sig").lower()
            assert "breach" not in text and "violation" not in text, path.name
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert digests[0] == digests[1] and len(digests[0]) == 5
