"""Tests for the iOS CallHistory.storedata parser (no public sample: built databases only)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atlas.parsing import NotThisFormat, ParseOptions
from parsers.ios_callhistory_db import PARSER
from tests.parsers.phone_sqlite_helpers import apple_s, build_db, listing, one_of_each, sha256
from tests.parsing_helpers import run_parser

T0 = 1700000000  # 2023-11-14T22:13:20Z
CALL = ("INSERT INTO ZCALLRECORD (Z_PK, Z_ENT, Z_OPT, ZDATE, ZDURATION, ZORIGINATED, ZANSWERED, "
        "ZCALLTYPE, ZSERVICE_PROVIDER, ZADDRESS, ZHANDLE_TYPE, ZNAME, ZISO_COUNTRY_CODE, "
        "ZDISCONNECTED_CAUSE, ZUNIQUE_ID) VALUES (?, 2, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
TEL = "com.apple.Telephony"
CALLS = [
    # Z_PK, ZDATE, ZDURATION, ZORIGINATED, ZANSWERED, ZCALLTYPE, provider, ZADDRESS, ZHANDLE_TYPE,
    # ZNAME, ZISO_COUNTRY_CODE, ZDISCONNECTED_CAUSE, ZUNIQUE_ID
    (1, apple_s(T0) + 0.25, 73.5, 1, 1, 1, TEL, b"07700 900123", 2, "Sam", "gb", 0, "U1"),
    (2, apple_s(T0 + 100), 0.0, 0, 0, 1, TEL, "+447700900456", 2, None, "gb", 0, "U2"),
    (3, apple_s(T0 + 200), 312.0, 0, 1, 16, "com.apple.FaceTime", "Jo@Example.org", 3, "Jo", None,
     0, "U3"),
    (4, apple_s(T0 + 300), 45.0, 0, 1, 0, "net.whatsapp.WhatsApp", "447700900789", 1, "Alex", None,
     0, "U4"),
    (5, apple_s(T0 + 400), 10.0, 1, 1, 0, "com.example.voip", "user-8812", 1, None, None, 0, "U5"),
    (6, apple_s(T0 + 500), 0.0, 0, 0, 1, TEL, None, 2, None, "gb", 0, "U6"),
    (7, None, 12.0, 1, 1, 1, TEL, "+447700900123", 2, None, "gb", 0, "U7"),
    (8, apple_s(T0 + 600), -3.0, 1, 1, 1, TEL, "+447700900123", 2, None, "gb", 0, "U8"),
    (9, apple_s(T0 + 700), 5.0, 0, 1, 1, TEL, b"\xff\xfe\x00", 2, None, "gb", 0, "U9"),
    (10, 0, 5.0, 0, 1, 1, TEL, "+447700900123", 2, None, "gb", 0, "U10"),
    (11, apple_s(T0 + 800), 0.0, 0, 0, 1, None, "07700 900123", None, None, None, 6, "U11"),
]


def awkward_rows():
    """Return the rows of the awkward database (also the committed CallHistory.storedata)."""
    return [(CALL, c) for c in CALLS] + [
        ("INSERT INTO Z_PRIMARYKEY VALUES (2, 'CallRecord', 0, 11)", ())]


@pytest.fixture
def storedata(tmp_path):
    return build_db(tmp_path / "CallHistory.storedata", "ios_callhistory_db", awkward_rows(),
                    wal=True)


def test_committed_input_matches_its_rows(data_dir, storedata):
    committed = data_dir / "parsers" / "ios_callhistory_db" / "CallHistory.storedata"
    assert committed.is_file(), "run python -m tests.parsers.phone_sqlite_helpers"
    assert run_parser(PARSER, committed) == run_parser(PARSER, storedata)


def _events(path, options=None):
    events, rejections = run_parser(PARSER, path, options)
    return {int(e.locator.rsplit("=", 1)[1]): e for e in events}, rejections


def test_counts_and_rejections(storedata):
    events, rejections = _events(storedata)
    assert (len(events) + len(rejections), len(events), len(rejections)) == (11, 8, 3)
    assert [(r.locator, r.reason) for r in rejections] == [
        ("sqlite:ZCALLRECORD/rowid=7", "ZDATE is NULL (no time recorded)"),
        ("sqlite:ZCALLRECORD/rowid=8", "ZDURATION is not a non-negative number: -3.0"),
        ("sqlite:ZCALLRECORD/rowid=10", "ZDATE is 0 (no time recorded)"),
    ]
    assert list(events) == [1, 2, 3, 4, 5, 6, 9, 11]


def test_outgoing_call_field_by_field(storedata):
    call = _events(storedata)[0][1]
    assert call.locator == "sqlite:ZCALLRECORD/rowid=1"
    assert call.part == 0
    assert call.kind == "call" and call.channel == "phone"
    assert call.timestamp_utc == datetime(2023, 11, 14, 22, 13, 20, 250000, tzinfo=UTC)
    assert call.timestamp_source == str(apple_s(T0) + 0.25)
    assert (call.tz_basis, call.tz_flag) == ("epoch", "ok")
    assert call.duration_s == 73.5
    assert call.direction == "outgoing"
    assert call.sender is None  # the handset's own number is not in this table
    assert call.sender_name is None
    assert call.recipients == ("tel:+447700900123",)  # ZADDRESS stored as a BLOB
    assert call.status is None
    assert call.deleted == "intact"
    assert call.flags == ()
    assert call.extra["address"] == "07700 900123"
    assert call.extra["zname"] == "Sam"
    assert call.extra["call_type_name"] == "phone"
    assert call.extra["zanswered"] == 1
    assert call.extra["zunique_id"] == "U1"


@pytest.mark.parametrize(("pk", "direction", "status", "channel", "sender", "flags"), [
    (2, "incoming", "missed", "phone", "tel:+447700900456", ()),
    (3, "incoming", "answered", "facetime", "email:jo@example.org", ()),
    (4, "incoming", "answered", "whatsapp", "whatsapp:+447700900789", ()),
    (6, "incoming", "missed", "phone", None, ("no_number",)),
    (9, "incoming", "answered", "phone", None, ("address_blob_not_utf8",)),
    (11, "incoming", "missed", "phone", "tel:+447700900123", ()),
], ids=["missed", "facetime_email", "whatsapp_callkit", "withheld", "blob_not_utf8",
        "no_provider_calltype_phone"])
def test_incoming_calls(storedata, pk, direction, status, channel, sender, flags):
    call = _events(storedata)[0][pk]
    assert (call.direction, call.status, call.channel, call.sender, call.flags) == (
        direction, status, channel, sender, flags)


def test_unknown_provider_kept_and_app_handle_verbatim(storedata):
    call = _events(storedata)[0][5]
    assert call.channel == "com.example.voip"
    assert call.direction == "outgoing"
    assert call.recipients == ("account:user-8812",)
    assert call.flags == ("recipient_unparsed_address",)


def test_undecodable_address_blob_kept_as_hex(storedata):
    assert _events(storedata)[0][9].extra["address"] == "fffe00"


def test_incoming_name_is_sender_name(storedata):
    assert _events(storedata)[0][3].sender_name == "Jo"


def test_country_code_of_row_wins(storedata):
    events, _ = _events(storedata, ParseOptions(region="US"))
    assert events[1].recipients == ("tel:+447700900123",)  # ZISO_COUNTRY_CODE gb
    assert events[11].sender == "tel:07700 900123"  # no country code: case region US
    assert events[11].flags == ("sender_unparsed_number",)


def test_database_not_modified(storedata):
    before = sha256(storedata)
    run_parser(PARSER, storedata)
    assert sha256(storedata) == before
    assert listing(storedata.parent) == ["CallHistory.storedata"]


def test_wal_without_committed_frames_is_flagged(storedata):
    (storedata.parent / "CallHistory.storedata-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 28)
    events, _ = _events(storedata)
    # a WAL header with no frames: nothing to apply, and the events say so
    assert all("wal_not_applied" in e.flags for e in events.values())
    # still nothing written: the WAL we placed is left exactly as it was
    assert listing(storedata.parent) == ["CallHistory.storedata", "CallHistory.storedata-wal"]


def test_sniff_only_claims_callhistory(tmp_path):
    for name, path in one_of_each(tmp_path).items():
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name) is (name == "ios_callhistory_db"), name
    assert PARSER.sniff(b"", "CallHistory.storedata") is False


def test_other_core_data_store_is_not_this_format(tmp_path):
    path = build_db(tmp_path / "CallHistory.storedata", "android_calllog_db", [])
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)
