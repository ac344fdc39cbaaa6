"""The synthetic case generator and the scale writers.

The generator must be reproducible byte for byte, write a valid ``case.toml``
and real-format exhibits, and its ground truth must agree with the files it
describes (recomputed here from the files themselves, not from the generator's
internals) and with what the parsers read from them.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import tomllib
from pathlib import Path

import pytest
from lxml import etree

from atlas.case import load_case
from atlas.timeparse import from_local
from fixtures import scale, synthetic
from fixtures._geo import haversine_m
from fixtures._table import COLUMNS, TYPES
from parsers import gpx, table_mapping, whatsapp_txt
from tests.parsing_helpers import run_parser

ANDROID_HEADER = re.compile(r"^(\d{2})/(\d{2})/(\d{4}), (\d{2}):(\d{2}) - (.*)$")
GPX_NS = {"g": "http://www.topografix.com/GPX/1/1"}
SPECS = {
    "whatsapp_txt": whatsapp_txt.PARSER,
    "table_mapping": table_mapping.PARSER,
    "gpx": gpx.PARSER,
}


def _digests(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def case7(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    root = tmp_path_factory.mktemp("case7")
    return root, synthetic.generate(root, 7)


@pytest.fixture(scope="module")
def chat_lines(case7: tuple[Path, dict]) -> list[str]:
    root, _ = case7
    return (root / synthetic.WA_PATH).read_text(encoding="utf-8").split("\n")[:-1]


@pytest.fixture(scope="module")
def table_rows(case7: tuple[Path, dict]) -> list[list[str]]:
    root, _ = case7
    with (root / synthetic.TABLE_PATH).open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def test_same_seed_gives_identical_bytes(case7: tuple[Path, dict], tmp_path: Path) -> None:
    root, gt = case7
    again = synthetic.generate(tmp_path, 7)
    assert _digests(tmp_path) == _digests(root)
    assert again == gt
    assert sorted(_digests(root)) == sorted(
        [
            "case.toml",
            "ground_truth.json",
            synthetic.WA_PATH,
            synthetic.TABLE_PATH,
            synthetic.MAPPING_PATH,
            synthetic.SUSPECT_GPX,
            synthetic.VICTIM_GPX,
        ]
    )


def test_different_seed_differs(case7: tuple[Path, dict], tmp_path: Path) -> None:
    root, _ = case7
    synthetic.generate(tmp_path, 8)
    a, b = _digests(root), _digests(tmp_path)
    for name in (
        "case.toml",
        synthetic.WA_PATH,
        synthetic.TABLE_PATH,
        synthetic.SUSPECT_GPX,
        synthetic.VICTIM_GPX,
        "ground_truth.json",
    ):
        assert a[name] != b[name], name
    assert a[synthetic.MAPPING_PATH] == b[synthetic.MAPPING_PATH]  # the mapping is not random


def test_case_toml_validates(case7: tuple[Path, dict]) -> None:
    root, gt = case7
    case = load_case(root)
    ids = gt["identifiers"]
    assert case.analyst.initials == gt["analyst_initials"] == "DI"
    assert [(p.id, p.role) for p in case.persons] == [
        ("P1", "suspect"),
        ("P2", "victim"),
        ("P3", "other"),
    ]
    owner = case.identifier_owner()
    assert owner[ids["suspect_original"]] == "P1"
    assert owner[ids["suspect_whatsapp_name"]] == "P1"
    assert owner[ids["suspect_vrm"]] == "P1"
    assert owner[ids["victim"]] == "P2" and owner[ids["victim_whatsapp_name"]] == "P2"
    assert owner[ids["friend"]] == "P3"
    assert ids["suspect_new"] not in owner  # left for the identifier-change analysis to find
    assert all(a.basis for p in case.persons for a in p.identifiers)
    assert [k.kind for k in case.key_dates] == [
        "relationship_ended",
        "stop_requested",
        "blocked",
        "warned",
    ]
    blocked = case.key_dates[2]
    assert blocked.identifier == ids["suspect_original"] and blocked.at == _utc(gt["block"]["utc"])
    (order,) = case.orders
    assert order.type == "restraining_order" and order.prohibited_channels == ("any",)
    assert order.zones[0].place == "Victim home" and order.zones[0].radius_m == 500
    assert len(order.exceptions) == 1 and order.expires == dt.date(2026, 11, 4)
    assert order.made == _utc(gt["order"]["made_utc"]) and order.served == _utc(
        gt["order"]["served_utc"]
    )
    home = next(p for p in case.places if p.name == "Victim home")
    assert (home.lat, home.lon) == (
        gt["places"]["victim_home"]["lat"],
        gt["places"]["victim_home"]["lon"],
    )
    assert 53.7 < home.lat < 53.9 and -1.7 < home.lon < -1.5  # Leeds


def test_whatsapp_export_is_android_24h(case7: tuple[Path, dict], chat_lines: list[str]) -> None:
    _, gt = case7
    assert chat_lines[0].endswith(
        " - Messages and calls are end-to-end encrypted. No one outside of "
        "this chat, not even WhatsApp, can read or listen to them. Tap to "
        "learn more."
    )
    headers = [ANDROID_HEADER.match(line) for line in chat_lines]
    assert headers[0] and all(h is None or h.group(6) for h in headers)
    messages = [h for h in headers[1:] if h]
    assert (
        len(messages)
        == gt["counts"]["whatsapp_messages"]
        == len(chat_lines) - 1 - sum(h is None for h in headers)
    )
    names = {h.group(6).split(": ", 1)[0] for h in messages}
    assert names == {"Dan", "Sarah"}
    assert any(h is None for h in headers)  # multi-line messages
    bodies = [h.group(6).split(": ", 1)[1] for h in messages]
    assert "<Media omitted>" in bodies and "This message was deleted" in bodies
    her_lines = [i + 1 for i, h in enumerate(headers) if h and h.group(6).startswith("Sarah: ")]
    assert her_lines[-1] == gt["stop_request"]["line"]  # she replies early, then stops
    flags = []
    for h in messages:
        day, month, year, hour, minute = (int(h.group(i)) for i in range(1, 6))
        naive = dt.datetime(year, month, day, hour, minute)  # noqa: DTZ001 - zone applied next
        flags.append(from_local(naive, "Europe/London").flag)
    assert flags.count("ambiguous") == 1 and flags.count("nonexistent") == 0
    dst = gt["dst_ambiguous"]
    assert chat_lines[dst["line"] - 1].startswith(dst["local_as_written"] + " - Dan: ")
    assert dst["local_as_written"] == "27/10/2024, 01:30" and dst["expected_tz_flag"] == "ambiguous"
    assert dst["readings_utc"] == ["2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z"]


def test_ground_truth_lines_point_at_their_records(
    case7: tuple[Path, dict], chat_lines: list[str], table_rows: list[list[str]]
) -> None:
    _, gt = case7
    refs = [
        gt["stop_request"],
        gt["dst_ambiguous"],
        *gt["threats"],
        *gt["contacts_after_service"]["records"],
        gt["block"]["last_contact_original"],
        gt["new_number"]["first_contact"],
        *gt["withheld_calls"],
    ]
    for e in gt["bursts"]["episodes"]:
        refs += [e["first"], e["last"]]
    for ref in refs:
        if ref["file"] == synthetic.WA_PATH:
            first, last = ref["lines"]
            text = "\n".join(chat_lines[first - 1 : last])
            assert text.split(": ", 1)[1] == ref["text"], ref
            assert ref["locator"] == (f"line:{first}" if first == last else f"line:{first}-{last}")
        else:
            row = table_rows[ref["row"]]
            written = _utc(ref["utc"]).astimezone(synthetic.TZ).strftime("%d/%m/%Y %H:%M:%S")
            assert row[0] == written
            assert (row[1], row[2], row[7]) == (ref["type"], ref["number"], ref["text"])
    assert "please stop contacting me" in gt["stop_request"]["text"].lower()
    assert gt["stop_request"]["utc"] == gt["key_dates"]["stop_requested_utc"]


def test_table_and_mapping(case7: tuple[Path, dict], table_rows: list[list[str]]) -> None:
    root, gt = case7
    assert tuple(table_rows[0]) == COLUMNS and len(table_rows) - 1 == gt["counts"]["table_rows"]
    assert {r[1] for r in table_rows[1:]} == set(TYPES)
    times = [dt.datetime.strptime(r[0], "%d/%m/%Y %H:%M:%S") for r in table_rows[1:]]  # noqa: DTZ007
    assert all(from_local(t, "Europe/London").flag == "ok" for t in times)
    own = "+44" + gt["identifiers"]["victim"].removeprefix("tel:+44")
    for r in table_rows[1:]:
        incoming = r[1] in ("Incoming Call", "Missed Call", "Incoming SMS")
        assert (r[5] if incoming else r[4]) == own and (r[4] if incoming else r[5]) == r[2]
    mapping = tomllib.loads((root / synthetic.MAPPING_PATH).read_text(encoding="utf-8"))
    assert mapping["time"] == {
        "column": "Date/Time",
        "format": "%d/%m/%Y %H:%M:%S",
        "timezone": "Europe/London",
    }
    assert mapping["identifiers"] == {"sender": "tel", "recipients": "tel"}
    for field in ("kind", "direction", "status", "channel"):
        assert sorted(mapping["values"][field]) == sorted(TYPES)
    assert set(mapping["fields"].values()) <= set(COLUMNS)


def test_gpx_is_well_formed_and_refs_resolve(case7: tuple[Path, dict]) -> None:
    root, gt = case7
    for name, count in (
        (synthetic.SUSPECT_GPX, "suspect_gps_points"),
        (synthetic.VICTIM_GPX, "victim_gps_points"),
    ):
        tree = etree.parse(
            str(root / name), etree.XMLParser(resolve_entities=False, no_network=True)
        )
        assert tree.getroot().tag == "{http://www.topografix.com/GPX/1/1}gpx"
        assert tree.getroot().get("version") == "1.1"
        pts = tree.xpath("/g:gpx/g:trk/g:trkseg/g:trkpt", namespaces=GPX_NS)
        assert len(pts) == gt["counts"][count]
        times = [p.findtext("g:time", namespaces=GPX_NS) for p in pts]
        assert all(t.endswith("Z") for t in times) and times == sorted(times)
    refs = (
        [v["first"] for v in gt["visits"]]
        + [v["last"] for v in gt["visits"]]
        + [gt["near_miss"]["first"]]
        + [p for w in gt["presence_without_victim"] for p in w["victim_points"]]
    )
    trees = {}
    for ref in refs:
        tree = trees.setdefault(ref["file"], etree.parse(str(root / ref["file"])))
        xp = re.sub(r"/(\w+)", r"/g:\1", ref["xpath"])
        (el,) = tree.xpath(xp, namespaces=GPX_NS)
        assert el.sourceline == ref["line"]
        assert (float(el.get("lat")), float(el.get("lon"))) == (ref["lat"], ref["lon"])
        assert el.findtext("g:time", namespaces=GPX_NS) == ref["utc"]


def test_ground_truth_is_consistent(case7: tuple[Path, dict]) -> None:
    _, gt = case7
    home = (gt["order"]["zone"]["lat"], gt["order"]["zone"]["lon"])
    work = (gt["places"]["victim_work"]["lat"], gt["places"]["victim_work"]["lon"])
    served = _utc(gt["order"]["served_utc"])
    visits = gt["visits"]
    assert len(visits) >= 5
    for v in visits:
        for p in (v["first"], v["last"]):
            assert haversine_m(*home, p["lat"], p["lon"]) <= 500
        assert v["min_distance_m"] <= 150
        start, end = _utc(v["start_utc"]), _utc(v["end_utc"])
        assert start < end and v["after_service"] == (start > served)
        local_hour = start.astimezone(synthetic.TZ).hour
        assert local_hour >= 22 or local_hour < 3, v  # night-time
    assert {v["after_service"] for v in visits} == {True, False}
    nm = gt["near_miss"]
    assert (
        nm["counts_as_visit"] is False and 700 < nm["min_distance_m"] <= nm["max_distance_m"] < 900
    )
    for p in (nm["first"], nm["last"]):
        assert 500 < haversine_m(*home, p["lat"], p["lon"]) < 900
    assert not any(
        _utc(v["start_utc"]) <= _utc(nm["start_utc"]) <= _utc(v["end_utc"]) for v in visits
    )

    after = gt["contacts_after_service"]
    assert after["count"] == after["whatsapp"] + after["table"] == len(after["records"]) > 0
    assert all(_utc(r["utc"]) > served for r in after["records"])
    assert after["first"] == after["records"][0]

    block = gt["block"]
    assert block["original_contacts_after_block"] == 0
    assert _utc(block["last_contact_original"]["utc"]) < _utc(block["utc"])
    first_new = gt["new_number"]["first_contact"]
    assert first_new["identifier"] == gt["identifiers"]["suspect_new"]
    assert 1 <= gt["new_number"]["days_after_block"] <= 7
    assert any(r.get("identifier") == gt["identifiers"]["suspect_new"] for r in after["records"])

    texts = [t["text"] for t in gt["threats"]]
    assert "I know where you are" in texts and "You'll regret it" in texts
    assert any(t["file"] == synthetic.TABLE_PATH for t in gt["threats"])
    assert any(_utc(t["utc"]) > served for t in gt["threats"])

    rule = gt["bursts"]["rule"]
    for e in gt["bursts"]["episodes"]:
        assert e["count"] >= rule["min_records"]
        assert _utc(e["end_utc"]) - _utc(e["start_utc"]) <= dt.timedelta(
            minutes=rule["max_gap_minutes"] * (e["count"] - 1)
        )
        hour = _utc(e["start_utc"]).astimezone(synthetic.TZ).hour
        assert hour >= 22 or hour < 4
    assert {e["source"] for e in gt["bursts"]["episodes"]} == {"whatsapp", "table"}

    assert len(gt["presence_without_victim"]) >= 1
    for w in gt["presence_without_victim"]:
        v = visits[w["visit_index"]]
        assert v["victim_phone"] == "work" and w["victim_points"]
        for p in w["victim_points"]:
            assert w["suspect_start_utc"] <= p["utc"] <= w["suspect_end_utc"]
            assert haversine_m(*work, p["lat"], p["lon"]) <= 250
            assert haversine_m(*home, p["lat"], p["lon"]) > 1000
    assert {
        v["victim_phone"]
        for v in visits
        if v["index"] in {w["visit_index"] for w in gt["presence_without_victim"]}
    } == {"work"}


def test_parsers_read_what_the_ground_truth_says(case7: tuple[Path, dict]) -> None:
    root, gt = case7
    plan = synthetic.ingest_plan()
    assert [(e["exhibit"], e["format"]) for e in plan] == [
        ("DI/1", "whatsapp_txt"),
        ("DI/2", "table_mapping"),
        ("DI/3", "gpx"),
        ("DI/4", "gpx"),
    ]
    got = {}
    for entry in plan:
        events, rejections = run_parser(
            SPECS[entry["format"]], root / entry["file"], synthetic.parse_options_for(entry, root)
        )
        assert rejections == []
        got[entry["file"]] = {e.locator: e for e in events}
    counts = gt["counts"]
    assert (
        len(got[synthetic.WA_PATH]) == counts["whatsapp_messages"] + counts["whatsapp_system_lines"]
    )
    assert len(got[synthetic.TABLE_PATH]) == counts["table_rows"]
    assert len(got[synthetic.SUSPECT_GPX]) == counts["suspect_gps_points"]
    assert len(got[synthetic.VICTIM_GPX]) == counts["victim_gps_points"]
    dst = got[synthetic.WA_PATH][gt["dst_ambiguous"]["locator"]]
    assert dst.tz_flag == "ambiguous" and dst.timestamp_utc == _utc(
        gt["dst_ambiguous"]["readings_utc"][0]
    )
    flagged = [e for events in got.values() for e in events.values() if e.tz_flag != "ok"]
    assert flagged == [dst]
    for ref in [
        gt["stop_request"],
        gt["new_number"]["first_contact"],
        *gt["contacts_after_service"]["records"],
    ]:
        event = got[ref["file"]][ref["locator"]]
        assert event.timestamp_utc == _utc(ref["utc"])
    first_new = got[synthetic.TABLE_PATH][gt["new_number"]["first_contact"]["locator"]]
    assert first_new.sender == gt["identifiers"]["suspect_new"] and first_new.kind == "call"
    visit = gt["visits"][0]["first"]
    fix = got[visit["file"]][visit["locator"]]
    assert (fix.latitude, fix.longitude, fix.timestamp_utc) == (
        visit["lat"],
        visit["lon"],
        _utc(visit["utc"]),
    )


def test_ground_truth_file_matches_return_value(case7: tuple[Path, dict]) -> None:
    root, gt = case7
    assert json.loads((root / "ground_truth.json").read_text(encoding="utf-8")) == gt
    for e in gt["exhibits"]:
        assert e["sha256"] == hashlib.sha256((root / e["file"]).read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "writer,name",
    [
        (scale.write_whatsapp, "chat.txt"),
        (scale.write_gpx, "track.gpx"),
        (scale.write_table_csv, "log.csv"),
    ],
    ids=["whatsapp", "gpx", "table"],
)
def test_scale_writers_are_seeded_and_well_formed(writer, name: str, tmp_path: Path) -> None:  # noqa: ANN001
    n = 12_345  # more than one write chunk and more than two GPX segments
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for d, seed in ((a, 3), (b, 3), (c, 4)):
        d.mkdir()
        extra = writer(d / name, n, seed)
    assert _digests(a) == _digests(b) != _digests(c)
    path = a / name
    if name.endswith(".txt"):
        assert extra == []
        heads = [
            ln for ln in path.read_text(encoding="utf-8").splitlines() if ANDROID_HEADER.match(ln)
        ]
        assert len(heads) == n + 1
    elif name.endswith(".gpx"):
        assert extra == []
        tree = etree.parse(str(path))
        assert len(tree.xpath("//g:trkpt", namespaces=GPX_NS)) == n
        assert len(tree.xpath("//g:trkseg", namespaces=GPX_NS)) == 3
    else:
        assert [p.name for p in extra] == ["log.mapping.toml"]
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        assert tuple(rows[0]) == COLUMNS and len(rows) == n + 1
        small = tmp_path / "small.csv"
        writer(small, 300, 3)
        events, rejections = run_parser(
            table_mapping.PARSER,
            small,
            synthetic.parse_options_for(
                {"tz": "Europe/London", "mapping": "small.mapping.toml"}, tmp_path
            ),
        )
        assert len(events) == 300 and rejections == []
