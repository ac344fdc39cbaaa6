"""Tests for the Android mmssms.db parser."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions
from parsers.android_mmssms_db import PARSER
from tests.parsers.phone_sqlite_helpers import build_db, listing, one_of_each, sha256
from tests.parsing_helpers import run_parser

SAMPLE = "android_sqlite/plaso_mmssms.db"


# --- the real public sample (plaso's mmssms.db) -------------------------------------------

def test_sample_counts_and_first_event(samples_dir):
    events, rejections = run_parser(PARSER, samples_dir / SAMPLE)
    assert (len(events), len(rejections)) == (9, 0)
    first = events[0]
    assert first.locator == "sqlite:sms/rowid=1"
    assert first.part == 0
    assert first.kind == "sms"
    assert first.timestamp_utc == datetime(2013, 10, 29, 16, 56, 28, 38000, tzinfo=UTC)
    assert first.timestamp_source == "1383065788038"
    assert first.tz_basis == "epoch"
    assert first.tz_flag == "ok"
    assert first.direction == "outgoing"
    assert first.sender is None  # the handset's own number is not in the database
    assert first.recipients == ("tel:1 555-521-5554",)  # a US spelling, unparsed with region GB
    assert first.flags == ("recipient_unparsed_number",)
    assert first.channel == "sms"
    assert first.thread == "1"
    assert first.text == "Yo Fred this is my new number."
    assert first.status == "sent"
    assert first.deleted == "intact"
    assert first.extra["date_sent_utc"] is None  # date_sent 0 = unknown, not 1970
    assert first.extra["read"] == 1 and first.extra["seen"] == 1
    assert [e.direction for e in events] == ["outgoing", "outgoing", "incoming", "incoming",
                                             "outgoing", "incoming", "outgoing", "incoming",
                                             "outgoing"]


def test_sample_received_sms_keeps_date_sent(samples_dir):
    events, _ = run_parser(PARSER, samples_dir / SAMPLE)
    third = events[2]
    assert third.locator == "sqlite:sms/rowid=3"
    assert third.sender == "tel:15555215554"
    assert third.flags == ("sender_unparsed_number",)
    assert third.status == "received"
    assert third.extra["date_sent_utc"] == "2013-10-29T17:05:40+00:00"


@pytest.mark.parametrize(("index", "field", "expected"), [
    (0, "recipients", ("tel:+15555215554",)),
    (2, "sender", "tel:+15555215554"),
], ids=["spaced_spelling", "bare_digits"])
def test_sample_numbers_with_region_us(samples_dir, index, field, expected):
    events, _ = run_parser(PARSER, samples_dir / SAMPLE, ParseOptions(region="US"))
    assert getattr(events[index], field) == expected
    assert events[index].flags == ()


def test_sample_not_modified(samples_dir, tmp_path):
    copy = tmp_path / "mmssms.db"
    shutil.copyfile(samples_dir / SAMPLE, copy)
    before = sha256(copy)
    run_parser(PARSER, copy)
    assert sha256(copy) == before
    assert listing(tmp_path) == ["mmssms.db"]


# --- a built database with the awkward cases -----------------------------------------------

SMS = "INSERT INTO sms (_id, thread_id, address, date, date_sent, type, body, read, status) VALUES "
PDU = "INSERT INTO pdu (_id, thread_id, date, date_sent, msg_box, m_type, sub, read) VALUES "
ADDR = "INSERT INTO addr (msg_id, address, type, charset) VALUES "
PART = "INSERT INTO part (_id, mid, seq, ct, name, cl, _data, text) VALUES "


def awkward_rows():
    """Return the rows of the awkward database (also the committed mmssms.db)."""
    return [
        (SMS + "(1, 1, '07700 900123', 1700000000123, 1699999999000, 1, 'Received', 0, -1)", ()),
        (SMS + "(2, 1, '07700 900123', 1700000100000, 0, 2, 'Sent one', 1, 0)", ()),
        (SMS + "(3, 1, '07700 900123', 1700000200000, 0, 3, 'A draft', 1, -1)", ()),
        (SMS + "(4, 2, 'VODAFONE', 1700000300000, 0, 1, 'Your bill', 0, -1)", ()),
        (SMS + "(5, 1, '07700 900123', NULL, 0, 1, 'No date', 0, -1)", ()),
        (SMS + "(6, 1, '07700 900123', 0, 0, 1, 'Zero date', 0, -1)", ()),
        (SMS + "(7, 1, '07700 900123', 1700000400, 0, 1, 'Seconds in a ms column', 0, -1)", ()),
        (SMS + "(8, 1, '07700 900123', 1700000500000, 0, 5, 'Failed', 1, 64)", ()),
        (SMS + "(9, 1, '07700 900123', 1700000600000, 0, 99, 'Vendor type', 1, -1)", ()),
        (SMS + "(10, 1, '07700 900123', 1700000700000, 0, 1, NULL, 0, -1)", ()),
        # incoming picture message: From, To (the handset) and Cc, a SMIL layout, text and a photo
        (PDU + "(1, 3, 1700001000, 1700000990, 1, 132, 'Look', 1)", ()),
        (ADDR + "(1, '+447700900555', 137, 106)", ()),
        (ADDR + "(1, '+447700900111', 151, 106)", ()),
        (ADDR + "(1, '07700 900222', 130, 106)", ()),
        (PART + "(1, 1, -1, 'application/smil', 'smil.xml', 'smil.xml', NULL, '<smil/>')", ()),
        (PART + "(2, 1, 0, 'text/plain', NULL, 'text_0.txt', NULL, 'Where are you?')", ()),
        (PART + "(3, 1, 0, 'image/jpeg', 'IMG_0001.jpg', 'IMG_0001.jpg', '/data/user_de/0/"
                "com.android.providers.telephony/app_parts/PART_1700001000', NULL)", ()),
        # outgoing group MMS: From is Android's placeholder for the handset
        (PDU + "(2, 4, 1700002000, 0, 2, 128, NULL, 1)", ()),
        (ADDR + "(2, 'insert-address-token', 137, 106)", ()),
        (ADDR + "(2, '07700 900555', 151, 106)", ()),
        (ADDR + "(2, '07700 900666', 151, 106)", ()),
        (PART + "(4, 2, 0, 'text/plain', NULL, 'text_0.txt', NULL, 'On my way')", ()),
        # a notification of an MMS never downloaded: no parts
        (PDU + "(3, 3, 1700003000, 0, 1, 130, NULL, 0)", ()),
        (ADDR + "(3, '+447700900555', 137, 106)", ()),
        # no date; and a date written in milliseconds where seconds belong
        (PDU + "(4, 3, NULL, 0, 1, 132, NULL, 0)", ()),
        (PDU + "(5, 3, 1700004000000, 0, 1, 132, NULL, 0)", ()),
        # parts of a pdu that is gone: not records of their own
        (PART + "(9, 99, 0, 'text/plain', NULL, NULL, NULL, 'orphan')", ()),
    ]


@pytest.fixture
def awkward_db(tmp_path):
    return build_db(tmp_path / "mmssms.db", "android_mmssms_db", awkward_rows())


def test_committed_input_matches_its_rows(data_dir, awkward_db):
    committed = data_dir / "parsers" / "android_mmssms_db" / "mmssms.db"
    assert committed.is_file(), "run python -m tests.parsers.phone_sqlite_helpers"
    assert run_parser(PARSER, committed) == run_parser(PARSER, awkward_db)


def test_awkward_counts(awkward_db):
    events, rejections = run_parser(PARSER, awkward_db)
    # read 15 (10 sms + 5 pdu rows) = accepted 10 + rejected 5; orphan parts are not records
    assert (len(events) + len(rejections), len(events), len(rejections)) == (15, 10, 5)
    assert [e.locator for e in events] == [
        *(f"sqlite:sms/rowid={n}" for n in (1, 2, 3, 4, 8, 9, 10)),
        *(f"sqlite:pdu/rowid={n}" for n in (1, 2, 3)),
    ]


def test_awkward_rejections(awkward_db):
    _, rejections = run_parser(PARSER, awkward_db)
    assert [(r.locator, r.reason) for r in rejections] == [
        ("sqlite:sms/rowid=5", "sms.date is NULL (no time recorded)"),
        ("sqlite:sms/rowid=6", "sms.date is 0 (no time recorded)"),
        ("sqlite:sms/rowid=7", "sms.date 1700000400 read as Unix milliseconds is "
                               "1970-01-20T16:13:20.400000+00:00, outside the plausible range "
                               "1990-2099 (it would be plausible as Unix seconds: check the unit)"),
        ("sqlite:pdu/rowid=4", "pdu.date is NULL (no time recorded)"),
        ("sqlite:pdu/rowid=5", "pdu.date 1700004000000 read as Unix seconds is beyond the year "
                               "9999 (it would be plausible as Unix milliseconds: check the unit)"),
    ]
    assert rejections[0].raw["body"] == "No date"


def _by_locator(path):
    events, rejections = run_parser(PARSER, path)
    return {e.locator: e for e in events}, {r.locator: r for r in rejections}


def test_received_sms_field_by_field(awkward_db):
    events, _ = _by_locator(awkward_db)
    sms = events["sqlite:sms/rowid=1"]
    assert sms.kind == "sms" and sms.channel == "sms" and sms.part == 0
    assert sms.timestamp_utc == datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert sms.timestamp_source == "1700000000123"
    assert (sms.tz_basis, sms.tz_flag) == ("epoch", "ok")
    assert sms.direction == "incoming"
    assert sms.sender == "tel:+447700900123"
    assert sms.recipients == ()
    assert sms.text == "Received"
    assert sms.status == "received"
    assert sms.flags == ()
    assert sms.extra["date_sent_utc"] == "2023-11-14T22:13:19+00:00"
    assert sms.extra["delivery_status"] == "none"


@pytest.mark.parametrize(("rowid", "direction", "status", "flags"), [
    (2, "outgoing", "sent", ()),
    (3, "outgoing", "draft", ()),
    (8, "outgoing", "failed", ()),
    (9, "unknown", "type_99", ("unknown_message_type",)),
], ids=["sent", "draft", "failed", "vendor_type"])
def test_sms_types(awkward_db, rowid, direction, status, flags):
    events, _ = _by_locator(awkward_db)
    sms = events[f"sqlite:sms/rowid={rowid}"]
    assert (sms.direction, sms.status, sms.flags) == (direction, status, flags)
    if direction == "outgoing":
        assert sms.sender is None and sms.recipients == ("tel:+447700900123",)


def test_alphanumeric_sender_kept_verbatim(awkward_db):
    events, _ = _by_locator(awkward_db)
    sms = events["sqlite:sms/rowid=4"]
    assert sms.sender == "account:VODAFONE"
    assert sms.flags == ("sender_unparsed_address",)


def test_null_body_is_kept(awkward_db):
    events, _ = _by_locator(awkward_db)
    assert events["sqlite:sms/rowid=10"].text is None


def test_incoming_mms_parts_and_addresses(awkward_db):
    events, _ = _by_locator(awkward_db)
    mms = events["sqlite:pdu/rowid=1"]
    assert mms.kind == "mms" and mms.channel == "mms"
    assert mms.timestamp_utc == datetime(2023, 11, 14, 22, 30, 0, tzinfo=UTC)  # Unix seconds
    assert mms.timestamp_source == "1700001000"
    assert mms.direction == "incoming"
    assert mms.sender == "tel:+447700900555"
    assert mms.recipients == ("tel:+447700900111", "tel:+447700900222")
    assert mms.text == "Where are you?"
    assert mms.attachments == ("IMG_0001.jpg",)
    assert mms.thread == "3"
    assert mms.status == "received"
    assert mms.extra["sub"] == "Look"
    assert mms.extra["date_sent_utc"] == "2023-11-14T22:29:50+00:00"
    assert [p["ct"] for p in mms.extra["parts"]] == ["application/smil", "text/plain", "image/jpeg"]


def test_outgoing_mms_placeholder_sender(awkward_db):
    events, _ = _by_locator(awkward_db)
    mms = events["sqlite:pdu/rowid=2"]
    assert mms.direction == "outgoing"
    assert mms.sender is None
    assert mms.recipients == ("tel:+447700900555", "tel:+447700900666")
    assert mms.text == "On my way"
    assert mms.status == "sent"


def test_undownloaded_mms_notification(awkward_db):
    events, _ = _by_locator(awkward_db)
    mms = events["sqlite:pdu/rowid=3"]
    assert mms.status == "not_downloaded"
    assert mms.text is None and mms.attachments == ()
    assert mms.flags == ("no_text",)


def test_built_db_not_modified_and_no_sidecars(awkward_db):
    before = sha256(awkward_db)
    run_parser(PARSER, awkward_db)
    assert sha256(awkward_db) == before
    assert listing(awkward_db.parent) == ["mmssms.db"]


# --- detection and refusal ------------------------------------------------------------------

def test_sniff_only_claims_mmssms(tmp_path, samples_dir):
    kinds = one_of_each(tmp_path)
    for name, path in kinds.items():
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name) is (name == "android_mmssms_db"), name
    assert PARSER.sniff((samples_dir / SAMPLE).read_bytes()[:65536], "plaso_mmssms.db")
    assert PARSER.sniff(b"", "mmssms.db") is False
    assert PARSER.sniff(b"SQLite format 3\x00" + b"\x00" * 100, "notes.db") is False


def test_other_database_is_not_this_format(tmp_path):
    path = one_of_each(tmp_path)["android_calllog_db"]
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)


def test_not_sqlite_is_not_this_format(tmp_path):
    path = tmp_path / "mmssms.db"
    path.write_text("not a database")
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)


def test_truncated_database_is_a_source_error(awkward_db, tmp_path):
    broken = tmp_path / "broken" / "mmssms.db"
    broken.parent.mkdir()
    data = awkward_db.read_bytes()
    broken.write_bytes(data[:4096] + b"\xff" * (len(data) - 4096))
    with pytest.raises(SourceError):
        run_parser(PARSER, broken)
