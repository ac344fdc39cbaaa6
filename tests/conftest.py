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
