"""The event store: one Parquet file per ingested source plus ``manifest.json``.

Layout inside a case::

    store/manifest.json                 the commit point: only files it lists exist for Atlas
    store/events/<slug>-<sha12>.parquet events from one source file, in the parser's yield order
    store/rejected/<slug>-<sha12>.parquet the rejected-records ledger for that file
    store/.lock                         held while a command writes the store

Writes go to a temporary folder inside ``store/``, are renamed into place, and
only then is the new manifest renamed over the old one. A failure or Ctrl-C at
any point leaves the manifest, and so the store, as it was; files not listed in
the manifest are ignored and removed by the next ingest.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from atlas.errors import AtlasError
from atlas.events import SCHEMA_VERSION, arrow_schema, rejection_schema

MANIFEST = "manifest.json"


def store_dir(case_root: Path) -> Path:
    """Return the store folder of a case."""
    return Path(case_root) / "store"


def read_manifest(case_root: Path) -> dict[str, Any]:
    """Return the manifest, or an empty one for a new store."""
    path = store_dir(case_root) / MANIFEST
    if not path.exists():
        return {"schema_version": SCHEMA_VERSION, "ingests": []}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise AtlasError(f"{path}: the store manifest cannot be read ({exc})") from exc
    if data.get("schema_version") != SCHEMA_VERSION:
        raise AtlasError(f"{path}: store schema {data.get('schema_version')!r} is not "
                         f"{SCHEMA_VERSION!r}; re-ingest with this version of Atlas")
    return data


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    """Return the canonical bytes of a manifest (sorted keys, stable layout)."""
    return (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_manifest_atomic(case_root: Path, manifest: dict[str, Any]) -> None:
    """Replace the manifest in one rename, after syncing its bytes to disk."""
    target = store_dir(case_root) / MANIFEST
    tmp = target.with_name(MANIFEST + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(manifest_bytes(manifest))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    _fsync_dir(target.parent)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def locked(case_root: Path) -> Iterator[None]:
    """Hold the store's write lock (released by the OS if the process dies)."""
    folder = store_dir(case_root)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "a+b") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise AtlasError(f"{folder}: another Atlas command is writing this store; "
                             "wait for it to finish") from exc
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def slug(exhibit_ref: str) -> str:
    """Return a file-name-safe form of an exhibit reference (``JS/1`` -> ``JS-1``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", exhibit_ref).strip("-") or "exhibit"


def remove_orphans(case_root: Path, manifest: dict[str, Any]) -> list[str]:
    """Delete store files not listed in the manifest (left by an interrupted write)."""
    folder = store_dir(case_root)
    listed = {i["events_file"] for i in manifest["ingests"]} | {i["rejections_file"] for i in manifest["ingests"]}
    removed = []
    for sub in ("events", "rejected"):
        for path in sorted((folder / sub).glob("*.parquet")) if (folder / sub).is_dir() else []:
            rel = f"{sub}/{path.name}"
            if rel not in listed:
                path.unlink()
                removed.append(rel)
    for tmp in sorted(folder.glob(".tmp-*")):
        for child in tmp.iterdir():
            child.unlink()
        tmp.rmdir()
        removed.append(tmp.name)
    return removed


def _read(case_root: Path, files: list[str], schema: pa.Schema, columns: list[str] | None,
          kinds: list[str] | None = None) -> pd.DataFrame:
    folder = store_dir(case_root)
    filters = None if kinds is None else [("kind", "in", list(kinds))]
    tables = [pq.read_table(folder / f, columns=columns, schema=schema, filters=filters) for f in files]
    if not tables:
        empty = schema if columns is None else pa.schema([schema.field(c) for c in columns])
        return empty.empty_table().to_pandas()
    return pa.concat_tables(tables).to_pandas()


def load_events(case_root: Path, columns: list[str] | None = None,
                exhibits: list[str] | None = None, kinds: list[str] | None = None) -> pd.DataFrame:
    """Return events from the store, sorted by time, exhibit and sequence.

    ``columns`` reads only those fields and ``kinds`` only events of those kinds (both
    filtered while reading, so a large store is never loaded whole for a small question).
    Events with no time (``tz_flag == "no_time"``) sort last.
    """
    manifest = read_manifest(case_root)
    ingests = [i for i in manifest["ingests"] if not exhibits or i["exhibit_ref"] in exhibits]
    needed = None if columns is None else list(dict.fromkeys([*columns, "timestamp_utc", "exhibit_ref", "seq", "source_sha256"]))
    frame = _read(case_root, [i["events_file"] for i in ingests], arrow_schema(), needed, kinds)
    frame = frame.sort_values(["timestamp_utc", "exhibit_ref", "source_sha256", "seq"],
                              kind="stable", na_position="last").reset_index(drop=True)
    return frame if columns is None else frame[columns]


def load_rejections(case_root: Path, exhibits: list[str] | None = None) -> pd.DataFrame:
    """Return the rejected-records ledger, in ingest and yield order."""
    manifest = read_manifest(case_root)
    ingests = [i for i in manifest["ingests"] if not exhibits or i["exhibit_ref"] in exhibits]
    return _read(case_root, [i["rejections_file"] for i in ingests], rejection_schema(), None)
