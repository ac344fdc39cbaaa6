"""Tests for the Android call log parser (calllog.db / contacts2.db)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from atlas.parsing import NotThisFormat, ParseOptions
from parsers.android_calllog_db import PARSER
from tests.parsers.phone_sqlite_helpers import build_db, listing, one_of_each, sha256
from tests.parsing_helpers import run_parser

SAMPLE = "android_sqlite/plaso_contacts2.db"


# --- the real public sample (plaso's contacts2.db, calls in the old place) ------------------

def test_sample_counts_and_first_event(samples_dir):
    events, rejections = run_parser(PARSER, samples_dir / SAMPLE)
    assert (len(events), len(rejections)) == (3, 0)
    first = events[0]
    assert first.locator == "sqlite:calls/rowid=714"
    assert first.part == 0
    assert first.kind == "call"
    assert first.timestamp_utc == datetime(2013, 11, 6, 21, 17, 16, 690000, tzinfo=UTC)
    assert first.timestamp_source == "1383772636690"
    assert (first.tz_basis, first.tz_flag) == ("epoch", "ok")
    assert first.direction == "incoming"
    assert first.status == "missed"
    assert first.duration_s == 0.0
    # the row's own countryiso (US) decides the region, not the case default (GB)
    assert first.sender == "tel:+15404561685"
    assert first.sender_name == "Barney"
    assert first.recipients == ()
    assert first.channel == "phone"
    assert first.deleted == "intact"
    assert first.flags == ()
    assert first.extra["number"] == "5404561685"
    assert first.extra["number_region"] == "US"
    assert first.extra["normalized_number"] == "+15404561685"
    assert first.extra["geocoded_location"] == "Bedrock"
    assert [(e.direction, e.status, e.duration_s) for e in events] == [
        ("incoming", "missed", 0.0), ("outgoing", None, 126.0), ("incoming", "answered", 639.0)]
    assert events[1].recipients == ("tel:+15404561685",) and events[1].sender is None
    assert events[1].sender_name is None  # the cached name is the called party's: extra only
    assert events[1].extra["name"] == "Barney"


def test_sample_sniffed_by_file_name(samples_dir):
    # contacts2.db keeps the calls schema in its last page: in a real (multi-MB) file that is
    # beyond the head, so the file name decides. The first 8 KiB stand for such a head here.
    data = (samples_dir / SAMPLE).read_bytes()
    assert PARSER.sniff(data[:65536], "plaso.db")  # small file: the schema is in the head
    assert PARSER.sniff(data[:8192], "plaso_contacts2.db")
    assert not PARSER.sniff(data[:8192], "plaso.db")


def test_sample_not_modified(samples_dir, tmp_path):
    copy = tmp_path / "contacts2.db"
    shutil.copyfile(samples_dir / SAMPLE, copy)
    before = sha256(copy)
    run_parser(PARSER, copy)
    assert sha256(copy) == before
    assert listing(tmp_path) == ["contacts2.db"]


# --- a built calllog.db (Android 7+) with the awkward cases ---------------------------------

CALL = ("INSERT INTO calls (_id, number, presentation, date, duration, type, features, name, "
        "countryiso, phone_account_address, deleted) VALUES ")


def awkward_rows():
    """Return the rows of the awkward database (also the committed calllog.db)."""
    return [(CALL + values, ()) for values in (
        "(1, '07700 900123', 1, 1700000000000, 61, 1, 0, 'Sam', 'GB', '+447700900999', 0)",
        "(2, '07700 900123', 1, 1700000100000, 0, 2, 1, 'Sam', 'GB', '+447700900999', 0)",
        "(3, '07700 900123', 1, 1700000200000, 0, 3, 0, NULL, 'GB', NULL, 0)",
        "(4, '07700 900123', 1, 1700000300000, 20, 4, 0, NULL, 'GB', NULL, 1)",
        "(5, '07700 900123', 1, 1700000400000, 0, 5, 0, NULL, 'GB', NULL, 0)",
        "(6, '', 2, 1700000500000, 0, 6, 0, NULL, 'GB', NULL, 0)",
        "(7, '07700 900123', 1, 1700000600000, 30, 7, 0, NULL, NULL, NULL, 0)",
        "(8, '-1', 3, 1700000700000, 0, 1, 0, NULL, 'GB', NULL, 0)",
        "(9, '07700 900123', 1, 1700000800000, 12, 100, 0, NULL, 'GB', NULL, 0)",
        "(10, '07700 900123', 1, NULL, 5, 1, 0, NULL, 'GB', NULL, 0)",
        "(11, '07700 900123', 1, 1700000900000, -4, 1, 0, NULL, 'GB', NULL, 0)",
        "(12, '(555) 123-4567', 1, 1700001000000, 9, 1, 0, NULL, 'us', NULL, 0)",
    )]


@pytest.fixture
def calllog(tmp_path):
    return build_db(tmp_path / "calllog.db", "android_calllog_db", awkward_rows())


def test_committed_input_matches_its_rows(data_dir, calllog):
    committed = data_dir / "parsers" / "android_calllog_db" / "calllog.db"
    assert committed.is_file(), "run python -m tests.parsers.phone_sqlite_helpers"
    assert run_parser(PARSER, committed) == run_parser(PARSER, calllog)


def test_built_counts_and_rejections(calllog):
    events, rejections = run_parser(PARSER, calllog)
    assert (len(events) + len(rejections), len(events), len(rejections)) == (12, 10, 2)
    assert [(r.locator, r.reason) for r in rejections] == [
        ("sqlite:calls/rowid=10", "calls.date is NULL (no time recorded)"),
        ("sqlite:calls/rowid=11", "calls.duration is negative: -4"),
    ]


def test_incoming_call_field_by_field(calllog):
    events, _ = run_parser(PARSER, calllog)
    call = events[0]
    assert call.locator == "sqlite:calls/rowid=1"
    assert call.kind == "call" and call.channel == "phone"
    assert call.timestamp_utc == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert call.timestamp_source == "1700000000000"
    assert (call.tz_basis, call.tz_flag) == ("epoch", "ok")
    assert call.direction == "incoming" and call.status == "answered"
    assert call.duration_s == 61.0 and call.end_utc is None
    assert call.sender == "tel:+447700900123" and call.sender_name == "Sam"
    assert call.recipients == ("tel:+447700900999",)  # phone_account_address: the handset's SIM
    assert call.flags == ()
    assert call.extra["presentation"] == "allowed"


@pytest.mark.parametrize(("rowid", "direction", "status", "flags"), [
    (2, "outgoing", None, ()),
    (3, "incoming", "missed", ()),
    (4, "incoming", "voicemail", ()),
    (5, "incoming", "rejected", ()),
    (6, "incoming", "blocked", ("number_withheld",)),
    (7, "incoming", "answered_externally", ()),
    (8, "incoming", "answered", ("number_unknown",)),
    (9, "unknown", "type_100", ("unknown_call_type",)),
], ids=["outgoing", "missed", "voicemail", "rejected", "blocked_withheld", "answered_externally",
        "presentation_unknown", "vendor_type"])
def test_call_types(calllog, rowid, direction, status, flags):
    events, _ = run_parser(PARSER, calllog)
    call = next(e for e in events if e.locator == f"sqlite:calls/rowid={rowid}")
    assert (call.direction, call.status, call.flags) == (direction, status, flags)


def test_outgoing_video_call_names_handset_as_sender(calllog):
    events, _ = run_parser(PARSER, calllog)
    call = events[1]
    assert call.sender == "tel:+447700900999"
    assert call.recipients == ("tel:+447700900123",)
    assert call.extra["features"] == ["video"]


def test_withheld_number_has_no_sender(calllog):
    events, _ = run_parser(PARSER, calllog)
    blocked = next(e for e in events if e.locator == "sqlite:calls/rowid=6")
    assert blocked.sender is None and blocked.recipients == ()
    assert blocked.extra["presentation"] == "restricted"


def test_deleted_voicemail_row(calllog):
    events, _ = run_parser(PARSER, calllog)
    assert next(e for e in events if e.locator == "sqlite:calls/rowid=4").deleted == "deleted"


@pytest.mark.parametrize(("region", "expected"), [
    ("GB", "tel:+447700900123"),
    ("US", "tel:+447700900123"),
], ids=["case_gb", "case_us_row_says_gb"])
def test_row_countryiso_wins_over_case_region(calllog, region, expected):
    events, _ = run_parser(PARSER, calllog, ParseOptions(region=region))
    assert events[0].sender == expected


def test_no_countryiso_uses_case_region(calllog):
    events, _ = run_parser(PARSER, calllog, ParseOptions(region="US"))
    call = next(e for e in events if e.locator == "sqlite:calls/rowid=7")
    assert call.sender == "tel:07700 900123"  # not a US number: kept verbatim, flagged
    assert call.flags == ("sender_unparsed_number",)
    lower = next(e for e in events if e.locator == "sqlite:calls/rowid=12")
    assert lower.sender == "tel:+15551234567" and lower.extra["number_region"] == "US"


def test_built_db_not_modified(calllog):
    before = sha256(calllog)
    run_parser(PARSER, calllog)
    assert sha256(calllog) == before
    assert listing(calllog.parent) == ["calllog.db"]


# --- detection and refusal ------------------------------------------------------------------

def test_sniff_only_claims_calllog(tmp_path):
    for name, path in one_of_each(tmp_path).items():
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name) is (name == "android_calllog_db"), name
    assert PARSER.sniff(b"", "calllog.db") is False


def test_contacts2_without_calls_is_not_this_format(tmp_path):
    path = build_db(tmp_path / "contacts2.db", "android_mmssms_db", [])
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)
