"""Builders shared by the phone SQLite parser tests (not a test module).

Databases are built in ``tmp_path`` from the committed real-shaped schemas in
``tests/data/parsers/<parser>/schema.sql``. The one committed database per parser
(the golden-digest input) is built from the same rows with 512-byte pages to stay
small: regenerate with ``python -m tests.parsers.phone_sqlite_helpers``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data" / "parsers"

APPLE_EPOCH = 978307200


def schema(parser: str) -> str:
    """Return the committed schema SQL of ``parser`` (a missing file fails the test)."""
    return (DATA / parser / "schema.sql").read_text(encoding="utf-8")


def build_db(path: Path, parser: str, rows: Iterable[tuple[str, Sequence[Any]]],
             wal: bool = False, page_size: int = 4096) -> Path:
    """Create ``path`` with ``parser``'s schema and insert ``rows`` ((sql, params) pairs)."""
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA page_size={page_size}")
    conn.execute("PRAGMA synchronous=OFF")  # test speed only: the file's content is the same
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    conn.executescript(schema(parser))
    for sql, params in rows:
        conn.execute(sql, tuple(params))
    conn.commit()
    conn.close()
    return path


def sha256(path: Path) -> str:
    """Return the SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def listing(folder: Path) -> list[str]:
    """Return the sorted file names in ``folder``."""
    return sorted(p.name for p in folder.iterdir())


def apple_s(unix_seconds: float) -> float:
    """Return Apple absolute seconds for a Unix time."""
    return unix_seconds - APPLE_EPOCH


def apple_ns(unix_seconds: int) -> int:
    """Return Apple absolute nanoseconds for a Unix time (iOS 11 and later)."""
    return (unix_seconds - APPLE_EPOCH) * 1_000_000_000


def one_of_each(tmp_path: Path) -> dict[str, Path]:
    """Build one small database of each of the four phone formats, named as on a phone."""
    folder = tmp_path / "kinds"
    folder.mkdir()
    return {
        "android_mmssms_db": build_db(folder / "mmssms.db", "android_mmssms_db", [
            ("INSERT INTO sms (_id, thread_id, address, date, type, body) "
             "VALUES (1, 1, '07700900123', 1700000000000, 1, 'hi')", ())]),
        "android_calllog_db": build_db(folder / "calllog.db", "android_calllog_db", [
            ("INSERT INTO calls (_id, number, date, duration, type) VALUES (1, '07700900123', "
             "1700000000000, 5, 1)", ())]),
        "ios_sms_db": build_db(folder / "sms.db", "ios_sms_db", [
            ("INSERT INTO handle (ROWID, id, service) VALUES (1, '+447700900123', 'SMS')", ()),
            ("INSERT INTO message (ROWID, guid, text, handle_id, service, date) "
             "VALUES (1, 'G1', 'hi', 1, 'SMS', 700000000)", ())]),
        "ios_callhistory_db": build_db(folder / "CallHistory.storedata", "ios_callhistory_db", [
            ("INSERT INTO ZCALLRECORD (Z_PK, ZDATE, ZORIGINATED, ZADDRESS) "
             "VALUES (1, 700000000.0, 1, '07700900123')", ())]),
    }


COMMITTED = {
    "android_mmssms_db": ("mmssms.db", "tests.parsers.test_android_mmssms_db", False),
    "android_calllog_db": ("calllog.db", "tests.parsers.test_android_calllog_db", False),
    "ios_sms_db": ("sms.db", "tests.parsers.test_ios_sms_db", True),
    "ios_callhistory_db": ("CallHistory.storedata", "tests.parsers.test_ios_callhistory_db", True),
}


def write_committed() -> None:
    """Rewrite the committed input database of each phone SQLite parser."""
    import importlib

    for parser, (filename, module, wal) in COMMITTED.items():
        target = DATA / parser / filename
        target.unlink(missing_ok=True)
        rows = importlib.import_module(module).awkward_rows()
        build_db(target, parser, rows, wal=wal, page_size=512)
        print(f"wrote {target.relative_to(DATA)} ({target.stat().st_size} bytes)")


if __name__ == "__main__":
    write_committed()
