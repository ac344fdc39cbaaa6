"""The telecoms scale writers: seeded, and read by their parsers with zero rejections."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from atlas.cells import cell_areas
from fixtures import scale, synthetic
from parsers import cdr_csv, cell_sites, tower_dump_csv
from tests.parsing_helpers import run_parser

N = 12_345  # more than one write chunk


def _options(root: Path):  # noqa: ANN202
    return synthetic.parse_options_for({"tz": "Europe/London"}, root)


@pytest.mark.parametrize(
    "writer,spec,name,rows",
    [
        (scale.write_cdr_ee, cdr_csv.PARSER, "cdr.csv", N),
        (scale.write_tower_dump, tower_dump_csv.PARSER, "tower_dump.csv", N),
        (scale.write_cell_site_list, cell_sites.PARSER, "cells.csv", None),
    ],
    ids=["cdr_ee", "tower_dump", "cell_sites"],
)
def test_telecoms_writers_are_seeded_and_accepted(writer, spec, name: str, rows: int | None,  # noqa: ANN001
                                                   tmp_path: Path) -> None:
    n = rows if rows is not None else 200
    digests = []
    for seed in (3, 3, 4):
        path = tmp_path / f"{seed}-{len(digests)}-{name}"
        assert writer(path, n, seed) == []
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())
    assert digests[0] == digests[1] != digests[2]
    path = tmp_path / f"3-0-{name}"
    assert spec.sniff(path.read_bytes()[:65536], name)
    events, rejections = run_parser(spec, path, _options(tmp_path))
    assert rejections == []
    if rows is not None:
        assert len(events) == rows
    else:  # three sectors a site, one cell in twenty listed twice (replanned)
        assert n * scale.SECTORS <= len(events) < n * scale.SECTORS * 1.2
        assert {e.cell_id for e in events} == set(scale.bench_cell_ids(n))


def test_cdr_cells_are_all_in_the_cell_list(tmp_path: Path) -> None:
    import pandas as pd

    scale.write_cdr_ee(tmp_path / "cdr.csv", 3_000, 5, n_sites=50)
    scale.write_cell_site_list(tmp_path / "cells.csv", 50, 5)
    cdr, _ = run_parser(cdr_csv.PARSER, tmp_path / "cdr.csv", _options(tmp_path))
    sites, _ = run_parser(cell_sites.PARSER, tmp_path / "cells.csv", _options(tmp_path))
    events = pd.DataFrame({"kind": [e.kind for e in cdr], "cell_id": [e.cell_id for e in cdr],
                           "timestamp_utc": [e.timestamp_utc for e in cdr]})
    frame = pd.DataFrame({
        "event_id": [f"s{k}" for k in range(len(sites))],
        "cell_id": [s.cell_id for s in sites],
        "latitude": [s.latitude for s in sites], "longitude": [s.longitude for s in sites],
        "azimuth_deg": [s.extra.get("azimuth_deg") for s in sites],
        "beamwidth_deg": [s.extra.get("beamwidth_deg") for s in sites],
        "active_from": [s.extra.get("active_from") for s in sites],
        "active_to": [s.extra.get("active_to") for s in sites],
    })
    out = cell_areas(events, frame)
    assert set(out["cell_site_status"]) == {"matched"}
