"""Registry conformance: every parser is registered, declared, documented, tested and versioned."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

import parsers
from atlas.parsing import FAMILIES
from atlas.registry import parsers as registered
from tests import golden

SECTIONS = ("Format:", "Time:", "Locator:", "Limitations:", "References:")
SPECS = registered()
IDS = [s.name for s in SPECS]


def test_every_parser_module_is_registered():
    modules = sorted(m.name for m in pkgutil.iter_modules(parsers.__path__) if not m.name.startswith("_"))
    assert modules == sorted(IDS), "a module under parsers/ is missing from parsers.PARSERS (or vice versa)"


def test_names_are_unique():
    assert len(IDS) == len(set(IDS))


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_declaration(spec):
    module = importlib.import_module(f"parsers.{spec.name}")
    assert module.PARSER is spec
    assert spec.version and spec.family in FAMILIES and spec.summary
    doc = module.__doc__ or ""
    missing = [s for s in SECTIONS if s not in doc]
    assert not missing, f"parsers/{spec.name}.py docstring lacks {missing}"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_sniff_refuses_empty_and_other_parsers_inputs(spec):
    assert spec.sniff(b"", "") is False
    for other in SPECS:
        if other.name == spec.name:
            continue
        for path in golden.inputs(other.name):
            head = path.read_bytes()[:65536]
            assert not spec.sniff(head, path.name), f"{spec.name} sniff claims {other.name}'s {path.name}"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_golden_digest_and_version(spec):
    folder = golden.DATA / spec.name
    assert folder.is_dir() and golden.inputs(spec.name), f"no committed test inputs in {folder}"
    path = folder / "golden.sha256"
    assert path.exists(), f"missing {path}; run python -m tests.golden {spec.name}"
    recorded = path.read_text(encoding="utf-8")
    current = golden.render(spec)
    if recorded != current:
        same_version = recorded.splitlines()[0] == current.splitlines()[0]
        hint = ("the output changed but the version did not: bump PARSER.version, then"
                if same_version else "the version changed:")
        pytest.fail(f"{spec.name}: {hint} run python -m tests.golden {spec.name}")


def test_test_module_exists_for_each_parser():
    here = Path(__file__).resolve().parent / "parsers"
    for name in IDS:
        assert (here / f"test_{name}.py").exists(), f"tests/parsers/test_{name}.py is missing"


def test_parsers_doc_is_current():
    from atlas import parsers_doc

    path = Path(__file__).resolve().parents[1] / "docs" / "parsers.md"
    assert path.read_text(encoding="utf-8") == parsers_doc.render(), (
        "docs/parsers.md is stale: run python -m atlas.parsers_doc > docs/parsers.md")
