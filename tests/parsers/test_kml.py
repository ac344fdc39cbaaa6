"""Tests for parsers/kml.py: KML/KMZ placemarks, paths and gx:Track points."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.kml import PARSER, sniff
from tests.parsing_helpers import run_parser

ROOT = Path(__file__).resolve().parents[2]
PLACES = "xpath:/kml/Document[1]/Folder[1]"
JOURNEYS = "xpath:/kml/Document[1]/Folder[2]"


@pytest.fixture
def kml_dir(data_dir: Path) -> Path:
    return data_dir / "parsers" / "kml"


def _at(events, locator, part=0):
    return next(e for e in events if e.locator == locator and e.part == part)


@pytest.mark.parametrize(
    ("name", "read", "accepted", "rejected"),
    [("placemarks.kml", 16, 11, 5), ("tracks.kml", 9, 7, 2), ("xxe.kml", 1, 1, 0)],
    ids=["placemarks", "tracks", "xxe"],
)
def test_counts(kml_dir, name, read, accepted, rejected):
    events, rej = run_parser(PARSER, kml_dir / name)
    assert (len(events) + len(rej), len(events), len(rej)) == (read, accepted, rejected)


def test_first_placemark_field_by_field(kml_dir):
    events, _ = run_parser(PARSER, kml_dir / "placemarks.kml")
    e = events[0]
    assert e.locator == f"{PLACES}/Placemark[1]/Point[1]"
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
    assert e.channel == "kml"
    assert e.thread == "Places"
    assert e.text == "Home"
    assert e.attachments == ()
    assert e.status is None
    assert (e.latitude, e.longitude) == (53.8008, -1.5491)  # written lon,lat
    assert e.accuracy_m is None
    assert e.location_method == "unknown"
    assert e.cell_id is None
    assert e.deleted == "unknown"
    assert e.flags == ()
    assert e.extra == {"description": "Fix from the handset", "geometry": "Point",
                       "altitude_m": 50.0}


def test_rejections_name_locator_and_reason(kml_dir):
    _, rej = run_parser(PARSER, kml_dir / "placemarks.kml")
    assert [(r.locator, r.reason) for r in rej] == [
        (f"{PLACES}/Placemark[6]/Point[1]", "Point: '200.0,53.8': longitude 200 or latitude "
                                            "53.8 out of range (KML writes longitude first)"),
        (f"{PLACES}/Placemark[7]", "time 'yesterday' is not an xsd:dateTime, date, year-month "
                                   "or year"),
        (f"{PLACES}/Placemark[8]/Polygon[1]", "Polygon is an area drawn on a map, not a "
                                              "position or a path; not imported"),
        (f"{PLACES}/Placemark[9]", "Placemark has no Point, LineString or gx:Track geometry: "
                                   "nothing to place"),
        (f"{JOURNEYS}/Placemark[1]/LineString[1]", "vertex 3 of 4: 'abc,53.82' is not "
                                                   "lon,lat[,alt]"),
    ]


def test_timespan_point_is_a_visit(kml_dir):
    events, _ = run_parser(PARSER, kml_dir / "placemarks.kml")
    e = _at(events, f"{PLACES}/Placemark[2]/Point[1]")
    assert e.kind == "location_visit"
    assert e.timestamp_utc == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert e.end_utc == datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    assert e.duration_s == 5400.0
    assert e.tz_basis == "offset-in-source"
    assert e.accuracy_m == 25.0
    assert e.text == "Café Nero, Briggate"
    assert e.extra["data"] == {"accuracy": "25", "source": "fused"}
    assert e.extra["timespan_end"] == "2024-05-01T10:30:00+01:00"


@pytest.mark.parametrize(
    ("placemark", "utc", "basis", "flag", "flags"),
    [
        ("Placemark[3]", datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "assumed:Europe/London",
         "ambiguous", ()),
        ("Placemark[4]", None, "none", "no_time", ("date_only",)),
        ("Placemark[5]", None, "none", "no_time", ()),
    ],
    ids=["no_zone_doubled_hour", "year_month_only", "no_time_element"],
)
def test_placemark_times(kml_dir, placemark, utc, basis, flag, flags):
    events, _ = run_parser(PARSER, kml_dir / "placemarks.kml")
    e = _at(events, f"{PLACES}/{placemark}/Point[1]")
    assert (e.timestamp_utc, e.tz_basis, e.tz_flag, e.flags) == (utc, basis, flag, flags)


def test_date_only_kept_verbatim_never_midnight(kml_dir):
    events, _ = run_parser(PARSER, kml_dir / "placemarks.kml")
    e = _at(events, f"{PLACES}/Placemark[4]/Point[1]")
    assert e.timestamp_source == "2024-05"
    spaced = _at(events, f"{PLACES}/Placemark[5]/Point[1]")
    assert (spaced.latitude, spaced.longitude) == (53.83, -1.57)  # "-1.57, 53.83" tolerated


def test_linestring_vertices_have_no_time(kml_dir):
    events, _ = run_parser(PARSER, kml_dir / "placemarks.kml")
    where = f"{JOURNEYS}/Placemark[1]/LineString[1]"
    path = [e for e in events if e.locator == where]
    assert [e.part for e in path] == [0, 1, 3]
    assert [(e.latitude, e.longitude) for e in path] == [(53.85, -1.6), (53.83, -1.58),
                                                        (53.8, -1.55)]
    assert all(e.tz_flag == "no_time" and e.timestamp_utc is None for e in path)
    assert path[0].extra["feature_time"] == "2024-05-01T07:30:00Z"
    assert path[0].extra["timespan_end"] == "2024-05-01T07:55:00Z"
    assert path[2].extra["vertex"] == 4
    assert path[0].thread == "Journeys"


def test_multigeometry_and_photo_overlay(kml_dir):
    events, _ = run_parser(PARSER, kml_dir / "placemarks.kml")
    first = _at(events, f"{JOURNEYS}/Placemark[2]/MultiGeometry[1]/Point[1]")
    second = _at(events, f"{JOURNEYS}/Placemark[2]/MultiGeometry[1]/Point[2]")
    assert first.timestamp_utc == second.timestamp_utc == datetime(2024, 5, 2, 10, 0, 0, 250000,
                                                                   tzinfo=UTC)
    assert second.longitude == -0.14
    photo = _at(events, f"{JOURNEYS}/PhotoOverlay[1]/Point[1]")
    assert photo.attachments == ("files/IMG_0042.jpg",)
    assert photo.text == "IMG_0042"


def test_gx_track_points(kml_dir):
    events, rej = run_parser(PARSER, kml_dir / "tracks.kml")
    where = "xpath:/kml/Document[1]/Placemark[1]/Track[1]"
    track = [e for e in events if e.locator == where]
    assert [e.part for e in track] == [0, 1, 2]
    assert [e.timestamp_utc for e in track] == [
        datetime(2024, 5, 1, 8, 0, tzinfo=UTC), datetime(2024, 5, 1, 8, 0, 30, tzinfo=UTC),
        datetime(2024, 5, 1, 7, 1, tzinfo=UTC)]
    assert [(e.latitude, e.longitude) for e in track] == [(53.8008, -1.5491), (53.801, -1.548),
                                                         (53.8015, -1.547)]
    assert [e.accuracy_m for e in track] == [12.0, 8.5, 30.0]
    assert track[0].extra == {"geometry": "Track", "point": 1, "altitude_m": 50.0,
                              "accuracy": "12"}
    assert track[0].text == "Morning" and track[0].thread == "Tracker export"
    multi = "xpath:/kml/Document[1]/Placemark[2]/MultiTrack[1]"
    assert [(r.locator, r.reason) for r in rej] == [
        (f"{multi}/Track[1]", "track point 2 of 3: '53.79,-1.51' is not lon lat [alt]"),
        (f"{multi}/Track[2]", "gx:Track has 2 <when> but 1 <gx:coord> elements; they must pair "
                              "one to one"),
    ]
    assert [e.part for e in events if e.locator == f"{multi}/Track[1]"] == [0, 2]
    date_only = _at(events, f"{multi}/Track[3]", 0)
    assert (date_only.tz_flag, date_only.flags) == ("no_time", ("date_only",))
    local = _at(events, f"{multi}/Track[3]", 1)
    assert (local.timestamp_utc, local.tz_basis) == (datetime(2024, 5, 1, 15, 0, 10, tzinfo=UTC),
                                                     "assumed:Europe/London")


def test_xxe_entities_not_resolved(kml_dir):
    events, _ = run_parser(PARSER, kml_dir / "xxe.kml")
    e = events[0]
    assert e.locator == "xpath:/kml/Placemark[1]/Point[1]"
    assert e.text == "before&xxe;after"
    assert e.extra["description"] == "&remote;&lol2;"
    assert e.flags == ("unresolved_entity",)
    assert "root:" not in (e.extra_json() or "")


def test_xxe_local_file_not_read(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    path = tmp_path / "attack.kml"
    path.write_text(textwrap.dedent(f"""\
        <?xml version="1.0"?>
        <!DOCTYPE kml [<!ENTITY s SYSTEM "{secret.as_uri()}">]>
        <kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>&s;</name>
          <Placemark><name>&s;</name><Point><coordinates>1,2</coordinates></Point></Placemark>
        </Document></kml>
        """))
    events, _ = run_parser(PARSER, path)
    assert "TOP-SECRET" not in repr(events)
    assert events[0].text == "&s;"


def test_truncated_file_raises_source_error_with_line(kml_dir):
    seen = []
    with pytest.raises(SourceError) as info:
        for item in PARSER.parse(Source.from_path(str(kml_dir / "truncated.kml")), ParseOptions()):
            seen.append(item)
    assert info.value.locator == "line:11"
    assert "not well formed" in info.value.reason
    assert [e.locator for e in seen] == ["xpath:/kml/Document[1]/Placemark[1]/Point[1]"]


# --- KMZ ------------------------------------------------------------------------------------

DOC = (b'<?xml version="1.0"?><kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
       b"<Placemark><TimeStamp><when>2024-05-01T08:00:00Z</when></TimeStamp>"
       b"<Point><coordinates>-1.5,53.8</coordinates></Point></Placemark></Document></kml>")


def _kmz(tmp_path: Path, members: dict[str, bytes], name: str = "export.kmz") -> Path:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(zipfile.ZipInfo(member), data, zipfile.ZIP_DEFLATED)
    return path


def test_kmz_reads_doc_kml(tmp_path):
    path = _kmz(tmp_path, {"doc.kml": DOC, "files/photo.jpg": b"\xff\xd8\xff"})
    assert sniff(path.read_bytes()[:65536], path.name)
    events, rej = run_parser(PARSER, path)
    assert (len(events), len(rej)) == (1, 0)
    assert events[0].locator == "zip:doc.kml#xpath:/kml/Document[1]/Placemark[1]/Point[1]"
    assert events[0].timestamp_utc == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def test_kmz_first_kml_when_no_doc_kml(tmp_path):
    path = _kmz(tmp_path, {"files/a.png": b"png", "tracks/day1.kml": DOC, "later.kml": DOC})
    events, _ = run_parser(PARSER, path)
    assert events[0].locator.startswith("zip:tracks/day1.kml#xpath:/kml/")


def test_kmz_unsafe_other_member_never_opened(tmp_path):
    path = _kmz(tmp_path, {"doc.kml": DOC, "../../evil.kml": b"<kml/>"})
    events, _ = run_parser(PARSER, path)
    assert events[0].locator.startswith("zip:doc.kml#")


@pytest.mark.parametrize(
    ("members", "reason"),
    [
        ({"../../evil.kml": DOC}, "KMZ main document '../../evil.kml' has an absolute or '..' "
                                  "path (zip-slip); refused"),
        ({"/etc/doc.kml": DOC}, "KMZ main document '/etc/doc.kml' has an absolute or '..' "
                                "path (zip-slip); refused"),
        ({"doc.kml": DOC.replace(b"<Document>", b"<Document>" + b" " * 5_000_000)},
         "compression); refused as a possible zip bomb"),
    ],
    ids=["zip_slip", "absolute", "zip_bomb_ratio"],
)
def test_kmz_refused(tmp_path, members, reason):
    path = _kmz(tmp_path, members)
    with pytest.raises(SourceError) as info:
        run_parser(PARSER, path)
    assert info.value.reason.endswith(reason)


def test_zip_without_kml_is_not_this_format(tmp_path):
    path = _kmz(tmp_path, {"readme.txt": b"hello"}, "other.zip")
    assert not sniff(path.read_bytes()[:65536], path.name)
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, path)


# --- detection ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"", False),
        (b'<?xml version="1.0"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">', True),
        (b'\xef\xbb\xbf<kml xmlns="http://earth.google.com/kml/2.1"><Document>', True),
        (b'<!-- x --><kml:kml xmlns:kml="http://www.opengis.net/kml/2.2">', True),
        (b"<kml><Placemark/></kml>", True),
        (b'<?xml version="1.0"?><gpx xmlns="http://www.topografix.com/GPX/1/1">', False),
        (b'<?xml version="1.0"?><kml xmlns="http://example.org/other">', False),
        (b'<?xml version="1.0"?><root><kml/></root>', False),
        (b'{"type": "FeatureCollection"}', False),
        (b"PK\x03\x04" + b"\x00" * 22 + b"\x07\x00\x00\x00" + b"doc.kml", True),
        (b"PK\x03\x04" + b"\x00" * 22 + b"\x13\x00\x00\x00" + b"[Content_Types].xml", False),
    ],
    ids=["empty", "kml22", "bom_google_ns", "prefixed", "no_namespace", "gpx", "foreign_ns",
         "kml_not_root", "json", "kmz", "xlsx"],
)
def test_sniff(head, expected):
    assert sniff(head, "file") is expected


def test_not_this_format_before_first_yield(tmp_path):
    path = tmp_path / "x.kml"
    path.write_bytes(b'<?xml version="1.0"?><gpx xmlns="http://www.topografix.com/GPX/1/1"/>')
    with pytest.raises(NotThisFormat):
        next(iter(PARSER.parse(Source.from_path(str(path)), ParseOptions())))


# --- streaming memory -----------------------------------------------------------------------

_GEN_AND_RUN = """
import resource, sys
from atlas.parsing import ParseOptions, Source
from parsers.kml import PARSER
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "w") as f:
    f.write('<?xml version="1.0"?>\\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            '<Folder><name>big</name>\\n')
    for i in range(n):
        f.write(f'<Placemark><name>p{i}</name><TimeStamp><when>2024-05-01T10:{(i // 60) % 60:02d}:'
                f'{i % 60:02d}Z</when></TimeStamp><Point><coordinates>-1.{i % 100000:05d},'
                f'53.{i % 100000:05d}</coordinates></Point></Placemark>\\n')
    f.write("</Folder></Document></kml>\\n")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
count = sum(1 for _ in PARSER.parse(Source.from_path(path), ParseOptions()))
assert count == n, count
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base)
"""


def _rss_growth_kib(tmp_path: Path, n: int) -> int:
    out = subprocess.run([sys.executable, "-c", _GEN_AND_RUN, str(tmp_path / f"{n}.kml"), str(n)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    return int(out.stdout.strip())


def test_memory_flat_for_many_placemarks(tmp_path):
    small = _rss_growth_kib(tmp_path, 2_000)
    large = _rss_growth_kib(tmp_path, 60_000)
    assert large - small < 15_000, (small, large)
