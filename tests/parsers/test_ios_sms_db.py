"""Tests for the iOS sms.db / macOS chat.db parser and its attributedBody decoder."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime

import pytest

from atlas.parsing import NotThisFormat, ParseOptions
from parsers._ios_sms_typedstream import decode_attributed_body
from parsers.ios_sms_db import PARSER
from tests.parsers.phone_sqlite_helpers import apple_ns, build_db, listing, one_of_each, sha256
from tests.parsing_helpers import run_parser

SAMPLE = "ios_sqlite/plaso_imessage_chat.db"

# attributedBody of message 7 in plaso's test_data/sqlite/imessage_chat.db (Apache-2.0): a real
# typedstream NSMutableAttributedString holding "Aww okay fab! " (a one-byte length, 0x0e).
REAL_BLOB = bytes.fromhex(
    "040b73747265616d747970656481e803840140848484194e534d757461626c65417474726962757465645374"
    "72696e67008484124e5341747472696275746564537472696e67008484084e534f626a656374008592848484"
    "0f4e534d757461626c65537472696e67018484084e53537472696e67019584012b0e417777206f6b61792066"
    "616221208684026949010e928484840c4e5344696374696f6e617279009584016901928498981d5f5f6b494d"
    "4d657373616765506172744174747269627574654e616d658692848484084e534e756d626572008484074e53"
    "56616c7565009584012a849b9b00868686")
_TEXT_AT = REAL_BLOB.index(b"+\x0e") + 1
_RUN_AT = REAL_BLOB.index(b"\x86\x84\x02iI\x01\x0e")


def _ts_int(value: int) -> bytes:
    """Encode a typedstream integer (little-endian stream)."""
    if 0 <= value < 0x80:
        return bytes([value])
    if value < 0x8000:
        return b"\x81" + value.to_bytes(2, "little")
    return b"\x82" + value.to_bytes(4, "little")


def blob_for(text: str) -> bytes:
    """Return the real blob's layout holding ``text`` (lengths re-encoded as iOS writes them)."""
    body = text.encode("utf-8")
    units = len(text.encode("utf-16-le")) // 2
    head = REAL_BLOB[:_TEXT_AT]
    run = b"\x86\x84\x02iI\x01" + _ts_int(units)
    tail = REAL_BLOB[_RUN_AT + len(b"\x86\x84\x02iI\x01\x0e"):]
    return head + _ts_int(len(body)) + body + run + tail


# --- the typedstream decoder ----------------------------------------------------------------

@pytest.mark.parametrize(("blob", "expected"), [
    (REAL_BLOB, "Aww okay fab! "),
    (blob_for("Short"), "Short"),
    (blob_for("x" * 127), "x" * 127),
    (blob_for("Longer than 127 bytes 😀 " * 10), "Longer than 127 bytes 😀 " * 10),
    (blob_for("y" * 40000), "y" * 40000),
    (blob_for("Ünïcödé ‘quotes’"), "Ünïcödé ‘quotes’"),
], ids=["real_plaso_blob", "one_byte_length", "length_127", "two_byte_length_0x81",
        "four_byte_length_0x82", "utf8"])
def test_decode_attributed_body(blob, expected):
    assert decode_attributed_body(blob) == expected


@pytest.mark.parametrize("blob", [
    None,
    b"",
    b"bplist00" + b"\x00" * 40,  # an NSKeyedArchiver plist, not a typedstream
    REAL_BLOB.replace(b"NSString", b"NSNumber"),
    REAL_BLOB[:_TEXT_AT + 5],  # cut inside the text
    blob_for("ok").replace(b"ok", b"\xff\xfe"),  # not UTF-8
    REAL_BLOB[:_TEXT_AT] + b"\x83" + REAL_BLOB[_TEXT_AT + 1:],  # a float tag where a length goes
], ids=["none", "empty", "bplist", "no_nsstring", "truncated", "not_utf8", "bad_length_tag"])
def test_decode_attributed_body_refuses(blob):
    assert decode_attributed_body(blob) is None


# --- the real public sample (plaso's chat.db, Apple seconds, WAL mode) ----------------------

