"""atlas verify: re-hash, re-run, and name whatever differs; works on a copied case."""

from __future__ import annotations

import shutil

import pytest

from atlas.analysis import run_analyses
from atlas.case import load_case
from atlas.cli import main
from atlas.ingest import ingest_file
from atlas.verify import verify
from fixtures import synthetic


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("verify") / "case"
    synthetic.generate(root, seed=7)
    case = load_case(root)
    for entry in synthetic.ingest_plan():
        ingest_file(case, root / entry["file"], entry["exhibit"], entry["format"],
                    synthetic.parse_options_for(entry, root))
    run_analyses(case, only=("coverage", "orders"))
    return root


@pytest.fixture
def case_dir(pristine, tmp_path):
    copy = tmp_path / "copied-case"
    shutil.copytree(pristine, copy)
    return copy


def _flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_a_copied_case_verifies(case_dir, capsys):
    report = verify(case_dir)
    assert not report.problems, report.problems
    assert any("step 5 analyse" in line and "reproduced byte for byte" in line for line in report.lines)
    assert main(["verify", str(case_dir)]) == 0
    assert "Verified" in capsys.readouterr().out


def test_verify_with_a_named_log(case_dir, tmp_path):
    copied_log = tmp_path / "copied.jsonl"
    shutil.copy(case_dir / "log" / "analysis.jsonl", copied_log)
    assert not verify(case_dir, copied_log).problems


def test_modified_source_is_named(case_dir, capsys):
    _flip(case_dir / "exhibits" / "suspect_gps.gpx")
    problems = verify(case_dir).problems
    assert any(p.startswith("MODIFIED") and "source DI/3 exhibits/suspect_gps.gpx" in p for p in problems)
    assert any(p.startswith("CHANGED") and "step 3 ingest" in p for p in problems)
    assert main(["verify", str(case_dir)]) == 1
    assert "difference(s) found" in capsys.readouterr().err


def test_modified_store_file_is_named(case_dir):
    (store_file,) = sorted((case_dir / "store" / "events").glob("DI-2-*.parquet"))
    _flip(store_file)
    problems = verify(case_dir).problems
    assert [p for p in problems if p.startswith("MODIFIED")] == [
        p for p in problems if f"store/events/{store_file.name}" in p]
    assert problems


def test_modified_missing_and_extra_outputs_are_named(case_dir):
    _flip(case_dir / "results" / "coverage.json")
    (case_dir / "results" / "orders" / "events_after_service.csv").unlink()
    (case_dir / "results" / "notes.txt").write_text("added by hand")
    problems = verify(case_dir).problems
    assert any(p.startswith("MODIFIED") and "results/coverage.json" in p for p in problems)
    assert any(p.startswith("MISSING") and "results/orders/events_after_service.csv" in p for p in problems)
    assert any(p.startswith("EXTRA") and "results/notes.txt" in p for p in problems)


def test_missing_source_is_named(case_dir):
    (case_dir / "exhibits" / "victim_gps.gpx").unlink()
    problems = verify(case_dir).problems
    assert any(p.startswith("MISSING") and "source DI/4" in p for p in problems)
