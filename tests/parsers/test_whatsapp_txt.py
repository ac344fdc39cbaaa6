"""Tests for the WhatsApp "Export chat" text parser (bare .txt and the iOS zip)."""

from __future__ import annotations

import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from atlas.timeparse import from_local
from parsers._whatsapp_txt_grammar import HourClock
from parsers.whatsapp_txt import PARSER, sniff
from tests.parsing_helpers import run_parser

LRM, NNBSP = "\u200e", "\u202f"
LONDON = ZoneInfo("Europe/London")


def _data(data_dir, name):
    path = data_dir / "parsers" / "whatsapp_txt" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


def _counts(events, rejections):
    return len(events) + len(rejections), len(events), len(rejections)


# --- chat-miner samples ---------------------------------------------------------------

CHATMINER_FILES = [
    ("chatminer_test_ddmmyy_24hrs.txt", "dmy:inferred"),
    ("chatminer_test_bracket_mmddyy_24hrs.txt", "mdy:inferred"),
    ("chatminer_test_mmddyyyy_12hrs.txt", "mdy:inferred"),
    ("chatminer_test_yyyymmdd_24hrs.txt", "ymd:inferred"),
]


@pytest.mark.parametrize(("name", "order"), CHATMINER_FILES, ids=[n for n, _ in CHATMINER_FILES])
def test_chatminer_sample_matches_target(samples_dir, name, order):
    folder = samples_dir / "whatsapp_txt"
    path = folder / name
    assert sniff(path.read_bytes(), name)
    events, rejections = run_parser(PARSER, path)
    # 10 headers: 6 messages, 3 system lines ("created group", "You were added" and the
    # header-only "John Doe:." which has no ": " after the name) and no rejections.
    assert _counts(events, rejections) == (9, 9, 0)
    assert [e.kind for e in events].count("system") == 3
    assert all(e.date_order == order for e in events)
    target = json.loads((folder / "chatminer_whatsapp_target.json").read_text("utf-8"))
    # chat-miner keeps naive local times and joins continuation lines with a space.
    got = sorted(
        (e.timestamp_utc.astimezone(LONDON).replace(tzinfo=None).isoformat(),
         e.sender_name, e.text.replace("\n", " "))
        for e in events if e.kind == "chat_message"
    )
    assert got == sorted((t["timestamp"], t["author"], t["message"]) for t in target)
    system = [e for e in events if e.kind == "system"]
    assert [e.text for e in system] == ["John Doe:.", '+12 345 578 created group "Groupname"',
                                        "You were added"]
    assert all(e.sender is None and e.sender_name is None for e in system)
    multi = events[2]
    assert multi.locator == "line:3-4"
    assert multi.text == "Lorem ipsum dolor sit amet,\nconsectetur adipiscing elit. Duis libero."


def test_chatminer_mixed_formats_torture(samples_dir):
    events, rejections = run_parser(
        PARSER, samples_dir / "whatsapp_txt" / "chatminer_testlog_mixed_formats.txt")
    # 26 physical lines: 20 headers; lines 4 and 6-10 continue multi-line messages.
    # Every header spelling is read (optional comma, seconds, brackets, "/ . -",
    # "a.m.", "p. m.", "p.\u00a0m."), so nothing is rejected. "12/24/19" settles mdy.
    assert _counts(events, rejections) == (20, 20, 0)
    assert [e.kind for e in events].count("system") == 3
    assert {e.date_order for e in events} == {"mdy:inferred"}
    assert events[3].locator == "line:5-10"
    assert events[3].text.count("\n") == 5
    by_line = {e.locator: e for e in events}
    assert by_line["line:15"].timestamp_utc == datetime(2019, 9, 24, 22, 30, tzinfo=UTC)
    assert by_line["line:16"].timestamp_utc == datetime(2019, 9, 24, 10, 30, tzinfo=UTC)
    assert by_line["line:20"].timestamp_source == "09-10-2022 10:37:00 p.m."
    assert by_line["line:20"].timestamp_utc == datetime(2022, 9, 10, 21, 37, tzinfo=UTC)
    assert by_line["line:24"].timestamp_source == "09/10/22, 10:37 p.\u00a0m."
    assert by_line["line:26"].sender == "name:whatsapp:\U0001f913"
    # The log is deliberately out of order: the lines going back in time are flagged.
    flagged = [e.locator for e in events if "timestamp_out_of_order" in e.flags]
    assert flagged == ["line:11", "line:12", "line:16", "line:21"]
    phone = by_line["line:14"]
    assert (phone.sender, phone.flags) == ("whatsapp:+12 345 578", ("sender_unparsed_number",))


