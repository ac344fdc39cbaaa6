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
from fixtures import _telecoms as TC
from fixtures import scale, synthetic
from fixtures._geo import haversine_m
from fixtures._table import COLUMNS, TYPES
from parsers import (
    android_calllog_db,
    android_mmssms_db,
    anpr_csv,
    cdr_csv,
    cell_sites,
    diary,
    email_mime,
    google_takeout_json,
    gpx,
    ios_callhistory_db,
    ios_sms_db,
    meta_dyi_json,
    table_mapping,
    tower_dump_csv,
    ufed_xml,
    whatsapp_txt,
)
from tests.parsing_helpers import run_parser

ANDROID_HEADER = re.compile(r"^(\d{2})/(\d{2})/(\d{4}), (\d{2}):(\d{2}) - (.*)$")
GPX_NS = {"g": "http://www.topografix.com/GPX/1/1"}
SPECS = {
    "whatsapp_txt": whatsapp_txt.PARSER,
    "table_mapping": table_mapping.PARSER,
    "gpx": gpx.PARSER,
    "ufed_xml": ufed_xml.PARSER,
    "android_mmssms_db": android_mmssms_db.PARSER,
    "android_calllog_db": android_calllog_db.PARSER,
    "meta_dyi_json": meta_dyi_json.PARSER,
    "google_takeout_json": google_takeout_json.PARSER,
    "email_mime": email_mime.PARSER,
    "diary": diary.PARSER,
    "ios_sms_db": ios_sms_db.PARSER,
    "ios_callhistory_db": ios_callhistory_db.PARSER,
    "cdr_csv": cdr_csv.PARSER,
    "cell_sites": cell_sites.PARSER,
    "tower_dump_csv": tower_dump_csv.PARSER,
    "anpr_csv": anpr_csv.PARSER,
}
FIRST_FOUR = [
    ("DI/1", "whatsapp_txt"),
    ("DI/2", "table_mapping"),
    ("DI/3", "gpx"),
    ("DI/4", "gpx"),
]
EXTENDED = [
    ("DI/5", "ufed_xml"),
    ("DI/6", "android_mmssms_db"),
    ("DI/7", "android_calllog_db"),
    ("DI/8", "meta_dyi_json"),
    ("DI/9", "google_takeout_json"),
    ("DI/10", "email_mime"),
    ("DI/11", "diary"),
    ("DI/12", "ios_sms_db"),
    ("DI/13", "ios_callhistory_db"),
    ("DI/14", "cdr_csv"),
    ("DI/15", "cdr_csv"),
    ("DI/16", "cell_sites"),
    ("DI/17", "tower_dump_csv"),
    ("DI/18", "anpr_csv"),
]


NEW_FILES = [
    synthetic.UFDR_PATH,
    synthetic.MMSSMS_PATH,
    synthetic.CALLLOG_PATH,
    synthetic.INSTAGRAM_PATH,
    synthetic.RECORDS_PATH,
    synthetic.EMAIL_PATH,
    synthetic.DIARY_PATH,
    synthetic.IPHONE_SMS_PATH,
    synthetic.IPHONE_CALLS_PATH,
    TC.CDR_ORIG_PATH,
    TC.CDR_NEW_PATH,
    TC.CELL_SITES_PATH,
    TC.TOWER_DUMP_PATH,
    TC.ANPR_PATH,
]


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
            *NEW_FILES,
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
        *NEW_FILES,
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
    plan = synthetic.ingest_plan(extended=True, registered_only=False)
    assert [(e["exhibit"], e["format"]) for e in plan] == FIRST_FOUR + EXTENDED
    got = {}
    for entry in plan[:4]:
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


# --- the extended exhibits (DI/5 onwards) ------------------------------------------------------


@pytest.fixture(scope="module")
def parsed7(case7: tuple[Path, dict]) -> dict[str, dict]:
    """Every exhibit of the seed-7 case through its parser: {file: {locator: event}}."""
    root, gt = case7
    got = {}
    for entry in synthetic.ingest_plan(extended=True, registered_only=False):
        events, rejections = run_parser(
            SPECS[entry["format"]], root / entry["file"], synthetic.parse_options_for(entry, root)
        )
        expected = _expected_rejections(gt, entry["file"])
        pairs = zip(rejections, expected.values(), strict=False)
        seen = [(r.locator, r.reason[: len(x)]) for r, x in pairs]
        assert seen == [*expected.items()] and len(rejections) == len(expected), entry["file"]
        got[entry["file"]] = {e.locator: e for e in events}
        assert len(got[entry["file"]]) == len(events), entry["file"]  # locators are unique
    return got


def test_extended_plan_and_counts(case7: tuple[Path, dict], parsed7: dict[str, dict]) -> None:
    _, gt = case7
    assert [(e["exhibit"], e["format"]) for e in synthetic.ingest_plan()] == FIRST_FOUR
    registered = synthetic.ingest_plan(extended=True)
    assert [(e["exhibit"], e["format"]) for e in registered][:10] == (FIRST_FOUR + EXTENDED)[:10]
    from atlas import registry

    has_diary = "diary" in {p.name for p in registry.parsers()}
    assert ("diary" in [e["format"] for e in registered]) == has_diary  # listed once registered
    assert [e["file"] for e in gt["exhibits"]][4:] == NEW_FILES
    counts = gt["victim_phone_ufdr"]["counts"]
    assert len(parsed7[synthetic.UFDR_PATH]) == counts["records"]
    handset = gt["suspect_handset"]["counts"]
    assert len(parsed7[synthetic.MMSSMS_PATH]) == handset["sms"]
    assert len(parsed7[synthetic.CALLLOG_PATH]) == handset["calls"]
    assert len(parsed7[synthetic.INSTAGRAM_PATH]) == gt["instagram"]["counts"]["records"]
    assert len(parsed7[synthetic.RECORDS_PATH]) == gt["google_records"]["records"]
    assert len(parsed7[synthetic.EMAIL_PATH]) == 1
    assert len(parsed7[synthetic.DIARY_PATH]) == len(gt["diary"]["entries"])


def _expected_rejections(gt: dict, file: str) -> dict[str, str]:
    """Return {locator: reason prefix} of the rejections the ground truth documents for a file."""
    return {
        r["locator"]: r["reason_starts_with"]
        for r in gt["telecoms"]["cdr"]["expected_rejections"]
        if r["file"] == file
    }


