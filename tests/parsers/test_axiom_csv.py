"""Tests for the Magnet AXIOM CSV export parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat
from parsers._axiom_csv_header import translate
from parsers.axiom_csv import PARSER, sniff
from tests.parsing_helpers import run_parser


def _data(data_dir, name):
    path = data_dir / "parsers" / "axiom_csv" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


@pytest.mark.parametrize(
    ("name", "counts"),
    [
        pytest.param("Android SMS.csv", (6, 4, 2), id="sms-bom-dmy"),
        pytest.param("WhatsApp Messages.csv", (2, 2, 0), id="whatsapp-mdy-12h-utc+1"),
        pytest.param("Call Logs.csv", (3, 3, 0), id="calls-ymd-utc-5"),
        pytest.param("Google Location History.csv", (2, 1, 1), id="locations"),
        pytest.param("Contacts.csv", (2, 1, 1), id="contacts"),
        pytest.param("Android Usage Stats.csv", (1, 1, 0), id="unknown-layout"),
    ],
)
def test_counts(data_dir, name, counts):
    events, rejections = run_parser(PARSER, _data(data_dir, name))
    assert (len(events) + len(rejections), len(events), len(rejections)) == counts


def test_sniff(data_dir):
    assert sniff(_data(data_dir, "Android SMS.csv").read_bytes(), "Android SMS.csv")
    assert sniff(_data(data_dir, "WhatsApp Messages.csv").read_bytes(), "x.csv")
    assert not sniff(b"", "x.csv")
    assert not sniff(b"Date,Time,Number\r\n01/02/2024,10:00,0770\r\n", "calls.csv")
    assert not sniff(b"a,b\r\nStart Date/Time - UTC+00:00 (M/d/yyyy)\r\n", "x.csv")  # not the first line


def test_sms_event_field_by_field(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "Android SMS.csv"))
    sms = events[0]
    assert sms.locator == "line:2"
    assert sms.kind == "sms"
    assert sms.timestamp_utc == datetime(2024, 7, 14, 22, 1, 5, tzinfo=UTC)
    assert sms.timestamp_source == "14/07/2024 22:01:05"
    assert sms.tz_basis == "utc-declared"
    assert sms.tz_flag == "ok"
    assert sms.date_order == "dmy:inferred"
    assert sms.end_utc is None
    assert sms.duration_s is None
    assert sms.direction == "incoming"
    assert sms.sender == "tel:+447700900123"
    assert sms.sender_name == "Sam Example"
    assert sms.recipients == ()
    assert sms.channel == "sms"
    assert sms.thread == "7"
    assert sms.text == "Where are you?"
    assert sms.attachments == ()
    assert sms.status is None
    assert sms.deleted == "unknown"
    assert sms.flags == ()
    assert sms.extra == {
        "artifact": "Android SMS",
        "time_column": "Message Sent Date/Time - UTC+00:00 (dd/MM/yyyy)",
        "times": {"Message Read Date/Time - UTC+00:00 (dd/MM/yyyy)": "2024-07-14T22:03:00+00:00"},
        "fields": {"Item ID": "101", "Partner": "+447700900123", "Direction": "Incoming",
                   "Source": "mmssms.db", "Location": "Table: sms(id: 101)", "Evidence number": "AB/1"},
        "recovery_method": "Parsing",
        "recipient_names": ["Local User"],
    }


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(1, {"locator": "line:3", "text": "Leave me alone.\nPlease.", "direction": "outgoing",
                         "recipients": ("tel:+447700900123",)}, id="multiline-quoted-cell"),
        pytest.param(2, {"locator": "line:5", "deleted": "recovered", "flags": ("carved",),
                         "sender": "tel:+447700900456"}, id="deleted-source-carved"),
        pytest.param(3, {"locator": "line:8", "timestamp_utc": None, "tz_flag": "no_time",
                         "flags": ("no_timestamp",)}, id="empty-time-kept"),
    ],
)
def test_sms_awkward_rows(data_dir, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, "Android SMS.csv"))
    for name, value in expected.items():
        assert getattr(events[index], name) == value, name


def test_sms_rejections(data_dir):
    _, rejections = run_parser(PARSER, _data(data_dir, "Android SMS.csv"))
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:6", "time '31/02/2024 10:00:00' in column 'Message Sent Date/Time - UTC+00:00 (dd/MM/yyyy)' "
                   "does not match the declared date pattern 'dd/MM/yyyy' followed by a clock time"),
        ("line:9", "expected 14 columns, found 6"),
    ]


def test_whatsapp_offset_header_and_12_hour_clock(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "WhatsApp Messages.csv"))
    incoming, outgoing = events
    # 01:30 on a clock-change night is not ambiguous here: the header states the offset.
    assert incoming.timestamp_utc == datetime(2024, 3, 31, 0, 30, tzinfo=UTC)
    assert (incoming.tz_basis, incoming.tz_flag, incoming.date_order) == ("offset-in-source", "ok", "mdy:inferred")
    assert (incoming.kind, incoming.channel, incoming.sender) == ("chat_message", "whatsapp", "whatsapp:+447700900123")
    assert incoming.deleted == "intact"
    assert outgoing.recipients == ("whatsapp:+447700900123",)
    assert outgoing.attachments == ("IMG-20241027-WA0001.jpg",)
    assert (outgoing.text, outgoing.deleted, outgoing.status) == (None, "deleted", "sent")


def test_calls(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "Call Logs.csv"))
    missed, dialled, bad_duration = events
    assert missed.timestamp_utc == datetime(2024, 7, 14, 22, 59, 59, tzinfo=UTC)
    assert (missed.kind, missed.direction, missed.status, missed.channel) == ("call", "incoming", "missed", "phone")
    assert (missed.sender, missed.sender_name, missed.recipients) == (
        "tel:+447700900123", "Sam Example", ("tel:+447700900999",))
    assert missed.date_order == "ymd:inferred"
    assert dialled.timestamp_utc == datetime(2024, 7, 14, 23, 10, 0, 123456, tzinfo=UTC)
    assert (dialled.sender, dialled.recipients, dialled.duration_s) == (
        "tel:+447700900999", ("tel:+447700900456",), 65.0)
    assert bad_duration.duration_s is None
    assert bad_duration.flags == ("duration_unparsed",)
    assert bad_duration.extra["duration"] == "ninety"


def test_locations_contacts_and_unknown_layout(data_dir):
    fixes, rejected = run_parser(PARSER, _data(data_dir, "Google Location History.csv"))
    assert (fixes[0].kind, fixes[0].latitude, fixes[0].longitude, fixes[0].accuracy_m) == (
        "location_fix", 51.501364, -0.14189, 12.0)
    assert [(r.locator, r.reason) for r in rejected] == [("line:3", "coordinates out of range: 95.0, -0.1")]

    contacts, rejected = run_parser(PARSER, _data(data_dir, "Contacts.csv"))
    assert (contacts[0].kind, contacts[0].tz_flag) == ("contact", "no_time")
    assert contacts[0].extra["hint"] == "contact"
    assert contacts[0].extra["saved_name"] == "Sam Example"
    assert contacts[0].extra["identifiers"] == ["tel:+447700900123", "tel:+442079460000", "email:sam@example.org"]
    assert contacts[0].extra["times"] == {
        "Last Time Contacted Date/Time - UTC+00:00 (dd/MM/yyyy)": "2024-07-14T22:05:10+00:00"}
    assert [(r.locator, r.reason) for r in rejected] == [
        ("line:3", "contact row has neither a display name nor a number/address")]

    usage, _ = run_parser(PARSER, _data(data_dir, "Android Usage Stats.csv"))
    assert usage[0].kind == "app_event"
    assert usage[0].extra["fields"] == {"Application Name": "com.whatsapp", "Event Type": "MOVE_TO_FOREGROUND",
                                        "Source": "usagestats"}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("dd/MM/yyyy", "%d/%m/%Y", id="uk"),
        pytest.param("M/d/yyyy", "%m/%d/%Y", id="us"),
        pytest.param("yyyy-MM-dd HH:mm:ss.fff", "%Y-%m-%d %H:%M:%S.%f", id="iso-with-clock"),
        pytest.param("d MMM yyyy h:mm tt", "%d %b %Y %I:%M %p", id="month-name-12h"),
        pytest.param("dd'.'MM'.'yyyy", "%d.%m.%Y", id="quoted-literal"),
    ],
)
def test_dotnet_pattern_translation(pattern, expected):
    assert translate(pattern) == expected


def test_unsupported_pattern_is_a_source_error(tmp_path):
    path = tmp_path / "Calls.csv"
    path.write_text("Partner,Call Date/Time - UTC+00:00 (dd/MM/yyyy zzz)\r\n0770,01/02/2024 10:00:00\r\n")
    with pytest.raises(SourceError, match="specifier 'z' is not supported"):
        run_parser(PARSER, path)


def test_plain_csv_is_not_this_format(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("Date,Number\r\n01/02/2024,0770\r\n")
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)


def test_broken_quote_is_a_source_error(tmp_path):
    path = tmp_path / "Android SMS.csv"
    path.write_text('Message,Message Sent Date/Time - UTC+00:00 (dd/MM/yyyy)\r\n"hi"x,01/02/2024 10:00:00\r\n')
    with pytest.raises(SourceError, match="line:2"):
        run_parser(PARSER, path)
