"""The analysis log: one JSON line per command in ``CASE/log/analysis.jsonl``.

Each line records the command and its arguments, the Atlas version and the
versions of the libraries and time-zone database that affect results, the
inputs and outputs with their SHA-256 (paths relative to the case), and the
counts. This is the only place Atlas writes wall-clock time, and it is what a
reviewer re-runs.
"""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import atlas
from atlas.provenance import sha256_file

LOG_RELATIVE = "log/analysis.jsonl"
_VERSIONED = ("pandas", "pyarrow", "phonenumbers", "lxml", "tzdata", "openpyxl")


def environment() -> dict[str, str]:
    """Return the versions that affect results."""
    versions = {"atlas": atlas.__version__, "python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def file_record(case_root: Path, path: Path, sha256: str | None = None) -> dict[str, str]:
    """Return ``{"path": relative path, "sha256": …}`` for a file."""
    rel = Path(os.path.relpath(os.path.abspath(path), os.path.abspath(case_root))).as_posix()
    return {"path": rel, "sha256": sha256 or sha256_file(str(path))}


def append(case_root: Path, command: str, args: dict[str, Any], *, inputs: list[dict[str, str]] = (),
           outputs: list[dict[str, str]] = (), counts: dict[str, Any] | None = None,
           status: str = "ok", message: str | None = None, detail: str | None = None) -> None:
    """Append one entry to the case's analysis log."""
    log_path = Path(case_root) / LOG_RELATIVE
    log_path.parent.mkdir(parents=True, exist_ok=True)
    entry = {
        "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": command,
        "args": args,
        "status": status,
        "environment": environment(),
        "inputs": list(inputs),
        "outputs": list(outputs),
        "counts": counts or {},
    }
    if message:
        entry["message"] = message
    if detail:
        entry["detail"] = detail
    with open(log_path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(entry, sort_keys=True, ensure_ascii=False, default=str) + "\n")


def read(case_root: Path) -> list[dict[str, Any]]:
    """Return the log entries in order."""
    log_path = Path(case_root) / LOG_RELATIVE
    if not log_path.exists():
        return []
    with open(log_path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
