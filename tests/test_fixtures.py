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
from parsers import (
    android_calllog_db,
    android_mmssms_db,
    diary,
    email_mime,
    google_takeout_json,
    gpx,
    meta_dyi_json,
    table_mapping,
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
]


NEW_FILES = [
    synthetic.UFDR_PATH,
    synthetic.MMSSMS_PATH,
    synthetic.CALLLOG_PATH,
    synthetic.INSTAGRAM_PATH,
    synthetic.RECORDS_PATH,
    synthetic.EMAIL_PATH,
    synthetic.DIARY_PATH,
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
    root, _ = case7
    got = {}
    for entry in synthetic.ingest_plan(extended=True, registered_only=False):
        events, rejections = run_parser(
            SPECS[entry["format"]], root / entry["file"], synthetic.parse_options_for(entry, root)
        )
        assert rejections == [], entry["file"]
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
    assert (registered[-1]["format"] == "diary") == has_diary  # listed once registered
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


def test_new_exhibits_ingest_into_a_case(case7: tuple[Path, dict], tmp_path: Path) -> None:
    import shutil

    from atlas.ingest import ingest_file, parse_options

    root, _ = case7
    case_dir = tmp_path / "case"
    shutil.copytree(root, case_dir)
    case = load_case(case_dir)
    for entry in synthetic.ingest_plan(extended=True)[4:]:
        options = parse_options(case, source_tz=entry.get("tz"))
        result = ingest_file(
            case, case_dir / entry["file"], entry["exhibit"], entry["format"], options
        )
        assert result.added and result.entry["counts"]["rejected"] == 0, result.message
        assert result.entry["counts"]["read"] == result.entry["counts"]["accepted"] > 0


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
    for line_loc, ref in h["victim_log_pairs"].items():
        t = table[line_loc]
        e = (sms if ref["locator"].startswith("sqlite:sms/") else calls)[ref["locator"]]
        assert e.timestamp_utc == _utc(ref["utc"])
        assert e.timestamp_utc.replace(microsecond=0) == t.timestamp_utc
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
    assert first["utc"][:19] == gt["new_number"]["first_contact"]["utc"][:19]
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
    assert {w["table_locator"] for w in h["withheld_calls"]} == withheld
    for w in h["withheld_calls"]:
        e = calls[w["locator"]]
        assert e.extra["number"] == w["dialled"] == "1410" + ids["victim"].removeprefix("tel:+44")
        assert e.timestamp_utc.replace(microsecond=0) == table[w["table_locator"]].timestamp_utc
        assert "recipient_unparsed_number" in e.flags and e.sender == ids["suspect_new"]
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
