"""Tests for the victim's incident diary parser (text, CSV, Word, Excel)."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.diary import PARSER, sniff
from tests.parsing_helpers import run_parser


def _data(data_dir, name):
    path = data_dir / "parsers" / "diary" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


def _utc(*parts):
    return datetime(*parts, tzinfo=UTC)


def _write(tmp_path, text, name="incident_diary.txt", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# ---------------------------------------------------------------- plain text


def test_txt_counts_and_representative_event(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "incident_diary.txt"))
    assert (len(events) + len(rejections), len(events), len(rejections)) == (13, 11, 2)
    event = events[0]
    assert event.locator == "line:4-7"
    assert event.kind == "note"
    assert event.timestamp_utc == _utc(2023, 10, 2, 6, 45)
    assert event.timestamp_source == "Mon 2 Oct - 7.45am"
    assert event.tz_basis == "assumed:Europe/London"
    assert event.tz_flag == "ok"
    assert event.date_order is None
    assert event.end_utc is None
    assert event.direction == "none"
    assert event.sender is None
    assert event.recipients == ()
    assert event.channel == "diary"
    assert event.text == (
        "Mon 2 Oct - 7.45am he was at the bus stop opposite my house when I left for work.\n"
        "He didn't say anything, just stared.\n\n"
        "He was still there when I looked out of the window later.")
    assert event.flags == ("year_inferred",)
    assert event.extra == {"time_precision": "minute",
                           "year_from": {"date": "2023-09-01", "from": "diary_header"}}
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:17", "date 'the other day' cannot be resolved to a day"),
        ("line:19", "date '31/02' is not a real date (day 31, month 2)"),
    ]
    assert rejections[0].raw.startswith("the other day his sister")


@pytest.mark.parametrize(
    ("locator", "source", "start", "end", "precision", "flags"),
    [
        pytest.param("line:9", "Tues 3rd Oct about 9pm", _utc(2023, 10, 3, 20),
                     _utc(2023, 10, 3, 21), "hour", ("approximate", "year_inferred"),
                     id="weekday-ordinal-about-9pm"),
        pytest.param("line:11", "03/10", _utc(2023, 10, 2, 23), _utc(2023, 10, 3, 23), "day",
                     ("year_inferred",), id="numeric-no-year-day-only"),
        pytest.param("line:12", "Thurs 5/10/23 21:40", _utc(2023, 10, 5, 20, 40), None, "minute",
                     (), id="numeric-with-time"),
        pytest.param("line:13", "yesterday evening", _utc(2023, 10, 4, 17), _utc(2023, 10, 4, 21),
                     "part_of_day", ("relative_to_previous_entry", "timestamp_out_of_order"),
                     id="yesterday-evening-previous-entry"),
        pytest.param("line:14", "Mon 9 Oct - Sunday night", _utc(2023, 10, 8, 21),
                     _utc(2023, 10, 9, 5), "part_of_day", ("relative_to_own_date", "year_inferred"),
                     id="sunday-night-own-date"),
        pytest.param("line:15", "last Friday around 6", _utc(2023, 10, 6, 5), _utc(2023, 10, 6, 6),
                     "hour", ("am_pm_unstated", "approximate", "relative_to_previous_entry",
                              "timestamp_out_of_order"), id="last-friday-around-6"),
        pytest.param("line:16", "Fri 14th Oct about 8.30pm", _utc(2023, 10, 14, 19, 30), None,
                     "minute", ("approximate", "weekday_mismatch", "year_inferred"),
                     id="weekday-mismatch"),
        pytest.param("line:18", "Sun 15 Oct 9-10pm", _utc(2023, 10, 15, 20),
                     _utc(2023, 10, 15, 21), "hour", ("year_inferred",), id="hour-range"),
        pytest.param("line:20", "Sat 28 Oct lunchtime", _utc(2023, 10, 28, 11),
                     _utc(2023, 10, 28, 13), "part_of_day", ("year_inferred",), id="lunchtime"),
    ],
)
def test_txt_date_styles(data_dir, locator, source, start, end, precision, flags):
    events, _ = run_parser(PARSER, _data(data_dir, "incident_diary.txt"))
    event = next(e for e in events if e.locator == locator)
    assert event.timestamp_source == source
    assert event.timestamp_utc == start
    assert event.end_utc == end
    assert event.extra["time_precision"] == precision
    assert event.flags == flags


def test_txt_relative_anchor_recorded(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "incident_diary.txt"))
    by_line = {e.locator: e for e in events}
    assert by_line["line:13"].extra["relative_to"] == {"date": "2023-10-05",
                                                       "from": "previous_entry"}
    assert by_line["line:14"].extra["relative_to"] == {"date": "2023-10-09", "from": "own_date"}
    assert by_line["line:14"].extra["written_date"] == "2023-10-09"
    assert by_line["line:16"].extra["written_weekday"] == "Fri"


def test_txt_dst_fall_back_is_ambiguous(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "incident_diary.txt"))
    event = events[-1]
    assert (event.locator, event.timestamp_source) == ("line:21", "Sun 29/10/23 1.30am")
    assert event.tz_flag == "ambiguous"
    assert event.timestamp_utc == _utc(2023, 10, 29, 0, 30)  # the earlier (BST) reading
    assert event.date_order == "dmy:assumed"


@pytest.mark.parametrize(
    ("entry", "start", "end", "precision", "flags", "tz_flag"),
    [
        pytest.param("27/10/24 1.30am", _utc(2024, 10, 27, 0, 30), None, "minute", (), "ambiguous",
                     id="dst-ambiguous-27-10-24"),
        pytest.param("31/03/24 1.30am", _utc(2024, 3, 31, 1, 30), None, "minute", (),
                     "nonexistent", id="dst-nonexistent"),
        pytest.param("3/10/24 9.15pm", _utc(2024, 10, 3, 20, 15), None, "minute", (), "ok",
                     id="dot-minutes-pm"),
        pytest.param("3/10/24 9ish", _utc(2024, 10, 3, 8), _utc(2024, 10, 3, 9), "hour",
                     ("am_pm_unstated", "approximate"), "ok", id="ish"),
        pytest.param("3/10/24 evening", _utc(2024, 10, 3, 17), _utc(2024, 10, 3, 21),
                     "part_of_day", (), "ok", id="evening-18-22"),
        pytest.param("3/10/24 night", _utc(2024, 10, 3, 21), _utc(2024, 10, 4, 5), "part_of_day",
                     (), "ok", id="night-crosses-midnight"),
        pytest.param("3/10/24 in the morning", _utc(2024, 10, 3, 5), _utc(2024, 10, 3, 11),
                     "part_of_day", (), "ok", id="morning-06-12"),
        pytest.param("3/10/24 afternoon", _utc(2024, 10, 3, 11), _utc(2024, 10, 3, 17),
                     "part_of_day", (), "ok", id="afternoon-12-18"),
        pytest.param("3/10/24 night about 2", _utc(2024, 10, 4, 1), _utc(2024, 10, 4, 2), "hour",
                     ("approximate",), "ok", id="night-small-hours-next-day"),
        pytest.param("Thursday 3 October 2024 evening around 9", _utc(2024, 10, 3, 20),
                     _utc(2024, 10, 3, 21), "hour", ("approximate",), "ok",
                     id="part-of-day-settles-pm"),
        pytest.param("2024-10-03 noon", _utc(2024, 10, 3, 11), _utc(2024, 10, 3, 12), "hour", (),
                     "ok", id="iso-noon"),
        pytest.param("3 Jan 2025 - yesterday", _utc(2025, 1, 2), _utc(2025, 1, 3), "day",
                     ("relative_to_own_date",), "ok", id="relative-to-own-date-gmt"),
    ],
)
def test_precision_and_windows(tmp_path, entry, start, end, precision, flags, tz_flag):
    path = _write(tmp_path, f"Incident diary\n{entry} - he was outside.\n")
    events, rejections = run_parser(PARSER, path)
    assert (len(events), len(rejections)) == (1, 0)
    event = events[0]
    assert event.timestamp_source == entry
    assert event.locator == "line:2"
    assert (event.timestamp_utc, event.end_utc) == (start, end)
    assert event.extra["time_precision"] == precision
    assert event.flags == flags
    assert event.tz_flag == tz_flag


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("Diary kept by J Smith from 2 September 2024\n\n"
                     "yesterday evening he rang.\n3/9/24 he rang again.\n",
                     ("event", _utc(2024, 9, 1, 17),
                      ("outside_stated_dates", "relative_to_diary_header")),
                     id="relative-to-stated-start"),
        pytest.param("yesterday evening he rang.\n3/9/24 he rang again.\n",
                     ("rejection", "date 'yesterday evening' is relative, and there is no earlier "
                      "dated entry or stated diary start date to count it from"),
                     id="relative-without-anchor"),
        pytest.param("03/10 - texts all night.\n3/10/24 he rang again.\n",
                     ("rejection", "date '03/10' has no year, and no earlier entry or stated "
                      "diary dates give one"), id="year-less-without-context"),
        pytest.param("Diary from 1 December 2024 to 31 January 2025\n28/12/24 rang\n2 Jan - card\n",
                     None, id="year-rolls-forward"),
        pytest.param("3/10/24 rang\nlast week he posted about me\n", None,
                     id="vague-last-week"),
    ],
)
def test_anchors_and_unresolvable(tmp_path, text, expected):
    events, rejections = run_parser(PARSER, _write(tmp_path, text))
    if expected is None:
        _check_special(text, events, rejections)
        return
    first_line = 3 if text.startswith("Diary") else 1
    if expected[0] == "event":
        event = events[0]
        assert event.locator == f"line:{first_line}"
        assert (event.timestamp_utc, event.flags) == expected[1:]
        assert event.extra["relative_to"] == {"date": "2024-09-02", "from": "diary_header"}
    else:
        assert [(r.locator, r.reason) for r in rejections] == [(f"line:{first_line}", expected[1])]
        assert len(events) == 1


def _check_special(text, events, rejections):
    if "2 Jan" in text:
        assert [e.timestamp_utc.date() for e in events] == [date(2024, 12, 28), date(2025, 1, 2)]
        assert events[1].extra["year_from"] == {"date": "2024-12-28", "from": "previous_entry"}
    else:
        assert [(r.locator, r.reason) for r in rejections] == [
            ("line:2", "date 'last week' cannot be resolved to a day")]


def test_header_limit_and_blank_lines(tmp_path):
    header = "".join(f"preamble {n}\n" for n in range(1, 22))
    path = _write(tmp_path, header + "\n3/10/24 21:40 he rang\n\n\n4/10/24 he rang\n\n")
    events, rejections = run_parser(PARSER, path)
    assert (len(events), len(rejections)) == (2, 1)
    assert (rejections[0].locator, rejections[0].reason) == (
        "line:21", "text before the first dated entry, beyond the 20-line header")
    assert [e.locator for e in events] == ["line:23", "line:26"]


def test_month_first_option(tmp_path):
    path = _write(tmp_path, "10/3/24 9pm he rang\n")
    events, _ = run_parser(PARSER, path, ParseOptions(date_order="mdy"))
    assert events[0].timestamp_utc == _utc(2024, 10, 3, 20)
    assert events[0].date_order == "mdy:assumed"


def test_windows_1252_text(tmp_path):
    path = _write(tmp_path, "3/10/24 he said I owe him £50\n", encoding="cp1252")
    events, _ = run_parser(PARSER, path)
    assert events[0].text == "3/10/24 he said I owe him £50"


def test_not_a_diary_text(tmp_path):
    path = _write(tmp_path, "Shopping list\nmilk\neggs\n")
    with pytest.raises(NotThisFormat):
        list(PARSER.parse(Source.from_path(str(path)), ParseOptions()))


def test_speed_many_entries(tmp_path):
    styles = ["Tues 3rd Oct about 9pm", "yesterday evening", "03/10", "3/10/24 21:40",
              "Sunday night", "last Friday around 6", "Mon 2 Oct - 7.45am"]
    body = "".join(f"{styles[n % len(styles)]} - entry {n}\nmore\n\n" for n in range(3000))
    path = _write(tmp_path, "Diary kept from 1 September 2024\n" + body)
    started = clock.perf_counter()
    events, rejections = run_parser(PARSER, path)
    assert len(events) + len(rejections) == 3000
    assert clock.perf_counter() - started < 20


# ---------------------------------------------------------------- CSV


def test_csv_counts_and_representative_row(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "incident_diary.csv"))
    assert (len(events) + len(rejections), len(events), len(rejections)) == (8, 6, 2)
    event = events[0]
    assert event.locator == "line:3"
    assert event.kind == "note"
    assert event.timestamp_utc == _utc(2024, 10, 3, 20, 40)
    assert event.timestamp_source == "3/10/24 21:40"
    assert event.tz_basis == "assumed:Europe/London"
    assert event.tz_flag == "ok"
    assert event.date_order == "dmy:assumed"
    assert event.end_utc is None
    assert event.direction == "none"
    assert event.sender is None
    assert event.channel == "diary"
    assert event.text == "Saw his car parked at the end of the road"
    assert event.flags == ()
    assert event.extra == {"columns": {"Location": "Elm Street", "Reported to police?": "No"},
                           "time_precision": "minute"}
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:7", "the 'Date' cell is empty"),
        ("line:8", "date 'last week' cannot be resolved to a day"),
    ]


@pytest.mark.parametrize(
    ("locator", "check"),
    [
        pytest.param("line:4", {"timestamp_source": "Sunday night",
                                "timestamp_utc": _utc(2024, 9, 29, 21),
                                "end_utc": _utc(2024, 9, 30, 5)}, id="relative-weekday-night"),
        pytest.param("line:5", {"flags": ("time_cell_unread",),
                                "timestamp_utc": _utc(2024, 10, 9, 23)},
                     id="unreadable-time-cell-keeps-day"),
        pytest.param("line:6", {"timestamp_source": "14/10 evening", "flags": ("year_inferred",)},
                     id="year-less-with-part-of-day"),
        pytest.param("line:9", {"tz_flag": "ambiguous", "timestamp_utc": _utc(2024, 10, 27, 0, 30)},
                     id="dst-ambiguous"),
        pytest.param("line:10-11", {"flags": ("am_pm_unstated", "approximate"),
                                    "text": "He was outside the school gates.\r\n"
                                            "He said \"I only want to see the kids\"."},
                     id="multi-line-cell"),
    ],
)
def test_csv_awkward_rows(data_dir, locator, check):
    events, _ = run_parser(PARSER, _data(data_dir, "incident_diary.csv"))
    event = next(e for e in events if e.locator == locator)
    for name, value in check.items():
        assert getattr(event, name) == value, name


def test_csv_without_header_is_not_this_format(tmp_path):
    path = _write(tmp_path, "a,b,c\n1,2,3\n", name="incident_diary.csv")
    with pytest.raises(NotThisFormat):
        list(PARSER.parse(Source.from_path(str(path)), ParseOptions()))


# ---------------------------------------------------------------- Word


def _docx(path):
    import docx

    document = docx.Document()
    document.add_heading("Incident diary", level=0)  # 0: header
    document.add_paragraph("Diary kept by Jane Smith from 1 September 2023.")  # 1: header
    document.add_heading("Tuesday 3rd October", level=2)  # 2
    document.add_paragraph("About 9pm he knocked on the door.")  # 3
    document.add_paragraph("")  # 4
    document.add_paragraph("He shouted through the letterbox.")  # 5
    document.add_paragraph("Mon 2 Oct - 7.45am he was at the bus stop.")  # 6
    document.add_heading("Week 2", level=2)  # 7
    table = document.add_table(rows=1, cols=4)
    for cell, text in zip(table.rows[0].cells, ["Date", "Time", "What happened", "Witnesses"],
                          strict=True):
        cell.text = text
    for row in [("Sunday", "night", "He rang 14 times", ""),
                ("12/10", "about 6pm", "Followed me", "Sam"), ("", "", "no date here", "")]:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    document.add_paragraph("yesterday evening he sent flowers.")  # 8
    document.add_paragraph("27/10/24 1.30am doorbell camera.")  # 9
    document.save(path)
    return path


def test_docx_entries(tmp_path):
    path = _docx(tmp_path / "Incident Diary.docx")
    assert sniff(path.read_bytes()[:65536], path.name)
    events, rejections = run_parser(PARSER, path)
    assert (len(events) + len(rejections), len(events), len(rejections)) == (8, 6, 2)
    event = events[0]
    assert event.locator == "json:/paragraphs/2-5"
    assert event.timestamp_source == "Tuesday 3rd October"
    assert event.timestamp_utc == _utc(2023, 10, 2, 23)
    assert event.end_utc == _utc(2023, 10, 3, 23)
    assert event.tz_flag == "ok"
    assert event.text == ("Tuesday 3rd October\nAbout 9pm he knocked on the door.\n\n"
                          "He shouted through the letterbox.")
    assert event.extra["time_precision"] == "day"
    assert [e.locator for e in events] == [
        "json:/paragraphs/2-5", "json:/paragraphs/6", "json:/tables/0/rows/1",
        "json:/tables/0/rows/2", "json:/paragraphs/8", "json:/paragraphs/9"]
    assert events[2].timestamp_utc == _utc(2023, 10, 1, 21)  # Sunday before Mon 2 Oct
    assert events[3].extra["columns"] == {"Witnesses": "Sam"}
    assert events[4].timestamp_utc == _utc(2023, 10, 11, 17)
    assert events[5].tz_flag == "ambiguous"
    assert [(r.locator, r.reason) for r in rejections] == [
        ("json:/paragraphs/7", "heading 'Week 2' does not start with a date"),
        ("json:/tables/0/rows/3", "the 'Date' cell is empty"),
    ]


def test_corrupt_docx_is_source_error(tmp_path):
    path = _docx(tmp_path / "diary.docx")
    broken = tmp_path / "broken diary.docx"
    broken.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(SourceError):
        list(PARSER.parse(Source.from_path(str(broken)), ParseOptions()))


# ---------------------------------------------------------------- Excel


def _xlsx(path):
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Log"
    sheet.append(["Diary kept by Jane Smith from 1 September 2024"])
    sheet.append([])
    sheet.append(["DATE", "Time", "What happened?", "Location"])
    sheet.append([datetime(2024, 10, 3), time(21, 40), "Saw his car", "Elm St"])  # noqa: DTZ001
    sheet.append([datetime(2024, 10, 27, 1, 30), None, "Doorbell camera", "Home"])  # noqa: DTZ001
    sheet.append(["Tues 3rd Oct", "about 9pm", "Knocked on door", None])
    sheet.append(["the other day", None, "Sister messaged", None])
    notes = workbook.create_sheet("Notes")
    notes.append(["Some notes"])
    workbook.save(path)
    return path


def test_xlsx_entries(tmp_path):
    path = _xlsx(tmp_path / "incident diary.xlsx")
    assert sniff(path.read_bytes()[:65536], path.name)
    events, rejections = run_parser(PARSER, path)
    assert (len(events) + len(rejections), len(events), len(rejections)) == (5, 3, 2)
    event = events[0]
    assert event.locator == "xlsx:Log!row=4"
    assert event.timestamp_source == "2024-10-03 21:40"
    assert event.timestamp_utc == _utc(2024, 10, 3, 20, 40)
    assert event.tz_flag == "ok"
    assert event.date_order is None  # a typed date cell has no written order
    assert event.text == "Saw his car"
    assert event.extra == {"columns": {"Location": "Elm St"}, "time_precision": "minute"}
    assert (events[1].tz_flag, events[1].timestamp_utc) == ("ambiguous", _utc(2024, 10, 27, 0, 30))
    assert events[2].flags == ("approximate", "timestamp_out_of_order", "weekday_mismatch",
                               "year_inferred")
    assert [(r.locator, r.reason) for r in rejections] == [
        ("xlsx:Log!row=7", "date 'the other day' cannot be resolved to a day"),
        ("xlsx:Notes!row=1", "row of sheet 'Notes', which has no header row naming a Date and a "
                             "What happened/Description column"),
    ]


# ---------------------------------------------------------------- sniff


@pytest.mark.parametrize(
    ("head", "name", "expected"),
    [
        pytest.param(b"", "", False, id="empty"),
        pytest.param(b"Diary\n3/10/24 21:40 he rang\n", "incident_diary.txt", True, id="txt-diary"),
        pytest.param(b"3/10/24 21:40 he rang\n", "Incident Log.txt", True, id="txt-incident-log"),
        pytest.param(b"3/10/24 21:40 he rang\n", "notes.txt", False, id="txt-other-name"),
        pytest.param(b"Dear diary, nothing dated here\n", "diary.txt", False, id="txt-undated"),
        pytest.param(b"03/10/2023, 21:40 - Jane: hi\n", "diary.txt", False,
                     id="whatsapp-named-diary"),
        pytest.param(b"Date,Time,What happened\n3/10/24,21:40,rang\n", "diary.csv", True,
                     id="csv-header"),
        pytest.param(b'"Date","Details"\n', "Incident report.csv", True, id="csv-quoted-header"),
        pytest.param(b"Date,Time,What happened\n", "calls.csv", False, id="csv-other-name"),
        pytest.param(b"a,b\n1,2\n", "diary.csv", False, id="csv-no-header"),
        pytest.param(b"PK\x03\x04....word/document.xml", "diary.docx", True, id="docx"),
        pytest.param(b"PK\x03\x04....xl/workbook.xml", "report.xlsx", False, id="xlsx-other-name"),
    ],
)
def test_sniff(head, name, expected):
    assert sniff(head, name) is expected


# ---------------------------------------------------------------- every style, every container

STYLES = [
    ("Mon 2 Oct - 7.45am", _utc(2023, 10, 2, 6, 45), "minute"),
    ("Tues 3rd Oct about 9pm", _utc(2023, 10, 3, 20), "hour"),
    ("03/10", _utc(2023, 10, 2, 23), "day"),
    ("3/10/23 21:40", _utc(2023, 10, 3, 20, 40), "minute"),
    ("yesterday evening", _utc(2023, 10, 2, 17), "part_of_day"),  # from 3 Oct
    ("Sunday night", _utc(2023, 10, 1, 21), "part_of_day"),  # from Mon 2 Oct
    ("last Friday around 6", _utc(2023, 9, 29, 5), "hour"),  # from Sun 1 Oct
]
HEADER = "Diary kept by Jane Smith from 1 September 2023"


def _style_file(tmp_path, container):
    if container == "txt":
        text = HEADER + "\n\n" + "".join(f"{s} - entry {n}\n" for n, (s, _, _) in enumerate(STYLES))
        return _write(tmp_path, text)
    if container == "csv":
        rows = "".join(f'"{s}",,entry {n}\n' for n, (s, _, _) in enumerate(STYLES))
        return _write(tmp_path, f"{HEADER}\nDate,Time,Details\n{rows}", name="incident diary.csv")
    if container == "docx":
        import docx

        document = docx.Document()
        document.add_paragraph(HEADER)
        for n, (style, _, _) in enumerate(STYLES):
            document.add_paragraph(f"{style} - entry {n}")
        path = tmp_path / "diary.docx"
        document.save(path)
        return path
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append([HEADER])
    workbook.active.append(["Date", "Time", "Description"])
    for n, (style, _, _) in enumerate(STYLES):
        workbook.active.append([style, None, f"entry {n}"])
    path = tmp_path / "diary.xlsx"
    workbook.save(path)
    return path


@pytest.mark.parametrize("container", ["txt", "csv", "docx", "xlsx"])
def test_every_style_in_every_container(tmp_path, container):
    events, rejections = run_parser(PARSER, _style_file(tmp_path, container))
    assert (len(events), len(rejections)) == (len(STYLES), 0)
    got = [(e.timestamp_source, e.timestamp_utc, e.extra["time_precision"]) for e in events]
    assert got == STYLES
    assert all(e.text.endswith(f"entry {n}") for n, e in enumerate(events))
