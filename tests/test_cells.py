"""Cell identities and the event <-> cell site join (atlas/cells.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import parsers
from atlas.case import load_case, write_new_case
from atlas.cells import (
    CELL_COLUMNS,
    cell_areas,
    cgi_from_parts,
    eci_cgi,
    load_cell_sites,
    normalise_cgi,
)
from atlas.errors import ParamError
from atlas.ingest import ingest_file
from atlas.store import load_events
from parsers import cdr_csv, cell_sites
from tests.parsing_helpers import run_parser


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("234-15-1234-56789", "234-15-1234-56789"), ("234 15 01234 056789", "234-15-1234-56789"),
     ("234/30/1234/56789", "234-30-1234-56789"), (" 234-30-1-2 ", "234-30-1-2"),
     ("234-20-31604993", "234-20-123457-1"), ("234-020-1-2", "234-020-1-2"),
     ("234-20-300000000", None), ("23-15-1-2", None), ("234-1-1-2", None),
     ("234-15-12AB-1", None), ("Unavailable", None), ("", None), (None, None),
     ("234-15-1", "234-15-0-1")],
    ids=["canonical", "spaces_leading_zeros", "slashes", "padded", "ecgi_3_part",
         "three_digit_mnc_kept", "over_28_bits", "short_mcc", "one_digit_mnc", "hex",
         "word", "empty", "none", "small_eci"],
)
def test_normalise_cgi(raw, expected):
    assert normalise_cgi(raw) == expected


def test_parts_and_eci_helpers():
    assert cgi_from_parts("234", "15", "01234", "56789") == "234-15-1234-56789"
    assert cgi_from_parts("234", "15", "", "56789") is None
    assert eci_cgi("234", "20", "31604994") == "234-20-123457-2"
    assert eci_cgi("234", "20", "x") is None


# --- the join over parsed events -----------------------------------------------------------


def _frame(items, exhibit: str) -> pd.DataFrame:
    """Return drafts as a store-like frame (event_id = exhibit + locator)."""
    return pd.DataFrame({
        "event_id": [f"{exhibit}#{e.locator}" for e in items],
        "exhibit_ref": exhibit,
        "kind": [e.kind for e in items],
        "timestamp_utc": pd.to_datetime([e.timestamp_utc for e in items], utc=True),
        "cell_id": [e.cell_id for e in items],
        "latitude": [e.latitude for e in items],
        "longitude": [e.longitude for e in items],
        "extra": [e.extra_json() for e in items],
    })


def _sites(frame: pd.DataFrame) -> pd.DataFrame:
    extra = frame["extra"].map(json.loads)
    out = frame[["event_id", "exhibit_ref", "cell_id", "latitude", "longitude"]].copy()
    for key in ("azimuth_deg", "beamwidth_deg", "active_from", "active_to", "position_source"):
        out[key] = extra.map(lambda d, k=key: d.get(k))
    return out


@pytest.fixture
def frames(data_dir: Path):
    cdr, _ = run_parser(cdr_csv.PARSER, data_dir / "parsers" / "cdr_csv" / "ee.csv")
    sites, _ = run_parser(cell_sites.PARSER,
                          data_dir / "parsers" / "cell_sites" / "operator_list.csv")
    events = _frame(cdr, "CDR/1")
    extra_rows = pd.DataFrame({
        "event_id": ["X#1", "X#2", "X#3", "X#4", "X#5", "X#6"],
        "exhibit_ref": "X",
        "kind": ["call", "call", "call", "chat_message", "call", "call"],
        "timestamp_utc": pd.to_datetime(["2023-06-01 12:00", "2019-05-01 12:00",
                                         "2024-05-01 12:00", "2024-05-01 12:00", None,
                                         "2024-05-01 23:30"], utc=True),
        "cell_id": ["234-30-1234-56789", "234-30-1234-56789", "234-30-1234-56793", None,
                    "234-30-1234-56790", "234-30-1234-56792"],
        "latitude": None, "longitude": None, "extra": None,
    })
    site_frame = _frame(sites, "CELLS/1")
    return pd.concat([events, extra_rows, site_frame], ignore_index=True), _sites(site_frame)


def _row(out: pd.DataFrame, event_id: str) -> pd.Series:
    return out.set_index("event_id").loc[event_id]


def test_join_keeps_every_event_in_order_and_adds_columns(frames):
    events, sites = frames
    out = cell_areas(events, sites)
    assert list(out["event_id"]) == list(events["event_id"])
    assert list(out.index) == list(events.index)
    assert set(CELL_COLUMNS) <= set(out.columns)
    assert list(out.columns[: len(events.columns)]) == list(events.columns)
    assert "cell_site_status" not in events.columns  # the input is not modified


@pytest.mark.parametrize(
    ("event_id", "status", "site", "bearings", "candidates"),
    [
        ("CDR/1#line:5", "matched", "CELLS/1#line:4", (87.5, 152.5), 2),
        ("X#1", "matched", "CELLS/1#line:5", (77.5, 142.5), 2),
        ("X#2", "inactive_cell_site", None, (None, None), 2),
        ("CDR/1#line:8", "matched", "CELLS/1#line:6", (None, None), 1),
        ("CDR/1#line:9", "matched", "CELLS/1#line:7", (0.0, 360.0), 1),
        ("X#6", "matched", "CELLS/1#line:8", (327.5, 32.5), 1),
        ("X#3", "unknown_cell", None, (None, None), 0),
        ("CDR/1#line:10", "unknown_cell", None, (None, None), 0),
        ("X#5", "matched", "CELLS/1#line:6", (None, None), 1),
    ],
    ids=["dated_row_in_force_2024", "older_row_in_force_2023", "before_any_row",
         "sector_without_beamwidth", "omni", "sector_across_north", "cell_not_in_list",
         "unparseable_cell_id", "no_time_single_row"],
)
def test_join_statuses(frames, event_id, status, site, bearings, candidates):
    events, sites = frames
    r = _row(cell_areas(events, sites), event_id)
    assert r["cell_site_status"] == status
    assert r["cell_site_event_id"] == site
    assert r["cell_site_candidates"] == candidates
    got = tuple(None if pd.isna(v) else v
                for v in (r["cell_bearing_from_deg"], r["cell_bearing_to_deg"]))
    assert got == bearings
    if status == "matched":
        assert r["cell_range_m"] == 5000.0
        assert r["cell_site_exhibit_ref"] == "CELLS/1"
        assert r["cell_site_position_source"] == "operator cell list"
        assert not math.isnan(r["cell_site_lat"]) and not math.isnan(r["cell_site_lon"])
    else:
        assert math.isnan(r["cell_range_m"]) and math.isnan(r["cell_site_lat"])


def test_uncertainty_is_carried_field_by_field(frames):
    events, sites = frames
    r = _row(cell_areas(events, sites, range_m=1500), "CDR/1#line:5")
    mast = sites.set_index("event_id").loc["CELLS/1#line:4"]
    assert (r["cell_site_lat"], r["cell_site_lon"]) == (mast["latitude"], mast["longitude"])
    assert (r["cell_azimuth_deg"], r["cell_beamwidth_deg"]) == (120.0, 65.0)
    assert (r["cell_bearing_from_deg"], r["cell_bearing_to_deg"]) == (87.5, 152.5)
    assert r["cell_range_m"] == 1500.0
    assert pd.isna(r["latitude"])  # the event itself gets no "phone position"


def test_events_without_cell_and_site_rows_get_null_status(frames):
    events, sites = frames
    out = cell_areas(events, sites)
    assert out.loc[out["event_id"] == "X#4", "cell_site_status"].isna().all()
    assert out.loc[out["kind"] == "cell_site", "cell_site_status"].isna().all()


def test_ambiguous_rows_give_no_position(frames):
    events, sites = frames
    dup = sites[sites["event_id"] == "CELLS/1#line:6"].assign(event_id="CELLS/2#line:1",
                                                               latitude=53.9)
    out = cell_areas(events, pd.concat([sites, dup], ignore_index=True))
    for event_id in ("CDR/1#line:8", "X#5"):
        r = _row(out, event_id)
        assert (r["cell_site_status"], r["cell_site_candidates"]) == ("ambiguous_cell_site", 2)
        assert r["cell_site_event_id"] is None and math.isnan(r["cell_site_lat"])


def test_join_is_deterministic_whatever_the_site_order(frames):
    events, sites = frames
    a = cell_areas(events, sites)
    b = cell_areas(events, sites.iloc[::-1].reset_index(drop=True))
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("bad", [0, -5, math.nan, math.inf, "5000", True],
                         ids=["zero", "negative", "nan", "inf", "text", "bool"])
def test_range_must_be_positive(frames, bad):
    events, sites = frames
    with pytest.raises(ParamError, match="range_m"):
        cell_areas(events, sites, range_m=bad)


def test_empty_inputs(frames):
    events, sites = frames
    out = cell_areas(events.iloc[0:0], sites)
    assert len(out) == 0 and "cell_site_status" in out.columns
    out = cell_areas(events, sites.iloc[0:0])
    assert set(out.loc[out["cell_id"].notna() & (out["kind"] != "cell_site"),
                       "cell_site_status"]) == {"unknown_cell"}


# --- end to end through the store ---------------------------------------------------------


def test_load_cell_sites_from_the_store(tmp_path, data_dir, monkeypatch):
    extra = tuple(s for s in (cdr_csv.PARSER, cell_sites.PARSER) if s not in parsers.PARSERS)
    monkeypatch.setattr(parsers, "PARSERS", parsers.PARSERS + extra)
    write_new_case(tmp_path / "case", "01AB2345678", "Dana Irving")
    case = load_case(tmp_path / "case")
    inputs = (("ee.csv", "cdr_csv", "CDR/1", "cdr_csv"),
              ("operator_list.csv", "cell_sites", "CELLS/1", "cell_sites"))
    for name, folder, exhibit, fmt in inputs:
        target = case.root / "exhibits" / name
        target.write_bytes((data_dir / "parsers" / folder / name).read_bytes())
        ingest_file(case, target, exhibit, fmt=fmt)
    sites = load_cell_sites(case.root)
    assert len(sites) == 5
    assert set(sites["exhibit_ref"]) == {"CELLS/1"}
    events = load_events(case.root)
    out = cell_areas(events[events["kind"] != "cell_site"], sites)
    first = out[out["locator"] == "line:5"].iloc[0]
    site_id = sites.loc[sites["azimuth_deg"] == 120.0, "event_id"].item()
    assert (first["cell_site_status"], first["cell_site_event_id"]) == ("matched", site_id)
    assert first["cell_site_position_source"] == "operator cell list"
    assert out["cell_site_status"].value_counts().to_dict() == {"matched": 5, "unknown_cell": 1}
