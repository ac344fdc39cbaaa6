"""Locator helpers and the deterministic event id.

Parsers build locators only through these helpers so that every locator in the
store has one of a few documented shapes a reviewer can follow back into the
source file.
"""

from __future__ import annotations

import hashlib
import re


def line(number: int) -> str:
    """Return the locator of a physical line (1-based)."""
    if number < 1:
        raise ValueError("line numbers start at 1")
    return f"line:{number}"


def lines(first: int, last: int) -> str:
    """Return the locator of a record spanning physical lines ``first``..``last``."""
    if last <= first:
        return line(first)
    return f"line:{first}-{last}"


def xpath(path: str) -> str:
    """Return an XPath locator, e.g. ``xpath:/gpx/trk[1]/trkseg[1]/trkpt[3]``."""
    return f"xpath:{path}"


def row(table: str, rowid: int | str) -> str:
    """Return a SQLite row locator."""
    return f"sqlite:{table}/rowid={rowid}"


def sheet_row(sheet: str, number: int) -> str:
    """Return a spreadsheet row locator (1-based, header included)."""
    return f"xlsx:{sheet}!row={number}"


def pointer(path: str) -> str:
    """Return a JSON pointer locator, e.g. ``json:/messages/12``."""
    return f"json:{path}"


def member(name: str, inner: str) -> str:
    """Return a locator inside a container member, e.g. ``zip:_chat.txt#line:4``."""
    return f"zip:{name}#{inner}"


def event_id(source_sha256: str, locator: str, part: int) -> str:
    """Return the deterministic id of an event.

    It depends on where the record is, not on what it says, so two identical
    messages on different lines stay distinct and re-ingesting the same file
    produces the same ids.
    """
    digest = hashlib.sha256(f"{source_sha256}\x1f{locator}\x1f{part}".encode()).hexdigest()
    return digest[:24]


def sha256_file(path: str, chunk: int = 1 << 20) -> str:
    """Return the SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                return h.hexdigest()
            h.update(block)


_REF = re.compile(r"(.*?)(\d+)([A-Za-z]*)")


def exhibit_key(ref: str) -> tuple[str, int, str]:
    """Sort key for exhibit references in natural order: ``DI/2`` before ``DI/10``."""
    m = _REF.fullmatch(str(ref))
    return (m.group(1), int(m.group(2)), m.group(3)) if m else (str(ref), -1, "")
