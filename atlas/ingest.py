"""Driving a parser into the store: counting, provenance, the ledger, atomic commit.

Parsers read; this module records. For one source file it:

1. hashes the file (SHA-256) before parsing and refuses a file already in the
   store (idempotent: the same bytes again add nothing, and say so);
2. picks the parser (``--format`` or detection), runs it, and stamps every
   event with exhibit reference, relative source path, source hash, parser,
   version, ``seq`` and the deterministic ``event_id``;
3. applies the victim-device scope (period and parties) counting out-of-scope
   records without storing them;
4. checks ``read == accepted + rejected + out_of_scope`` and that every
   ``event_id`` is unique, re-hashes the source to prove it did not change,
   and commits by renaming files into place and then the manifest. A companion
   file the parser also read (an SQLite ``-wal``, reported on ``Source.companions``)
   is re-hashed too and recorded in the entry's ``companions``.

Any failure, including Ctrl-C, removes the temporary files and leaves the
manifest, and so the store, as it was.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from atlas import log, registry
from atlas.case import Case
from atlas.errors import AtlasError, NotThisFormat, SourceError, UsageError
from atlas.identifiers import display_name
from atlas.events import (
    CORE_FIELDS,
    PARSER_FIELDS,
    SCHEMA_VERSION,
    EventDraft,
    Rejection,
    arrow_schema,
    escape_raw,
    rejection_schema,
)
from atlas.parsing import ParseOptions, ParserSpec, Source
from atlas.provenance import event_id, sha256_file
from atlas.store import (
    locked,
    read_manifest,
    remove_orphans,
    slug,
    store_dir,
    write_manifest_atomic,
)

BATCH = 50_000
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Scope:
    """What to keep from a (victim's) device: a period and/or parties, with the reason."""

    reason: str
    start_utc: datetime | None = None
    end_utc: datetime | None = None
    only_with: tuple[str, ...] = ()
    identifiers: frozenset[str] = frozenset()
    description: dict[str, Any] = field(default_factory=dict)

    def keeps(self, draft: EventDraft) -> bool:
        """Return True when the event falls inside the scope."""
        if self.start_utc is not None or self.end_utc is not None:
            t = draft.timestamp_utc
            if t is None:
                return False
            if self.start_utc is not None and t < self.start_utc:
                return False
            if self.end_utc is not None and t >= self.end_utc:
                return False
        if self.only_with:
            parties = ((draft.sender,) if draft.sender else ()) + draft.recipients
            if any(p in self.identifiers for p in parties):
                return True
            # A one-to-one chat export names the other party only in its title (the thread):
            # the device owner's own messages in that chat have no recipient to match.
            if draft.thread and draft.channel:
                return display_name(draft.channel, draft.thread) in self.identifiers
            return False
        return True


def scope_from_description(description: dict[str, Any]) -> Scope:
    """Rebuild a Scope from the description kept in the manifest and log (for ``atlas verify``)."""
    from atlas.timeline import parse_bound

    tz = description["timezone"]
    return Scope(reason=description["reason"],
                 start_utc=parse_bound(description["from"], tz, end=False) if description.get("from") else None,
                 end_utc=parse_bound(description["to"], tz, end=True) if description.get("to") else None,
                 only_with=tuple(description.get("only_with", [])),
                 identifiers=frozenset(description.get("identifiers", [])), description=description)


@dataclass
class IngestResult:
    """What an ingest did, for the CLI and the analysis log."""

    added: bool
    message: str
    entry: dict[str, Any]


class _Columns:
    """Column buffers for one Arrow table, flushed every ``BATCH`` rows."""

    def __init__(self, schema: pa.Schema, writer: pq.ParquetWriter, key: str | None = None) -> None:
        self.schema = schema
        self.writer = writer
        self.names = schema.names
        self.cols: dict[str, list[Any]] = {n: [] for n in self.names}
        self.rows = 0
        self.key = key
        self.heads: list[np.ndarray] = []
        """The ``key`` column's hex ids packed to 8 bytes each, batch by batch (see ``_ids_unique``)."""

    def add(self, values: dict[str, Any]) -> None:
        for name in self.names:
            self.cols[name].append(values[name])
        self.rows += 1
        if len(self.cols[self.names[0]]) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.cols[self.names[0]]:
            return
        table = pa.Table.from_pydict(self.cols, schema=self.schema)
        self.writer.write_table(table)
        if self.key is not None:
            self.heads.append(_packed_heads(self.cols[self.key]))
        self.cols = {n: [] for n in self.names}


def _packed_heads(ids: list[str]) -> np.ndarray:
    """Return the first 16 hex digits of each id as one unsigned 64-bit integer."""
    return np.frombuffer(bytes.fromhex("".join(i[:16] for i in ids)), dtype=">u8").astype(np.uint64)


def _ids_unique(path: Path, heads: list[np.ndarray] | None = None) -> bool:
    """Return whether every event id in the file is distinct, in 8 bytes of memory per event.

    The ids are hex digests: the first 16 hex digits of each are packed into one 64-bit
    integer (``heads``, collected while the file was written, or read back from it). Only
    when two of those collide (about once in 10**12 pairs) is the exact check run over the
    full ids.
    """
    if heads is None:
        heads = [_packed_heads(pc.utf8_slice_codeunits(b.column(0), 0, 16).to_pylist())
                 for b in pq.ParquetFile(path).iter_batches(batch_size=BATCH, columns=["event_id"])]
    keys = np.concatenate(heads) if heads else np.empty(0, dtype=np.uint64)
    heads.clear()
    keys.sort()
    if not bool((keys[1:] == keys[:-1]).any()):
        return True
    del keys
    ids = pq.read_table(path, columns=["event_id"]).column("event_id")
    return pc.count_distinct(ids).as_py() == len(ids)


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(path, schema, compression="zstd", write_statistics=True)


def _relative(path: Path, root: Path) -> str:
    # abspath, not resolve: a symlinked exhibit keeps its place in the case (verify relies on it).
    return Path(os.path.relpath(os.path.abspath(path), os.path.abspath(root))).as_posix()


def parse_options(case: Case, source_tz: str | None = None, date_order: str | None = None,
                  region: str | None = None, mapping: dict[str, Any] | None = None,
                  mapping_path: str | None = None, apply_wal: bool = True) -> ParseOptions:
    """Return parser options from the case's defaults and the command line."""
    if date_order is not None and date_order not in ("dmy", "mdy", "ymd"):
        raise UsageError(f"--date-order {date_order!r}: use dmy, mdy or ymd")
    tz = source_tz or case.display_timezone
    from atlas.timeparse import zone

    try:
        zone(tz)
    except ValueError as exc:
        raise UsageError(f"--tz: {exc}") from None
    # The mapping's path is kept relative to the case so the manifest and log travel with it.
    rel_mapping = None if mapping_path is None else _relative(Path(mapping_path), case.root)
    return ParseOptions(region=region or case.default_region, source_tz=tz, date_order=date_order,
                        default_date_order=case.date_order, mapping=mapping, mapping_path=rel_mapping,
                        apply_wal=apply_wal)


def ingest_file(case: Case, file: str | Path, exhibit_ref: str, fmt: str | None = None,
                options: ParseOptions | None = None, scope: Scope | None = None,
                progress: Progress | None = None) -> IngestResult:
    """Parse one source file into the case's store, atomically and idempotently.

    The outcome, success or failure, is appended to the case's analysis log.
    """
    options = options or parse_options(case)
    if options.mapping_path and os.path.isabs(options.mapping_path):
        # The manifest and log keep case-relative paths only, so a copied case still verifies.
        options = dataclasses.replace(options, mapping_path=_relative(Path(options.mapping_path), case.root))
    args = {"file": _relative(Path(file), case.root), "exhibit": exhibit_ref, "format": fmt,
            "options": options.as_log(), "scope": None if scope is None else scope.description}
    try:
        result = _ingest(case, Path(file), exhibit_ref, fmt, options, scope, progress)
    except AtlasError as exc:
        log.append(case.root, "ingest", args, status="failed", message=exc.message,
                   detail=getattr(exc, "detail", None))
        raise
    except KeyboardInterrupt:
        log.append(case.root, "ingest", args, status="interrupted", message="interrupted; nothing stored")
        raise
    entry = result.entry
    inputs = [{"path": entry["source_path"], "sha256": entry["source_sha256"]},
              log.file_record(case.root, case.root / "case.toml")]
    if options.mapping_path:
        inputs.append(log.file_record(case.root, case.root / options.mapping_path))
    inputs += [{"path": c["path"], "sha256": c["sha256"]} for c in entry.get("companions", [])]
    outputs = [] if not result.added else [
        {"path": "store/" + entry["events_file"], "sha256": entry["events_sha256"]},
        {"path": "store/" + entry["rejections_file"], "sha256": entry["rejections_sha256"]},
        log.file_record(case.root, store_dir(case.root) / "manifest.json"),
    ]
    args["format"] = entry["parser"]
    log.append(case.root, "ingest", args, inputs=inputs, outputs=outputs,
               counts=entry["counts"] if result.added else {"added": 0}, message=result.message)
    return result


def _ingest(case: Case, path: Path, exhibit_ref: str, fmt: str | None, options: ParseOptions,
            scope: Scope | None, progress: Progress | None) -> IngestResult:
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    if not exhibit_ref.strip():
        raise UsageError("--exhibit must not be empty")
    root = case.root
    rel = _relative(path, root)
    if rel.startswith(("store/", "log/")):
        raise UsageError(f"{rel}: files inside the store or log cannot be ingested")
    spec = registry.get(fmt) if fmt else registry.detect(Source.from_path(str(path)).head(), path.name)
    before = sha256_file(str(path))

    with locked(root):
        manifest = read_manifest(root)
        remove_orphans(root, manifest)
        for entry in manifest["ingests"]:
            if entry["source_sha256"] == before:
                return IngestResult(False, f"{rel}: already ingested as exhibit {entry['exhibit_ref']} "
                                    f"(SHA-256 {before[:16]}…); nothing added", entry)
        name = f"{slug(exhibit_ref)}-{before[:12]}.parquet"
        tmp = store_dir(root) / f".tmp-{before[:12]}-{os.getpid()}"
        tmp.mkdir(parents=True)
        try:
            source = Source.from_path(str(path), rel)
            counts = _run_parser(spec, source, exhibit_ref, before, options, scope, tmp, name, progress)
            after = sha256_file(str(path))
            if after != before:
                raise SourceError(rel, None, "the file changed while it was being read "
                                  f"(SHA-256 {before[:16]}… before, {after[:16]}… after); nothing stored")
            companions = _companions_unchanged(root, source)
            for sub in ("events", "rejected"):
                (store_dir(root) / sub).mkdir(exist_ok=True)
            entry = {
                "exhibit_ref": exhibit_ref,
                "source_path": rel,
                "source_size": path.stat().st_size,
                "source_sha256": before,
                **({"companions": companions} if companions else {}),
                "parser": spec.name,
                "parser_version": spec.version,
                "parse_options": options.as_log(),
                "scope": None if scope is None else scope.description,
                "counts": counts,
                "events_file": f"events/{name}",
                "events_sha256": sha256_file(str(tmp / "events.parquet")),
                "rejections_file": f"rejected/{name}",
                "rejections_sha256": sha256_file(str(tmp / "rejected.parquet")),
                "schema_version": SCHEMA_VERSION,
            }
            os.replace(tmp / "events.parquet", store_dir(root) / entry["events_file"])
            os.replace(tmp / "rejected.parquet", store_dir(root) / entry["rejections_file"])
            manifest["ingests"].append(entry)
            write_manifest_atomic(root, manifest)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            remove_orphans(root, read_manifest(root))
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    c = entry["counts"]
    msg = (f"{rel}: exhibit {exhibit_ref}, format {spec.name} {spec.version}: read {c['read']}, "
           f"accepted {c['accepted']}, rejected {c['rejected']}, out of scope {c['out_of_scope']}")
    return IngestResult(True, msg, entry)


def _companions_unchanged(root: Path, source: Source) -> list[dict[str, Any]]:
    """Return the companion files the parser read (an SQLite ``-wal``), after checking each
    still has the SHA-256 of the bytes the parser read."""
    out = []
    for c in source.companions:
        now = sha256_file(str(root / c["path"])) if (root / c["path"]).is_file() else None
        if now != c["sha256"]:
            state = "gone" if now is None else f"{now[:16]}…"
            raise SourceError(source.display_path, None,
                              f"{c['path']} changed while it was being read (SHA-256 {c['sha256'][:16]}… "
                              f"when read, {state} after); nothing stored")
        out.append({"path": c["path"], "size": c["size"], "sha256": c["sha256"]})
    return out


def _run_parser(spec: ParserSpec, source: Source, exhibit_ref: str, sha: str,
                options: ParseOptions, scope: Scope | None, tmp: Path, name: str,
                progress: Progress | None) -> dict[str, int]:
    rel = source.display_path
    ev_writer = _writer(tmp / "events.parquet", arrow_schema())
    rj_writer = _writer(tmp / "rejected.parquet", rejection_schema())
    events = _Columns(arrow_schema(), ev_writer, key="event_id")
    rejected = _Columns(rejection_schema(), rj_writer)
    core = {"exhibit_ref": exhibit_ref, "source_path": rel, "source_sha256": sha,
            "parser": spec.name, "parser_version": spec.version}
    read = out_of_scope = 0
    last_locator: str | None = None
    try:
        try:
            for item in spec.parse(source, options):
                seq = read
                read += 1
                if isinstance(item, EventDraft):
                    last_locator = item.locator
                    if scope is not None and not scope.keeps(item):
                        out_of_scope += 1
                        continue
                    row = {f: getattr(item, f) for f in PARSER_FIELDS if f != "extra"}
                    row["extra"] = item.extra_json()
                    row["recipients"] = list(item.recipients)
                    row["attachments"] = list(item.attachments)
                    row["flags"] = list(item.flags)
                    row.update(core)
                    row["seq"] = seq
                    row["event_id"] = event_id(sha, item.locator, item.part)
                    events.add(row)
                elif isinstance(item, Rejection):
                    last_locator = item.locator
                    rejected.add({**core, "seq": seq, "locator": item.locator,
                                  "reason": item.reason, "raw": escape_raw(item.raw)})
                else:
                    raise TypeError(f"parser yielded {type(item).__name__}, not EventDraft or Rejection")
                if progress is not None and read % 4096 == 0:
                    progress(source.bytes_read[0], source.size)
        except NotThisFormat as exc:
            raise SourceError(rel, last_locator, f"not a {spec.name} file: {exc}") from None
        except AtlasError:
            raise
        except (KeyboardInterrupt, MemoryError):
            raise
        except Exception as exc:
            err = SourceError(
                rel, last_locator,
                f"parser {spec.name} {spec.version} failed after {last_locator or 'the start'}: "
                f"{type(exc).__name__}: {exc}; this is a defect in Atlas, please report it. "
                "Nothing was stored.")
            err.detail = "".join(traceback.format_exception(exc))
            raise err from exc
        events.flush()
        rejected.flush()
    finally:
        ev_writer.close()
        rj_writer.close()
    if progress is not None:
        progress(source.size, source.size)
    accepted = events.rows
    counts = {"read": read, "accepted": accepted, "rejected": rejected.rows, "out_of_scope": out_of_scope}
    if read != accepted + rejected.rows + out_of_scope:  # pragma: no cover - arithmetic guard
        raise SourceError(rel, None, f"count mismatch: {counts}")
    if accepted and not _ids_unique(tmp / "events.parquet", events.heads):
        raise SourceError(rel, None, f"parser {spec.name} yielded two events with the same locator and "
                          "part; this is a defect in Atlas, please report it. Nothing was stored.")
    assert set(CORE_FIELDS) <= set(arrow_schema().names)
    return counts
