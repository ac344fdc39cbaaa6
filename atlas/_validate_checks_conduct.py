"""Known-answer checks of the course-of-conduct analyses (schedule, corroboration, coverage) against the synthetic case's ground truth.

Same contract as ``atlas._validate_checks`` (read its docstring): each function takes the
``Scenario`` and returns a list of ``Check``; ``CHECKS`` maps analysis name to function and is
merged into ``atlas._validate_checks.CHECKS``.
"""

from __future__ import annotations

from collections.abc import Callable

from atlas._validate_record import DETECTION, Check
from atlas._validate_scenario import Scenario

CHECKS: dict[str, Callable[[Scenario], list[Check]]] = {}
"""Analysis name -> known-answer check; merged into ``atlas._validate_checks.CHECKS``."""

__all__ = ["CHECKS", "DETECTION"]