def test_sample_counts_and_first_event(samples_dir):
    events, rejections = run_parser(PARSER, samples_dir / SAMPLE)
    assert (len(events), len(rejections)) == (10, 0)
    first = events[0]
    assert first.locator == "sqlite:message/rowid=1"
    assert first.part == 0
    assert first.kind == "chat_message" and first.channel == "imessage"
    assert first.timestamp_utc == datetime(2015, 11, 22, 18, 9, 46, tzinfo=UTC)
    assert first.timestamp_source == "469908586"
    assert (first.tz_basis, first.tz_flag) == ("epoch", "ok")
    assert first.direction == "incoming"
    assert first.sender == "tel:+447775455555"
    assert first.recipients == ("email:ken.doh@icloud.com",)  # the phone's own account
    assert first.thread == "+447775446518"
    assert first.text.startswith("Hey Kenneth, it's Eireanne!")
    assert first.attachments == ()
    assert first.status == "read"
    assert first.deleted == "intact"
    assert first.flags == ()
    assert first.extra["date_read_utc"] == "2015-11-22T18:13:22+00:00"
    assert first.extra["date_delivered_utc"] == "2015-11-22T18:13:22+00:00"
    assert first.extra["guid"] == "C78A4031-C135-4746-A974-C455B0C4F5E4"
    second = events[1]
    assert (second.direction, second.sender, second.recipients, second.status) == (
        "outgoing", "email:ken.doh@icloud.com", ("tel:+447775455555",), "delivered")


def test_sample_text_and_attributed_body_disagree(samples_dir):
    events, _ = run_parser(PARSER, samples_dir / SAMPLE)
    differing = [e.locator for e in events if "text_differs_from_attributedBody" in e.flags]
    assert differing == ["sqlite:message/rowid=6", "sqlite:message/rowid=10"]
    assert events[5].text.endswith("install Open Office, which I have a copy of.")
    assert events[5].extra["attributedBody_text"].endswith(
        "install Microsoft Office, which I have a copy of.")


def test_sample_wal_database_left_untouched(samples_dir, tmp_path):
    copy = tmp_path / "chat.db"
    shutil.copyfile(samples_dir / SAMPLE, copy)
    assert copy.read_bytes()[18:20] == b"\x02\x02"  # WAL-mode header
    before = sha256(copy)
    events, _ = run_parser(PARSER, copy)
    assert len(events) == 10
    assert sha256(copy) == before
    assert listing(tmp_path) == ["chat.db"]  # no chat.db-wal / chat.db-shm created


# --- a built iOS 16-shaped sms.db with the awkward cases ------------------------------------

