"""atlas validate: the known-answer suite passes with real figures, and fails on a planted defect."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from analyses import _colocation_tables, _threat_screen_lexicon
from atlas import analysis as analysis_module
from atlas._validate_checks import CHECKS
from atlas.analysis import analyses
from atlas.cli import main
from atlas.registry import parsers
from atlas.validate import run
from parsers import _whatsapp_txt_grammar

# frequency is the slowest analysis (about 8 s a run); it is left out here to keep this file near a
# minute. Its known-answer checks are tested in tests/test_validate_contact.py.
FAST_ANALYSES = tuple(s.name for s in analyses() if s.name != "frequency")


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    out = tmp_path_factory.mktemp("validation")
    only = (*[p.name for p in parsers()], *FAST_ANALYSES, "determinism")
    assert main(["validate", "--out", str(out), "--seed", "7", *[a for n in only for a in ("--only", n)]]) == 0
    return out, json.loads((out / "validation.json").read_text(encoding="utf-8"))


def _test(doc, test_id):
    (t,) = [t for t in doc["tests"] if t["id"] == test_id]
    return t


def test_a_small_configuration_passes_with_measured_figures(record):
    out, doc = record
    assert doc["summary"]["result"] == "PASS" and doc["summary"]["failed"] == 0
    zone = _test(doc, "analysis.colocation.zone_visits.seed7")
    assert zone["status"] == "pass" and zone["observed"]["planted"] >= 5
    assert zone["observed"]["found"] == zone["observed"]["planted"] and zone["observed"]["spurious"] == 0
    threats = _test(doc, "analysis.threat_screen.planted_threats.seed7")
    assert threats["observed"]["tagged"] == threats["observed"]["planted"] > 0
    ordinary = _test(doc, "analysis.threat_screen.ordinary_messages.seed7")
    assert ordinary["observed"]["ordinary"] > 300
    leads = _test(doc, "analysis.identifier_changes.planted_leads.seed7")
    assert leads["observed"]["new_number_rank"] == 1
    dst = _test(doc, "parser.timeparse.dst_ambiguous.seed7")
    assert dst["observed"] == {"planted": 2, "flagged": 2}
    wa = _test(doc, "parser.whatsapp_txt.synthetic.DI/1.seed7")
    assert wa["observed"]["accepted"] == wa["expected"]["accepted"] > 1000
    rates = {r["test"]: r for r in doc["rates"]}
    assert rates["analysis.colocation.zone_visits"]["rates"]["found"]["rate"] == 1.0
    # every registered parser has hand-checked reference inputs, and each passes
    for spec in parsers():
        refs = [t for t in doc["tests"] if t["id"].startswith(f"parser.{spec.name}.reference.")]
        assert refs and all(t["status"] == "pass" for t in refs), spec.name
    # an analysis without a check says so explicitly
    for name in FAST_ANALYSES:
        if name not in CHECKS:
            assert _test(doc, f"analysis.{name}")["status"] == "not validated"
    md = (out / "validation.md").read_text(encoding="utf-8")
    assert "Result: **PASS**" in md and "analysis.colocation.zone_visits" in md and "not validated" in md
    assert doc["environment"]["python"] and doc["atlas_version"]


def test_two_runs_in_two_folders_give_identical_hashes_for_every_output(record):
    _, doc = record
    det = _test(doc, "pipeline.determinism.seed7")
    assert det["status"] == "pass" and det["observed"]["identical"] == det["observed"]["files"] > 50
    for kind in (".parquet", ".json", ".csv", ".png", ".graphml", ".gexf", ".kml"):
        assert kind in det["checks"], kind


def test_the_record_holds_no_wall_clock_time(record):
    out, doc = record
    text = (out / "validation.json").read_text(encoding="utf-8") + (out / "validation.md").read_text(encoding="utf-8")
    today = dt.datetime.now(dt.UTC).date().isoformat()
    assert today not in text and "time_utc" not in text
    # the run's date goes to the log beside the record, with the record's hash
    (line,) = (out / "validation-log.jsonl").read_text(encoding="utf-8").splitlines()
    entry = json.loads(line)
    assert entry["time_utc"].startswith(today) and {o["path"] for o in entry["outputs"]} == {
        "validation.json", "validation.md"}


def test_a_wrong_distance_function_fails_colocation_and_the_command(monkeypatch, tmp_path, capsys):
    real = _colocation_tables.haversine_m
    monkeypatch.setattr(_colocation_tables, "haversine_m", lambda *a: real(*a) * 1.6)
    assert main(["validate", "--out", str(tmp_path), "--seed", "7", "--only", "colocation"]) == 1
    assert "validation failed" in capsys.readouterr().err
    doc = json.loads((tmp_path / "validation.json").read_text(encoding="utf-8"))
    zone = _test(doc, "analysis.colocation.zone_visits.seed7")
    assert zone["status"] == "fail" and zone["observed"]["missed"] > 0
    assert doc["summary"]["result"] == "FAIL"
    assert "Result: **FAIL**" in (tmp_path / "validation.md").read_text(encoding="utf-8")


def test_a_wrong_time_conversion_in_a_parser_fails_its_tests(monkeypatch):
    real = _whatsapp_txt_grammar.from_local

    def an_hour_late(*args, **kwargs):
        reading = real(*args, **kwargs)
        if reading.utc is None:
            return reading
        return dataclasses.replace(reading, utc=reading.utc + dt.timedelta(hours=1))

    monkeypatch.setattr(_whatsapp_txt_grammar, "from_local", an_hour_late)
    outcome = run(None, seeds=(7,), only=("whatsapp_txt",))
    tests = {t["id"]: t for t in outcome.document["tests"]}
    assert tests["parser.whatsapp_txt.synthetic.times.seed7"]["status"] == "fail"
    assert tests["parser.whatsapp_txt.reference.dst_changes.txt"]["status"] == "fail"
    assert tests["parser.whatsapp_txt.reference.junk_and_bad_headers.txt"]["status"] == "fail"
    assert outcome.failed >= 3 and outcome.document["summary"]["result"] == "FAIL"


def test_a_lexicon_missing_its_violence_phrases_fails_the_threat_screen(monkeypatch):
    real = _threat_screen_lexicon.load

    def without_violence(path):
        lexicon, digest = real(path)
        kept = tuple(c for c in lexicon.categories if c.id != "violence")
        return dataclasses.replace(lexicon, categories=kept), digest

    monkeypatch.setattr(_threat_screen_lexicon, "load", without_violence)
    outcome = run(None, seeds=(7,), only=("threat_screen",))
    (t,) = [t for t in outcome.document["tests"] if t["id"] == "analysis.threat_screen.planted_threats.seed7"]
    assert t["status"] == "fail" and t["observed"]["tagged"] < t["observed"]["planted"]


def test_nondeterministic_output_fails_the_determinism_check(monkeypatch):
    real = analysis_module.result_document
    calls = iter(range(1000))

    def stamped(*args, **kwargs):
        doc = real(*args, **kwargs)
        doc["counts"]["run"] = next(calls)  # as a wall-clock time would
        return doc

    monkeypatch.setattr(analysis_module, "result_document", stamped)
    outcome = run(None, seeds=(7,), only=("orders", "determinism"))
    (t,) = [t for t in outcome.document["tests"] if t["id"] == "pipeline.determinism.seed7"]
    assert t["status"] == "fail" and any("results/orders.json" in d for d in t["detail"])


def test_unknown_names_are_refused():
    from atlas.errors import UsageError

    with pytest.raises(UsageError, match="not a parser, an analysis"):
        run(None, only=("no_such_method",))
