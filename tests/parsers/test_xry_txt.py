"""Tests for the MSAB XRY text export parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions
from parsers.xry_txt import PARSER, sniff
from tests.parsing_helpers import run_parser


def _data(data_dir, name):
    path = data_dir / "parsers" / "xry_txt" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        pytest.param("Calls.txt", (7, 5, 2), id="calls-utf16"),
        pytest.param("Messages-SMS.txt", (5, 4, 1), id="sms-utf16"),
        pytest.param("Messages-Instant Messages.txt", (2, 2, 0), id="im-utf8-us-locale"),
        pytest.param("Contacts-Contacts.txt", (3, 2, 1), id="contacts"),
        pytest.param("Locations.txt", (2, 1, 1), id="locations"),
        pytest.param("Web-Bookmarks.txt", (1, 0, 1), id="unmapped-report-type"),
    ],
)
def test_counts(data_dir, name, counts):
    events, rejections = run_parser(PARSER, _data(data_dir, name))
    assert (len(events) + len(rejections), len(events), len(rejections)) == counts


def test_sniff_and_bom(data_dir):
    raw = _data(data_dir, "Calls.txt").read_bytes()
    assert raw[:2] == b"\xff\xfe"
    assert sniff(raw[:4096], "Calls.txt")
    assert sniff(_data(data_dir, "Messages-Instant Messages.txt").read_bytes(), "x.txt")
    assert not sniff(b"", "Calls.txt")
    assert not sniff("Time,Number\n1/2/2019,0770\n".encode(), "calls.txt")
    assert not sniff("\ufeffHello\r\nworld\r\n".encode("utf-16"), "notes.txt")


def test_call_event_field_by_field(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "Calls.txt"))
    call = events[0]
    assert call.locator == "line:6-11"
    assert call.kind == "call"
    assert call.timestamp_utc == datetime(2024, 11, 2, 13, 23, 45, tzinfo=UTC)
    assert call.timestamp_source == "02/11/2024 13:23:45 (Device)"
    assert call.tz_basis == "assumed:Europe/London"
    assert call.tz_flag == "ok"
    assert call.date_order == "dmy:inferred"
    assert call.end_utc is None
    assert call.duration_s is None
    assert call.direction == "incoming"
    assert call.sender == "tel:+447700900123"
    assert call.sender_name == "Sam Example"
    assert call.recipients == ()
    assert call.channel == "phone"
    assert call.thread is None
    assert call.text is None
    assert call.status == "missed"
    assert call.deleted == "unknown"
    assert call.flags == ()
    assert call.extra == {"report_type": "Calls", "record_number": "1", "time_source": "device"}


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(1, {"timestamp_utc": datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "tz_flag": "ok",
                         "tz_basis": "offset-in-source", "direction": "outgoing", "duration_s": 125.0,
                         "recipients": ("tel:+447700900456",), "status": "dialed"},
                     id="network-time-with-offset-not-ambiguous"),
        pytest.param(2, {"timestamp_utc": None, "tz_flag": "no_time", "tz_basis": "none",
                         "status": "last_dialed", "recipients": ("tel:1234",),
                         "flags": ("no_timestamp", "recipient_unparsed_number")}, id="no-time-sim-number"),
        pytest.param(3, {"timestamp_utc": datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "tz_flag": "ambiguous",
                         "tz_basis": "assumed:Europe/London", "direction": "incoming"},
                     id="device-time-dst-ambiguous"),
        pytest.param(4, {"timestamp_utc": datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "tz_flag": "nonexistent",
                         "deleted": "deleted", "recipients": (), "flags": ("recipient_withheld",)},
                     id="deleted-dst-nonexistent-withheld"),
    ],
)
def test_call_awkward_records(data_dir, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, "Calls.txt"))
    for name, value in expected.items():
        assert getattr(events[index], name) == value, name


def test_call_rejections(data_dir):
    _, rejections = run_parser(PARSER, _data(data_dir, "Calls.txt"))
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:41-45", "time '31/02/2024 10:00:00' does not match '%d/%m/%Y %H:%M:%S': "
                       "day is out of range for month"),
        ("line:47", "record 'Calls #\\t7' has no 'Key: Value' lines"),
    ]


def test_sms_multiline_text_and_segments(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "Messages-SMS.txt"))
    first = events[0]
    assert first.locator == "line:6-17"
    assert first.kind == "sms"
    assert first.text == "Hello, this is my message.\nIt has multiple lines.\n\nMeet at 5: by the gate"
    assert first.timestamp_utc == datetime(2019, 1, 23, 13, 23, 45, tzinfo=UTC)
    assert first.tz_basis == "utc-declared"
    assert first.direction == "incoming"
    assert first.sender == "tel:+447700900123"
    assert first.extra["time_source"] == "network"
    assert first.extra["fields"] == {"Reference Number": "22", "Segment Number": "1", "Segments": "1"}
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:43-47", "time 'yesterday (Device)' is not an XRY date and time "
                       "(date, clock, optional zone and (source))"),
    ]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(1, {"direction": "outgoing", "recipients": ("tel:+447700900456",), "status": "sent",
                         "timestamp_utc": datetime(2024, 7, 14, 22, 5, 10, tzinfo=UTC)}, id="submit-bst"),
        pytest.param(2, {"status": "status_report", "direction": "unknown",
                         "extra": {"report_type": "Messages/SMS", "record_number": "3",
                                   "time_source": "device", "other_numbers": ["07700900456"]}},
                     id="status-report-participant"),
        pytest.param(3, {"deleted": "deleted", "sender": "name:sms:HSBC", "tz_basis": "offset-in-source",
                         "timestamp_utc": datetime(2024, 7, 16, 8, 15, tzinfo=UTC)},
                     id="deleted-marker-alphanumeric-sender"),
    ],
)
def test_sms_awkward_records(data_dir, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, "Messages-SMS.txt"))
    for name, value in expected.items():
        assert getattr(events[index], name) == value, name


def test_instant_messages_utf8_month_first(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "Messages-Instant Messages.txt"))
    whatsapp, telegram = events
    assert (whatsapp.kind, whatsapp.channel, whatsapp.sender) == ("chat_message", "whatsapp",
                                                                 "whatsapp:+447700900123")
    assert whatsapp.date_order == "mdy:inferred"
    assert whatsapp.timestamp_utc == datetime(2019, 1, 23, 13, 23, 45, tzinfo=UTC)
    assert whatsapp.extra["time_source"] == "utc"
    assert telegram.recipients == ("telegram:sam_example",)
    assert telegram.timestamp_utc == datetime(2019, 1, 23, 23, 2, tzinfo=UTC)


def test_contacts_are_hints(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "Contacts-Contacts.txt"))
    sam = events[0]
    assert (sam.kind, sam.timestamp_utc, sam.tz_flag, sam.locator) == ("contact", None, "no_time", "line:6-11")
    assert sam.extra == {"hint": "contact", "saved_name": "Sam Example",
                         "identifiers": ["tel:+447700900123", "tel:+447700900789", "email:sam@example.org"],
                         "report_type": "Contacts/Contacts", "fields": {"Storage": "Device"}}
    assert events[1].deleted == "deleted"
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:19-21", "contact 'Contacts-Contacts #\\t3' has neither a name nor a number/address"),
    ]


def test_locations(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "Locations.txt"))
    fix = events[0]
    assert (fix.kind, fix.latitude, fix.longitude, fix.accuracy_m) == ("location_fix", 51.501364, -0.14189, 12.0)
    assert fix.timestamp_utc == datetime(2024, 7, 14, 21, 59, tzinfo=UTC)
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:13-15", "location record needs decimal Latitude and Longitude, found '51.5', None"),
    ]


def test_unmapped_report_type_rejected(data_dir):
    _, rejections = run_parser(PARSER, _data(data_dir, "Web-Bookmarks.txt"))
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:6-8", "XRY report type 'Web/Bookmarks' is not mapped by xry_txt "
                     "(calls, messages, contacts, locations, device information are)"),
    ]


def test_forced_date_order_changes_reading(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "Calls.txt"), ParseOptions(date_order="mdy"))
    assert events[0].timestamp_utc == datetime(2024, 2, 11, 13, 23, 45, tzinfo=UTC)
    assert events[0].date_order == "mdy:assumed"
    # 27/10 (twice), 31/03 and 31/02 cannot be month-first; plus the empty block.
    assert [r.locator for r in rejections] == ["line:13-18", "line:26-31", "line:33-39", "line:41-45", "line:47"]


def _write(tmp_path, lines, encoding="utf-16"):
    path = tmp_path / "export.txt"
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def test_mixed_date_orders_refused(tmp_path):
    path = _write(tmp_path, ["XRY export", "x", "Calls", "y", "", "Calls #\t1", "Time:\t13/01/2024 10:00:00",
                             "", "Calls #\t2", "Time:\t01/13/2024 10:00:00"])
    with pytest.raises(SourceError, match="both day-first and month-first"):
        run_parser(PARSER, path)


def test_not_xry_raises_not_this_format(tmp_path):
    path = _write(tmp_path, ["Hello", "world"])
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)


def test_headerless_export_and_device_info(tmp_path):
    path = _write(tmp_path, ["Device-General Information #\t1", "Data:\tNokia XYZ", "Attribute:\tDevice Name"])
    assert sniff(path.read_bytes(), "x.txt")
    events, rejections = run_parser(PARSER, path)
    assert rejections == []
    assert (events[0].kind, events[0].text, events[0].locator) == ("device_info", "Nokia XYZ", "line:1-3")
    assert events[0].extra == {"report_type": "Device/General Information",
                               "fields": {"Data": "Nokia XYZ", "Attribute": "Device Name"}}


def test_damaged_utf16_is_a_source_error(tmp_path):
    path = tmp_path / "broken.txt"
    path.write_bytes("XRY export\r\nx\r\nCalls\r\ny\r\n\r\nCalls #\t1\r\n".encode("utf-16") + b"\x00\xd8A\x00")
    with pytest.raises(SourceError):
        run_parser(PARSER, path)
