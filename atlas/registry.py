"""Lookup and detection over the explicit parser tuple in ``parsers/__init__.py``."""

from __future__ import annotations

from atlas.errors import UnknownFormatError, UsageError
from atlas.parsing import ParserSpec

HEAD_BYTES = 65536


def parsers() -> tuple[ParserSpec, ...]:
    """Return the registered parsers, sorted by name (a deterministic order)."""
    from parsers import PARSERS

    return tuple(sorted(PARSERS, key=lambda p: p.name))


def supported() -> str:
    """Return a one-line-per-parser list of supported formats, for messages."""
    return "\n".join(f"  {p.name:<22} {p.summary}" for p in parsers())


def get(name: str) -> ParserSpec:
    """Return the parser called ``name``, or raise a UsageError listing the supported ones."""
    for spec in parsers():
        if spec.name == name:
            return spec
    raise UsageError(f"unknown format {name!r}; supported formats:\n{supported()}")


def detect(head: bytes, filename: str) -> ParserSpec:
    """Return the one parser whose sniff accepts the file, or raise UnknownFormatError."""
    hits = []
    for spec in parsers():
        try:
            if spec.sniff(head, filename):
                hits.append(spec)
        except Exception:  # noqa: BLE001 - a sniff that crashes simply does not claim the file
            continue
    if len(hits) == 1:
        return hits[0]
    if not hits:
        raise UnknownFormatError(
            f"{filename}: the format could not be detected; name it with --format. "
            f"Supported formats:\n{supported()}")
    raise UnknownFormatError(
        f"{filename}: several formats match ({', '.join(h.name for h in hits)}); "
        "name one with --format")
