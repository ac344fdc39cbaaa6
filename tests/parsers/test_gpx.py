"""Tests for parsers/gpx.py: GPX 1.0/1.1 waypoints, routes and tracks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.gpx import PARSER, sniff
from tests.parsing_helpers import run_parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def gpx_dir(data_dir: Path) -> Path:
    return data_dir / "parsers" / "gpx"


def _at(events, locator):
    return next(e for e in events if e.locator == locator)


# --- real public samples ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "events", "rejected", "first_locator"),
    [
        ("gpxpy_Mojstrovka.gpx", 184, 0, "xpath:/gpx/trk[1]/trkseg[1]/trkpt[1]"),
        ("gpxpy_gpx1.1_with_all_fields.gpx", 8, 0, "xpath:/gpx/wpt[1]"),
        ("gpxpy_unicode_with_bom.gpx", 1, 0, "xpath:/gpx/wpt[1]"),
    ],
    ids=["mojstrovka_gpx10_track", "gpx11_all_fields", "bom_no_namespace"],
)
def test_sample_counts(samples_dir, name, events, rejected, first_locator):
    path = samples_dir / "gpx" / name
    got, rej = run_parser(PARSER, path)
    assert (len(got) + len(rej), len(got), len(rej)) == (events + rejected, events, rejected)
    assert got[0].locator == first_locator
    assert sniff(path.read_bytes()[:4096], name)


def test_sample_mojstrovka_first_point(samples_dir):
    events, _ = run_parser(PARSER, samples_dir / "gpx" / "gpxpy_Mojstrovka.gpx")
    e = events[0]
    assert e.locator == "xpath:/gpx/trk[1]/trkseg[1]/trkpt[1]"
    assert e.kind == "location_fix"
    # seven fractional digits: truncated to microseconds in UTC, verbatim in the source field
    assert e.timestamp_utc == datetime(1901, 12, 13, 20, 45, 52, 207343, tzinfo=UTC)
    assert e.timestamp_source == "1901-12-13T20:45:52.2073437Z"
    assert e.tz_basis == "utc-declared"
    assert e.tz_flag == "ok"
    assert (e.latitude, e.longitude) == (46.434981, 13.748273)
    assert e.accuracy_m is None
    assert e.location_method == "gps"
    assert e.channel == "gpx"
    assert e.thread == "trk[1]"  # the track has no name
    assert e.direction == "unknown"
    assert e.flags == ()
    assert e.extra == {"point_type": "trkpt", "ele": 1614.678, "segment": 1}
    # the file-level <time> (metadata) is not a point
    assert all(ev.timestamp_source != "2010-12-14T06:17:04Z" for ev in events)


def test_sample_all_fields(samples_dir):
    events, _ = run_parser(PARSER, samples_dir / "gpx" / "gpxpy_gpx1.1_with_all_fields.gpx")
    assert [e.locator for e in events] == [
        "xpath:/gpx/wpt[1]", "xpath:/gpx/wpt[2]",
        "xpath:/gpx/rte[1]/rtept[1]", "xpath:/gpx/rte[1]/rtept[2]", "xpath:/gpx/rte[1]/rtept[3]",
        "xpath:/gpx/rte[2]/rtept[1]", "xpath:/gpx/rte[2]/rtept[2]",
        "xpath:/gpx/trk[1]/trkseg[1]/trkpt[1]",
    ]
    wpt = events[0]
    assert wpt.thread is None
    assert wpt.timestamp_utc == datetime(2013, 1, 2, 2, 3, tzinfo=UTC)
    assert wpt.accuracy_m is None  # hdop is not metres
    assert wpt.extra == {
        "point_type": "wpt", "ele": 75.1, "magvar": 1.1, "geoidheight": 2.0,
        "name": "example name", "cmt": "example cmt", "desc": "example desc",
        "src": "example src", "link": ["http://link3"], "sym": "example sym",
        "type": "example type", "fix": "2d", "sat": 5, "hdop": 6.0, "vdop": 7.0, "pdop": 8.0,
        "ageofdgpsdata": 9.0, "dgpsid": 45, "extensions": {"aaa": "bbb", "ccc": "ddd"},
    }
    assert events[1].tz_flag == "no_time" and events[1].timestamp_utc is None
    assert events[2].thread == "example name"
    assert events[5].thread == "second route"
    trkpt = events[7]
    assert trkpt.thread == "example name t"
    # written without a zone: wall-clock time in the case zone (GMT in January)
    assert trkpt.timestamp_source == "2013-01-01T12:00:04"
    assert trkpt.tz_basis == "assumed:Europe/London"
    assert trkpt.timestamp_utc == datetime(2013, 1, 1, 12, 0, 4, tzinfo=UTC)
    assert trkpt.extra["extensions"] == {"last": "true"}


def test_sample_bom(samples_dir):
    events, _ = run_parser(PARSER, samples_dir / "gpx" / "gpxpy_unicode_with_bom.gpx")
    e = events[0]
    assert (e.latitude, e.longitude) == (43.309634, 3.515386)
    assert e.timestamp_utc == datetime(2016, 5, 27, 10, 8, 47, 800000, tzinfo=UTC)
    assert e.extra["name"] == "test"
    assert e.extra["hdop"] == 16.2
    assert e.extra["fix"] == ""


# --- committed inputs ---------------------------------------------------------------------


def test_local_offsets_and_unicode_names(gpx_dir):
    events, rej = run_parser(PARSER, gpx_dir / "local_offsets.gpx")
    assert (len(events) + len(rej), len(events), len(rej)) == (6, 6, 0)
    e = events[1]
    assert e.locator == "xpath:/gpx/trk[1]/trkseg[1]/trkpt[1]"
    assert e.kind == "location_fix"
    assert e.timestamp_utc == datetime(2024, 12, 18, 1, 44, 9, tzinfo=UTC)
    assert e.timestamp_source == "2024-12-18T08:44:09+07:00"
    assert e.tz_basis == "offset-in-source"
    assert e.tz_flag == "ok"
    assert (e.latitude, e.longitude) == (53.222, -4.201)
    assert e.thread == "Llanfair → Caergybi"
    assert e.accuracy_m is None
    assert e.location_method == "gps"
    assert e.channel == "gpx"
    assert e.flags == ()
    assert e.extra == {
        "point_type": "trkpt", "ele": 31.4, "hdop": 3.2, "segment": 1,
        "extensions": {"TrackPointExtension/hr": "142", "TrackPointExtension/cad": "80"},
    }
    assert events[0].extra["name"] == "Café Ŵyn 🚲"
    assert events[0].thread is None
    # +01:00, -05:00, Z and +00:00 all name the same kind of instant; only Z is "declared UTC"
    assert [(e.timestamp_utc.minute, e.tz_basis) for e in events[2:]] == [
        (15, "offset-in-source"), (16, "offset-in-source"), (17, "utc-declared"),
        (18, "offset-in-source"),
    ]
    assert all(e.timestamp_utc.hour == 9 for e in events[2:])


@pytest.mark.parametrize(
    ("index", "source", "utc", "flag"),
    [
        (0, "2024-07-01T12:00:00", datetime(2024, 7, 1, 11, 0, tzinfo=UTC), "ok"),
        (1, "2024-10-27T01:30:00", datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "ambiguous"),
        (2, "2024-03-31T01:30:00", datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "nonexistent"),
        (3, "2024-01-15T08:05:30.250", datetime(2024, 1, 15, 8, 5, 30, 250000, tzinfo=UTC), "ok"),
    ],
    ids=["bst", "autumn_ambiguous", "spring_nonexistent", "gmt_fraction"],
)
def test_no_zone_assumes_case_zone(gpx_dir, index, source, utc, flag):
    events, rej = run_parser(PARSER, gpx_dir / "no_zone.gpx")
    assert (len(events), len(rej)) == (4, 0)
    e = events[index]
    assert e.locator == f"xpath:/gpx/trk[1]/trkseg[1]/trkpt[{index + 1}]"
    assert e.timestamp_source == source
    assert e.timestamp_utc == utc
    assert e.tz_basis == "assumed:Europe/London"
    assert e.tz_flag == flag


def test_no_zone_uses_options_source_tz(gpx_dir):
    events, _ = run_parser(PARSER, gpx_dir / "no_zone.gpx", ParseOptions(source_tz="Asia/Bangkok"))
    assert events[0].tz_basis == "assumed:Asia/Bangkok"
    assert events[0].timestamp_utc == datetime(2024, 7, 1, 5, 0, tzinfo=UTC)
    assert events[1].tz_flag == "ok"


def test_no_time_and_empty_segments(gpx_dir):
    events, rej = run_parser(PARSER, gpx_dir / "no_time_empty_segments.gpx")
    assert (len(events) + len(rej), len(events), len(rej)) == (5, 5, 0)
    assert [(e.locator, e.thread, e.tz_flag) for e in events] == [
        ("xpath:/gpx/rte[1]/rtept[1]", "rte[1]", "no_time"),
        ("xpath:/gpx/rte[1]/rtept[2]", "rte[1]", "no_time"),
        ("xpath:/gpx/trk[1]/trkseg[3]/trkpt[1]", "trk[1]", "no_time"),
        ("xpath:/gpx/trk[1]/trkseg[3]/trkpt[2]", "trk[1]", "ok"),
        ("xpath:/gpx/trk[3]/trkseg[1]/trkpt[1]", "trk[3]", "no_time"),
    ]
    e = events[2]
    assert e.timestamp_utc is None
    assert e.timestamp_source is None
    assert e.tz_basis == "none"
    assert e.flags == ("empty_time",)
    assert (e.latitude, e.longitude) == (52.2, -1.2)
    assert e.extra == {"point_type": "trkpt", "segment": 3}
    assert events[0].flags == ()
    assert events[0].extra == {"point_type": "rtept", "name": "Start"}


def test_bad_records_rejected_and_parsing_continues(gpx_dir):
    events, rej = run_parser(PARSER, gpx_dir / "bad_records.gpx")
    assert (len(events) + len(rej), len(events), len(rej)) == (8, 2, 6)
    base = "xpath:/gpx/trk[1]/trkseg[1]/trkpt"
    assert [(r.locator, r.reason) for r in rej] == [
        (f"{base}[2]", "lat 'abc' is not a decimal number"),
        (f"{base}[3]", "lat '91.5' is outside -90..90"),
        (f"{base}[4]", "trkpt has no lon attribute"),
        (f"{base}[5]", "lat 'NaN' is not a decimal number"),
        (f"{base}[6]", "time '2024-05-01' is not an xsd:dateTime "
                       "(YYYY-MM-DDThh:mm:ss[.s][Z|±hh:mm])"),
        (f"{base}[7]", "time '2024-13-45T10:06:00Z' is not ISO 8601"),
    ]
    assert 'lat="abc"' in rej[0].raw
    last = events[1]
    assert last.locator == f"{base}[8]"
    assert last.flags == ("ele_not_numeric",)
    assert last.extra["ele"] == "high"


def test_truncated_file_raises_source_error_with_line(gpx_dir):
    source = Source.from_path(str(gpx_dir / "truncated.gpx"))
    seen = []
    with pytest.raises(SourceError) as info:
        for item in PARSER.parse(source, ParseOptions()):
            seen.append(item)
    assert info.value.locator == "line:13"
    assert "not well formed" in info.value.reason
    assert "truncated.gpx" in info.value.message
    # the points read before the damage were yielded; the ingest core rolls them back
    assert [e.locator for e in seen] == ["xpath:/gpx/trk[1]/trkseg[1]/trkpt[1]",
                                         "xpath:/gpx/trk[1]/trkseg[1]/trkpt[2]"]


def test_xxe_entities_not_resolved(gpx_dir):
    events, rej = run_parser(PARSER, gpx_dir / "xxe.gpx")
    assert (len(events), len(rej)) == (1, 0)
    e = events[0]
    assert e.locator == "xpath:/gpx/wpt[1]"
    assert e.extra["name"] == "before&xxe;after"
    assert e.extra["desc"] == "&remote;&lol2;"
    assert e.flags == ("unresolved_entity",)
    assert "root:" not in e.extra_json()


def test_xxe_local_file_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    path = tmp_path / "attack.gpx"
    path.write_text(textwrap.dedent(f"""\
        <?xml version="1.0"?>
        <!DOCTYPE gpx [<!ENTITY s SYSTEM "{secret.as_uri()}">]>
        <gpx xmlns="http://www.topografix.com/GPX/1/1" version="1.1">
          <trk><name>&s;</name><trkseg>
            <trkpt lat="1" lon="2"><name>&s;</name><time>2024-01-01T00:00:00Z</time></trkpt>
          </trkseg></trk>
        </gpx>
        """))
    events, rej = run_parser(PARSER, path)
    assert (len(events), len(rej)) == (1, 0)
    assert events[0].thread == "&s;"
    assert events[0].extra["name"] == "&s;"
    assert "TOP-SECRET" not in repr(events[0])


def test_gpx10_file(gpx_dir):
    events, rej = run_parser(PARSER, gpx_dir / "gpx10.gpx")
    assert (len(events) + len(rej), len(events), len(rej)) == (4, 4, 0)
    assert [e.locator for e in events] == [
        "xpath:/gpx/wpt[1]", "xpath:/gpx/rte[1]/rtept[1]",
        "xpath:/gpx/trk[1]/trkseg[1]/trkpt[1]", "xpath:/gpx/trk[1]/trkseg[1]/trkpt[2]",
    ]
    # ISO-8859-1 declared and honoured
    assert events[0].extra["name"] == "Café"
    assert events[0].extra["urlname"] == "Café page"
    assert events[1].thread == "Planned"
    e = events[2]
    assert e.thread == "Commute"
    assert e.timestamp_utc == datetime(2010, 12, 13, 9, 10, tzinfo=UTC)
    assert e.tz_basis == "utc-declared"
    assert e.tz_flag == "ok"
    assert e.extra == {"point_type": "trkpt", "ele": 101.5, "course": 270.5, "speed": 1.4,
                       "fix": "3d", "sat": 7, "hdop": 1.2, "segment": 1}
    assert e.accuracy_m is None


# --- detection ----------------------------------------------------------------------------

GPX11 = b'<?xml version="1.0"?>\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"", False),
        (GPX11, True),
        (b'\xef\xbb\xbf<?xml version="1.0"?><gpx>', True),
        (b'<!-- exported --><?xml-stylesheet href="x"?>\n<gpx version="1.0" '
         b'xmlns="http://www.topografix.com/GPX/1/0">', True),
        (b'<g:gpx xmlns:g="http://www.topografix.com/GPX/1/1">', True),
        ('<?xml version="1.0" encoding="UTF-16"?><gpx>'.encode("utf-16"), True),
        (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>', False),
        (b'<?xml version="1.0"?><root><gpx xmlns="http://www.topografix.com/GPX/1/1"/></root>',
         False),
        (b'<?xml version="1.0"?><gpx xmlns="http://example.org/not-gpx">', False),
        (b'<?xml version="1.0"?><gpxdata>', False),
        (b"lat,lon,time\n51.5,-0.1,2024-01-01T00:00:00Z\n", False),
        (b'{"gpx": []}', False),
    ],
    ids=["empty", "gpx11", "bom_no_ns", "comment_pi_gpx10", "prefixed", "utf16", "kml",
         "gpx_not_root", "foreign_namespace", "other_root", "csv", "json"],
)
def test_sniff(head, expected):
    assert sniff(head, "file.xml") is expected


@pytest.mark.parametrize(
    "content",
    [
        b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"></kml>',
        b'<?xml version="1.0"?><gpx xmlns="http://example.org/other"></gpx>',
        b"this is not xml at all",
    ],
    ids=["kml", "foreign_namespace", "not_xml"],
)
def test_not_this_format_before_first_yield(tmp_path, content):
    path = tmp_path / "x.gpx"
    path.write_bytes(content)
    with pytest.raises(NotThisFormat):
        next(iter(PARSER.parse(Source.from_path(str(path)), ParseOptions())))


# --- streaming memory ---------------------------------------------------------------------

_GEN_AND_RUN = """
import resource, sys
from atlas.parsing import ParseOptions, Source
from parsers.gpx import PARSER
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write('<?xml version="1.0"?>\\n<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
            '<trk><name>big</name><trkseg>\\n')
    for i in range(n):
        f.write(f'<trkpt lat="51.{i % 100000:05d}" lon="-0.{i % 100000:05d}"><ele>12.5</ele>'
                f'<time>2024-05-01T10:{(i // 60) % 60:02d}:{i % 60:02d}Z</time></trkpt>\\n')
    f.write("</trkseg></trk></gpx>\\n")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in PARSER.parse(Source.from_path(path), ParseOptions()))
assert count == n, count
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


def _rss_growth_kib(tmp_path: Path, n: int) -> int:
    out = subprocess.run([sys.executable, "-c", _GEN_AND_RUN, str(tmp_path / f"{n}.gpx"), str(n)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_memory_flat_for_large_track(tmp_path):
    # Without clearing, 100,000 points keep ~60 MB of tree alive.
    small = _rss_growth_kib(tmp_path, 2_000)
    large = _rss_growth_kib(tmp_path, 100_000)
    assert large - small < 15_000, (small, large)

# The 1,000,000-point run lives in `make bench` (fixtures/bench.py), not in the suite.