@pytest.fixture(scope="module")
def ingested7(case7: tuple[Path, dict], tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A copy of the seed-7 case with DI/5 onwards ingested; (case, {file: ingest result})."""
    import shutil

    from atlas.ingest import ingest_file, parse_options

    root, _ = case7
    case_dir = tmp_path_factory.mktemp("ingested7") / "case"
    shutil.copytree(root, case_dir)
    case = load_case(case_dir)
    results = {}
    for entry in synthetic.ingest_plan(extended=True)[4:]:
        options = parse_options(case, source_tz=entry.get("tz"))
        results[entry["file"]] = ingest_file(
            case, case_dir / entry["file"], entry["exhibit"], entry["format"], options
        )
    return case, results


def test_new_exhibits_ingest_into_a_case(case7: tuple[Path, dict], ingested7) -> None:  # noqa: ANN001
    _, gt = case7
    _, results = ingested7
    assert list(results) == [e["file"] for e in synthetic.ingest_plan(extended=True)[4:]]
    for file, result in results.items():
        counts = result.entry["counts"]
        rejected = len(_expected_rejections(gt, file))
        assert result.added and counts["rejected"] == rejected, result.message
        assert counts["read"] == counts["accepted"] + rejected and counts["accepted"] > 0


def test_ufdr_is_a_deterministic_cellebrite_container(case7: tuple[Path, dict]) -> None:
    import zipfile

    root, gt = case7
    with zipfile.ZipFile(root / synthetic.UFDR_PATH) as zf:
        infos = zf.infolist()
        assert infos[0].filename == "report.xml"
        assert {i.date_time for i in infos} == {(2024, 12, 16, 11, 2, 30)}
        media = {
            m["path"].replace("\\", "/"): m["sha256"] for m in gt["victim_phone_ufdr"]["media"]
        }
        assert sorted(i.filename for i in infos[1:]) == sorted(media)
        for name, digest in media.items():
            assert hashlib.sha256(zf.read(name)).hexdigest() == digest
        tree = etree.fromstring(zf.read("report.xml"))
    assert tree.tag == "{http://pa.cellebrite.com/report/2.0}project"


def test_ufdr_matches_the_victims_other_exhibits(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    _, gt = case7
    u, ids = gt["victim_phone_ufdr"], gt["identifiers"]
    ufdr = parsed7[synthetic.UFDR_PATH]
    dev = u["device"]
    assert ufdr[dev["locators"]["IMEI"]].extra["value"] == dev["imei"]
    assert ufdr[dev["locators"]["MSISDN"]].extra["identifier"] == dev["msisdn"] == ids["victim"]
    contact = ufdr[u["do_not_answer_contact"]["locator"]]
    assert contact.extra["saved_name"] == "Do not answer"
    assert contact.extra["identifiers"] == [ids["suspect_original"]]
    friend = ufdr[u["friend_contact"]["locator"]]
    assert (friend.extra["saved_name"], friend.extra["identifiers"]) == ("Priya", [ids["friend"]])
    saved = {i for e in ufdr.values() if e.kind == "contact" for i in e.extra["identifiers"]}
    assert ids["suspect_new"] not in saved and u["new_number_saved"] is False
    table = parsed7[synthetic.TABLE_PATH]
    model = u["locator_templates"]["model"]
    assert len(u["table_rows"]) == len(table)
    for line_loc, model_id in u["table_rows"].items():
        kind = "Call" if model_id.startswith("call") else "SMS"
        e, t = ufdr[model.format(type=kind, id=model_id)], table[line_loc]
        assert e.timestamp_utc.replace(microsecond=0) == t.timestamp_utc
        assert (e.kind, e.direction, e.text or None) == (t.kind, t.direction, t.text or None)
        assert e.sender == t.sender and e.deleted == "intact"
    chat = parsed7[synthetic.WA_PATH]
    message = u["locator_templates"]["message"]
    assert len(u["whatsapp_messages"]) == gt["counts"]["whatsapp_messages"]
    previous = None
    for line_loc, model_id in u["whatsapp_messages"].items():
        e, w = ufdr[message.format(id=model_id)], chat[line_loc]
        assert e.timestamp_utc.replace(second=0, microsecond=0) == w.timestamp_utc or (
            w.tz_flag == "ambiguous"
            and e.timestamp_utc.replace(second=0, microsecond=0)
            == _utc(gt["dst_ambiguous"]["planted_utc"])
        )
        assert previous is None or e.timestamp_utc > previous  # the export's order
        previous = e.timestamp_utc
        assert e.text == (None if w.text == "<Media omitted>" else w.text)
        assert e.channel == "whatsapp"
    for m in u["media"]:
        e = ufdr[message.format(id=u["whatsapp_messages"][m["line_locator"]])]
        assert e.extra["attachment_sha256"] == {m["path"]: m["sha256"]}
    for d in u["deleted_sms"]:
        e = ufdr[d["locator"]]
        assert (e.deleted, e.text, e.sender) == (d["deleted"], d["text"], d["identifier"])
        assert e.timestamp_utc.replace(microsecond=0) == _utc(d["utc"])
        assert not any(t.text == d["text"] for t in table.values())  # only on the UFDR
    assert {d["deleted"] for d in u["deleted_sms"]} == {"deleted", "recovered"}


def test_suspect_handset_mirrors_the_victims_log(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    import sqlite3

    root, gt = case7
    h, ids = gt["suspect_handset"], gt["identifiers"]
    table = parsed7[synthetic.TABLE_PATH]
    sms, calls = parsed7[synthetic.MMSSMS_PATH], parsed7[synthetic.CALLLOG_PATH]
    sim_change = _utc(h["sim_change_utc"])
    block = _utc(gt["block"]["utc"])
    theirs = [
        loc
        for loc, e in table.items()
        if {e.sender, *e.recipients} & {ids["suspect_original"], ids["suspect_new"]}
    ]
    missing = {d["table_locator"] for d in h["deleted_sms"]}
    assert sorted(h["victim_log_pairs"]) == sorted(set(theirs) - missing)
    # His handset's clock runs fast by the same amount throughout (both databases).
    ahead = dt.timedelta(seconds=h["clock_ahead_s"])
    assert gt["clock_offset"]["offset_s"] == h["clock_ahead_s"] == 187
    assert gt["clock_offset"]["exhibits"] == {"DI/6": synthetic.MMSSMS_PATH,
                                              "DI/7": synthetic.CALLLOG_PATH}
    for line_loc, ref in h["victim_log_pairs"].items():
        t = table[line_loc]
        e = (sms if ref["locator"].startswith("sqlite:sms/") else calls)[ref["locator"]]
        assert e.timestamp_utc == _utc(ref["utc"])
        assert (e.timestamp_utc - ahead).replace(microsecond=0) == t.timestamp_utc
        assert (e.kind, e.text or None) == (t.kind, t.text or None)
        assert {e.direction, t.direction} == {"incoming", "outgoing"}
        his = t.sender if t.direction == "incoming" else t.recipients[0]
        assert his == (
            ids["suspect_original"] if t.timestamp_utc < sim_change else ids["suspect_new"]
        )
        assert ids["victim"] in (e.sender, *e.recipients)
        if e.kind == "call":  # the handset names its own SIM's number
            assert his in (e.sender, *e.recipients)
            assert e.extra["phone_account_address"] == his.removeprefix("tel:")
    first = h["first_contact_from_new_number"]
    assert first["network_utc"][:19] == gt["new_number"]["first_contact"]["utc"][:19]
    assert {s["identifier"]: s["subscription_id"] for s in h["sims"].values()} == {
        e.sender if e.direction == "outgoing" else e.recipients[0]: e.extra["subscription_id"]
        for e in calls.values()
        if e.extra.get("name") == "Sarah"
    }
    for a in h["blocked_attempts"]["records"]:
        e = (sms if a["channel"] == "sms" else calls)[a["locator"]]
        assert block < e.timestamp_utc < sim_change and e.direction == "outgoing"
        assert a["own_number"] == ids["suspect_original"]
        assert ids["victim"] in e.recipients
    assert gt["block"]["original_contacts_after_block"] == 0  # her phone dropped them
    withheld = {w["locator"] for w in gt["withheld_calls"]}
    decoys = h["decoys"]
    not_his = decoys["victim_withheld_not_his"]["locator"]
    assert not_his in withheld
    assert {w["table_locator"] for w in h["withheld_calls"]} == withheld - {not_his}
    for w in h["withheld_calls"]:
        e = calls[w["locator"]]
        assert e.extra["number"] == w["dialled"] == "1410" + ids["victim"].removeprefix("tel:+44")
        network = (e.timestamp_utc - ahead).replace(microsecond=0)
        assert network == table[w["table_locator"]].timestamp_utc
        assert "recipient_unparsed_number" in e.flags and e.sender == ids["suspect_new"]
    # The decoys around the withheld call that is not his: nothing of his at its second; a call
    # to his friend 4 s after it, and an abandoned withheld call to her 16 s before it.
    at = table[not_his].timestamp_utc
    two = dt.timedelta(seconds=2)
    assert not [e for e in calls.values() if abs(e.timestamp_utc - ahead - at) < two]
    for name, delta, to_victim in (("coincident", 4, False), ("near_miss", -16, True)):
        d = decoys[name]
        e = calls[d["locator"]]
        assert d["network_seconds_from_victim_record"] == delta
        assert (e.timestamp_utc - ahead).replace(microsecond=0) == at + dt.timedelta(seconds=delta)
        assert e.direction == "outgoing" and e.sender == ids["suspect_new"]
        assert (e.extra["number"] == "1410" + ids["victim"].removeprefix("tel:+44")) == to_victim
        then = at + dt.timedelta(seconds=delta)
        assert not [t for t in table.values() if t.timestamp_utc == then]
    with sqlite3.connect(f"file:{root / synthetic.MMSSMS_PATH}?mode=ro&immutable=1", uri=True) as c:
        have = {r[0] for r in c.execute("SELECT _id FROM sms")}
    gaps = set(range(1, max(have) + 1)) - have
    assert gaps == {d["missing_sms_id"] for d in h["deleted_sms"]}
    threads = {e.thread for e in sms.values() if ids["victim"] in (e.sender, *e.recipients)}
    assert len(threads) == 1  # both numbers' SMS in one thread: the same handset


def test_instagram_alias_appears_after_the_block(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    import zipfile

    root, gt = case7
    ig = gt["instagram"]
    events = parsed7[synthetic.INSTAGRAM_PATH]
    block = events[ig["blocked"]["locator"]]
    assert block.status == "block" and block.recipients == (ig["suspect"]["handle"],)
    assert block.timestamp_utc == _utc(ig["blocked"]["utc"]) > _utc(gt["block"]["utc"])
    alias = ig["alias"]
    assert alias["handle"] != ig["suspect"]["handle"]
    follow = events[alias["first_contact"]["locator"]]
    assert (follow.status, follow.direction) == ("follow", "incoming")
    assert follow.sender == alias["handle"]
    assert follow.timestamp_utc == _utc(alias["first_contact_utc"]) > block.timestamp_utc
    first = events[alias["first_message_locator"]]
    assert first.sender_name == alias["display_name"] and "mojibake_repaired" in first.flags
    assert first.timestamp_utc > follow.timestamp_utc
    from_alias = [e for e in events.values() if e.sender_name == alias["display_name"]]
    assert len(from_alias) == alias["messages"]
    assert min(e.timestamp_utc for e in from_alias) == first.timestamp_utc
    served = _utc(gt["order"]["served_utc"])
    assert sum(e.timestamp_utc > served for e in from_alias) == alias["messages_after_service"] > 0
    from_main = [e for e in events.values() if e.sender_name == ig["suspect"]["display_name"]]
    assert max(e.timestamp_utc for e in from_main) < block.timestamp_utc
    last = events[ig["last_message_before_block"]["locator"]]
    assert last.text == ig["last_message_before_block"]["text"] and last in from_main
    cafe = events[ig["mojibake"]["locator"]]
    assert cafe.text == ig["mojibake"]["text"] and "mojibake_repaired" in cafe.flags
    with zipfile.ZipFile(root / synthetic.INSTAGRAM_PATH) as zf:
        assert sorted(zf.namelist()) == ig["members"]
        raw = b"".join(zf.read(n) for n in zf.namelist())
    assert raw.isascii() and b"caf\\u00c3\\u00a9" in raw  # UTF-8 bytes as \u00XX escapes


def test_google_records_overlap_the_gpx_visits(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    _, gt = case7
    g = gt["google_records"]
    home = (gt["order"]["zone"]["lat"], gt["order"]["zone"]["lon"])
    events = sorted(
        parsed7[synthetic.RECORDS_PATH].values(), key=lambda e: int(e.locator.rsplit("/", 1)[1])
    )
    assert [e.timestamp_utc for e in events] == sorted(e.timestamp_utc for e in events)
    lo, hi = (_utc(t) for t in g["period_utc"])
    gpx_lo, gpx_hi = (_utc(t) for t in (gt["visits"][0]["start_utc"], gt["visits"][-1]["end_utc"]))
    assert gpx_lo < lo < hi < gpx_hi  # a period inside the GPX one
    visits = {v["index"]: v for v in gt["visits"]}
    windows = [
        (
            _utc(v["start_utc"]) - dt.timedelta(minutes=3),
            _utc(v["end_utc"]) + dt.timedelta(minutes=3),
        )
        for v in gt["visits"]
    ]
    in_zone = [e for e in events if haversine_m(*home, e.latitude, e.longitude) <= 500]
    assert len(in_zone) == sum(v["records_in_zone"] for v in g["visits"])
    for e in in_zone:
        assert any(a <= e.timestamp_utc <= b for a, b in windows)
        assert e.location_method == "gps" and e.accuracy_m <= 12
    covered = [i for i, v in visits.items() if lo <= _utc(v["start_utc"]) <= hi]
    assert [v["visit_index"] for v in g["visits"]] == covered and len(covered) >= 3
    by_loc = {e.locator: e for e in events}
    for v in g["visits"]:
        assert by_loc[v["first"]["locator"]].timestamp_source == v["first"]["utc"]
    assert {e.location_method for e in events} == {"gps", "wifi", "cell"}
    assert g["cell_records_within_1km_of_victim_home"] == 0
    assert g["near_miss"]["records"] > 0 and g["near_miss"]["min_distance_m"] > 500


def test_email_after_service(case7: tuple[Path, dict], parsed7: dict[str, dict]) -> None:
    root, gt = case7
    m = gt["email"]
    (e,) = parsed7[synthetic.EMAIL_PATH].values()
    assert e.locator == m["locator"] and e.timestamp_utc == _utc(m["utc"])
    assert (e.sender, e.recipients) == (m["sender"], (m["recipient"],))
    assert e.timestamp_source == m["date_header"] and e.tz_basis == "offset-in-source"
    assert e.text.startswith(m["subject"] + "\n\n") and "£40" in e.text
    assert m["after_service"] and _utc(m["utc"]) > _utc(gt["order"]["served_utc"])
    assert b"\r\n" in (root / synthetic.EMAIL_PATH).read_bytes()


def test_diary_entries_against_the_data(case7: tuple[Path, dict], parsed7: dict[str, dict]) -> None:
    root, gt = case7
    entries = gt["diary"]["entries"]
    events = parsed7[synthetic.DIARY_PATH]
    assert [e["locator"] for e in entries] == list(events)
    statuses = [e["expected_status"] for e in entries]
    assert statuses.count("contradicted") == 1 and statuses.count("no_data") == 1
    home = (gt["order"]["zone"]["lat"], gt["order"]["zone"]["lon"])
    spts = etree.parse(str(root / synthetic.SUSPECT_GPX)).xpath("//g:trkpt", namespaces=GPX_NS)
    fixes = [
        (_utc(p.findtext("g:time", namespaces=GPX_NS)), float(p.get("lat")), float(p.get("lon")))
        for p in spts
    ]
    for entry in entries:
        e = events[entry["locator"]]
        assert e.text == entry["text"] and e.timestamp_source == entry["lead"]
        assert e.tz_flag == "ok" and "weekday_mismatch" not in e.flags
        start, end = e.timestamp_utc, e.end_utc
        for ref in entry["evidence"]:
            assert start <= _utc(ref["utc"]) < end, (entry["lead"], ref)
            assert ref["locator"] in parsed7[ref["file"]]
        if entry["expected_status"] == "contradicted":
            near = [haversine_m(*home, lat, lon) for t, lat, lon in fixes if start <= t < end]
            assert near and min(near) > 500  # his phone was never outside her house
        if entry["expected_status"] == "no_data":
            assert not entry["evidence"]
            assert end < fixes[0][0] and end < _utc(gt["google_records"]["period_utc"][0])


# --- the victim's previous iPhone (sms.db, CallHistory.storedata) ------------------------------

IPHONE = [synthetic.IPHONE_SMS_PATH, synthetic.IPHONE_CALLS_PATH]


def test_iphone_databases_are_deterministic_sqlite(
    case7: tuple[Path, dict], tmp_path: Path
) -> None:
    import random
    import sqlite3

    from atlas import registry
    from fixtures._iphone import write_iphone
    from fixtures._story import make_key_times, make_people

    root, gt = case7
    rng = random.Random(7)  # generate() draws the people and key times first, as here
    people, kt = make_people(rng), make_key_times(rng)
    for run in ("a", "b"):
        (tmp_path / run / "exhibits").mkdir(parents=True)
        assert write_iphone(tmp_path / run, 7, people, kt) == gt["victim_iphone"]
    for name in IPHONE:
        data = (root / name).read_bytes()
        assert data == (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert registry.detect(data[:4096], name).name == (
            "ios_sms_db" if name.endswith(".db") else "ios_callhistory_db"
        )
        with sqlite3.connect(f"file:{root / name}?mode=ro&immutable=1", uri=True) as c:
            assert c.execute("PRAGMA page_size").fetchone() == (4096,)
            assert c.execute("PRAGMA freelist_count").fetchone() == (0,)  # VACUUM-ed


def test_iphone_databases_ingest_into_the_case(case7: tuple[Path, dict], tmp_path: Path) -> None:
    import shutil

    from atlas.ingest import ingest_file, parse_options

    root, gt = case7
    (tmp_path / "case" / "exhibits").mkdir(parents=True)
    for name in ["case.toml", *IPHONE]:
        shutil.copyfile(root / name, tmp_path / "case" / name)
    case = load_case(tmp_path / "case")
    plan = [e for e in synthetic.ingest_plan(extended=True) if e["file"] in IPHONE]
    assert [(e["exhibit"], e["format"]) for e in plan] == [
        x for x in EXTENDED if x[1].startswith("ios_")
    ]
    owner = case.identifier_owner()
    expected = {
        synthetic.IPHONE_SMS_PATH: gt["victim_iphone"]["sms_db"]["counts"]["messages"],
        synthetic.IPHONE_CALLS_PATH: gt["victim_iphone"]["call_history"]["counts"]["calls"],
    }
    for entry in plan:
        assert owner["device:" + entry["exhibit"]] == "P2"
        result = ingest_file(
            case, case.root / entry["file"], entry["exhibit"], entry["format"], parse_options(case)
        )
        counts = result.entry["counts"]
        assert result.added and counts["rejected"] == 0, result.message
        assert counts["read"] == counts["accepted"] == expected[entry["file"]]


def test_iphone_attributed_body_only_texts_are_decoded(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    import sqlite3

    root, gt = case7
    s = gt["victim_iphone"]["sms_db"]
    events = parsed7[synthetic.IPHONE_SMS_PATH]
    only = s["attributed_body_only"]
    assert len(only) == s["counts"]["attributed_body_only"] == 4
    assert {m["direction"] for m in only} == {"incoming", "outgoing"}
    assert any(len(m["text"].encode()) > 127 for m in only)  # a two-byte typedstream length
    assert any(not m["text"].isascii() for m in only)  # UTF-16 run length != UTF-8 length
    flagged = [e for e in events.values() if "text_from_attributedBody" in e.flags]
    assert sorted(e.locator for e in flagged) == sorted(m["locator"] for m in only)
    with sqlite3.connect(
        f"file:{root / synthetic.IPHONE_SMS_PATH}?mode=ro&immutable=1", uri=True
    ) as c:
        for m in only:
            rowid = int(m["locator"].rsplit("=", 1)[1])
            text, blob = c.execute(
                "SELECT text, attributedBody FROM message WHERE ROWID = ?", (rowid,)
            ).fetchone()
            assert text is None and m["text"].encode() in blob
            assert events[m["locator"]].text == m["text"]
        assert c.execute(
            "SELECT count(*) FROM message WHERE attributedBody IS NULL"
        ).fetchone() == (0,)
    assert not any("text_differs_from_attributedBody" in e.flags for e in events.values())
    a = s["attachment"]
    photo = events[a["locator"]]
    assert (
        photo.attachments == (a["filename"],)
        and photo.sender == gt["identifiers"]["suspect_original"]
    )
    assert photo.extra["attachments"][0]["mime_type"] == a["mime_type"] == "image/heic"
    assert sum(bool(e.attachments) for e in events.values()) == s["counts"]["attachments"] == 1


def test_iphone_records_agree_with_the_story(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    _, gt = case7
    ip, ids = gt["victim_iphone"], gt["identifiers"]
    msgs, calls = parsed7[synthetic.IPHONE_SMS_PATH], parsed7[synthetic.IPHONE_CALLS_PATH]
    mine = [*msgs.values(), *calls.values()]
    lo, hi = (_utc(t) for t in ip["period_utc"])
    assert min(e.timestamp_utc for e in mine).replace(microsecond=0) == lo
    assert max(e.timestamp_utc for e in mine).replace(microsecond=0) == hi
    assert hi < _utc(gt["key_dates"]["relationship_ended_utc"])
    # The switch: nothing on the iPhone after 14 July, nothing on the Samsung or his Android before.
    last = ip["switch"]["last_record"]
    assert msgs[last["locator"]].timestamp_utc.replace(microsecond=0) == hi
    assert hi.astimezone(synthetic.TZ).date().isoformat() == ip["switch"]["date"] == "2024-07-14"
    assert "WhatsApp" in last["text"]
    later = [
        e
        for f in (
            synthetic.WA_PATH,
            synthetic.TABLE_PATH,
            synthetic.UFDR_PATH,
            synthetic.MMSSMS_PATH,
            synthetic.CALLLOG_PATH,
        )
        for e in parsed7[f].values()
        if e.kind in ("call", "sms", "chat_message")
    ]
    assert min(e.timestamp_utc for e in later).astimezone(synthetic.TZ).date() == dt.date(
        2024, 7, 15
    )
    # Every planted record is where the ground truth says, at its time (nanoseconds / seconds).
    s, h = ip["sms_db"], ip["call_history"]
    for ref in [
        s["first_message"],
        last,
        *s["attributed_body_only"],
        *s["sms_fallback"],
        s["attachment"],
    ]:
        e = msgs[ref["locator"]]
        assert e.timestamp_source == str(ref["apple_ns"]) and e.tz_basis == "epoch"
        assert abs(e.timestamp_utc - _utc(ref["utc"])) < dt.timedelta(milliseconds=1)
        assert e.direction == ref["direction"] and e.text == ref["text"]
        assert (e.sender, *e.recipients) == (
            (ref["identifier"], ids["victim"])
            if ref["direction"] == "incoming"
            else (ids["victim"], ref["identifier"])
        )
        assert e.channel == ref["service"].lower()
    assert {e.channel for e in msgs.values()} == {"imessage", "sms"}
    assert (
        sum(e.kind == "sms" for e in msgs.values()) == s["counts"]["sms"] == len(s["sms_fallback"])
    )
    assert sum(e.direction == "outgoing" for e in msgs.values()) == s["counts"]["from_me"]
    with_him = [e for e in mine if ids["suspect_original"] in (e.sender, *e.recipients)]
    assert len(with_him) == s["counts"]["with_suspect"] + h["counts"]["with_suspect"]
    others = {i for e in mine for i in (e.sender, *e.recipients)} - {ids["suspect_original"], None}
    assert others == {ids["victim"], ids["friend"]}
    for ref in [*h["missed_calls"], *h["unanswered_outgoing"], h["facetime"]]:
        e = calls[ref["locator"]]
        assert e.timestamp_source == repr(ref["zdate"])
        assert abs(e.timestamp_utc - _utc(ref["utc"])) < dt.timedelta(milliseconds=1)
        assert (e.direction, e.channel, e.duration_s) == (
            ref["direction"],
            ref["channel"],
            ref["duration_s"],
        )
        assert (e.sender if e.direction == "incoming" else e.recipients[0]) == ids[
            "suspect_original"
        ]
    missed = [e for e in calls.values() if e.status == "missed"]
    assert sorted(e.locator for e in missed) == sorted(m["locator"] for m in h["missed_calls"])
    assert len(missed) == h["counts"]["missed"] >= 3 and all(e.duration_s == 0 for e in missed)
    assert all(9 <= e.timestamp_utc.astimezone(synthetic.TZ).hour < 17 for e in missed)  # at work
    ft = calls[h["facetime"]["locator"]]
    assert ft.extra["call_type_name"] == "facetime_video" and ft.status == "answered"
    assert [e.channel for e in calls.values()].count("facetime") == h["counts"]["facetime"] == 1
    assert len(calls) == h["counts"]["incoming"] + h["counts"]["outgoing"]
    carried = h["calls_with_suspect"]  # what his operator's records would show, not FaceTime
    assert len(carried) == h["counts"]["with_suspect"] - 1
    assert all(calls[c["locator"]].channel == "phone" for c in carried)


# --- the telecoms and ANPR exhibits (DI/14-DI/18) -----------------------------------------------

CDRS = [TC.CDR_ORIG_PATH, TC.CDR_NEW_PATH]
TELECOMS = [*CDRS, TC.CELL_SITES_PATH, TC.TOWER_DUMP_PATH, TC.ANPR_PATH]


def _sites(parsed7: dict[str, dict]) -> dict[tuple[str, str], dict]:
    """Masts from the parsed cell list: (network MNC, site id) -> position and sectors."""
    out: dict[tuple[str, str], dict] = {}
    for e in parsed7[TC.CELL_SITES_PATH].values():
        site = out.setdefault(
            (e.cell_id.split("-")[1], e.extra["site_id"]), {"pos": (e.latitude, e.longitude)}
        )
        assert site["pos"] == (e.latitude, e.longitude)
        site.setdefault("cells", []).append((e.cell_id, e.extra["azimuth_deg"]))
    return out


def test_telecoms_exhibits_detected_and_counted(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    from atlas import registry

    root, gt = case7
    t = gt["telecoms"]
    plan = [e for e in synthetic.ingest_plan(extended=True) if e["file"] in TELECOMS]
    assert [e["exhibit"] for e in plan] == ["DI/14", "DI/15", "DI/16", "DI/17", "DI/18"]
    for entry in plan:
        head = (root / entry["file"]).read_bytes()[:65536]
        assert registry.detect(head, Path(entry["file"]).name).name == entry["format"]
    for own, file in zip(("orig", "new"), CDRS, strict=True):
        events = parsed7[file].values()
        assert len(events) == t["cdr"]["counts"][own]["records"]
        assert {e.extra["imei"] for e in events} == {t["cdr"]["imei"]}  # one handset
        assert {e.extra["imsi"] for e in events} == {t["cdr"]["imsi"][own]}  # two SIMs
        assert {e.extra["target"] for e in events} == {t["cdr"]["targets"][own]}
    ids = gt["identifiers"]
    assert t["cdr"]["targets"] == {"orig": ids["suspect_original"], "new": ids["suspect_new"]}
    (footer,) = t["cdr"]["expected_rejections"]
    lines = (root / TC.CDR_ORIG_PATH).read_text(encoding="utf-8").splitlines()
    assert (footer["locator"], footer["text"]) == (f"line:{len(lines)}", lines[-1])
    assert len(parsed7[TC.CELL_SITES_PATH]) == t["cell_sites"]["rows"]
    assert len(parsed7[TC.TOWER_DUMP_PATH]) == t["tower_dump"]["rows"]
    assert len(parsed7[TC.ANPR_PATH]) == gt["anpr"]["counts"]["reads"]
    sim_change = _utc(t["cdr"]["sim_change_utc"])
    assert max(e.timestamp_utc for e in parsed7[TC.CDR_ORIG_PATH].values()) < sim_change
    assert min(e.timestamp_utc for e in parsed7[TC.CDR_NEW_PATH].values()) > sim_change
    owner = load_case(root).identifier_owner()
    assert "device:DI/3" in owner  # devices are attributed there, but not these exhibits:
    assert not {f"device:{e['exhibit']}" for e in plan} & set(owner)  # CDRs show numbers


def test_cdrs_mirror_the_victims_log_and_his_handset(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    _, gt = case7
    c, ids = gt["telecoms"]["cdr"], gt["identifiers"]
    table = parsed7[synthetic.TABLE_PATH]
    his = {ids["suspect_original"], ids["suspect_new"]}
    not_his = c["decoys"]["victim_withheld_not_his"]
    withheld = {w["locator"] for w in gt["withheld_calls"]} - {not_his}
    theirs = {loc for loc, e in table.items() if {e.sender, *e.recipients} & his}
    assert set(c["victim_log_pairs"]) == theirs | withheld
    for name in ("coincident", "near_miss"):
        d = c["decoys"][name]
        e = parsed7[d["file"]][d["locator"]]
        assert e.timestamp_utc == table[not_his].timestamp_utc + dt.timedelta(
            seconds=d["network_seconds_from_victim_record"])
        assert e.direction == "outgoing"
        assert (ids["victim"] in e.recipients) == (name == "near_miss")
    for loc, ref in c["victim_log_pairs"].items():
        t, e = table[loc], parsed7[ref["file"]][ref["locator"]]
        assert e.timestamp_utc == t.timestamp_utc == _utc(ref["utc"])  # same second, UK local
        assert e.kind == t.kind and {e.direction, t.direction} == {"incoming", "outgoing"}
        assert (e.extra["record_type"], e.cell_id) == (ref["record_type"], ref["cell_id"])
        target = e.extra["target"]
        assert target == c["targets"]["orig" if ref["file"] == TC.CDR_ORIG_PATH else "new"]
        assert {target, ids["victim"]} == {e.sender, *e.recipients} and e.text is None
        if loc in withheld:
            assert t.sender is None and e.extra["Presentation"] == "RESTRICTED"
        else:
            assert target in (t.sender, *t.recipients)
    times = {e.timestamp_utc for e in table.values()}
    block, sim_change = _utc(gt["block"]["utc"]), _utc(c["sim_change_utc"])
    for ref in c["not_in_victim_log"]["blocked_attempts"]:
        e = parsed7[ref["file"]][ref["locator"]]
        assert block < e.timestamp_utc < sim_change and e.timestamp_utc not in times
        assert e.direction == "outgoing" and e.recipients == (ids["victim"],)
    (deleted,) = c["deleted_from_handset"]
    deleted_sms = gt["suspect_handset"]["deleted_sms"]
    assert deleted["table_locator"] in {d["table_locator"] for d in deleted_sms}
    assert parsed7[deleted["file"]][deleted["locator"]].kind == "sms"
    h = gt["suspect_handset"]
    assert len(c["handset_pairs"]) == h["counts"]["sms"] + h["counts"]["calls"]
    for loc, cdr_loc in c["handset_pairs"].items():
        e = (parsed7[synthetic.MMSSMS_PATH] if loc.startswith("sqlite:sms") else parsed7[
            synthetic.CALLLOG_PATH])[loc]
        ahead = dt.timedelta(seconds=h["clock_ahead_s"])
        network = (e.timestamp_utc - ahead).replace(microsecond=0)
        mine = [parsed7[f][cdr_loc] for f in CDRS if cdr_loc in parsed7[f]
                and parsed7[f][cdr_loc].timestamp_utc == network]
        assert mine and mine[0].kind == e.kind and mine[0].direction == e.direction


def test_cdr_cells_follow_his_gpx_track(case7: tuple[Path, dict], parsed7: dict[str, dict]) -> None:
    import bisect

    from fixtures._geo import bearing

    _, gt = case7
    c = gt["telecoms"]["cdr"]
    sites = _sites(parsed7)
    fixes = sorted((e.timestamp_utc, e.latitude, e.longitude)
                   for e in parsed7[synthetic.SUSPECT_GPX].values())
    times = [f[0] for f in fixes]
    unknown = {(r["file"], r["locator"]) for r in c["unknown_cell"]["records"]}
    dst = (c["dst_ambiguous"]["file"], c["dst_ambiguous"]["locator"])
    listed = {cell for s in sites.values() for cell, _ in s["cells"]}
    checked = 0
    for file in CDRS:
        for loc, e in parsed7[file].items():
            cells = {e.cell_id, e.extra.get("last_cell_id")} - {None}
            assert cells <= listed | {c["unknown_cell"]["cell_id"]}
            if (file, loc) in unknown:
                assert e.cell_id == c["unknown_cell"]["cell_id"]
                continue
            t = _utc(c["dst_ambiguous"]["planted_utc"]) if (file, loc) == dst else e.timestamp_utc
            if not times[0] <= t <= times[-1]:
                continue
            k = bisect.bisect_left(times, t)
            if k == len(times) or (k > 0 and t - times[k - 1] <= times[k] - t):
                k -= 1
            _, lat, lon = fixes[k]
            mnc = e.cell_id.split("-")[1]
            site = min((s for key, s in sites.items() if key[0] == mnc),
                       key=lambda s: haversine_m(*s["pos"], lat, lon))
            b = bearing(*site["pos"], lat, lon)
            best = min(site["cells"], key=lambda x: (abs((x[1] - b + 180) % 360 - 180), x[0]))
            assert e.cell_id == best[0], (file, loc)
            checked += 1
    assert checked > 1000 and unknown


def test_visit_nights_are_served_from_a_mast_near_her_home(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    _, gt = case7
    c, cs = gt["telecoms"]["cdr"], gt["telecoms"]["cell_sites"]
    home = (gt["order"]["zone"]["lat"], gt["order"]["zone"]["lon"])
    cells = parsed7[TC.CELL_SITES_PATH]
    mast = cs["home_mast"]
    by_id = {e.cell_id: e for e in cells.values()}
    for cell_id, loc in mast["cells"].items():
        assert cells[loc].cell_id == cell_id
        d = haversine_m(home[0], home[1], cells[loc].latitude, cells[loc].longitude)
        assert abs(d - mast["distance_to_victim_home_m"]) < 1.0 and 250 < d < 500  # near, not at
    others = [haversine_m(*home, e.latitude, e.longitude) for e in cells.values()
              if e.cell_id not in mast["cells"]]
    assert min(others) == pytest.approx(cs["nearest_other_mast_to_victim_home_m"], abs=0.2)
    assert min(others) > mast["distance_to_victim_home_m"] + 400
    assert [v["visit_index"] for v in c["visits"]] == [v["index"] for v in gt["visits"]]
    for v in c["visits"]:
        lo, hi = (_utc(x) for x in v["window_utc"])
        assert any(r["home_mast"] for r in v["records"]), v["visit_index"]
        for r in v["records"]:
            e = parsed7[r["file"]][r["locator"]]
            assert lo <= e.timestamp_utc <= hi and e.cell_id == r["cell_id"]
            s = by_id[e.cell_id]
            d = haversine_m(*home, s.latitude, s.longitude)
            assert d == pytest.approx(r["mast_distance_to_victim_home_m"], abs=0.1)
            assert r["home_mast"] == (e.cell_id in mast["cells"])
    for r in c["near_miss"]:  # the near miss: his phone 800 m away, on another cell or not
        assert parsed7[r["file"]][r["locator"]].cell_id == r["cell_id"]


def test_unknown_cell_is_kept_and_flagged(case7: tuple[Path, dict], ingested7) -> None:  # noqa: ANN001
    from atlas.cells import cell_areas, load_cell_sites
    from atlas.store import load_events

    _, gt = case7
    case, _ = ingested7
    u = gt["telecoms"]["cdr"]["unknown_cell"]
    sites = load_cell_sites(case.root)
    assert len(sites) == gt["telecoms"]["cell_sites"]["rows"]
    assert u["cell_id"] not in set(sites["cell_id"]) and u["in_cell_list"] is False
    events = load_events(case.root)
    telecoms = events[events["source_path"].isin([*CDRS, TC.TOWER_DUMP_PATH])]
    out = cell_areas(telecoms, sites)
    keys = zip(out["source_path"], out["locator"], strict=True)
    status = dict(zip(keys, out["cell_site_status"], strict=True))
    flagged = {k for k, s in status.items() if s == "unknown_cell"}
    assert flagged == {(r["file"], r["locator"]) for r in u["records"]}
    assert {s for k, s in status.items() if k not in flagged} == {"matched"}
    assert out.loc[out["cell_site_status"] == "unknown_cell", "cell_site_lat"].isna().all()
    home = out[out["cell_id"].isin(gt["telecoms"]["cell_sites"]["home_mast"]["cells"])]
    assert len(home) and home["cell_site_lat"].notna().all()


def test_cdr_row_in_the_doubled_hour_is_flagged(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    _, gt = case7
    d = gt["telecoms"]["cdr"]["dst_ambiguous"]
    e = parsed7[d["file"]][d["locator"]]
    assert (e.tz_flag, e.timestamp_source) == ("ambiguous", d["local_as_written"])
    assert e.timestamp_utc == _utc(d["readings_utc"][0]) and e.status == "data_session"
    assert d["readings_utc"][1] == d["planted_utc"]
    wa = _utc(gt["dst_ambiguous"]["planted_utc"])
    assert wa == _utc(d["whatsapp_message_utc"])
    assert dt.timedelta(0) < wa - _utc(d["planted_utc"]) < dt.timedelta(minutes=1)
    flagged = [(f, loc) for f in CDRS for loc, x in parsed7[f].items() if x.tz_flag != "ok"]
    assert flagged == [(d["file"], d["locator"])]


def test_tower_dump_holds_the_new_number_on_her_street(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    _, gt = case7
    td, ids = gt["telecoms"]["tower_dump"], gt["identifiers"]
    events = parsed7[TC.TOWER_DUMP_PATH]
    lo, hi = (_utc(x) for x in td["window_utc"])
    visit = gt["visits"][td["visit_index"]]
    assert lo < _utc(visit["start_utc"]) < _utc(visit["end_utc"]) < hi and visit["after_service"]
    assert {e.cell_id for e in events.values()} <= set(td["cells"])
    assert set(td["cells"]) & set(gt["telecoms"]["cell_sites"]["home_mast"]["cells"])
    assert all(lo <= e.timestamp_utc < hi and e.extra["dump_id"] == td["dump_id"]
               for e in events.values())
    assert len({e.sender for e in events.values()}) == td["subscribers"] > 50
    mine = [loc for loc, e in events.items() if e.sender == ids["suspect_new"]]
    assert mine == [r["locator"] for r in td["suspect_rows"]] and mine
    for r in td["suspect_rows"]:
        e, x = events[r["locator"]], parsed7[TC.CDR_NEW_PATH][r["cdr_locator"]]
        assert e.timestamp_utc == x.timestamp_utc == _utc(r["utc"])
        assert e.cell_id == x.cell_id == r["cell_id"]
        assert (e.extra["imsi"], e.extra["imei"]) == (x.extra["imsi"], x.extra["imei"])
    story = {v for k, v in ids.items() if isinstance(v, str) and v.startswith("tel:")}
    for e in events.values():  # no one else in the dump talks to anyone in the story
        assert e.sender == ids["suspect_new"] or not {e.sender, *e.recipients} & story
    parties = {x for e in events.values() for x in (e.sender, *e.recipients)}
    assert ids["suspect_original"] not in parties


def _to_segment_m(p: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return metres from p to the segment a-b (a local flat projection: fine over a few km)."""
    import math

    k = 111_195.0
    c = math.cos(math.radians(p[0]))
    (px, py), (ax, ay), (bx, by) = ((q[1] * k * c, q[0] * k) for q in (p, a, b))
    dx, dy = bx - ax, by - ay
    f = max(0.0, min(1.0, ((px - ax) * dx + (py - ay) * dy) / ((dx * dx + dy * dy) or 1.0)))
    return math.hypot(px - ax - f * dx, py - ay - f * dy)


def test_anpr_reads_of_his_car_on_the_visit_nights(
    case7: tuple[Path, dict], parsed7: dict[str, dict]
) -> None:
    import bisect

    root, gt = case7
    a = gt["anpr"]
    events = parsed7[TC.ANPR_PATH]
    owner = load_case(root).identifier_owner()
    assert owner[a["vrm"]] == "P1"
    fixes = sorted((e.timestamp_utc, e.latitude, e.longitude)
                   for e in parsed7[synthetic.SUSPECT_GPX].values())
    times = [f[0] for f in fixes]
    mine = {r["locator"]: r for r in a["suspect_reads"]}
    assert {loc for loc, e in events.items() if e.sender == a["vrm"]} == {
        loc for loc, r in mine.items() if not r["misread"]
    }
    for loc, r in mine.items():
        e = events[loc]
        assert (e.sender, e.extra["vrm_as_read"]) == (r["identifier"], r["vrm_as_read"])
        assert e.timestamp_utc == _utc(r["utc"]) and e.extra["camera_id"] == r["camera_id"]
        k = bisect.bisect_left(times, e.timestamp_utc)
        # the camera lies on his way between the fixes before and after the read
        assert _to_segment_m((e.latitude, e.longitude), fixes[k - 1][1:], fixes[k][1:]) < 200, loc
    wrong = a["misread"]
    e = events[wrong["locator"]]
    assert e.sender == wrong["expected_identifier"] != a["vrm"]
    assert wrong["expected_identifier"] not in owner
    assert e.extra["ocr_confidence"] < 75 and not {f for f in e.flags}
    plate, read = wrong["true_vrm"], wrong["vrm_as_read"]
    assert len(plate) == len(read) and sum(x != y for x, y in zip(plate, read, strict=True)) == 1
    near = [c["camera_id"] for c in a["cameras"] if c["distance_to_victim_home_m"] < 500]
    assert len(near) == 1
    nights = {r["night_of"] for r in a["suspect_reads"]}
    assert nights == {v["night_of"] for v in gt["visits"]} | {gt["near_miss"]["night_of"]}
    assert set(a["nights"]) - nights  # control nights without his car
    for v in gt["visits"]:
        at_near = {r["journey"] for r in a["suspect_reads"]
                   if r["night_of"] == v["night_of"] and r["camera_id"] in near}
        assert at_near == {f"to:visit:{v['index']}", f"from:visit:{v['index']}"}
    nm = [r for r in a["suspect_reads"] if r["night_of"] == gt["near_miss"]["night_of"]]
    assert nm and not any(r["camera_id"] in near for r in nm)
    assert a["counts"]["other_vehicles"] > 50
