"""Header discovery and cell readers shared by ``tower_dump_csv`` and ``anpr_csv``.

Both layouts have no fixed column names, so each field is found by a small
table of accepted header spellings, compared with ``header_key`` (lower case,
punctuation collapsed to single spaces: ``Date/Time`` reads as ``date time``).
The header row may sit below a few title rows, and the delimiter may be a
comma, semicolon, tab or pipe. Rows are streamed by
``parsers._cdr_csv_table.table_rows`` (the csv module; blank rows skipped;
locators from the reader).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from functools import lru_cache

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.identifiers import Ident, tel
from atlas.parsing import ParseOptions, Source
from atlas.timeparse import TimeReading, from_local, parse_iso
from parsers._cdr_csv_table import Row, first_rows

DELIMITERS = (",", ";", "\t", "|")
TITLE_ROWS_MAX = 10
FOOTER = re.compile(r"^\s*(total\b|end of (report|data|dump|file)|\*+\s*end|records?\s*:)",
                    re.IGNORECASE)

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?",
                  re.IGNORECASE)
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4})[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?")
_SECONDS = re.compile(r"\d+(\.\d+)?")
_CLOCK = re.compile(r"(?:(\d+):)?([0-5]?\d):([0-5]\d)")


class BadCell(Exception):  # noqa: N818 - a record-level signal turned into a Rejection
    """A cell that cannot be read; the message is the rejection reason."""


def header_key(text: str) -> str:
    """Return a header folded for comparison: lower case, punctuation collapsed to spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def resolve(header: list[str], synonyms: dict[str, tuple[str, ...]]) -> dict[str, int]:
    """Return field -> column index for one candidate header row (first spelling wins)."""
    keys = [header_key(str(c)) for c in header]
    found: dict[str, int] = {}
    taken: set[int] = set()
    for field, spellings in synonyms.items():
        for spelling in spellings:
            if spelling in keys and keys.index(spelling) not in taken:
                found[field] = keys.index(spelling)
                taken.add(found[field])
                break
    return found


def head_tables(head: bytes) -> Iterator[tuple[str, list[list[str]]]]:
    """Yield (delimiter, first rows) of ``head`` for each delimiter, for a cheap sniff."""
    if not head or head.startswith(b"PK\x03\x04"):
        return
    text = head.decode("utf-8-sig", errors="replace")
    lines = text.splitlines()
    if len(head) >= 65536 and lines:
        lines = lines[:-1]  # the last line may be cut short by the head limit
    lines = [ln for ln in lines if ln.strip()][: TITLE_ROWS_MAX + 1]
    for delimiter in DELIMITERS:
        if not any(delimiter in ln for ln in lines):
            continue
        try:
            yield delimiter, list(csv.reader(lines, delimiter=delimiter))
        except csv.Error:
            continue


def find_header(source: Source, is_header: Callable[[list[str]], bool]
                ) -> tuple[str, str] | None:
    """Return (delimiter, header locator) of the first header row in the file's first rows."""
    for delimiter in DELIMITERS:
        try:
            rows = first_rows(source, TITLE_ROWS_MAX + 1, xlsx=False, delimiter=delimiter)
        except SourceError:
            continue
        for row in rows:
            if len(row.cells) > 1 and is_header(row.cells):
                return delimiter, row.locator
    return None


def first_text(row: Row) -> str:
    """Return the first non-empty cell of a row, stripped."""
    return next((c.strip() for c in row.cells if c and c.strip()), "")


def time_roles(pos: dict[str, int]) -> tuple[str, ...]:
    """Return the fields that hold a record's time, in reading order.

    A date column and a time column; a date column and a date-time column (a
    "Read Date" or "Start Date" beside a "Read Time" or "Start Time" that the
    header spellings file as date-time); else the one time-like column.
    """
    if {"date", "time"} <= pos.keys():
        return ("date", "time")
    if {"date", "datetime"} <= pos.keys():
        return ("date", "datetime")
    return (next(r for r in ("datetime", "date", "time") if r in pos),)


