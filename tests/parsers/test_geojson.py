"""Tests for parsers/geojson.py: GeoJSON FeatureCollections with times in properties."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atlas.errors import SourceError
from atlas.osgrid import grid_to_wgs84
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.geojson import PARSER, sniff
from tests.parsing_helpers import run_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gj_dir(data_dir: Path) -> Path:
    return data_dir / "parsers" / "geojson"


def _at(events, locator):
    return next(e for e in events if e.locator == locator)


def _write(tmp_path: Path, doc: object, name: str = "x.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("name", "read", "accepted", "rejected"),
    [("collection.geojson", 25, 16, 9), ("british_national_grid.geojson", 2, 1, 1)],
    ids=["collection", "british_national_grid"],
)
def test_counts(gj_dir, name, read, accepted, rejected):
    events, rej = run_parser(PARSER, gj_dir / name)
    assert (len(events) + len(rej), len(events), len(rej)) == (read, accepted, rejected)


def test_first_feature_field_by_field(gj_dir):
    events, _ = run_parser(PARSER, gj_dir / "collection.geojson")
    e = events[0]
    assert e.locator == "json:/features/0"
    assert e.part == 0
    assert e.kind == "location_fix"
    assert e.timestamp_utc == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert e.timestamp_source == "2024-05-01T08:00:00Z"
    assert e.tz_basis == "utc-declared"
    assert e.tz_flag == "ok"
    assert e.date_order is None
    assert e.end_utc is None and e.duration_s is None
    assert e.direction == "none"
    assert e.sender is None and e.sender_name is None and e.recipients == ()
    assert e.channel == "geojson"
    assert e.thread is None and e.text is None and e.attachments == ()
    assert e.status is None
    assert (e.latitude, e.longitude) == (53.8008, -1.5491)  # written [lon, lat]
    assert e.accuracy_m == 12.5
    assert e.location_method == "unknown"
    assert e.cell_id is None
    assert e.deleted == "unknown"
    assert e.flags == ()
    assert e.extra == {"geometry": "Point", "feature_id": "fix-1", "altitude_m": 50.0,
                       "properties": {"time": "2024-05-01T08:00:00Z", "accuracy": 12.5,
                                      "provider": "gps"}}


def test_rejections_name_pointer_and_reason(gj_dir):
    _, rej = run_parser(PARSER, gj_dir / "collection.geojson")
    assert [(r.locator, r.reason) for r in rej] == [
        ("json:/features/9", "position [-1.5, 95.0]: longitude -1.5 or latitude 95 out of range "
                             "(GeoJSON writes [lon, lat])"),
        ("json:/features/10", "time 'the morning after' is not ISO 8601"),
        ("json:/features/11", "Feature has no geometry (null or not an object): nothing to place"),
        ("json:/features/12", "Polygon is an area drawn on a map, not a position or a path; "
                              "not imported"),
        ("json:/features/13", "element of 'features' is not a GeoJSON Feature object "
                              "(\"type\": \"Feature\")"),
        ("json:/features/14", "'coordTimes' has 1 entries for 2 positions; times cannot be "
                              "paired with positions"),
        ("json:/features/15/geometry/coordinates/1", "position ['x', 53.41] is not "
                                                     "[lon, lat(, alt)] numbers"),
        ("json:/features/15/geometry/coordinates/2", "time 'later' is not ISO 8601"),
        ("json:/features/16", "time True is neither an ISO 8601 string nor an epoch number"),
    ]


@pytest.mark.parametrize(
    ("locator", "kind", "utc", "basis", "flag", "flags"),
    [
        ("json:/features/1", "location_visit", datetime(2024, 5, 1, 8, 0, tzinfo=UTC),
         "offset-in-source", "ok", ()),
        ("json:/features/2", "location_fix", datetime(2024, 10, 27, 0, 30, tzinfo=UTC),
         "assumed:Europe/London", "ambiguous", ()),
        ("json:/features/3", "location_fix", datetime(2024, 5, 1, 8, 0, tzinfo=UTC), "epoch",
         "ok", ()),
        ("json:/features/4", "location_fix", None, "none", "no_time", ("date_only",)),
    ],
    ids=["start_end_visit", "no_offset_doubled_hour", "epoch_ms", "date_only"],
)
def test_point_times(gj_dir, locator, kind, utc, basis, flag, flags):
    events, _ = run_parser(PARSER, gj_dir / "collection.geojson")
    e = _at(events, locator)
    assert (e.kind, e.timestamp_utc, e.tz_basis, e.tz_flag, e.flags) == (
        kind, utc, basis, flag, flags)


def test_visit_end_duration_and_name(gj_dir):
    events, _ = run_parser(PARSER, gj_dir / "collection.geojson")
    e = _at(events, "json:/features/1")
    assert e.end_utc == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert e.duration_s == 5400.0
    assert e.accuracy_m == 40.0
    assert e.text == "Café Nero, Briggate"


def test_coord_times_pair_with_positions(gj_dir):
    events, _ = run_parser(PARSER, gj_dir / "collection.geojson")
    base = "json:/features/5/geometry/coordinates"
    path = [_at(events, f"{base}/{i}") for i in range(3)]
    assert [e.timestamp_utc for e in path] == [datetime(2024, 5, 1, 7, 30, tzinfo=UTC), None,
                                              datetime(2024, 5, 1, 7, 55, tzinfo=UTC)]
    assert [e.tz_flag for e in path] == ["ok", "no_time", "ok"]
    assert [e.accuracy_m for e in path] == [5.0, 8.0, 6.0]
    assert path[0].extra == {"geometry": "LineString", "vertex_values": {"accuracy": 5},
                             "properties": {"name": "Drive", "source": "togeojson"}}
    assert path[0].text == "Drive"


def test_linestring_without_times_and_multi_geometries(gj_dir):
    events, _ = run_parser(PARSER, gj_dir / "collection.geojson")
    untimed = _at(events, "json:/features/6/geometry/coordinates/1")
    assert (untimed.tz_flag, untimed.timestamp_utc) == ("no_time", None)
    assert untimed.extra["properties"] == {"time": "2024-05-01T12:00:00Z"}  # not spread
    multipoint = _at(events, "json:/features/7/geometry/coordinates/1")
    assert multipoint.timestamp_utc == datetime(2024, 5, 1, 12, 5, tzinfo=UTC)
    assert multipoint.tz_basis == "epoch"
    nested = _at(events, "json:/features/8/geometry/coordinates/1/0")
    assert nested.timestamp_utc == datetime(2024, 5, 1, 16, 30, tzinfo=UTC)
    assert (nested.latitude, nested.longitude) == (53.62, -1.32)


def test_british_national_grid_crs(gj_dir):
    events, rej = run_parser(PARSER, gj_dir / "british_national_grid.geojson")
    e = events[0]
    assert (e.latitude, e.longitude) == grid_to_wgs84(429950, 433950)
    assert e.extra["source_easting"] == 429950
    assert "EPSG:27700" in e.extra["coordinate_transform"]
    assert rej[0].locator == "json:/features/1"
    assert "outside the National Grid" in rej[0].reason


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        ({"type": "FeatureCollection",
          "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}},
          "features": []},
         "coordinate reference system 'urn:ogc:def:crs:EPSG::3857' is not supported "
         "(WGS84 or EPSG:27700 only)"),
        ({"type": "FeatureCollection", "features": {"a": 1}}, "'features' is not an array"),
    ],
    ids=["foreign_crs", "features_not_array"],
)
def test_file_level_errors(tmp_path, doc, reason):
    with pytest.raises(SourceError) as info:
        run_parser(PARSER, _write(tmp_path, doc))
    assert info.value.reason == reason


def test_truncated_file_raises_source_error_naming_feature(gj_dir):
    seen = []
    with pytest.raises(SourceError) as info:
        for item in PARSER.parse(Source.from_path(str(gj_dir / "truncated.geojson")),
                                 ParseOptions()):
            seen.append(item)
    assert info.value.locator == "json:/features/1"
    assert "not well formed" in info.value.reason
    assert [e.locator for e in seen] == ["json:/features/0"]


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"", False),
        (b'{"type": "FeatureCollection", "features": []}', True),
        (b'\xef\xbb\xbf\n{"features": [], "type":"FeatureCollection"}', True),
        (b'{"type": "Feature", "geometry": null}', False),
        (b'[{"type": "FeatureCollection"}]', False),
        (b'{"locations": [{"latitudeE7": 1}]}', False),
        (b"type,FeatureCollection\n", False),
    ],
    ids=["empty", "collection", "bom_type_last", "bare_feature", "array", "google", "csv"],
)
def test_sniff(head, expected):
    assert sniff(head, "x.geojson") is expected


@pytest.mark.parametrize(
    "content",
    ['{"type": "Feature", "geometry": null, "properties": {}}', "[1, 2]", "not json"],
    ids=["bare_feature", "array", "not_json"],
)
def test_not_this_format_before_first_yield(tmp_path, content):
    path = tmp_path / "x.geojson"
    path.write_text(content)
    with pytest.raises(NotThisFormat):
        next(iter(PARSER.parse(Source.from_path(str(path)), ParseOptions())))


_GEN_AND_RUN = """
import resource, sys
from atlas.parsing import ParseOptions, Source
from parsers.geojson import PARSER
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write('{"type": "FeatureCollection", "features": [\\n')
    for i in range(n):
        f.write(('' if i == 0 else ',') + '{"type": "Feature", "geometry": {"type": "Point", '
                f'"coordinates": [-1.{i % 100000:05d}, 53.{i % 100000:05d}]}}, "properties": '
                f'{{"time": "2024-05-01T10:{(i // 60) % 60:02d}:{i % 60:02d}Z"}}}}\\n')
    f.write("]}\\n")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in PARSER.parse(Source.from_path(path), ParseOptions()))
assert count == n, count
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


def _rss_growth_kib(tmp_path: Path, n: int) -> int:
    out = subprocess.run([sys.executable, "-c", _GEN_AND_RUN, str(tmp_path / f"{n}.json"), str(n)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_memory_flat_for_many_features(tmp_path):
    small = _rss_growth_kib(tmp_path, 2_000)
    large = _rss_growth_kib(tmp_path, 60_000)
    assert large - small < 15_000, (small, large)
