"""Tests for parsers/tower_dump_csv.py: operator tower dumps (all devices on given cells)."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.tower_dump_csv import PARSER, sniff
from tests import golden
from tests.parsing_helpers import run_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def td_dir(data_dir: Path) -> Path:
    return data_dir / "parsers" / "tower_dump_csv"


def _at(events, locator):
    return next(e for e in events if e.locator == locator)


@pytest.mark.parametrize(
    ("name", "read", "accepted", "rejected"),
    [("titled_request_id.csv", 13, 7, 6), ("semicolon_lac_ci.csv", 4, 4, 0),
     ("tower_dump_no_reference.csv", 1, 1, 0), ("appended_dumps.csv", 4, 3, 1)],
    ids=["title_and_id_column", "semicolon_mcc_mnc_lac_ci", "file_name_id", "appended_dumps"],
)
def test_counts(td_dir, name, read, accepted, rejected):
    events, rej = run_parser(PARSER, td_dir / name)
    assert (len(events) + len(rej), len(events), len(rej)) == (read, accepted, rejected)


def test_first_event_field_by_field(td_dir):
    events, _ = run_parser(PARSER, td_dir / "titled_request_id.csv")
    e = events[0]
    assert e.locator == "line:5"  # two title rows and a blank line above the header (line 4)
    assert e.part == 0
    assert e.kind == "cell_event"
    assert e.timestamp_utc == datetime(2024, 10, 26, 23, 45, 10, tzinfo=UTC)  # BST
    assert e.timestamp_source == "27/10/2024 00:45:10"
    assert e.tz_basis == "assumed:Europe/London"
    assert e.tz_flag == "ok"
    assert e.date_order == "dmy:assumed"
    assert e.end_utc is None
    assert e.duration_s == 65.0
    assert e.direction == "outgoing"
    assert e.sender == "tel:+447700900123"
    assert e.sender_name is None
    assert e.recipients == ("tel:+447700900456",)
    assert e.channel == "phone"
    assert e.thread is None and e.text is None and e.attachments == ()
    assert e.status == "voice_mo"
    assert e.latitude is None and e.longitude is None and e.accuracy_m is None
    assert e.location_method == "cell"
    assert e.cell_id == "234-15-1234-56789"
    assert e.deleted == "unknown"
    assert e.flags == ()
    assert e.extra == {
        "dump_id": "TD-2024-0001", "dump_id_source": "column",
        "imsi": "234150000000001", "imei": "356938035643809",
        "device_identifiers": ["imsi:234150000000001", "imei:356938035643809"],
        "event_type": "Voice MO", "Cell Address": "1 Mill Lane, Leeds LS1 1AA",
    }


def test_rejections_name_line_and_reason(td_dir):
    _, rej = run_parser(PARSER, td_dir / "titled_request_id.csv")
    assert [(r.locator, r.reason) for r in rej] == [
        ("line:9", "row has 9 cells but the header has 11"),
        ("line:10", "time (column 'Event Date' + 'Event Time'): '27/10/2024 25:61:00' is not "
                    "a valid dmy date-time (hour must be in 0..23)"),
        ("line:11", "duration (column 'Duration'): 'abc' is not seconds or [hh:]mm:ss"),
        ("line:14", "no subscriber identity: MSISDN, IMSI and IMEI are all empty"),
        ("line:17", "time (column 'Event Date' + 'Event Time') is empty"),
        ("line:18", "footer row below the records (not a record): check its totals against "
                    "the accepted count"),
    ]
    assert rej[0].raw[0] == "TD-2024-0001"


@pytest.mark.parametrize(
    ("name", "locator", "utc", "flag"),
    [
        ("titled_request_id.csv", "line:6", datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "ambiguous"),
        ("titled_request_id.csv", "line:7", datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "ambiguous"),
        ("titled_request_id.csv", "line:8", datetime(2024, 10, 27, 2, 10, tzinfo=UTC), "ok"),
        ("semicolon_lac_ci.csv", "line:2", datetime(2024, 3, 31, 0, 59, 59, tzinfo=UTC), "ok"),
        ("semicolon_lac_ci.csv", "line:3", datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "nonexistent"),
        ("semicolon_lac_ci.csv", "line:4", datetime(2024, 3, 31, 1, 5, tzinfo=UTC), "ok"),
    ],
    ids=["october_doubled_hour", "october_doubled_hour_data", "october_after_change",
         "march_before_change", "march_skipped_hour", "iso_with_offset"],
)
def test_clock_changes_flagged_not_shifted(td_dir, name, locator, utc, flag):
    events, _ = run_parser(PARSER, td_dir / name)
    e = _at(events, locator)
    assert (e.timestamp_utc, e.tz_flag) == (utc, flag)


def test_iso_time_with_offset_is_read_as_written(td_dir):
    events, _ = run_parser(PARSER, td_dir / "semicolon_lac_ci.csv")
    e = _at(events, "line:4")
    assert e.timestamp_source == "2024-03-31T02:05:00+01:00"
    assert e.tz_basis == "offset-in-source"
    assert e.date_order is None


@pytest.mark.parametrize(
    ("name", "locator", "dump_id", "source"),
    [
        ("titled_request_id.csv", "line:5", "TD-2024-0001", "column"),
        ("titled_request_id.csv", "line:12", "TD-2024-0001", "title"),  # id cell empty
        ("semicolon_lac_ci.csv", "line:2", "TD/2024/0017", "column"),
        ("tower_dump_no_reference.csv", "line:2", "tower_dump_no_reference.csv", "file_name"),
        ("appended_dumps.csv", "line:3", "TD-2024-0031", "title"),
        ("appended_dumps.csv", "line:8", "TD-2024-0032", "title"),  # a second dump's title row
    ],
    ids=["column", "empty_cell_falls_back_to_title", "dump_reference_column", "file_name",
         "first_section_title", "second_section_title"],
)
def test_dump_id_on_every_row(td_dir, name, locator, dump_id, source):
    events, _ = run_parser(PARSER, td_dir / name)
    e = _at(events, locator)
    assert (e.extra["dump_id"], e.extra["dump_id_source"]) == (dump_id, source)


@pytest.mark.parametrize(
    ("name", "locator", "field", "value"),
    [
        ("titled_request_id.csv", "line:6", "status", "sms_mt"),
        ("titled_request_id.csv", "line:6", "recipients", ("tel:+447700900123",)),
        ("titled_request_id.csv", "line:7", "sender", "imsi:234150000000003"),
        ("titled_request_id.csv", "line:7", "flags", ("sender_not_msisdn",)),
        ("titled_request_id.csv", "line:7", "cell_id", "234-15-1234-56790"),
        ("titled_request_id.csv", "line:7", "direction", "none"),
        ("titled_request_id.csv", "line:8", "flags", ("party_withheld",)),
        ("titled_request_id.csv", "line:8", "duration_s", 65.0),
        ("titled_request_id.csv", "line:13", "status", "ussd"),
        ("titled_request_id.csv", "line:13", "flags", ("event_type_unmapped",)),
        ("titled_request_id.csv", "line:15-16", "flags",
         ("recipient_unparsed_number", "cell_id_unparsed")),
        ("titled_request_id.csv", "line:15-16", "cell_id", "234-15-04D2-DDD5"),
        ("semicolon_lac_ci.csv", "line:2", "cell_id", "234-15-1234-56789"),
        ("semicolon_lac_ci.csv", "line:4", "flags", ("cell_id_unparsed",)),
        ("semicolon_lac_ci.csv", "line:5", "cell_id", "234-15-ABCD-56789"),
        ("tower_dump_no_reference.csv", "line:2", "status", "sms_mo"),
    ],
    ids=["sms_mt", "other_party_normalised", "imsi_when_no_msisdn", "flag_not_msisdn",
         "spaced_cgi_normalised", "data_direction", "withheld", "hh_mm_ss_duration",
         "unknown_event_kept", "unknown_event_flag", "unparsed_party_and_hex_cell",
         "hex_cell_verbatim", "mcc_mnc_lac_ci_columns", "ci_missing", "lac_not_decimal",
         "start_date_plus_start_time"],
)
def test_awkward_rows(td_dir, name, locator, field, value):
    events, _ = run_parser(PARSER, td_dir / name)
    assert getattr(_at(events, locator), field) == value


def test_month_first_when_forced(td_dir):
    events, rej = run_parser(PARSER, td_dir / "tower_dump_no_reference.csv",
                             ParseOptions(date_order="mdy"))
    assert rej == []
    assert events[0].timestamp_utc == datetime(2024, 5, 11, 13, 0, tzinfo=UTC)
    assert events[0].date_order == "mdy:forced"


# --- detection ------------------------------------------------------------------------------

HEADER = b"MSISDN,IMSI,IMEI,Event Type,Date/Time,Duration,Other Party,Cell ID\n"


@pytest.mark.parametrize(
    ("head", "filename", "expected"),
    [
        (b"", "", False),
        (b"Tower dump request TD-1\n" + HEADER, "export.csv", True),
        (b"Request ID," + HEADER, "export.csv", True),
        (HEADER, "TowerDump_TD1.csv", True),
        (HEADER, "export.csv", False),  # no marker: a single-target CDR looks the same
        (b"Tower dump TD-1\nMSISDN,IMEI,Date/Time,Cell ID\n", "x.csv", False),  # no IMSI
        (b"Target MSISDN,Call Type,Start Date,Start Time,Duration (s),Other Party,IMEI,IMSI,"
         b"First Cell ID,Last Cell ID\n", "ee.csv", False),
        (b"PK\x03\x04" + HEADER, "dump.xlsx", False),
    ],
    ids=["empty", "title_row", "id_column", "file_name", "no_marker", "no_imsi",
         "ee_cdr_header", "xlsx"],
)
def test_sniff(head, filename, expected):
    assert sniff(head, filename) is expected


def test_sniff_does_not_overlap_cdr_csv(td_dir):
    from parsers.cdr_csv import sniff as cdr_sniff

    cdr_inputs = golden.inputs("cdr_csv")
    assert cdr_inputs, "cdr_csv test inputs are missing"
    for path in cdr_inputs:
        assert not sniff(path.read_bytes()[:65536], path.name), path.name
    for path in golden.inputs("tower_dump_csv"):
        assert sniff(path.read_bytes()[:65536], path.name), path.name
        assert not cdr_sniff(path.read_bytes()[:65536], path.name), path.name


def test_not_this_format_before_first_yield(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("name,colour\nalice,red\n")
    with pytest.raises(NotThisFormat):
        next(iter(PARSER.parse(Source.from_path(str(path)), ParseOptions())))


# --- streaming memory -----------------------------------------------------------------------

_GEN_AND_RUN = """
import resource, sys
from atlas.parsing import ParseOptions, Source
from parsers.tower_dump_csv import PARSER
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write("Tower dump request TD-1\\nRequest ID,MSISDN,IMSI,IMEI,Event Type,Date/Time,"
            "Duration,Other Party,Cell ID\\n")
    for i in range(n):
        f.write(f"TD-1,4477009{i % 3000:05d},2341500{i:08d},3569380{i:08d},Voice MO,"
                f"27/10/2024 0{i % 3}:{(i // 60) % 60:02d}:{i % 60:02d},{i % 300},07700900456,"
                f"234-15-1234-{i % 50}\\n")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in PARSER.parse(Source.from_path(path), ParseOptions()))
assert count == n, count
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


def _rss_growth_kib(tmp_path: Path, n: int) -> int:
    out = subprocess.run([sys.executable, "-c", _GEN_AND_RUN, str(tmp_path / f"{n}.csv"), str(n)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_memory_flat_for_large_dump(tmp_path):
    small = _rss_growth_kib(tmp_path, 2_000)
    large = _rss_growth_kib(tmp_path, 60_000)
    assert large - small < 15_000, (small, large)