def row_item(locator: str, cells: list[str], header: list[str],
             draft: Callable[[], EventDraft]) -> EventDraft | Rejection:
    """Return ``draft()`` for one data row, or the Rejection saying why the row is no record.

    A footer row (totals, end-of-report marker), a row whose cell count differs
    from the header's, and a ``BadCell`` raised by ``draft`` are rejections.
    """
    first = next((c.strip() for c in cells if c.strip()), "")
    if FOOTER.match(first):
        return Rejection(locator, "footer row below the records (not a record): check its "
                         "totals against the accepted count", raw=cells)
    if len(cells) != len(header):
        return Rejection(locator, f"row has {len(cells)} cells but the header has "
                         f"{len(header)}", raw=cells)
    try:
        return draft()
    except BadCell as exc:
        return Rejection(locator, str(exc), raw=cells)


def read_time(text: str, label: str, options: ParseOptions) -> tuple[TimeReading, str | None]:
    """Return the reading and date_order of a local or ISO date-time cell; BadCell if unreadable.

    ISO 8601 (``2024-10-27T01:30:00``, ``2024-10-27 01:30:00``, with or without
    ``Z``/offset) or numeric ``dd/mm/yyyy HH:MM[:SS]`` (``-`` or ``.`` also
    accepted; month first only when ``options.date_order`` is ``mdy``). A
    time without offset is wall-clock time in ``options.source_tz``.
    """
    raw = text.strip()
    if not raw:
        raise BadCell(f"{label} is empty")
    if _ISO.fullmatch(raw):
        reading = parse_iso(raw, default_zone=options.source_tz)
        if reading.error:
            raise BadCell(f"{label}: {reading.error}")
        return reading, None
    match = _NUMERIC.fullmatch(raw)
    if not match:
        raise BadCell(f"{label}: {raw!r} is not dd/mm/yyyy HH:MM[:SS] or ISO 8601")
    a, _, b, year, hour, minute, second = match.groups()
    order = options.date_order if options.date_order in ("dmy", "mdy") else "dmy"
    if not options.date_order and options.default_date_order == "mdy":
        order = "mdy"
    day, month = (a, b) if order == "dmy" else (b, a)
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute),  # noqa: DTZ001
                         int(second or 0))
    except ValueError as exc:
        raise BadCell(f"{label}: {raw!r} is not a valid {order} date-time ({exc})") from None
    basis = "forced" if options.date_order else "assumed"
    return from_local(naive, options.source_tz), f"{order}:{basis}"


def join_time(parts: list[str]) -> str:
    """Return the date-time text of one or two time cells (date + time).

    A "time" cell that already holds a whole date-time (``Read Date`` +
    ``Read Time`` where both carry the date) is used alone.
    """
    if len(parts) == 2 and (_ISO.fullmatch(parts[1].strip())
                            or _NUMERIC.fullmatch(parts[1].strip())):
        return parts[1].strip()
    return " ".join(p.strip() for p in parts)


def read_duration(text: str, label: str) -> float | None:
    """Return seconds from ``125``, ``125.5``, ``2:05`` or ``0:02:05``; None when empty."""
    raw = text.strip()
    if not raw:
        return None
    if _SECONDS.fullmatch(raw):
        return float(raw)
    match = _CLOCK.fullmatch(raw)
    if match:
        hours, minutes, seconds = (int(g or 0) for g in match.groups())
        return float(hours * 3600 + minutes * 60 + seconds)
    raise BadCell(f"{label}: {raw!r} is not seconds or [hh:]mm:ss")


@lru_cache(maxsize=8192)
def read_msisdn(text: str, region: str) -> Ident | None:
    """Normalise a phone number; operators write international numbers without '+'.

    A digits-only string of 11 or more digits not starting with 0
    (``447700900123``) gets a '+'; anything else goes to ``tel`` as written.
    Cached (bounded): a tower dump repeats the same numbers many times.
    """
    raw = text.strip()
    if raw.isascii() and raw.isdigit() and not raw.startswith("0") and len(raw) >= 11:
        raw = "+" + raw
    return tel(raw, region)


def number(text: str) -> float | None:
    """Return a decimal number (a trailing ``%`` allowed), or None when it is not one."""
    raw = text.strip().removesuffix("%").strip()
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value == value and value not in (float("inf"), float("-inf")) else None
