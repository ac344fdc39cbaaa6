"""Every registered analysis on the full synthetic case: real event ids, wording, no labels, determinism."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from atlas.analysis import analyses, run_analyses, templates
from atlas.case import load_case
from atlas.ingest import ingest_file
from atlas.store import load_events
from fixtures import synthetic

# Legal labels and conclusions a finding must never assert (domain.md rules 1 and 10).
# Names of statutes and order types are not labels for conduct.
PROPER_NAMES = re.compile(r"Protection from Harassment Act|Stalking Protection (Act|Order)|"
                          r"stalking_protection_order|interim_stalking_protection_order", re.IGNORECASE)
FORBIDDEN = re.compile(r"\b(stalk(ed|ing)?|breach(ed|es)?|course of conduct|harass(ed|ment)?|proves?|"
                       r"was at|visited|guilty)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def full_case(tmp_path_factory):
    root = tmp_path_factory.mktemp("full") / "case"
    synthetic.generate(root, seed=7)
    case = load_case(root)
    for entry in synthetic.ingest_plan(extended=True):
        ingest_file(case, root / entry["file"], entry["exhibit"], entry["format"],
                    synthetic.parse_options_for(entry, root))
    docs = run_analyses(case)
    return case, docs


def _outputs(case) -> dict[str, str]:
    return {p.relative_to(case.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((case.root / "results").rglob("*")) if p.is_file()}


def test_every_analysis_ran(full_case):
    _, docs = full_case
    assert [d["analysis"] for d in docs] == [s.name for s in analyses()]
    assert all(d["findings"] for d in docs), "every analysis finds something in the synthetic case"


def test_every_finding_cites_real_events_in_time_order(full_case):
    case, docs = full_case
    store = load_events(case.root, columns=["event_id", "timestamp_utc"])
    known = set(store["event_id"])
    when = dict(zip(store["event_id"], store["timestamp_utc"].astype("int64"), strict=True))
    untimed = set(store.loc[store["timestamp_utc"].isna(), "event_id"])
    for doc in docs:
        for finding in doc["findings"]:
            ids = finding["event_ids"]
            assert set(ids) <= known, f"{doc['analysis']} {finding['key']} cites unknown events"
            times = [when[e] for e in ids if e not in untimed]
            assert times == sorted(times), f"{doc['analysis']} {finding['key']} ids not in time order"


def test_every_key_has_wording_and_no_legal_labels(full_case):
    _, docs = full_case
    for doc in docs:
        words = templates(doc["analysis"])
        for finding in doc["findings"]:
            assert finding["key"] in words["findings"], f"no wording for {finding['key']}"
            # Quoted text is the analyst's own note from case.toml, shown verbatim.
            unquoted = re.sub(r"'[^']*'", "", PROPER_NAMES.sub("", finding["text"]))
            assert not FORBIDDEN.search(unquoted), finding["text"]
        assert doc["limitations"], f"{doc['analysis']} states no limitations"
        for lim in doc["limitations"]:
            assert lim["text"], f"no wording for limitation {lim['key']}"


def test_wording_files_carry_no_legal_labels():
    for spec in analyses():
        words = templates(spec.name)
        for text in [*words["findings"].values(), *words["limitations"].values()]:
            # Limitations may name what the tool does not decide ("whether … is a breach is for the court").
            cleaned = re.sub(r"(not|never|no)\b[^.]*", "", PROPER_NAMES.sub("", text), flags=re.IGNORECASE)
            assert not FORBIDDEN.search(cleaned), f"{spec.name}: {text}"


def test_a_second_run_is_byte_identical(full_case):
    case, _ = full_case
    first = _outputs(case)
    run_analyses(case)
    assert _outputs(case) == first
    doc = json.loads((case.root / "results" / "coverage.json").read_text())
    assert doc["results_schema"] == "1"