# --- committed inputs -----------------------------------------------------------------

def test_android_english_group(data_dir):
    path = _data(data_dir, "WhatsApp Chat with Friday Group.txt")
    assert sniff(path.read_bytes(), path.name)
    events, rejections = run_parser(PARSER, path)
    # 16 lines: 11 headers, 3 continuation lines, 2 blank lines.
    assert _counts(events, rejections) == (11, 11, 0)
    event = events[3]
    assert event.locator == "line:4-7"  # trailing blank line 8 is not part of it
    assert event.part == 0
    assert event.kind == "chat_message"
    assert event.timestamp_utc == datetime(2024, 1, 13, 18, 45, tzinfo=UTC)
    assert event.timestamp_source == "13/01/2024, 18:45"
    assert event.tz_basis == "assumed:Europe/London"
    assert event.tz_flag == "ok"
    assert event.date_order == "dmy:inferred"
    assert event.end_utc is None and event.duration_s is None
    assert event.direction == "unknown"
    assert event.sender == "name:whatsapp:Alex Smith"
    assert event.sender_name == "Alex Smith"
    assert event.recipients == ()
    assert event.channel == "whatsapp"
    assert event.thread == "Friday Group"
    assert event.text == "I saw you at the station.\n\nI know where you were.\nReply."
    assert event.attachments == ()
    assert event.status is None
    assert event.deleted == "unknown"
    assert event.flags == ()
    assert event.extra == {"time_precision": "minute"}
    by_line = {e.locator.split("-")[0]: e for e in events}
    assert by_line["line:1"].kind == "system" and by_line["line:1"].direction == "none"
    assert by_line["line:3"].sender == "whatsapp:+447700900123"
    assert by_line["line:3"].sender_name == "\u202a+44 7700 900123\u202c"
    assert by_line["line:3"].text == "Who is this: new number?"
    assert by_line["line:9"].attachments == ("<Media omitted>",)
    assert by_line["line:9"].text == "<Media omitted>"
    assert by_line["line:10"].locator == "line:10-11"
    assert by_line["line:10"].attachments == ("IMG-20240113-WA0003.jpg",)
    assert by_line["line:12"].status == "deleted_message"
    assert by_line["line:13"].status == "deleted_message"
    assert by_line["line:14"].status == "edited"
    assert by_line["line:15"].kind == "system" and by_line["line:15"].sender is None
    assert by_line["line:16"].kind == "system"  # the quoted subject holds ": "
    assert by_line["line:16"].text == 'Alex Smith changed the subject to "Plans: Friday"'


def test_ios_12h_narrow_space_and_marks(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "ios_12h_chat.txt"))
    assert _counts(events, rejections) == (9, 9, 0)
    notice = events[0]
    assert (notice.kind, notice.sender, notice.sender_name) == ("system", None, None)
    assert notice.extra == {"time_precision": "second", "shown_as": "Friday Group"}
    assert events[1].kind == "system"
    photo = events[3]
    assert photo.timestamp_source == f"1/29/24, 9:07:03{NNBSP}PM"
    assert photo.timestamp_utc == datetime(2024, 1, 29, 21, 7, 3, tzinfo=UTC)
    assert photo.date_order == "mdy:inferred"
    assert photo.attachments == ("00000012-PHOTO-2024-01-29-21-07-03.jpg",)
    assert photo.text == f"{LRM}<attached: 00000012-PHOTO-2024-01-29-21-07-03.jpg>"
    omitted = events[4]  # U+200E before the bracket, bidi marks around the number
    assert omitted.locator == "line:5"
    assert omitted.sender == "whatsapp:+447700900123"
    assert omitted.attachments == ("image omitted",)
    assert events[5].status == "deleted_message"
    assert events[6].timestamp_utc == datetime(2024, 1, 30, 0, 5, tzinfo=UTC)  # 12:05 AM
    assert events[7].timestamp_utc == datetime(2024, 1, 30, 12, 25, 3, tzinfo=UTC)  # 12:25 PM
    assert events[8].flags == ("timestamp_out_of_order",)


