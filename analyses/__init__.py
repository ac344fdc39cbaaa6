"""The analysis registry (filled by the analyses issues)."""

from __future__ import annotations

ANALYSES: tuple = ()
