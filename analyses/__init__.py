"""The analysis registry: an explicit tuple, in the order the statement presents them."""

from __future__ import annotations

from analyses import (
    both_ends,
    clock_agreement,
    colocation,
    contact_graph,
    corroboration,
    coverage,
    frequency,
    identifier_changes,
    occasions,
    orders,
    presence,
    schedule,
    threat_screen,
)
from atlas.analysis import AnalysisSpec

ANALYSES: tuple[AnalysisSpec, ...] = (
    coverage.ANALYSIS,
    contact_graph.ANALYSIS,
    frequency.ANALYSIS,
    clock_agreement.ANALYSIS,
    colocation.ANALYSIS,
    presence.ANALYSIS,
    identifier_changes.ANALYSIS,
    both_ends.ANALYSIS,
    threat_screen.ANALYSIS,
    orders.ANALYSIS,
    occasions.ANALYSIS,
    schedule.ANALYSIS,
    corroboration.ANALYSIS,
)