@pytest.mark.parametrize(
    ("name", "first_utc", "expected"),
    [
        ("WhatsApp Chat mit Oma.txt", datetime(2018, 1, 29, 12, 24, tzinfo=UTC), [
            ("system", None, (), None),
            ("chat_message", "name:whatsapp:Jörg Müller", (), None),
            ("chat_message", "name:whatsapp:Jörg Müller", ("<Medien ausgeschlossen>",), None),
            ("chat_message", "name:whatsapp:Jörg Müller", (), "deleted_message"),
            ("chat_message", "name:whatsapp:Oma", (), "deleted_message"),
            ("chat_message", "name:whatsapp:Jörg Müller", ("IMG-20180129-WA0002.jpg",), None),
            ("system", None, (), None),
            ("chat_message", "name:whatsapp:Oma", (), "edited"),
        ]),
        ("german_ios_chat.txt", datetime(2018, 1, 29, 12, 24, 3, tzinfo=UTC), [
            ("system", None, (), None),
            ("chat_message", "name:whatsapp:Oma", ("Bild weggelassen",), None),
            ("chat_message", "name:whatsapp:Oma", ("00000013-PHOTO-2018-01-29-12-25-00.jpg",),
             None),
            ("chat_message", "name:whatsapp:Jörg", (), "deleted_message"),
        ]),
    ],
    ids=["german-android", "german-ios"],
)
def test_german_placeholders(data_dir, name, first_utc, expected):
    events, rejections = run_parser(PARSER, _data(data_dir, name))
    assert _counts(events, rejections) == (len(expected), len(expected), 0)
    assert [(e.kind, e.sender, e.attachments, e.status) for e in events] == expected
    assert events[0].timestamp_utc == first_utc
    assert {e.date_order for e in events} == {"dmy:inferred"}
    if name.startswith("WhatsApp Chat mit"):
        assert {e.thread for e in events} == {"Oma"}


def test_bom_crlf_and_stray_marks(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "bom_crlf.txt"))
    assert _counts(events, rejections) == (4, 4, 0)
    assert [e.locator for e in events] == ["line:1", "line:2-3", "line:4", "line:5"]
    assert events[0].timestamp_source == "05/02/2024, 10:00"
    assert events[1].text == "second message\ncontinued on a second line"
    assert [e.sender_name for e in events] == ["Alex Smith", "Alex Smith", "Sam Jones",
                                               "Sam Jones"]
    assert {e.date_order for e in events} == {"dmy:assumed"}


@pytest.mark.parametrize(
    ("options", "order", "days"),
    [
        (ParseOptions(), "dmy:assumed", [(2, 1), (4, 3), (11, 12)]),
        (ParseOptions(date_order="mdy"), "mdy:forced", [(1, 2), (3, 4), (12, 11)]),
        (ParseOptions(default_date_order="mdy"), "mdy:assumed", [(1, 2), (3, 4), (12, 11)]),
    ],
    ids=["default-dmy", "forced-mdy", "default-mdy"],
)
def test_ambiguous_dates(data_dir, options, order, days):
    events, rejections = run_parser(PARSER, _data(data_dir, "ambiguous_dates.txt"), options)
    assert _counts(events, rejections) == (3, 3, 0)
    assert {e.date_order for e in events} == {order}
    local = [e.timestamp_utc.astimezone(LONDON) for e in events]
    assert [(t.month, t.day) for t in local] == days


@pytest.mark.parametrize(
    "options", [ParseOptions(), ParseOptions(date_order="mdy")], ids=["infer", "forced-agrees"])
