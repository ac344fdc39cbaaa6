"""Helpers for parser tests: run a parser over a file and split what it yields."""

from __future__ import annotations

from pathlib import Path

from atlas.events import EventDraft, Rejection
from atlas.parsing import ParseOptions, ParserSpec, Source


def run_parser(spec: ParserSpec, path: Path | str, options: ParseOptions | None = None
               ) -> tuple[list[EventDraft], list[Rejection]]:
    """Parse ``path`` with ``spec`` and return (events, rejections) in yield order."""
    source = Source.from_path(str(path))
    events: list[EventDraft] = []
    rejections: list[Rejection] = []
    for item in spec.parse(source, options or ParseOptions()):
        if isinstance(item, EventDraft):
            events.append(item)
        elif isinstance(item, Rejection):
            rejections.append(item)
        else:  # pragma: no cover - a parser defect
            raise TypeError(f"parser yielded {type(item).__name__}")
    return events, rejections
