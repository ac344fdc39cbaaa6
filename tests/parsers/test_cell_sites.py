"""Tests for parsers/cell_sites.py: operator cell lists and the MLS/OpenCelliD export."""

from __future__ import annotations

import math
import tomllib
from datetime import date
from pathlib import Path

import pytest

from atlas.errors import UsageError
from atlas.osgrid import grid_to_wgs84
from atlas.parsing import NotThisFormat, ParseOptions
from parsers.cell_sites import PARSER, sniff
from tests.parsing_helpers import run_parser


@pytest.fixture
def cs_dir(data_dir: Path) -> Path:
    return data_dir / "parsers" / "cell_sites"


def _run(cs_dir: Path, name: str):
    mapping = cs_dir / (Path(name).stem + ".mapping.toml")
    options = ParseOptions()
    if mapping.exists():
        with open(mapping, "rb") as fh:
            options = ParseOptions(mapping=tomllib.load(fh), mapping_path=mapping.name)
    return run_parser(PARSER, cs_dir / name, options)


def _at(events, locator):
    return next(e for e in events if e.locator == locator)


TRANSFORM = ("OSGB36 National Grid to WGS84 by Helmert transformation (about 5 m), "
             "atlas.osgrid")


@pytest.mark.parametrize(
    ("name", "read", "accepted", "rejected"),
    [("operator_list.csv", 11, 5, 6), ("mls_export.csv", 7, 4, 3), ("mls_noheader.csv", 3, 3, 0),
     ("renamed_columns.csv", 3, 2, 1)],
    ids=["operator_list", "mls_with_header", "mls_without_header", "analyst_mapping"],
)
def test_counts(cs_dir, name, read, accepted, rejected):
    events, rej = _run(cs_dir, name)
    assert (len(events) + len(rej), len(events), len(rej)) == (read, accepted, rejected)


def test_operator_row_field_by_field(cs_dir):
    events, _ = _run(cs_dir, "operator_list.csv")
    e = events[0]
    assert e.locator == "line:4"  # two title rows, header on line 3
    assert e.kind == "cell_site"
    assert (e.timestamp_utc, e.timestamp_source, e.tz_basis, e.tz_flag) == (
        None, None, "none", "no_time")
    assert e.date_order is None and e.duration_s is None
    assert e.direction == "none"
    assert e.sender is None and e.recipients == ()
    assert (e.latitude, e.longitude) == pytest.approx(grid_to_wgs84(429950, 433950), abs=1e-12)
    assert (round(e.latitude, 4), round(e.longitude, 4)) == (53.801, -1.5468)
    assert e.accuracy_m is None
    assert e.location_method == "cell"
    assert e.cell_id == "234-30-1234-56789"
    assert e.deleted == "unknown"
    assert e.flags == ()
    assert e.extra == {
        "position_source": "operator cell list", "source_easting": 429950.0,
        "source_northing": 433950.0, "coordinate_transform": TRANSFORM, "azimuth_deg": 120.0,
        "beamwidth_deg": 65.0, "height_m": 25.0, "active_from": "2024-01-01",
        "technology": "LTE", "band": "B3", "site_name": "Leeds City Centre",
        "site_address": "1 High Street, Leeds LS1 1AA",
    }


@pytest.mark.parametrize(
    ("locator", "cell_id", "lat", "lon", "flags", "subset"),
    [
        ("line:5", "234-30-1234-56789", 53.80055, -1.54752, (),
         {"active_from": "2020-01-01", "active_to": "2023-12-31", "azimuth_deg": 110.0}),
        ("line:6", "234-30-1234-56790", 53.79516, -1.54758, (),
         {"source_grid_ref": "SE 29900 33300", "grid_square_m": 1.0, "azimuth_deg": 240.0,
          "active_from": "2022-06-01"}),
        ("line:7", "234-30-1234-56791", 53.819, -1.577, (),
         {"omni": True, "beamwidth_deg": 360.0, "cell_id_raw": "234-30-01234-56791"}),
        ("line:8", "234-30-1234-56792", 53.82822, -1.50012, ("coarse_grid_reference",),
         {"source_grid_ref": "SE 33 37", "grid_square_m": 1000.0, "azimuth_deg": 0.0}),
    ],
    ids=["second_row_same_cell_dated", "letter_grid_ref_no_beamwidth", "latlon_omni",
         "coarse_grid_ref"],
)
def test_operator_positions(cs_dir, locator, cell_id, lat, lon, flags, subset):
    events, _ = _run(cs_dir, "operator_list.csv")
    e = _at(events, locator)
    got = (e.cell_id, round(e.latitude, 5), round(e.longitude, 5), e.flags)
    assert got == (cell_id, lat, lon, flags)
    assert {k: e.extra.get(k) for k in subset} == subset
    if "omni" in subset:
        assert "azimuth_deg" not in e.extra


def test_operator_rejections(cs_dir):
    _, rej = _run(cs_dir, "operator_list.csv")
    assert [(r.locator, r.reason) for r in rej] == [
        ("line:9", "no mast position: latitude/longitude, easting/northing and grid reference are "
                   "all empty or absent"),
        ("line:10", "azimuth (column 'Azimuth (deg)') 'east' is not a number"),
        ("line:11", "latitude/longitude 0,0 is a placeholder, not a mast position"),
        ("line:12", "easting (column 'Easting') 800000 is outside 0..700000"),
        ("line:13", "active from (column 'Active From') '31/02/2024' is not a date "
                    "(dd/mm/yyyy or yyyy-mm-dd)"),
        ("line:14", "no cell identity (column 'Cell ID' empty)"),
    ]


