"""Applying the SQLite write-ahead log (``-wal``) beside a phone database, on a private copy.

Each test builds a real WAL with Python's sqlite3: a WAL-mode database whose older rows
are checkpointed into the main file, then more rows inserted and one row changed with
automatic checkpoints off, and the files copied while the writer is still open, so the
copied ``-wal`` holds committed frames the main file lacks (as on a seized phone).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from atlas.case import load_case, write_new_case
from atlas.cli import main
from atlas.errors import SourceError
from atlas.ingest import ingest_file, parse_options
from atlas.parsing import ParseOptions, Source
from atlas.store import load_events, read_manifest
from atlas.verify import verify
from parsers import _phone_sqlite
from parsers.android_mmssms_db import PARSER as MMSSMS
from parsers.ios_sms_db import PARSER as IOS_SMS
from tests.parsers.phone_sqlite_helpers import apple_s, listing, schema, sha256
from tests.parsing_helpers import run_parser

Rows = Sequence[tuple[str, Sequence[Any]]]
T0 = 1700000000  # 2023-11-14T22:13:20Z

SMS = "INSERT INTO sms (_id, thread_id, address, date, type, body) VALUES (?, 1, ?, ?, ?, ?)"
IOS_MSG = ("INSERT INTO message (ROWID, guid, text, handle_id, service, date, is_from_me) "
           "VALUES (?, ?, ?, 1, 'SMS', ?, ?)")


def build_with_wal(folder: Path, name: str, parser: str, checkpointed: Rows, wal_only: Rows) -> Path:
    """Write ``folder/name`` and ``folder/name-wal``: ``checkpointed`` rows in the main
    file, ``wal_only`` statements as committed frames in the WAL alone."""
    work = folder.parent / f"{folder.name}-writer"
    work.mkdir(parents=True)
    db = work / name
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.executescript(schema(parser))
    for sql, params in checkpointed:
        conn.execute(sql, tuple(params))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for sql, params in wal_only:
        conn.execute(sql, tuple(params))
    conn.commit()
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(db, folder / name)
    shutil.copyfile(work / f"{name}-wal", folder / f"{name}-wal")
    conn.close()
    shutil.rmtree(work)
    assert (folder / f"{name}-wal").stat().st_size > 32  # committed frames, not just a header
    return folder / name


def ios_db(folder: Path) -> Path:
    return build_with_wal(folder, "sms.db", "ios_sms_db", [
        ("INSERT INTO handle (ROWID, id, service) VALUES (1, '+447700900123', 'SMS')", ()),
        (IOS_MSG, (1, "G1", "first", apple_s(T0), 0)),
        (IOS_MSG, (2, "G2", "second", apple_s(T0 + 60), 1)),
        (IOS_MSG, (3, "G3", "third", apple_s(T0 + 120), 0)),
    ], [
        (IOS_MSG, (4, "G4", "only in the WAL", apple_s(T0 + 180), 0)),
        (IOS_MSG, (5, "G5", "also only in the WAL", apple_s(T0 + 240), 1)),
        ("UPDATE message SET text = 'second, edited' WHERE ROWID = 2", ()),
        ("DELETE FROM message WHERE ROWID = 3", ()),
    ])


def android_db(folder: Path) -> Path:
    return build_with_wal(folder, "mmssms.db", "android_mmssms_db", [
        (SMS, (1, "07700900123", T0 * 1000, 1, "hello")),
        (SMS, (2, "07700900123", (T0 + 60) * 1000, 2, "reply")),
    ], [
        (SMS, (3, "07700900123", (T0 + 120) * 1000, 1, "I know where you are")),
        ("INSERT INTO pdu (_id, thread_id, date, msg_box, m_type) VALUES (1, 1, ?, 1, 132)", (T0 + 180,)),
    ])


def _by_rowid(events):
    return {e.locator: e for e in events}


def test_ios_wal_rows_are_read_and_flagged(tmp_path):
    db = ios_db(tmp_path / "phone")
    before = {p.name: sha256(p) for p in db.parent.iterdir()}
    events, rejections = run_parser(IOS_SMS, db)
    got = _by_rowid(events)
    assert not rejections
    assert sorted(got) == [f"sqlite:message/rowid={n}" for n in (1, 2, 4, 5)]  # row 3 deleted in the WAL
    assert got["sqlite:message/rowid=4"].text == "only in the WAL"
    assert got["sqlite:message/rowid=2"].text == "second, edited"
    from_wal = sorted(loc for loc, e in got.items() if "from_wal" in e.flags)
    assert from_wal == ["sqlite:message/rowid=2", "sqlite:message/rowid=4", "sqlite:message/rowid=5"]
    assert all("wal_applied" in e.flags and "wal_not_read" not in e.flags for e in events)
    # the originals are only read: same bytes, and nothing created beside them
    assert {p.name: sha256(p) for p in db.parent.iterdir()} == before
    assert listing(db.parent) == ["sms.db", "sms.db-wal"]


def test_android_wal_rows_are_read_and_flagged(tmp_path):
    db = android_db(tmp_path / "phone")
    before = {p.name: sha256(p) for p in db.parent.iterdir()}
    events, _ = run_parser(MMSSMS, db)
    got = _by_rowid(events)
    assert sorted(loc for loc, e in got.items() if "from_wal" in e.flags) == [
        "sqlite:pdu/rowid=1", "sqlite:sms/rowid=3"]
    assert got["sqlite:sms/rowid=3"].text == "I know where you are"
    assert got["sqlite:sms/rowid=1"].flags == ("wal_applied",)
    assert {p.name: sha256(p) for p in db.parent.iterdir()} == before
    assert listing(db.parent) == ["mmssms.db", "mmssms.db-wal"]


def test_opt_out_reads_the_main_file_alone(tmp_path):
    db = ios_db(tmp_path / "phone")
    events, _ = run_parser(IOS_SMS, db, ParseOptions(apply_wal=False))
    assert sorted(e.locator for e in events) == [f"sqlite:message/rowid={n}" for n in (1, 2, 3)]
    assert all(e.flags == ("wal_not_read",) for e in events)
    assert listing(db.parent) == ["sms.db", "sms.db-wal"]


def test_wal_without_committed_frames_is_flagged_not_applied(tmp_path):
    db = ios_db(tmp_path / "phone")
    (db.parent / "sms.db-wal").write_bytes(b"\x37\x7f\x06\x82" + b"\x00" * 28)  # a header only
    events, _ = run_parser(IOS_SMS, db)
    assert len(events) == 3
    assert all(e.flags == ("wal_not_applied",) for e in events)


def test_the_private_copy_is_removed_even_on_error(tmp_path, monkeypatch):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    db = ios_db(tmp_path / "phone")
    parse = IOS_SMS.parse(Source.from_path(str(db)), ParseOptions())
    next(parse)
    assert len(os.listdir(tmp_path / "tmp")) == 1  # the copy exists while parsing
    parse.close()  # a consumer that stops early (an error in the ingest)
    assert os.listdir(tmp_path / "tmp") == []
    run_parser(IOS_SMS, db)
    assert os.listdir(tmp_path / "tmp") == []


def test_absurd_wal_size_is_refused(tmp_path, monkeypatch):
    db = ios_db(tmp_path / "phone")
    monkeypatch.setattr(_phone_sqlite, "MAX_WAL_BYTES", 1024)
    with pytest.raises(SourceError, match="refusing to copy"):
        run_parser(IOS_SMS, db)


@pytest.fixture
def case(tmp_path):
    write_new_case(tmp_path / "case", "01AB2345678", "Dana Irving")
    return load_case(tmp_path / "case")


def test_ingest_records_the_wal_and_verify_checks_it(case):
    db = ios_db(case.root / "exhibits" / "phone")
    wal = db.parent / "sms.db-wal"
    wal_sha = sha256(wal)
    ingest_file(case, db, "JS/1")
    entry = read_manifest(case.root)["ingests"][0]
    assert entry["companions"] == [{"path": "exhibits/phone/sms.db-wal", "size": wal.stat().st_size,
                                    "sha256": wal_sha}]
    assert entry["counts"]["read"] == entry["counts"]["accepted"] + entry["counts"]["rejected"] == 4
    events = load_events(case.root)
    assert sorted(events.loc[events["flags"].map(lambda f: "from_wal" in f), "locator"]) == [
        "sqlite:message/rowid=2", "sqlite:message/rowid=4", "sqlite:message/rowid=5"]
    assert listing(db.parent) == ["sms.db", "sms.db-wal"]
    report = verify(case.root)
    assert not report.problems, report.problems
    assert any("exhibits/phone/sms.db-wal (read with exhibits/phone/sms.db)" in line for line in report.lines)

    data = bytearray(wal.read_bytes())
    data[-1] ^= 0x01
    wal.write_bytes(bytes(data))
    problems = verify(case.root).problems
    assert any(p.startswith("MODIFIED") and "exhibits/phone/sms.db-wal" in p for p in problems)
    wal.unlink()
    problems = verify(case.root).problems
    assert any(p.startswith("MISSING") and "exhibits/phone/sms.db-wal" in p for p in problems)


def test_ingest_opt_out_is_logged_and_verifies(case):
    db = ios_db(case.root / "exhibits" / "phone")
    ingest_file(case, db, "JS/1", options=parse_options(case, apply_wal=False))
    entry = read_manifest(case.root)["ingests"][0]
    # not applied, but its presence is in every event's flags: it is recorded and verified too
    assert [c["path"] for c in entry["companions"]] == ["exhibits/phone/sms.db-wal"]
    assert entry["parse_options"]["apply_wal"] is False
    assert entry["counts"]["accepted"] == 3
    assert not verify(case.root).problems


def test_cli_no_wal(case, capsys):
    db = android_db(case.root / "exhibits" / "phone")
    assert main(["ingest", str(case.root), str(db), "--exhibit", "JS/2", "--no-wal", "--quiet"]) == 0
    assert "accepted 2" in capsys.readouterr().out
    events = load_events(case.root)
    assert all(list(f) == ["wal_not_read"] for f in events["flags"])
