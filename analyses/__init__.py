"""The analysis registry: an explicit tuple, in the order the statement presents them."""

from __future__ import annotations

from analyses import colocation, contact_graph, coverage, frequency, occasions, orders
from atlas.analysis import AnalysisSpec

ANALYSES: tuple[AnalysisSpec, ...] = (
    coverage.ANALYSIS,
    contact_graph.ANALYSIS,
    frequency.ANALYSIS,
    colocation.ANALYSIS,
    orders.ANALYSIS,
    occasions.ANALYSIS,
)
