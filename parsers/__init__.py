"""The parser registry: an explicit tuple, checked by a completeness test.

Order matters only for format detection reports; detection itself requires
exactly one parser to recognise a file.
"""

from __future__ import annotations

from atlas.parsing import ParserSpec

PARSERS: tuple[ParserSpec, ...] = ()
