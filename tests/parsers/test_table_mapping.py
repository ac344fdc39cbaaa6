"""Tests for parsers/table_mapping.py: any CSV/XLSX table through a TOML mapping."""

from __future__ import annotations

import copy
import re
import tomllib
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest

from atlas.errors import SourceError, UsageError
from atlas.parsing import ParseOptions
from parsers._table_mapping_config import load
from parsers.table_mapping import PARSER, sniff
from tests.parsing_helpers import run_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def tm_dir(data_dir: Path) -> Path:
    return data_dir / "parsers" / "table_mapping"


def _opts(tm_dir: Path, name: str, **kw) -> ParseOptions:
    with open(tm_dir / name, "rb") as fh:
        return ParseOptions(mapping=tomllib.load(fh), mapping_path=name, **kw)


def _run(tm_dir: Path, data: str, mapping: str, **kw):
    return run_parser(PARSER, tm_dir / data, _opts(tm_dir, mapping, **kw))


# --- CSV: BOM, semicolons, preamble, multi-line cell, DST, bad rows -------------------------


def test_calls_counts_and_first_event(tm_dir):
    events, rej = _run(tm_dir, "calls_semicolon_bom.csv", "calls_semicolon_bom.mapping.toml")
    assert (len(events) + len(rej), len(events), len(rej)) == (11, 5, 6)
    e = events[0]
    assert e.locator == "line:4"  # BOM and two preamble lines before the header on line 3
    assert e.kind == "call"
    assert e.timestamp_utc == datetime(2024, 7, 1, 11, 0, tzinfo=UTC)
    assert e.timestamp_source == "01/07/2024 12:00:00"
    assert e.tz_basis == "assumed:Europe/London"
    assert e.tz_flag == "ok"
    assert e.date_order == "dmy:assumed"
    assert e.duration_s == 83.0  # 0:01:23
    assert e.direction == "outgoing"
    assert e.sender == "tel:+447700900123"
    assert e.sender_name is None
    assert e.recipients == ("tel:+447700900456",)
    assert e.channel == "cellular"
    assert e.text is None
    assert e.cell_id == "234-10-1234-5678"
    assert e.latitude is None and e.location_method is None
    assert e.deleted == "unknown"
    assert e.flags == ()
    assert e.extra == {"IMEI": "356938035643809"}


@pytest.mark.parametrize(
    ("index", "locator", "utc", "flag"),
    [
        (1, "line:5", datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "ambiguous"),
        (2, "line:6", datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "nonexistent"),
    ],
    ids=["autumn_ambiguous_earlier_kept", "spring_nonexistent_pre_change_offset"],
)
def test_calls_dst(tm_dir, index, locator, utc, flag):
    events, _ = _run(tm_dir, "calls_semicolon_bom.csv", "calls_semicolon_bom.mapping.toml")
    e = events[index]
    assert (e.locator, e.timestamp_utc, e.tz_flag) == (locator, utc, flag)
    assert e.tz_basis == "assumed:Europe/London"


def test_calls_multiline_cell_withheld_and_unparsed(tm_dir):
    events, _ = _run(tm_dir, "calls_semicolon_bom.csv", "calls_semicolon_bom.mapping.toml")
    sms = events[3]
    assert sms.locator == "line:7-8"
    assert sms.kind == "sms"
    assert sms.direction == "outgoing"
    assert sms.text == "Running late,\nsee you at 9; ok?"  # delimiter inside quotes
    assert sms.duration_s is None
    withheld = events[2]
    assert withheld.recipients == ()
    assert withheld.flags == ("recipient_withheld",)
    # the blank line 9 is not a record; the next row keeps its physical line number
    short = events[4]
    assert short.locator == "line:10"
    assert short.sender == "tel:12345"
    assert short.flags == ("sender_unparsed_number",)


def test_calls_rejections(tm_dir):
    _, rej = _run(tm_dir, "calls_semicolon_bom.csv", "calls_semicolon_bom.mapping.toml")
    assert [(r.locator, r.reason) for r in rej] == [
        ("line:11", "row has 5 cells but the header has 8"),
        ("line:12", "column 'Date/Time' (time): '32/07/2024 10:10:00' does not match format "
                    "'%d/%m/%Y %H:%M:%S'"),
        ("line:13", "column 'Type' (kind): unknown code 'Forwarded'; add it to [values.kind] "
                    "in the mapping"),
        ("line:14", "column 'Duration' (duration_s): '1,5' is not a number (seconds, or H:MM:SS)"),
        ("line:15", "column 'Duration' (duration_s): '-5' must not be negative"),
        ("line:16", "row has 1 cell but the header has 8"),
    ]
    assert rej[0].raw == ["03/07/2024 10:05:00", "Outgoing", "07700900123", "07700900456", "15"]


