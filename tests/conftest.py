"""Shared test fixtures.

Real public sample files live in ``../shared/samples`` beside the project
(never copied into the repository). Tests that read them are marked
``samples`` and skip, naming the folder, when it is absent (a user's fresh
clone); CI always has it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT.parent / "shared" / "samples"
DATA = ROOT / "tests" / "data"


@pytest.fixture
def samples_dir() -> Path:
    """Return the shared samples folder, or skip when it is absent."""
    if not SAMPLES.is_dir():
        pytest.skip(f"real public samples not present: expected the folder ../shared/samples ({SAMPLES})")
    return SAMPLES


@pytest.fixture
def data_dir() -> Path:
    """Return the committed test-data folder (a missing file there fails, never skips)."""
    return DATA


def pytest_collection_modifyitems(config, items):  # noqa: ANN001 - pytest hook signature
    """Mark every test that asks for ``samples_dir`` with the ``samples`` marker."""
    for item in items:
        if "samples_dir" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.samples)


@pytest.fixture(scope="session")
def validation_scenario(tmp_path_factory):
    """The synthetic case for seed 7, ingested and analysed once for the known-answer check tests.

    Read-only for tests: a test that breaks a method re-runs that analysis in a copy
    (``rerun_analysis``), never in this folder.
    """
    from atlas import _validate_scenario
    from atlas.analysis import analyses

    return _validate_scenario.build(tmp_path_factory.mktemp("validation-scenario") / "case", 7, analyses())


@pytest.fixture
def rerun_analysis():
    """Return ``rerun(sc, name, dest)``, which re-runs one analysis on a copy of a scenario."""
    return _rerun_analysis


def _rerun_analysis(sc, name: str, dest: Path):  # noqa: ANN001, ANN202 - a Scenario in, a Scenario out
    """Copy the scenario's case to ``dest`` and re-run one analysis there (e.g. with a planted defect).

    Returns a Scenario whose ``root``, ``case`` and ``docs[name]`` are the copy's, so a check
    function reads the re-run's results; the shared scenario is left untouched.
    """
    import dataclasses
    import shutil

    from atlas.analysis import run_analyses
    from atlas.case import load_case

    root = dest / "case"
    shutil.copytree(sc.root, root)
    case = load_case(root)
    (doc,) = run_analyses(case, only=(name,))
    return dataclasses.replace(sc, root=root, case=case, docs={**sc.docs, name: doc})
