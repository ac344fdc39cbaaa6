"""Shared helpers for the phone SQLite parsers (Android telephony/call log, iOS SMS/call history).

Not a parser: no ``PARSER`` here. It holds what the four SQLite parsers do alike:
recognising a database from the ``CREATE TABLE`` text in its first bytes, opening it
strictly read-only, reading epoch times with a plausibility window, and turning raw
addresses into identifiers.
"""

from __future__ import annotations

import os
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from atlas.errors import SourceError
from atlas.identifiers import Ident, email, tel
from atlas.parsing import NotThisFormat, Source
from atlas.provenance import row
from atlas.timeparse import TimeReading, from_apple, from_unix

SQLITE_MAGIC = b"SQLite format 3\x00"

# What each parser's main table must declare. A database is claimed by a parser when
# the CREATE TABLE statement, read from the first bytes, declares all these columns.
SIGNATURES: dict[str, tuple[str, frozenset[str]]] = {
    "android_mmssms_db": ("sms", frozenset({"thread_id", "address", "date", "type", "body"})),
    "android_calllog_db": ("calls", frozenset({"number", "date", "duration", "type"})),
    "ios_sms_db": ("message", frozenset({"text", "handle_id", "date", "is_from_me"})),
    "ios_callhistory_db": ("zcallrecord", frozenset({"zdate", "zoriginated", "zaddress"})),
}

# Times outside this window are treated as a broken or unset clock, not as evidence.
PLAUSIBLE_FROM = datetime(1990, 1, 1, tzinfo=UTC)
PLAUSIBLE_TO = datetime(2100, 1, 1, tzinfo=UTC)

UNIT_NAMES = {"ms": "Unix milliseconds", "s": "Unix seconds", "apple": "Apple absolute time"}

_PHONE_CHARS = re.compile(r"^[+()\d\s.\-/]+$")
_RAW_LIMIT = 200


def declared_columns(head: bytes, table: str) -> frozenset[str] | None:
    """Return the column names a ``CREATE TABLE <table>`` in ``head`` declares, or None."""
    pattern = rb"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?[\"'`\[]?" + re.escape(
        table.encode()) + rb"[\"'`\]]?\s*\("
    match = re.search(pattern, head, re.IGNORECASE)
    if match is None:
        return None
    names: list[str] = []
    depth, start = 1, match.end()
    for pos in range(match.end(), len(head)):
        char = head[pos:pos + 1]
        if char == b"(":
            depth += 1
        elif char in (b",", b")") and depth == 1:
            word = head[start:pos].strip().split(None, 1)
            if word:
                names.append(word[0].strip(b"\"'`[]").decode("ascii", "replace").lower())
            start = pos + 1
            if char == b")":
                return frozenset(names)
        elif char == b")":
            depth -= 1
    return None  # the statement runs past the head: no decision from these bytes


def evidence(head: bytes) -> set[str]:
    """Return the names of the parsers whose main table ``head`` declares."""
    found = set()
    for name, (table, required) in SIGNATURES.items():
        columns = declared_columns(head, table)
        if columns is not None and required <= columns:
            found.add(name)
    return found


def sniff_sqlite(name: str, head: bytes, filename_hint: bool) -> bool:
    """Decide for parser ``name``: SQLite magic, then its table in the head or a file-name hint.

    The schema page of a large database can sit far from the start (Android's
    contacts2.db keeps ``calls`` near the end), so a known file name is accepted
    when the head names none of the other phone tables.
    """
    if not head.startswith(SQLITE_MAGIC):
        return False
    found = evidence(head)
    if name in found:
        return True
    return filename_hint and not found


def connect_readonly(source: Source) -> sqlite3.Connection:
    """Open ``source`` as an immutable, read-only SQLite database (nothing is ever written).

    ``immutable=1`` also stops SQLite from creating ``-wal``/``-shm`` files beside it.
    """
    if not source.head(len(SQLITE_MAGIC)).startswith(SQLITE_MAGIC):
        raise NotThisFormat("not an SQLite 3 database (magic bytes missing)")
    quoted = urllib.parse.quote(os.path.abspath(source.path))
    try:
        conn = sqlite3.connect(f"file:{quoted}?mode=ro&immutable=1", uri=True)
        conn.row_factory = sqlite3.Row
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise SourceError(source.display_path, None,
                          f"SQLite cannot read the schema: {exc}") from exc
    return conn


def table_columns(conn: sqlite3.Connection) -> dict[str, frozenset[str]]:
    """Return {lower-case table name: lower-case column names} for every table."""
    out: dict[str, frozenset[str]] = {}
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for name in names:
        cols = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
        out[name.lower()] = frozenset(c[1].lower() for c in cols)
    return out


def require(tables: dict[str, frozenset[str]], table: str, columns: set[str]) -> None:
    """Raise NotThisFormat unless ``table`` exists with ``columns``."""
    if table not in tables:
        raise NotThisFormat(f"no {table!r} table")
    missing = sorted(columns - tables[table])
    if missing:
        raise NotThisFormat(f"table {table!r} lacks column(s) {', '.join(missing)}")