def test_unknown_direction_code_rejected(tm_dir):
    opts = _opts(tm_dir, "calls_semicolon_bom.mapping.toml")
    mapping = copy.deepcopy(opts.mapping)
    del mapping["values"]["direction"]["SMS out"]
    events, rej = run_parser(PARSER, tm_dir / "calls_semicolon_bom.csv",
                             ParseOptions(mapping=mapping, mapping_path="m.toml"))
    assert (len(events), len(rej)) == (4, 7)
    assert (rej[0].locator, rej[0].reason) == (
        "line:7-8", "column 'Type' (direction): unknown code 'SMS out'; add it to "
                    "[values.direction] in the mapping")


# --- CSV: ISO offsets, email identifiers, coordinates ------------------------------------


def test_iso_offsets(tm_dir):
    events, rej = _run(tm_dir, "iso_offsets.csv", "iso_offsets.mapping.toml")
    assert (len(events) + len(rej), len(events), len(rej)) == (7, 4, 3)
    assert [(e.locator, e.timestamp_utc, e.tz_basis) for e in events] == [
        ("line:2", datetime(2024, 6, 1, 9, 15, tzinfo=UTC), "offset-in-source"),
        ("line:3", datetime(2024, 6, 1, 9, 16, tzinfo=UTC), "utc-declared"),
        ("line:4", datetime(2024, 6, 1, 9, 17, tzinfo=UTC), "assumed:Europe/London"),
        ("line:5", datetime(2024, 6, 1, 9, 18, tzinfo=UTC), "offset-in-source"),
    ]
    e = events[0]
    assert e.kind == "email"
    assert e.timestamp_source == "2024-06-01T10:15:00+01:00"
    assert e.tz_flag == "ok"
    assert e.date_order is None  # ISO 8601 is unambiguous
    assert e.sender == "email:jo@example.org"
    assert e.recipients == ("email:a@example.org", "email:b@example.org")
    assert e.text == "Hello, there"
    assert e.location_method is None  # the constant applies only to rows with coordinates
    assert e.extra == {"subject": "Hi"}
    note = events[2]
    assert (note.latitude, note.longitude, note.accuracy_m) == (51.5, -0.12, 25.0)
    assert note.location_method == "manual"
    assert note.text == 'Diary: "home" by 10'
    assert events[3].flags == ("sender_unparsed_identifier",)
    assert [(r.locator, r.reason) for r in rej] == [
        ("line:6", "column 'timestamp' (time): '2024-06-01' is not an ISO 8601 date and time"),
        ("line:7", "column 'lon' (longitude) is empty but the other coordinate is not"),
        ("line:8", "column 'lat' (latitude): '95.0' is outside -90..90"),
    ]


def test_unix_ms_tab_separated(tm_dir):
    events, rej = _run(tm_dir, "unix_ms.tsv", "unix_ms.mapping.toml")
    assert (len(events) + len(rej), len(events), len(rej)) == (5, 3, 2)
    e = events[0]
    assert e.locator == "line:2"
    assert e.kind == "location_fix"
    assert e.timestamp_utc == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert e.timestamp_source == "1714557600000"
    assert e.tz_basis == "epoch"
    assert e.tz_flag == "ok"
    assert (e.latitude, e.longitude, e.accuracy_m) == (51.50135, -0.14189, 12.5)
    assert e.location_method == "fused"
    assert e.channel == "tracker_app"
    assert e.extra == {}
    undated = events[2]
    assert (undated.locator, undated.timestamp_utc, undated.tz_flag) == ("line:4", None, "no_time")
    assert undated.accuracy_m is None
    assert [(r.locator, r.reason) for r in rej] == [
        ("line:5", "column 'ts_ms' (time): '17145576O0000' is not a number of milliseconds "
                   "since 1970"),
        ("line:6", "column 'acc' (accuracy_m): 'about 5' is not a number"),
    ]


def test_broken_quoting_raises_with_line(tm_dir):
    with pytest.raises(SourceError) as info:
        _run(tm_dir, "broken_quoting.csv", "broken_quoting.mapping.toml")
    assert info.value.locator == "line:3"
    assert "malformed CSV" in info.value.reason