T0 = 1700000000  # 2023-11-14T22:13:20Z
MSG = ("INSERT INTO message (ROWID, guid, text, attributedBody, handle_id, service, account, "
       "destination_caller_id, date, date_read, date_delivered, date_edited, is_from_me, is_read, "
       "is_sent, is_delivered, error, item_type, group_title) VALUES "
       "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
HANDLE = "INSERT INTO handle (ROWID, id, country, service) VALUES "
CHAT = ("INSERT INTO chat (ROWID, guid, style, chat_identifier, service_name, display_name) "
        "VALUES ")
HEIC = "~/Library/SMS/Attachments/ab/11/A1/IMG_0001.HEIC"
LONG = "A long message that iOS kept only in attributedBody 📍 " * 4
MESSAGES = [
    # rowid, text, blob, handle, service, account, dest, date, read, delivered, edited, me, is_read,
    # sent, deliv, error, item_type, group_title, chat
    (1, "Hello", None, 1, "SMS", None, "+447700900999", apple_ns(T0), apple_ns(T0 + 60), 0, 0,
     0, 1, 0, 0, 0, 0, None, 1),
    (2, None, blob_for("Are you home?"), 2, "iMessage", "e:me@example.org", None,
     apple_ns(T0 + 100), 0, 0, 0, 0, 0, 0, 0, 0, 0, None, 2),
    (3, "See you all", None, 0, "iMessage", "p:+447700900999", None, apple_ns(T0 + 200), 0,
     apple_ns(T0 + 201), 0, 1, 0, 1, 1, 0, 0, None, 3),
    (4, "Who is this?", None, 0, "SMS", None, None, apple_ns(T0 + 300), 0, 0, 0, 0, 0, 0, 0, 0, 0,
     None, 1),
    (5, "\ufffc", None, 1, "SMS", None, None, apple_ns(T0 + 400), 0, 0, 0, 0, 1, 0, 0, 0, 0, None,
     1),
    (6, None, None, 2, "iMessage", None, None, apple_ns(T0 + 500), 0, 0, 0, 0, 1, 0, 0, 0, 0, None,
     2),
    (7, None, None, 0, "iMessage", None, None, apple_ns(T0 + 600), 0, 0, 0, 1, 0, 1, 0, 0, 2,
     "Friends", 3),
    (8, "No date", None, 1, "SMS", None, None, None, 0, 0, 0, 0, 1, 0, 0, 0, 0, None, 1),
    (9, "Zero date", None, 1, "SMS", None, None, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, None, 1),
    (10, "fixed", None, 2, "iMessage", None, None, apple_ns(T0 + 700), 0, 0, apple_ns(T0 + 760),
     1, 0, 1, 1, 0, 0, None, 2),
    (11, "Not sent", None, 1, "SMS", None, None, apple_ns(T0 + 800), 0, 0, 0, 1, 0, 0, 0, 22, 0,
     None, 1),
    (12, "Seconds era", None, 1, "SMS", None, None, 500000000, 0, 0, 0, 0, 1, 0, 0, 0, 0, None, 1),
    (13, None, b"\x04\x0bstreamtyped\x81\xe8\x03garbage", 2, "iMessage", None, None,
     apple_ns(T0 + 900), 0, 0, 0, 0, 1, 0, 0, 0, 0, None, 2),
    (14, None, blob_for(LONG), 2, "iMessage", None, None, apple_ns(T0 + 1000), 0, 0, 0, 0, 1, 0, 0,
     0, 0, None, 2),
    (15, "Odd row", None, 1, "SMS", None, None, apple_ns(T0 + 1100), 0, 0, 0, None, 1, 0, 0, 0, 0,
     None, 1),
]


def awkward_rows():
    """Return the rows of the awkward database (also the committed sms.db)."""
    rows = [
        (HANDLE + "(1, '+447700900123', 'gb', 'SMS')", ()),
        (HANDLE + "(2, 'Jo@Example.org', 'gb', 'iMessage')", ()),
        (HANDLE + "(3, '07700 900456', 'gb', 'iMessage')", ()),
        (HANDLE + "(4, '+447700900789', 'gb', 'iMessage')", ()),
        (CHAT + "(1, 'SMS;-;+447700900123', 45, '+447700900123', 'SMS', '')", ()),
        (CHAT + "(2, 'iMessage;-;jo@example.org', 45, 'jo@example.org', 'iMessage', '')", ()),
        (CHAT + "(3, 'iMessage;+;chat123456', 43, 'chat123456', 'iMessage', 'Friends')", ()),
        ("INSERT INTO chat_handle_join VALUES (1, 1), (2, 2), (3, 3), (3, 4)", ()),
        ("INSERT INTO attachment (ROWID, guid, filename, mime_type, transfer_name, total_bytes) "
         "VALUES (1, 'A1', ?, 'image/heic', 'IMG_0001.HEIC', 123456)", (HEIC,)),
        ("INSERT INTO message_attachment_join VALUES (5, 1)", ()),
    ]
    for m in MESSAGES:
        rows.append((MSG, (m[0], f"GUID-{m[0]}", *m[1:18])))
        rows.append(("INSERT INTO chat_message_join VALUES (?, ?)", (m[18], m[0])))
    return rows


@pytest.fixture
def sms_db(tmp_path):
    return build_db(tmp_path / "sms.db", "ios_sms_db", awkward_rows(), wal=True)


def test_committed_input_matches_its_rows(data_dir, sms_db):
    committed = data_dir / "parsers" / "ios_sms_db" / "sms.db"
    assert committed.is_file(), "run python -m tests.parsers.phone_sqlite_helpers"
    assert run_parser(PARSER, committed) == run_parser(PARSER, sms_db)


def _events(path, options=None):
    events, rejections = run_parser(PARSER, path, options)
    return {e.locator.rsplit("=", 1)[1]: e for e in events}, rejections


def test_built_counts_and_rejections(sms_db):
    events, rejections = _events(sms_db)
    assert (len(events) + len(rejections), len(events), len(rejections)) == (15, 13, 2)
    assert [(r.locator, r.reason) for r in rejections] == [
        ("sqlite:message/rowid=8", "message.date is NULL (no time recorded)"),
        ("sqlite:message/rowid=9", "message.date is 0 (no time recorded)"),
    ]


def test_nanosecond_sms_field_by_field(sms_db):
    sms = _events(sms_db)[0]["1"]
    assert sms.locator == "sqlite:message/rowid=1"
    assert sms.kind == "sms" and sms.channel == "sms"
    assert sms.timestamp_utc == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    assert sms.timestamp_source == str(apple_ns(T0))
    assert (sms.tz_basis, sms.tz_flag) == ("epoch", "ok")
    assert sms.direction == "incoming"
    assert sms.sender == "tel:+447700900123"
    assert sms.recipients == ("tel:+447700900999",)  # destination_caller_id: the phone's number
    assert sms.thread == "+447700900123"
    assert sms.text == "Hello"
    assert sms.status == "read"
    assert sms.flags == ()
    assert sms.extra["date_read_utc"] == "2023-11-14T22:14:20+00:00"
    assert sms.extra["chats"] == [{"chat_id": 1, "guid": "SMS;-;+447700900123", "style": 45,
                                   "chat_identifier": "+447700900123", "service_name": "SMS"}]


def test_text_only_in_attributed_body(sms_db):
    msg = _events(sms_db)[0]["2"]
    assert msg.text == "Are you home?"
    assert msg.flags == ("text_from_attributedBody",)
    assert msg.sender == "email:jo@example.org"
    assert msg.recipients == ("email:me@example.org",)  # account e:…
    assert msg.kind == "chat_message" and msg.channel == "imessage"
    assert msg.status == "unread"
    long = _events(sms_db)[0]["14"]
    assert long.text == LONG and long.flags == ("text_from_attributedBody",)


def test_outgoing_group_message_recipients_from_chat(sms_db):
    msg = _events(sms_db)[0]["3"]
    assert msg.direction == "outgoing"
    assert msg.sender == "tel:+447700900999"  # account p:…
    assert msg.recipients == ("tel:+447700900456", "tel:+447700900789")
    assert msg.thread == "chat123456"
    assert msg.status == "delivered"
    assert msg.extra["chats"][0]["display_name"] == "Friends"


@pytest.mark.parametrize(("rowid", "field", "expected"), [
    ("4", "sender", "tel:+447700900123"),
    ("4", "flags", ("sender_from_chat",)),
    ("5", "kind", "mms"),
    ("5", "channel", "mms"),
    ("5", "attachments", (HEIC,)),
    ("5", "text", "\ufffc"),
    ("6", "text", None),
    ("6", "flags", ("no_text",)),
    ("7", "kind", "system"),
    ("7", "flags", ("no_text",)),
    ("10", "status", "edited"),
    ("11", "status", "failed"),
    ("12", "timestamp_utc", datetime(2016, 11, 5, 0, 53, 20, tzinfo=UTC)),
    ("13", "flags", ("attributedBody_undecoded", "no_text")),
    ("13", "text", None),
    ("15", "direction", "unknown"),
    ("15", "sender", None),
    ("15", "flags", ("direction_unknown",)),
], ids=["handle0_sender", "handle0_flag", "mms_kind", "mms_channel", "attachment", "fffc_kept",
        "no_text", "no_text_flag", "group_rename_system", "system_no_text", "edited", "error",
        "seconds_era_date", "garbage_blob_flagged", "garbage_blob_no_text", "is_from_me_null",
        "is_from_me_null_no_sender", "is_from_me_null_flag"])
def test_awkward_messages(sms_db, rowid, field, expected):
    assert getattr(_events(sms_db)[0][rowid], field) == expected


def test_attachment_details_in_extra(sms_db):
    msg = _events(sms_db)[0]["5"]
    assert msg.extra["attachments"] == [{
        "attachment_id": 1, "guid": "A1", "filename": HEIC,
        "transfer_name": "IMG_0001.HEIC", "mime_type": "image/heic", "total_bytes": 123456,
        "is_outgoing": 0, "transfer_state": 0}]


def test_handle_numbers_use_region(sms_db):
    events, _ = _events(sms_db, ParseOptions(region="US"))
    assert events["3"].recipients == ("tel:07700 900456", "tel:+447700900789")
    assert events["3"].flags == ("recipient_unparsed_number",)


def test_built_wal_db_not_modified(sms_db):
    before = sha256(sms_db)
    run_parser(PARSER, sms_db)
    assert sha256(sms_db) == before
    assert listing(sms_db.parent) == ["sms.db"]


def test_wal_without_committed_frames_is_flagged(sms_db):
    (sms_db.parent / "sms.db-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 28)
    events, _ = _events(sms_db)
    # a WAL header with no frames: nothing to apply, and the events say so
    assert all("wal_not_applied" in e.flags for e in events.values())


# --- detection and refusal ------------------------------------------------------------------

def test_sniff_only_claims_sms_db(tmp_path, samples_dir):
    for name, path in one_of_each(tmp_path).items():
        head = path.read_bytes()[:65536]
        assert PARSER.sniff(head, path.name) is (name == "ios_sms_db"), name
    assert PARSER.sniff((samples_dir / SAMPLE).read_bytes()[:65536], "plaso_imessage_chat.db")
    assert PARSER.sniff(b"", "sms.db") is False


def test_ios5_layout_is_not_this_format(tmp_path):
    path = tmp_path / "sms.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT, "
                 "date INTEGER, text TEXT, flags INTEGER)")
    conn.close()
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)