def test_mdy_settled_by_the_file(data_dir, options):
    # The file settles month-first (2/13/24).
    events, rejections = run_parser(PARSER, _data(data_dir, "mdy_settling.txt"), options)
    assert _counts(events, rejections) == (4, 4, 0)
    assert {e.date_order for e in events} == {"mdy:forced" if options.date_order else "mdy:inferred"}
    assert [e.timestamp_utc for e in events] == [
        datetime(2024, 2, 3, 21, 5, tzinfo=UTC),
        datetime(2024, 2, 13, 10, 15, tzinfo=UTC),
        datetime(2024, 12, 1, 0, 0, tzinfo=UTC),
        datetime(2024, 12, 1, 12, 30, tzinfo=UTC),
    ]


def test_forced_order_that_contradicts_the_file_is_refused(data_dir):
    with pytest.raises(SourceError, match="contradicts the file"):
        run_parser(PARSER, _data(data_dir, "mdy_settling.txt"), ParseOptions(date_order="dmy"))


@pytest.mark.parametrize(
    ("index", "utc", "flag", "flags"),
    [
        (0, datetime(2024, 3, 31, 0, 59, tzinfo=UTC), "ok", ()),
        (1, datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "nonexistent", ()),
        # 02:00 BST is 01:00Z, before the nonexistent 01:30 read at GMT: flagged, not moved.
        (2, datetime(2024, 3, 31, 1, 0, tzinfo=UTC), "ok", ("timestamp_out_of_order",)),
        (3, datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "ambiguous", ()),
        (4, datetime(2024, 10, 27, 2, 0, tzinfo=UTC), "ok", ()),
    ],
    ids=["before-spring", "nonexistent", "after-spring", "ambiguous", "after-autumn"],
)
def test_dst_changes(data_dir, index, utc, flag, flags):
    events, rejections = run_parser(PARSER, _data(data_dir, "dst_changes.txt"))
    assert _counts(events, rejections) == (5, 5, 0)
    event = events[index]
    assert (event.timestamp_utc, event.tz_flag, event.flags) == (utc, flag, flags)
    assert event.tz_basis == "assumed:Europe/London"


def test_junk_and_bad_headers(data_dir):
    path = _data(data_dir, "junk_and_bad_headers.txt")
    events, rejections = run_parser(PARSER, path)
    assert _counts(events, rejections) == (8, 3, 5)
    assert [e.locator for e in events] == ["line:4", "line:7", "line:8"]
    assert events[2].flags == ("timestamp_out_of_order",)
    junk = ("text before the first message header: not a WhatsApp message line "
            "(expected e.g. '29/01/2018, 12:24 - Name: text')")
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:1", junk),
        ("line:2", junk),
        ("line:5-6", "impossible date '31/02/2020, 09:05' read as dmy: day is out of range "
                     "for month (date order dmy:inferred)"),
        ("line:9", "impossible time '20/02/2020, 25:00': hour must be in 0..23 "
                   "(date order dmy:inferred)"),
        ("line:10", "hour 13 cannot go with an AM/PM marker in '20/02/2020, 13:30 PM' "
                    "(date order dmy:inferred)"),
    ]
    assert rejections[2].raw == ("31/02/2020, 09:05 - Alex Smith: impossible date\n"
                                 "still part of the rejected message")


def test_conflicting_orders_are_not_settled(tmp_path):
    path = tmp_path / "conflict.txt"
    path.write_text("31/01/2024, 10:00 - A: day first\n01/31/2024, 10:00 - A: month first\n",
                    encoding="utf-8")
    events, rejections = run_parser(PARSER, path)
    assert _counts(events, rejections) == (2, 1, 1)
    assert events[0].date_order == "dmy:assumed"
    assert rejections[0].locator == "line:2"
    assert rejections[0].reason.endswith(
        "(date order dmy:assumed); the file has both day-first and month-first headers")


