"""Tests for parsers/anpr_csv.py: ANPR capture records (READs and HITs)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from atlas.osgrid import grid_to_wgs84
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.anpr_csv import PARSER, sniff
from tests.parsing_helpers import run_parser


@pytest.fixture
def anpr_dir(data_dir: Path) -> Path:
    return data_dir / "parsers" / "anpr_csv"


def _at(events, locator):
    return next(e for e in events if e.locator == locator)


@pytest.mark.parametrize(
    ("name", "read", "accepted", "rejected"),
    [("reads_latlon.csv", 12, 6, 6), ("grid_positions.csv", 4, 4, 0)],
    ids=["lat_lon_with_title", "grid_positions"],
)
def test_counts(anpr_dir, name, read, accepted, rejected):
    events, rej = run_parser(PARSER, anpr_dir / name)
    assert (len(events) + len(rej), len(events), len(rej)) == (read, accepted, rejected)


def test_first_read_field_by_field(anpr_dir):
    events, _ = run_parser(PARSER, anpr_dir / "reads_latlon.csv")
    e = events[0]
    assert e.locator == "line:4"  # title row, blank line, header on line 3
    assert e.part == 0
    assert e.kind == "anpr_read"
    assert e.timestamp_utc == datetime(2024, 10, 26, 21, 15, 4, tzinfo=UTC)
    assert e.timestamp_source == "26/10/2024 22:15:04"
    assert e.tz_basis == "assumed:Europe/London"
    assert e.tz_flag == "ok"
    assert e.date_order == "dmy:assumed"
    assert e.end_utc is None and e.duration_s is None
    assert e.direction == "none"
    assert e.sender == "vrm:AB12CDE"
    assert e.sender_name is None and e.recipients == ()
    assert e.channel == "anpr"
    assert e.thread is None and e.text is None
    assert e.attachments == ("img/R0001_plate.jpg",)
    assert e.status == "read"
    assert (e.latitude, e.longitude) == (53.80012, -1.52011)
    assert e.accuracy_m is None
    assert e.location_method == "anpr"
    assert e.cell_id is None
    assert e.deleted == "unknown"
    assert e.flags == ()
    assert e.extra == {
        "vrm_as_read": "AB12 CDE", "camera_id": "CAM-LDS-0042",
        "camera_name": "A64 York Road inbound", "direction_of_travel": "Westbound",
        "lane": "1", "ocr_confidence": 92.0, "read_type": "READ", "Read ID": "R0001",
    }


def test_rejections_name_line_and_reason(anpr_dir):
    _, rej = run_parser(PARSER, anpr_dir / "reads_latlon.csv")
    assert [(r.locator, r.reason) for r in rej] == [
        ("line:10", "VRM (column 'VRM') is empty"),
        ("line:11", "read time (column 'Read Date/Time'): '27/13/2024 02:30:00' is not a valid "
                    "dmy date-time (month must be in 1..12)"),
        ("line:12", "read time (column 'Read Date/Time'): 'yesterday 02:40' is not "
                    "dd/mm/yyyy HH:MM[:SS] or ISO 8601"),
        ("line:13", "read time (column 'Read Date/Time') is empty"),
        ("line:14", "row has 7 cells but the header has 13"),
        ("line:15", "footer row below the records (not a record): check its totals against "
                    "the accepted count"),
    ]


@pytest.mark.parametrize(
    ("locator", "sender", "as_read", "flags"),
    [
        ("line:4", "vrm:AB12CDE", "AB12 CDE", ()),
        ("line:5", "vrm:AB12CDE", "AB12CDE", ()),
        ("line:6", "vrm:A812CDE", "A812 CDE", ()),  # B read as 8
        ("line:7", "vrm:AB12C0E", "AB12 C0E", ("camera_position_missing",)),  # D read as 0
        ("line:8", "vrm:AB12CDE", "AB-12-CDE", ("camera_position_unreadable",)),
        ("line:9", "vrm:AB12CDE?", "AB12 CDE?", ("vrm_unparsed", "ocr_confidence_not_numeric")),
    ],
    ids=["spaced", "unspaced", "misread_8_for_B", "misread_0_for_D", "hyphenated", "junk_char"],
)
def test_vrm_normalised_and_kept_as_read(anpr_dir, locator, sender, as_read, flags):
    events, _ = run_parser(PARSER, anpr_dir / "reads_latlon.csv")
    e = _at(events, locator)
    assert (e.sender, e.extra["vrm_as_read"], e.flags) == (sender, as_read, flags)


@pytest.mark.parametrize(
    ("locator", "utc", "basis", "flag"),
    [
        ("line:5", datetime(2024, 10, 27, 0, 30, 12, tzinfo=UTC), "assumed:Europe/London",
         "ambiguous"),
        ("line:6", datetime(2024, 10, 27, 1, 35, tzinfo=UTC), "utc-declared", "ok"),
        ("line:7", datetime(2024, 10, 27, 2, 5, tzinfo=UTC), "assumed:Europe/London", "ok"),
    ],
    ids=["iso_local_doubled_hour", "iso_z", "dmy_without_seconds"],
)
def test_times(anpr_dir, locator, utc, basis, flag):
    events, _ = run_parser(PARSER, anpr_dir / "reads_latlon.csv")
    e = _at(events, locator)
    assert (e.timestamp_utc, e.tz_basis, e.tz_flag) == (utc, basis, flag)


def test_hit_with_hotlist(anpr_dir):
    events, _ = run_parser(PARSER, anpr_dir / "reads_latlon.csv")
    e = _at(events, "line:5")
    assert e.status == "hit"
    assert e.extra["hotlist"] == "Stalking VOI list"


def test_zero_position_is_not_a_place(anpr_dir):
    events, _ = run_parser(PARSER, anpr_dir / "reads_latlon.csv")
    e = _at(events, "line:8")
    assert e.latitude is None and e.longitude is None
    assert e.extra["camera_position_problem"] == ("latitude/longitude 0,0 is a placeholder, "
                                                  "not a position")
    assert e.extra["camera_position_raw"] == {"latitude": "0", "longitude": "0"}


def test_grid_positions(anpr_dir):
    events, _ = run_parser(PARSER, anpr_dir / "grid_positions.csv")
    first, ref, bad_square, outside = events
    assert first.locator == "line:2"
    assert first.timestamp_utc == datetime(2024, 3, 31, 1, 30, tzinfo=UTC)
    assert first.tz_flag == "nonexistent"  # separate Read Date + Read Time, skipped hour
    assert first.timestamp_source == "31/03/2024 01:30:00"
    assert (first.latitude, first.longitude) == grid_to_wgs84(429950, 433950)
    assert first.extra["source_easting"] == 429950.0
    assert "Helmert" in first.extra["coordinate_transform"]
    assert first.extra["ocr_confidence"] == 0.88
    assert first.extra["Country"] == "GB"
    assert (ref.latitude, ref.longitude) == grid_to_wgs84(429900, 433900)
    assert ref.flags == ("coarse_grid_reference",)
    assert ref.extra["grid_square_m"] == 100.0
    assert bad_square.flags == ("camera_position_unreadable",)
    assert bad_square.latitude is None
    assert "outside the National Grid" in bad_square.extra["camera_position_problem"]
    assert outside.flags == ("camera_position_unreadable",)
    assert "source_easting" not in outside.extra
    assert outside.extra["camera_position_raw"] == {"easting": "900000", "northing": "433950"}


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"", False),
        (b"VRM,Read Time,Camera ID\nAB12CDE,2024-01-01T00:00:00Z,C1\n", True),
        (b"Title\nPlate;Timestamp;Camera Name;Lane\n", True),
        (b"VRM,Camera ID,Lane\n", False),  # no time
        (b"VRM,Read Time,Lane\n", False),  # no camera
        (b"MSISDN,IMSI,Date/Time,Cell ID\n", False),
        (b'{"type": "FeatureCollection"}', False),
    ],
    ids=["empty", "minimal", "semicolon_after_title", "no_time", "no_camera", "tower_dump",
         "json"],
)
def test_sniff(head, expected):
    assert sniff(head, "reads.csv") is expected


def test_not_this_format_before_first_yield(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(NotThisFormat):
        next(iter(PARSER.parse(Source.from_path(str(path)), ParseOptions())))