def iter_rows(source: Source, conn: sqlite3.Connection, table: str, sql: str,
              params: tuple[Any, ...] = ()) -> Iterator[sqlite3.Row]:
    """Yield rows of ``sql`` (which selects ``__rowid``), turning corruption into SourceError."""
    last = None
    try:
        for rec in conn.execute(sql, params):
            last = rec["__rowid"]
            yield rec
    except sqlite3.DatabaseError as exc:
        where = row(table, last) if last is not None else None
        after = "after this row" if last is not None else "at its first row"
        raise SourceError(source.display_path, where,
                          f"SQLite could not read table {table!r} {after}: {exc}") from exc


def wal_flags(source: Source) -> tuple[str, ...]:
    """Return ("wal_not_read",) when a non-empty ``-wal`` file sits beside the database."""
    wal = source.path + "-wal"
    try:
        return ("wal_not_read",) if os.path.getsize(wal) > 0 else ()
    except OSError:
        return ()


def read_time(value: Any, unit: str, column: str) -> tuple[TimeReading | None, str | None]:
    """Read an epoch value (unit ``ms``, ``s`` or ``apple``): (reading, None) or (None, reason)."""
    if value is None:
        return None, f"{column} is NULL (no time recorded)"
    if isinstance(value, bytes):
        return None, f"{column} holds bytes, not a number"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None, f"{column} is not a number: {value!r}"
    if number == 0:
        return None, f"{column} is 0 (no time recorded)"
    described = UNIT_NAMES[unit]
    reading = from_apple(number) if unit == "apple" else from_unix(number, unit)
    if reading.utc is None:
        return None, (f"{column} {value!r} read as {described} is beyond the year 9999"
                      f"{_hint(number, unit)}")
    if not PLAUSIBLE_FROM <= reading.utc < PLAUSIBLE_TO:
        return None, (f"{column} {value!r} read as {described} is {reading.utc.isoformat()}, "
                      f"outside the plausible range 1990-2099{_hint(number, unit)}")
    return reading, None


def _hint(number: float, unit: str) -> str:
    """Say when the value would be plausible in the other Unix unit (the row is still rejected)."""
    other = {"ms": ("Unix seconds", number), "s": ("Unix milliseconds", number / 1e3)}.get(unit)
    if other is None:
        return ""
    reading = from_unix(other[1], "s")
    if reading.utc is not None and PLAUSIBLE_FROM <= reading.utc < PLAUSIBLE_TO:
        return f" (it would be plausible as {other[0]}: check the unit)"
    return ""


def optional_time(value: Any, unit: str) -> str | None:
    """Return a secondary time (read, delivered, sent) as ISO UTC, None when unset or absurd."""
    if value in (None, 0, "0", ""):
        return None
    reading, _ = read_time(value, unit, "value")
    return reading.utc.isoformat() if reading is not None else None


def as_text(value: Any) -> str | None:
    """Return a column value as text (bytes decoded as UTF-8 with replacement), None if empty."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    text = str(value).strip()
    return text or None


def address_ident(raw: str | None, region: str, platform: str = "account") -> Ident | None:
    """Normalise a phone number or e-mail address from a message or call table.

    Numbers (digits with the usual punctuation) go through ``tel``; addresses with
    ``@`` through ``email``; anything else (an alphanumeric sender such as
    ``VODAFONE``) is kept verbatim as a ``platform`` identifier, marked unparsed.
    """
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if "@" in text:
        return email(text)
    if _PHONE_CHARS.match(text):
        return tel(text, region)
    return Ident(f"{platform}:{text}", False)


def unparsed_flag(role: str, ident: Ident | None) -> tuple[str, ...]:
    """Return ``(<role>_unparsed_number,)`` (or ``_address``) when ``ident`` was kept verbatim."""
    if ident is None or ident.parsed:
        return ()
    kind = "number" if ident.value.startswith("tel:") else "address"
    return (f"{role}_unparsed_{kind}",)


def region_for(raw_iso: Any, default: str) -> str:
    """Return the row's own two-letter country code (upper-case) if it has one, else ``default``."""
    text = as_text(raw_iso)
    if text and len(text) == 2 and text.isalpha():
        return text.upper()
    return default


def raw_excerpt(rec: sqlite3.Row) -> dict[str, Any]:
    """Return a small, printable copy of a row for a rejection's ``raw`` field."""
    out: dict[str, Any] = {}
    for key in rec.keys():
        if key == "__rowid":
            continue
        value = rec[key]
        if isinstance(value, bytes):
            value = f"<{len(value)} bytes>"
        elif isinstance(value, str) and len(value) > _RAW_LIMIT:
            value = value[:_RAW_LIMIT] + "…"
        out[key] = value
    return out


def plain(value: Any) -> Any:
    """Return a JSON-able copy of a column value for ``extra`` (bytes as hex)."""
    if isinstance(value, bytes):
        return value.hex()
    return value
