"""The ingest core: provenance, invariants, atomic and idempotent commits, scoping."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from atlas import registry
from atlas.case import load_case, write_new_case
from atlas.errors import SourceError, UnknownFormatError, UsageError
from atlas.ingest import Scope, ingest_file
from atlas.log import read as read_log
from atlas.store import load_events, load_rejections, read_manifest

CHAT = (
    "\ufeff12/05/2024, 09:15 - Messages and calls are end-to-end encrypted.\n"
    "12/05/2024, 09:16 - Sam: Morning\n"
    "12/05/2024, 09:17 - Vic: Please stop contacting me\n"
    "27/10/2024, 01:30 - Sam: =HYPERLINK(\"http://x\")\n"
    "this line continues the message\n"
    "28/10/2024, 23:05 - Sam: I know where you are\n"
)

PEOPLE = """
[[persons]]
id = "P1"
name = "Sam Suspect"
role = "suspect"
[[persons.identifiers]]
value = "name:whatsapp:Sam"
basis = "Name shown in the export"
[[persons]]
id = "P2"
name = "Vic Victim"
role = "victim"
[[persons.identifiers]]
value = "name:whatsapp:Vic"
basis = "Name shown in the export"
"""


@pytest.fixture
def case(tmp_path):
    write_new_case(tmp_path / "case", "01AB2345678", "Dana Irving")
    with open(tmp_path / "case" / "case.toml", "a", encoding="utf-8") as fh:
        fh.write(PEOPLE)
    return load_case(tmp_path / "case")


@pytest.fixture
def chat(case) -> Path:
    path = case.root / "exhibits" / "WhatsApp Chat with Sam.txt"
    path.write_text(CHAT, encoding="utf-8")
    return path


def _store_state(case) -> dict[str, str]:
    """Hash every file under store/ (the lock file excepted)."""
    out = {}
    for p in sorted((case.root / "store").rglob("*")):
        if p.is_file() and p.name != ".lock":
            out[p.relative_to(case.root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def test_ingest_stamps_provenance_and_counts(case, chat):
    result = ingest_file(case, chat, "DI/1")
    assert result.added
    entry = result.entry
    assert entry["counts"] == {"read": 5, "accepted": 5, "rejected": 0, "out_of_scope": 0}
    assert entry["source_path"] == "exhibits/WhatsApp Chat with Sam.txt"
    assert entry["source_sha256"] == hashlib.sha256(chat.read_bytes()).hexdigest()
    assert entry["parser"] == "whatsapp_txt"
    frame = load_events(case.root)
    assert len(frame) == 5
    assert set(frame["exhibit_ref"]) == {"DI/1"}
    assert set(frame["source_sha256"]) == {entry["source_sha256"]}
    assert frame["event_id"].is_unique
    ambiguous = frame[frame["tz_flag"] == "ambiguous"]
    assert ambiguous["locator"].tolist() == ["line:4-5"]
    assert str(ambiguous["timestamp_utc"].iloc[0]) == "2024-10-27 00:30:00+00:00"


def test_event_ids_are_deterministic_across_cases(tmp_path, case, chat):
    ingest_file(case, chat, "DI/1")
    write_new_case(tmp_path / "other", "01AB2345678", "Dana Irving")
    other = load_case(tmp_path / "other")
    copy = other.root / "exhibits" / chat.name
    copy.write_bytes(chat.read_bytes())
    ingest_file(other, copy, "DI/1")
    assert _store_state(case) == _store_state(other)


def test_rejections_keep_locator_and_reason(case):
    path = case.root / "exhibits" / "chat.txt"
    path.write_text("junk before any header\n12/05/2024, 09:16 - Sam: Morning\n31/02/2024, 09:17 - Sam: x\n",
                    encoding="utf-8")
    entry = ingest_file(case, path, "DI/2", fmt="whatsapp_txt").entry
    c = entry["counts"]
    assert c["read"] == c["accepted"] + c["rejected"] + c["out_of_scope"]
    assert c["rejected"] >= 1
    ledger = load_rejections(case.root)
    assert len(ledger) == c["rejected"]
    assert ledger["locator"].iloc[0] == "line:1"
    assert ledger["reason"].iloc[0]


def test_same_file_again_adds_nothing(case, chat):
    ingest_file(case, chat, "DI/1")
    before = _store_state(case)
    again = ingest_file(case, chat, "DI/7")
    assert not again.added and "already ingested as exhibit DI/1" in again.message
    assert _store_state(case) == before


class _Boom(Exception):
    pass


def _failing(spec, after: int, exc: BaseException):
    def parse(source, options):
        for n, item in enumerate(spec.parse(source, options)):
            if n == after:
                raise exc
            yield item
    return dataclasses.replace(spec, parse=parse)


@pytest.mark.parametrize(
    "exc, expected",
    [(SourceError("chat.txt", "line:3", "truncated"), SourceError),
     (_Boom("parser defect"), SourceError),
     (KeyboardInterrupt(), KeyboardInterrupt)],
    ids=["source-error", "parser-defect", "ctrl-c"],
)
def test_failed_ingest_leaves_store_as_it_was(case, chat, monkeypatch, exc, expected):
    first = case.root / "exhibits" / "first.gpx"
    first.write_text('<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
                     '<wpt lat="53.8" lon="-1.55"><time>2024-05-01T10:00:00Z</time></wpt></gpx>',
                     encoding="utf-8")
    ingest_file(case, first, "DI/1")
    before = _store_state(case)
    real = registry.get("whatsapp_txt")
    monkeypatch.setattr(registry, "get", lambda name: _failing(real, 2, exc))
    with pytest.raises(expected) as err:
        ingest_file(case, chat, "DI/2", fmt="whatsapp_txt")
    if isinstance(exc, _Boom):
        assert "defect" in err.value.message and "Nothing was stored" in err.value.message
    assert _store_state(case) == before
    assert not list((case.root / "store").glob(".tmp-*"))


def test_parser_yielding_one_locator_twice_is_refused(case, chat, monkeypatch):
    real = registry.get("whatsapp_txt")

    def parse(source, options):  # noqa: ANN001, ANN202
        for item in real.parse(source, options):
            yield dataclasses.replace(item, locator="line:1") if hasattr(item, "part") else item

    monkeypatch.setattr(registry, "get", lambda name: dataclasses.replace(real, parse=parse))
    before = _store_state(case)
    with pytest.raises(SourceError) as err:
        ingest_file(case, chat, "DI/2", fmt="whatsapp_txt")
    assert "same locator" in err.value.message and "Nothing was stored" in err.value.message
    assert _store_state(case) == before


def test_ids_unique_packs_and_falls_back(tmp_path):
    import pyarrow as pa

    from atlas.ingest import _ids_unique

    path = tmp_path / "ids.parquet"
    pq.write_table(pa.table({"event_id": ["a" * 24, "b" * 24, "a" * 16 + "c" * 8]}), path)
    assert _ids_unique(path)  # the first 16 digits collide; the full ids do not
    pq.write_table(pa.table({"event_id": ["a" * 24, "b" * 24, "a" * 24]}), path)
    assert not _ids_unique(path)


def test_source_is_unchanged_after_ingest(case, chat):
    before = chat.read_bytes()
    mode = chat.stat().st_mode
    ingest_file(case, chat, "DI/1")
    assert chat.read_bytes() == before and chat.stat().st_mode == mode


def _only_p1(case) -> Scope:
    return Scope(reason="victim consented to messages with the suspect only",
                 only_with=("P1",), identifiers=frozenset(a.value for a in case.person("P1").identifiers),
                 description={"reason": "test"})


def test_scope_keeps_the_whole_chat_named_after_the_person(case, chat):
    # "WhatsApp Chat with Sam.txt": the victim's own messages name no recipient, but the chat does.
    entry = ingest_file(case, chat, "DI/1", scope=_only_p1(case)).entry
    assert entry["counts"] == {"read": 5, "accepted": 5, "rejected": 0, "out_of_scope": 0}


def test_scope_counts_out_of_scope_records(case, chat):
    victim = case.person("P2")
    untitled = case.root / "exhibits" / "export.txt"
    untitled.write_bytes(chat.read_bytes())
    entry = ingest_file(case, untitled, "DI/1", fmt="whatsapp_txt", scope=_only_p1(case)).entry
    c = entry["counts"]
    assert c == {"read": 5, "accepted": 3, "rejected": 0, "out_of_scope": 2}
    assert c["read"] == c["accepted"] + c["rejected"] + c["out_of_scope"]
    frame = load_events(case.root)
    assert set(frame["sender"]) == {"name:whatsapp:Sam"}
    assert victim.id == "P2"


def test_undetectable_format_lists_supported(case):
    path = case.root / "exhibits" / "mystery.bin"
    path.write_bytes(b"\x00\x01nothing here")
    with pytest.raises(UnknownFormatError) as err:
        ingest_file(case, path, "DI/3")
    assert err.value.exit_code == 2
    assert "whatsapp_txt" in err.value.message and "gpx" in err.value.message


def test_unknown_format_name_lists_supported(case, chat):
    with pytest.raises(UsageError) as err:
        ingest_file(case, chat, "DI/3", fmt="nope")
    assert "supported formats" in err.value.message and "whatsapp_txt" in err.value.message


def test_manifest_and_store_files_agree(case, chat):
    ingest_file(case, chat, "DI/1")
    manifest = read_manifest(case.root)
    (entry,) = manifest["ingests"]
    for key in ("events", "rejections"):
        path = case.root / "store" / entry[f"{key}_file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry[f"{key}_sha256"]
    assert pq.read_table(case.root / "store" / entry["events_file"]).num_rows == entry["counts"]["accepted"]
    assert json.loads((case.root / "store" / "manifest.json").read_text())["schema_version"] == "1"
    (line,) = read_log(case.root)
    assert line["command"] == "ingest" and line["status"] == "ok"
    assert line["inputs"][0] == {"path": entry["source_path"], "sha256": entry["source_sha256"]}
    assert line["inputs"][1]["path"] == "case.toml"
    assert {o["path"] for o in line["outputs"]} == {"store/" + entry["events_file"], "store/" + entry["rejections_file"], "store/manifest.json"}