def test_mls_export(cs_dir):
    events, rej = _run(cs_dir, "mls_export.csv")
    gsm, umts, lte, nr = events
    assert (gsm.locator, gsm.cell_id, gsm.latitude, gsm.longitude) == (
        "line:2", "234-30-1234-56789", 53.796, -1.548)
    assert gsm.flags == ("crowd_sourced_position",)
    assert gsm.tz_flag == "no_time" and gsm.location_method == "cell"
    assert gsm.extra["position_source"].startswith("crowd-sourced estimate")
    assert gsm.extra["created"] == "2016-04-01T00:00:00+00:00"
    assert gsm.extra["range_m"] == 1500
    # 65567001 = RNC 1000 * 65536 + CI 31001
    assert (umts.cell_id, umts.extra["rnc"]) == ("234-15-2001-31001", 1000)
    assert (lte.cell_id, lte.extra["tac"]) == ("234-20-123457-1", 4321)  # ECI 31604993
    assert nr.flags == ("crowd_sourced_position", "cell_id_form_unverified")
    assert [(r.locator, r.reason) for r in rej] == [
        ("line:6", "lat/lon empty: the export gives no position for this cell"),
        ("line:7", "radio 'WIMAX' is not one of GSM, UMTS, LTE, NR, CDMA"),
        ("line:8", "row has 8 cells; the MLS/OpenCelliD export has 14"),
    ]


def test_mls_without_header_pads_mnc(cs_dir):
    events, _ = _run(cs_dir, "mls_noheader.csv")
    assert [e.locator for e in events] == ["line:1", "line:2", "line:3"]
    assert [e.cell_id for e in events] == [
        "234-20-123457-2", "234-02-5000-1234", "234-15-2001-31002"]


def test_analyst_mapping(cs_dir):
    events, rej = _run(cs_dir, "renamed_columns.csv")
    kirkstall, armley = events
    assert kirkstall.cell_id == "234-15-2001-31001"
    assert kirkstall.extra["azimuth_deg"] == 45.0 and kirkstall.extra["beamwidth_deg"] == 90.0
    assert kirkstall.extra["active_from"] == "2021-06-01"
    assert armley.extra["omni"] is True and "beamwidth_deg" not in armley.extra
    assert [(r.locator, r.reason) for r in rej] == [
        ("line:4", "no mast position: latitude/longitude, easting/northing and grid reference are "
                   "all empty or absent")]


def test_bad_mapping_is_usage_error(cs_dir):
    with pytest.raises(UsageError, match=r"columns.azimut: unknown field"):
        run_parser(PARSER, cs_dir / "renamed_columns.csv",
                   ParseOptions(mapping={"columns": {"azimut": "Dir"}}, mapping_path="m.toml"))
    with pytest.raises(UsageError, match="names a cell identity, a position and azimuth"):
        run_parser(PARSER, cs_dir / "renamed_columns.csv",
                   ParseOptions(mapping={"columns": {"cgi": "Nope"}}, mapping_path="m.toml"))


def test_parts_columns_and_xlsx(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "Cells"
    ws.append(["MCC", "MNC", "LAC", "CI", "Latitude", "Longitude", "Azimuth", "Start Date"])
    ws.append([234, 15, 2001, 31003, 53.8, -1.56, 300, date(2021, 6, 1)])
    ws.append([234, 15, 2001, None, 53.8, -1.56, 300, None])
    path = tmp_path / "cells.xlsx"
    wb.save(path)
    assert not sniff(path.read_bytes()[:65536], "cells.xlsx")
    events, rej = run_parser(PARSER, path)
    assert [(e.locator, e.cell_id, e.extra["active_from"]) for e in events] == [
        ("xlsx:Cells!row=2", "234-15-2001-31003", "2021-06-01")]
    assert [(r.locator, r.reason) for r in rej] == [
        ("xlsx:Cells!row=3", "no cell identity (MCC/MNC/LAC/CI columns empty)")]


def test_not_a_cell_list(tmp_path, data_dir):
    cdr = data_dir / "parsers" / "cdr_csv" / "ee.csv"
    with pytest.raises(NotThisFormat):
        run_parser(PARSER, cdr)
    assert not sniff(cdr.read_bytes(), "ee.csv")


@pytest.mark.parametrize(
    ("head", "expected"),
    [(b"", False), (b"radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,"
                    b"updated,averageSignal\n", True),
     (b"LTE,234,20,4321,31604994,,-1.541,53.801,900,40,1,1459468800,1609459200,\n", True),
     (b"Cell ID,Latitude,Longitude\n234-30-1-2,53.8,-1.5\n", False),
     (b"CGI,Grid Ref,Azimuth\n234-30-1-2,SE 1 2,90\n", True)],
    ids=["empty", "mls_header", "mls_row", "no_azimuth", "grid_ref_list"],
)
def test_sniff(head, expected):
    assert sniff(head, "x.csv") is expected


def test_mast_positions_are_plausible(cs_dir):
    """Every converted mast lies in Leeds (within 10 km of SE 29950 33950)."""
    events, _ = _run(cs_dir, "operator_list.csv")
    lat0, lon0 = grid_to_wgs84(429950, 433950)
    for e in events:
        d = math.hypot((e.latitude - lat0) * 111_200,
                       (e.longitude - lon0) * 111_320 * math.cos(math.radians(lat0)))
        assert d < 10_000, e.locator