@pytest.mark.parametrize(
    ("content", "locator", "words"),
    [
        (b'when,what\n2024-01-01T10:00:00Z,ok\n2024-01-01T10:01:00Z,"never closed\nmore\n',
         "line:3", "malformed CSV"),
        (b"when,what\n2024-01-01T10:00:00Z,ok\n2024-01-01T10:01:00Z,caf\xe9\n",
         "line:3", "not valid utf-8-sig text"),
        # far beyond the text layer's first read-ahead: the line is still exact
        (b"when,what\n" + b"2024-01-01T10:00:00Z,ok\n" * 5000 + b"2024-01-01T10:01:00Z,\xe9\n",
         "line:5002", "not valid utf-8-sig text"),
    ],
    ids=["unclosed_quote_at_end", "wrong_encoding", "wrong_encoding_deep"],
)
def test_file_level_errors(tmp_path, tm_dir, content, locator, words):
    path = tmp_path / "t.csv"
    path.write_bytes(content)
    with pytest.raises(SourceError) as info:
        run_parser(PARSER, path, _opts(tm_dir, "broken_quoting.mapping.toml"))
    assert info.value.locator == locator
    assert words in info.value.reason


def test_file_ends_before_header_row(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("Report title\n")
    mapping = _with(table__header_row=3)
    with pytest.raises(SourceError, match=r"ends before the header row \(line 3"):
        run_parser(PARSER, path, ParseOptions(mapping=mapping, mapping_path="m.toml"))


def test_utf16_csv(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes("when,what\r\n2024-01-01T10:00:00Z,h\u00e9llo \U0001f6b2\r\n"
                     .encode("utf-16"))
    events, rej = run_parser(PARSER, path, ParseOptions(
        mapping=_with(table__encoding="utf-16", fields={"text": "what"}), mapping_path="m.toml"))
    assert (len(events), len(rej)) == (1, 0)
    assert (events[0].locator, events[0].text) == ("line:2", "h\u00e9llo \U0001f6b2")


def test_strptime_with_offset_and_encoding(tmp_path, tm_dir):
    path = tmp_path / "t.csv"
    path.write_bytes("when|what\n01.06.2024 10:15 +0200|caf\xe9 ; ok\n".encode("cp1252"))
    mapping = {"table": {"encoding": "cp1252", "delimiter": "|"},
               "time": {"column": "when", "format": "%d.%m.%Y %H:%M %z"},
               "fields": {"text": "what"}, "constants": {"kind": "note"}}
    events, rej = run_parser(PARSER, path, ParseOptions(mapping=mapping, mapping_path="m.toml"))
    assert (len(events), len(rej)) == (1, 0)
    assert events[0].timestamp_utc == datetime(2024, 6, 1, 8, 15, tzinfo=UTC)
    assert events[0].tz_basis == "offset-in-source"
    assert events[0].text == "caf\xe9 ; ok"


# --- XLSX built with openpyxl -------------------------------------------------------------


@pytest.fixture
def workbook(tmp_path) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.title = "Notes"
    wb.active.append(["not this sheet"])
    ws = wb.create_sheet("Calls")
    ws.append(["Call list for exhibit JS/1"])
    ws.append(["Date", "Time", "Type", "Number", "Secs", "Lat", "Lon", "Note"])
    # a spreadsheet date-time is naive by nature: the mapping gives its zone
    midnight = datetime(2024, 10, 27)  # noqa: DTZ001
    ws.append([midnight, time(1, 30), "MO", 447700900123, 61, 51.5, -0.1, 2.5])
    ws.append(["27/10/2024", "02:30:00", "MT", "07700 900456", "0:00:59", None, None, None])
    ws.append([None] * 8)
    ws.append([45591.5, None, "MO", 447700900123, 5, None, None, None])
    ws.append([date(2024, 10, 28), time(9, 0), "XX", 447700900123, 5, None, None, None])
    ws.append([date(2024, 10, 28), time(9, 5), "MO", 447700900123, "n/a", None, None, None])
    ws.cell(row=9, column=1, value=date(2024, 10, 28))
    ws.cell(row=9, column=2, value=time(9, 10))
    ws.cell(row=9, column=3, value="MO")
    ws.cell(row=9, column=10, value="stray")
    path = tmp_path / "calls.xlsx"
    wb.save(path)
    return path


XLSX_MAPPING = {
    "table": {"sheet": "Calls", "header_row": 2},
    "time": {"column": ["Date", "Time"], "format": "%d/%m/%Y %H:%M:%S",
             "timezone": "Europe/London"},
    "fields": {"direction": "Type", "recipients": "Number", "duration_s": "Secs",
               "latitude": "Lat", "longitude": "Lon"},
    "constants": {"kind": "call", "channel": "cellular"},
    "values": {"direction": {"MO": "outgoing", "MT": "incoming"}},
    "identifiers": {"recipients": "tel"},
}


def test_xlsx(workbook):
    opts = ParseOptions(mapping=XLSX_MAPPING, mapping_path="x.toml")
    events, rej = run_parser(PARSER, workbook, opts)
    assert (len(events) + len(rej), len(events), len(rej)) == (6, 2, 4)
    e = events[0]
    assert e.locator == "xlsx:Calls!row=3"
    assert e.kind == "call"
    # date cell + time cell: local wall-clock time, the doubled autumn hour flagged
    assert e.timestamp_utc == datetime(2024, 10, 27, 0, 30, tzinfo=UTC)
    assert e.timestamp_source == "2024-10-27 01:30:00"
    assert e.tz_basis == "assumed:Europe/London"
    assert e.tz_flag == "ambiguous"
    assert e.date_order is None
    assert e.direction == "outgoing"
    assert e.recipients == ("tel:+447700900123",)  # a number typed as a number
    assert e.duration_s == 61.0
    assert (e.latitude, e.longitude) == (51.5, -0.1)
    assert e.location_method == "unknown"
    assert e.extra == {"Note": 2.5}
    text_row = events[1]
    assert text_row.locator == "xlsx:Calls!row=4"
    assert text_row.timestamp_source == "27/10/2024 02:30:00"
    assert text_row.timestamp_utc == datetime(2024, 10, 27, 2, 30, tzinfo=UTC)
    assert text_row.date_order == "dmy:assumed"
    assert text_row.duration_s == 59.0
    assert text_row.extra == {}
    assert [(r.locator, r.reason) for r in rej] == [
        ("xlsx:Calls!row=6", "column 'Date' + 'Time' (time): one of the time columns is empty"),
        ("xlsx:Calls!row=7", "column 'Type' (direction): unknown code 'XX'; add it to "
                             "[values.direction] in the mapping"),
        ("xlsx:Calls!row=8", "column 'Secs' (duration_s): 'n/a' is not a number "
                             "(seconds, or H:MM:SS)"),
        ("xlsx:Calls!row=9", "cells beyond the header in columns 10"),
    ]


def test_xlsx_serial_number_time_rejected(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["When", "What"])
    wb.active.append([45591.5, "x"])
    path = tmp_path / "s.xlsx"
    wb.save(path)
    mapping = {"time": {"column": "When", "format": "%d/%m/%Y %H:%M"},
               "fields": {"text": "What"}, "constants": {"kind": "note"}}
    events, rej = run_parser(PARSER, path, ParseOptions(mapping=mapping, mapping_path="m.toml"))
    assert (len(events), len(rej)) == (0, 1)
    assert rej[0].locator == "xlsx:Sheet!row=2"
    assert "holds the number '45591.5'" in rej[0].reason


def test_xlsx_missing_sheet(workbook):
    mapping = copy.deepcopy(XLSX_MAPPING)
    mapping["table"]["sheet"] = "Calls 2024"
    with pytest.raises(UsageError, match=r"mapping x\.toml: table\.sheet: no sheet 'Calls 2024' "
                                         r"in calls\.xlsx; sheets: Notes, Calls"):
        run_parser(PARSER, workbook, ParseOptions(mapping=mapping, mapping_path="x.toml"))


def test_not_a_workbook(tmp_path, tm_dir):
    path = tmp_path / "fake.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(SourceError, match="not a readable XLSX workbook"):
        run_parser(PARSER, path, _opts(tm_dir, "broken_quoting.mapping.toml"))


# --- the mapping itself -------------------------------------------------------------------

BASE = {"time": {"column": "when", "format": "iso"}, "constants": {"kind": "note"}}


def _with(**changes):
    mapping = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        section, _, key = dotted.partition("__")
        if key:
            mapping.setdefault(section, {})[key] = value
        else:
            mapping[section] = value
    return mapping


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (None, "the table_mapping format needs a mapping file: use --format table_mapping "
               "--mapping FILE"),
        (_with(field={"text": "what"}), "mapping m.toml: field: unknown key; allowed: table, "
                                        "time, fields, constants, values, identifiers"),
        ({"constants": {"kind": "note"}}, "mapping m.toml: time.column: is required"),
        (_with(time__format="%Q"), "mapping m.toml: time.format: '%Q' is not a usable strptime "
                                   "format"),
        (_with(time__format="dd/mm/yyyy"), "mapping m.toml: time.format: 'dd/mm/yyyy' is neither "
                                           "a strptime format"),
        (_with(time__format="%Y-%m-%d %H:%M %Z"), "mapping m.toml: time.format: %Z is not "
                                                  "applied by strptime"),
        (_with(time__timezone="Mars/Olympus"), "mapping m.toml: time.timezone: unknown time "
                                               "zone 'Mars/Olympus'"),
        (_with(constants={"kind": "textmessage"}), "mapping m.toml: constants.kind: "
                                                   "'textmessage' is not one of call, sms"),
        (_with(constants={}), "mapping m.toml: constants.kind: every event needs a kind"),
        (_with(fields={"direction": "Type"}, values={"direction": {"Outgoing": "out"}}),
         "mapping m.toml: values.direction.Outgoing: 'out' is not one of incoming, outgoing"),
        (_with(values={"direction": {"Outgoing": "outgoing"}}),
         "mapping m.toml: values.direction: is given but fields.direction names no column"),
        (_with(fields={"sender": "From"}), "mapping m.toml: identifiers.sender: say how "
                                           "fields.sender is normalised"),
        (_with(fields={"sender": "From"}, identifiers={"sender": "phone"}),
         "mapping m.toml: identifiers.sender: 'phone' is not one of tel, email"),
        (_with(table__delimiter=";;"), "mapping m.toml: table.delimiter: must be one character"),
        (_with(table__header_row=0), "mapping m.toml: table.header_row: must be a whole number "
                                     "from 1, not 0"),
        (_with(table__encoding="utf-9"), "mapping m.toml: table.encoding: unknown encoding"),
        (_with(fields={"latitude": "Lat"}), "mapping m.toml: fields.latitude: latitude and "
                                            "longitude are mapped together"),
        (_with(fields={"kind": "Type"}), "mapping m.toml: constants.kind: is also mapped to a "
                                         "column in fields.kind"),
        (_with(fields={"colour": "Colour"}), "mapping m.toml: fields.colour: unknown key"),
    ],
    ids=["missing", "unknown_section", "no_time_column", "bad_directive", "not_a_format",
         "percent_Z", "unknown_zone", "bad_constant_kind", "no_kind", "bad_value_target",
         "values_without_field", "identifier_scheme_missing", "identifier_scheme_unknown",
         "long_delimiter", "header_row_zero", "unknown_encoding", "lat_without_lon",
         "field_and_constant", "unknown_field"],
)
def test_invalid_mapping(tm_dir, mapping, message):
    opts = ParseOptions(mapping=mapping, mapping_path="m.toml")
    with pytest.raises(UsageError) as info:
        run_parser(PARSER, tm_dir / "broken_quoting.csv", opts)
    assert info.value.message.startswith(message), info.value.message
    assert info.value.exit_code == 2


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        (_with(fields={"text": "What"}),
         "mapping m.toml: fields.text: column 'What' is not in the header (line 1) of "
         "broken_quoting.csv (did you mean 'what'?); headers: 'when', 'what'"),
        (_with(time__column=["when", "Time"]),
         "mapping m.toml: time.column: column 'Time' is not in the header (line 1)"),
    ],
    ids=["field_column_missing", "time_column_missing"],
)
def test_mapping_does_not_fit_header(tm_dir, mapping, message):
    opts = ParseOptions(mapping=mapping, mapping_path="m.toml")
    with pytest.raises(UsageError) as info:
        run_parser(PARSER, tm_dir / "broken_quoting.csv", opts)
    assert info.value.message.startswith(message), info.value.message