def test_not_whatsapp_and_bad_encoding(tmp_path):
    plain = tmp_path / "notes.txt"
    plain.write_text("just some notes\nno headers here\n", encoding="utf-8")
    with pytest.raises(NotThisFormat):
        list(PARSER.parse(Source.from_path(str(plain)), ParseOptions()))
    broken = tmp_path / "broken.txt"
    broken.write_bytes(b"01/02/2024, 10:00 - A: fine\n01/02/2024, 10:01 - A: caf\xe9\n")
    with pytest.raises(SourceError) as err:
        list(PARSER.parse(Source.from_path(str(broken)), ParseOptions()))
    assert err.value.locator == "line:2"
    assert "not UTF-8" in err.value.reason


# --- the iOS zip ----------------------------------------------------------------------

IOS_CHAT = (
    f"[29/01/2024, 21:05:12] Alex Smith: {LRM}Messages and calls are end-to-end encrypted.\n"
    "[29/01/2024, 21:06:40] Alex Smith: Hi\n"
    "second line\n"
    f"[29/01/2024, 21:07:03] Alex Smith: {LRM}<attached: 00000012-PHOTO-2024-01-29-21-07-03.jpg>\n"
    f"[29/01/2024, 21:08:00] Alex Smith: {LRM}<attached: 00000013-AUDIO-missing.opus>\n"
)
PHOTO = b"\xff\xd8\xff\xe0 not really a jpeg"


def _zip(path, members):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return path


def test_ios_zip(tmp_path):
    path = _zip(tmp_path / "WhatsApp Chat - Alex Smith.zip", [
        ("_chat.txt", IOS_CHAT.encode("utf-8")),
        ("00000012-PHOTO-2024-01-29-21-07-03.jpg", PHOTO),
    ])
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert sniff(path.read_bytes()[:65536], path.name)
    events, rejections = run_parser(PARSER, path)
    assert _counts(events, rejections) == (4, 4, 0)
    assert [e.locator for e in events] == [
        "zip:_chat.txt#line:1", "zip:_chat.txt#line:2-3", "zip:_chat.txt#line:4",
        "zip:_chat.txt#line:5"]
    assert events[0].kind == "system" and events[0].sender is None
    photo = events[2]
    assert photo.thread == "Alex Smith"
    assert photo.tz_flag == "ok" and photo.date_order == "dmy:inferred"
    assert photo.attachments == ("00000012-PHOTO-2024-01-29-21-07-03.jpg",)
    assert photo.extra == {
        "time_precision": "second",
        "attachment_sha256": {
            "00000012-PHOTO-2024-01-29-21-07-03.jpg": hashlib.sha256(PHOTO).hexdigest()},
    }
    assert "attachment_sha256" not in events[3].extra  # named but not in the zip
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # nothing extracted


@pytest.mark.parametrize(
    ("members", "needle"),
    [
        ([("../_chat.txt", b"[29/01/2024, 21:06:40] A: hi\n")], "path traversal"),
        ([("/_chat.txt", b"[29/01/2024, 21:06:40] A: hi\n")], "absolute path"),
        ([("_chat.txt", b"[29/01/2024, 21:06:40] A: hi\n"),
          ("x/_chat.txt", b"[29/01/2024, 21:06:40] A: hi\n")], "2 members named _chat.txt"),
        ([("_chat.txt", b"[29/01/2024, 21:06:40] A: hi\n" + b"\n" * (4 << 20))],
         "compression ratio"),
    ],
    ids=["zip-slip", "absolute", "duplicate", "bomb-ratio"],
)
def test_unsafe_chat_member(tmp_path, members, needle):
    path = _zip(tmp_path / "WhatsApp Chat - X.zip", members)
    with pytest.raises(SourceError) as err:
        list(PARSER.parse(Source.from_path(str(path)), ParseOptions()))
    assert needle in err.value.reason


def test_zip_slip_attachment_is_not_hashed(tmp_path):
    chat = f"[29/01/2024, 21:07:03] A: {LRM}<attached: ../../evil.jpg>\n"
    path = _zip(tmp_path / "WhatsApp Chat - X.zip", [
        ("_chat.txt", chat.encode("utf-8")), ("../../evil.jpg", PHOTO)])
    events, rejections = run_parser(PARSER, path)
    assert _counts(events, rejections) == (1, 1, 0)
    event = events[0]
    assert event.attachments == ("../../evil.jpg",)
    assert "attachment_sha256" not in event.extra
    assert "path traversal" in event.extra["attachment_not_hashed"]["../../evil.jpg"]
    assert event.flags == ("attachment_not_hashed",)


