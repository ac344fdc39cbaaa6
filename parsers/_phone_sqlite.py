"""Shared helpers for the phone SQLite parsers (Android telephony/call log, iOS SMS/call history).

Not a parser: no ``PARSER`` here. It holds what the four SQLite parsers do alike:
recognising a database from the ``CREATE TABLE`` text in its first bytes, opening it
strictly read-only (applying a ``-wal`` beside it on a private copy), reading epoch
times with a plausibility window, and turning raw addresses into identifiers.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from atlas.errors import SourceError
from atlas.identifiers import Ident, email, tel
from atlas.parsing import NotThisFormat, ParseOptions, Source
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

# Sizes beyond these are refused rather than copied: a phone's message or call store is
# far smaller, and a copy must fit in the temporary folder.
MAX_DATABASE_BYTES = 16 << 30
MAX_WAL_BYTES = 2 << 30
_SPACE_MARGIN = 64 << 20

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


class PhoneDb:
    """An open phone database: ``conn`` is what the parser reads.

    Without a ``-wal`` (or with ``apply_wal`` off) ``conn`` is the original opened
    immutable. With one, ``conn`` is a private copy with the WAL's committed frames
    applied, and ``base`` the original opened immutable (the main file alone), to
    tell which rows came from the WAL.
    """

    def __init__(self, conn: sqlite3.Connection, flags: tuple[str, ...] = (),
                 base: sqlite3.Connection | None = None, tmp: str | None = None) -> None:
        self.conn = conn
        self.flags = flags
        """Flags every event of this database carries (``wal_applied``, ``wal_not_read`` ...)."""
        self.base = base
        self._tmp = tmp

    def row_flags(self, table: str, rowid: int) -> tuple[str, ...]:
        """Return the file flags, plus ``from_wal`` when the row (all its columns, by rowid)
        is absent from the main file alone or differs there."""
        if self.base is None or not self._differs(table, rowid):
            return self.flags
        return self.flags + ("from_wal",)

    def _differs(self, table: str, rowid: int) -> bool:
        sql = f'SELECT * FROM "{table}" WHERE rowid = ?'
        try:
            now = self.conn.execute(sql, (rowid,)).fetchone()
            before = self.base.execute(sql, (rowid,)).fetchone()
        except sqlite3.DatabaseError:  # e.g. the table exists only in the WAL
            return True
        return before is None or now is None or tuple(now) != tuple(before)

    def close(self) -> None:
        """Close the connections and remove the private copy."""
        try:
            self.conn.close()
            if self.base is not None:
                self.base.close()
        finally:
            if self._tmp is not None:
                shutil.rmtree(self._tmp, ignore_errors=True)


def open_database(source: Source, options: ParseOptions) -> PhoneDb:
    """Open ``source`` for reading, applying a non-empty ``-wal`` beside it unless told not to.

    The original is never opened except ``immutable=1`` and never written. The WAL is
    applied by copying the database and the WAL (size-checked) into a private temporary
    folder and opening the copy, so SQLite replays the WAL's committed frames there; the
    folder is removed by ``PhoneDb.close`` (or at once on any error here). Flags:
    ``wal_applied`` on every event when the WAL held committed frames,
    ``wal_not_applied`` when it held none SQLite accepts (stale after a checkpoint,
    salt or checksum mismatch), ``wal_not_read`` when ``options.apply_wal`` is off.
    """
    wal_size = source.companion_size("-wal")
    if not wal_size:
        return PhoneDb(connect_readonly(source))
    if not options.apply_wal:
        conn = connect_readonly(source)
        source.note_companion("-wal")  # its presence is in the flags, so it is recorded too
        return PhoneDb(conn, ("wal_not_read",))
    base = connect_readonly(source)  # also checks the magic bytes
    tmp = None
    try:
        db_size = os.path.getsize(source.path)
        _check_sizes(source, db_size, wal_size)
        tmp = tempfile.mkdtemp(prefix="atlas-wal-")
        if shutil.disk_usage(tmp).free < db_size + wal_size + _SPACE_MARGIN:
            raise SourceError(source.display_path, None,
                              "not enough free space in the temporary folder to apply the -wal "
                              f"({db_size + wal_size} bytes needed): free some, or ingest with "
                              "--no-wal to read the main file alone")
        copy = os.path.join(tmp, "database")
        copied = (source.copy_to(copy), source.copy_to(copy + "-wal", "-wal"))
        if copied != (db_size, wal_size):
            raise SourceError(source.display_path, None,
                              "the database or its -wal changed size while being copied "
                              f"({db_size}, {wal_size} bytes before; "
                              f"{copied[0]}, {copied[1]} copied)")
        conn = sqlite3.connect(copy)
        conn.row_factory = sqlite3.Row
        try:
            # On the copy only: replays the WAL into it and says how many valid frames it held.
            frames = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise SourceError(source.display_path, None,
                              f"SQLite cannot apply the -wal beside the database: {exc}") from exc
    except BaseException:
        base.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        raise
    if frames <= 0:
        conn.close()
        shutil.rmtree(tmp, ignore_errors=True)
        return PhoneDb(base, ("wal_not_applied",))
    return PhoneDb(conn, ("wal_applied",), base=base, tmp=tmp)


def _check_sizes(source: Source, db_size: int, wal_size: int) -> None:
    if db_size > MAX_DATABASE_BYTES or wal_size > MAX_WAL_BYTES:
        raise SourceError(source.display_path, None,
                          f"refusing to copy the database ({db_size} bytes) and its -wal "
                          f"({wal_size} bytes) to apply the WAL: the limits are "
                          f"{MAX_DATABASE_BYTES} and {MAX_WAL_BYTES} bytes; check the files, or "
                          "ingest with --no-wal (apply_wal = false) to read the main file alone")


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