def test_duplicate_mapped_header(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("when,what,what\n2024-01-01T00:00:00Z,a,b\n")
    opts = ParseOptions(mapping=_with(fields={"text": "what"}), mapping_path="m.toml")
    with pytest.raises(UsageError, match=r"fields\.text: column 'what' appears 2 times"):
        run_parser(PARSER, path, opts)


def test_unmapped_duplicate_and_blank_headers_in_extra(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("when,x,x,\n2024-01-01T00:00:00Z,a,b,c\n")
    events, _ = run_parser(PARSER, path, ParseOptions(mapping=BASE, mapping_path="m.toml"))
    assert events[0].extra == {"x": "a", "x (column 3)": "b", "column 4": "c"}


def test_docs_example_is_a_valid_mapping():
    text = (ROOT / "docs" / "table-mapping.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(.*?)```", text, re.DOTALL).group(1)
    mapping = load(tomllib.loads(block), "calls.toml", "Europe/London")
    assert mapping.fields["kind"] == "Type"
    assert mapping.values["direction"]["SMS MT"] == "incoming"


def test_sniff_never_claims_a_file(tm_dir):
    assert sniff(b"", "x.csv") is False
    assert sniff((tm_dir / "iso_offsets.csv").read_bytes(), "iso_offsets.csv") is False