def test_zip_without_chat_is_not_this_format(tmp_path):
    path = _zip(tmp_path / "photos.zip", [("a.jpg", PHOTO)])
    assert not sniff(path.read_bytes(), path.name)
    with pytest.raises(NotThisFormat):
        list(PARSER.parse(Source.from_path(str(path)), ParseOptions()))


# --- sniff ----------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (b"", "x.txt", False),
        (b"29/01/2018, 12:24 - Jo: hi\n", "x.txt", True),
        (f"{LRM}[1/29/24, 12:24:03{NNBSP}PM] Jo: hi\n".encode(), "_chat.txt", True),
        (b"\xef\xbb\xbf29.01.18, 12:24 - Jo: hi\n", "x.txt", True),
        (b"[2019-12-24, 12:23] Jane Doe: Hello John!\n", "signal.txt", False),
        (b"[2019-12-24, 12:23:45] Jane Doe: Hello John!\n", "_chat.txt", True),
        (b"date,time,name\n29/01/2018,12:24,Jo\n", "x.csv", False),
        (b"just text\n29/01/2018, 12:24 - Jo: hi\n", "notes.txt", False),
        (b"just text\n29/01/2018, 12:24 - Jo: hi\n", "WhatsApp Chat with Jo.txt", True),
        (b"<?xml version='1.0'?><gpx/>", "a.gpx", False),
        (b"\xff\xfe2\x009\x00", "x.txt", False),
    ],
    ids=["empty", "android", "ios-12h", "bom", "signal", "ios-ymd", "csv", "junk-first",
         "junk-first-named", "xml", "utf16"],
)
def test_sniff(head, filename, expected):
    assert sniff(head, filename) is expected


def test_sniff_rejects_other_parsers_inputs(data_dir):
    own = data_dir / "parsers" / "whatsapp_txt"
    others = [p for p in (data_dir / "parsers").rglob("*")
              if p.is_file() and own not in p.parents]
    matched = [str(p) for p in others if sniff(p.read_bytes()[:65536], p.name)]
    assert matched == []


def test_damaged_chat_member_is_a_source_error(tmp_path):
    path = tmp_path / "WhatsApp Chat - X.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("_chat.txt", "[29/01/2024, 21:06:40] A: hi\n[29/01/2024, 21:06:41] A: yo\n")
    data = bytearray(path.read_bytes())
    at = data.index(b"yo")
    data[at:at + 2] = b"YO"  # same length, wrong CRC
    path.write_bytes(bytes(data))
    with pytest.raises(SourceError) as err:
        list(PARSER.parse(Source.from_path(str(path)), ParseOptions()))
    assert err.value.locator is None  # the CRC covers the whole member, not one line
    assert err.value.reason.startswith("zip member '_chat.txt' is damaged")
    assert "CRC" in err.value.reason


@pytest.mark.parametrize(
    ("zone", "start"),
    [
        ("Europe/London", datetime(2024, 3, 30, 12)),  # noqa: DTZ001 - wall-clock input
        ("Europe/London", datetime(2024, 10, 26, 12)),  # noqa: DTZ001
        ("Australia/Lord_Howe", datetime(2024, 4, 6, 12)),  # noqa: DTZ001 - 30-minute change
        ("America/St_Johns", datetime(2024, 11, 2, 12)),  # noqa: DTZ001
    ],
    ids=["london-spring", "london-autumn", "lord-howe", "st-johns"],
)
def test_hour_clock_agrees_with_from_local(zone, start):
    # The parser reuses the offset of hours with no clock change; it must give exactly
    # what timeparse.from_local gives, flags included, around every kind of change.
    clock = HourClock(zone)
    for step in range(0, 48 * 60, 7):
        naive = start + timedelta(minutes=step, seconds=step % 60)
        assert clock.convert(naive) == from_local(naive, zone), naive
