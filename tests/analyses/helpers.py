"""Shared helpers for analysis tests: typed event frames and the synthetic case, ingested.

``events(rows)`` builds a frame with every event column typed exactly as
``atlas.store.load_events`` returns it (through the store's Arrow schema), so an
analysis sees the same dtypes in a ten-row test as on a real store.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

from atlas.events import arrow_schema

DEFAULTS: dict[str, Any] = {
    "seq": 0, "exhibit_ref": "AB/1", "source_path": "exhibits/test.txt", "source_sha256": "0" * 64,
    "parser": "test", "parser_version": "1.0", "part": 0, "kind": "sms", "timestamp_source": "",
    "tz_basis": "utc-declared", "tz_flag": "ok", "direction": "unknown", "recipients": [],
    "attachments": [], "deleted": "unknown", "flags": [], "extra": "{}",
}


def utc(text: str) -> dt.datetime:
    """Return an aware UTC datetime from ``YYYY-MM-DD HH:MM[:SS]``."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def events(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Return an event frame typed like the store's; unnamed fields take neutral defaults.

    ``timestamp_utc`` may be given as text (UTC); ``event_id`` defaults to a hash of the row
    number and ``locator`` to ``line:N``.
    """
    full = []
    for n, row in enumerate(rows, start=1):
        rec = {**DEFAULTS, "seq": n - 1, "locator": f"line:{n}",
               "event_id": hashlib.sha256(f"row{n}".encode()).hexdigest()[:24], **row}
        if isinstance(rec.get("timestamp_utc"), str):
            rec["timestamp_utc"] = utc(rec["timestamp_utc"])
        if rec.get("timestamp_utc") is None:
            rec["tz_flag"] = "no_time"
        full.append(rec)
    schema = arrow_schema()
    table = pa.Table.from_pylist(full, schema=schema)
    return table.to_pandas()


def synthetic_case(root: Path, seed: int = 7, device_owners: dict[str, str] | None = None,  # noqa: ANN201
                   extended: bool = False):
    """Generate and ingest the synthetic case under ``root``; return ``(case, ground_truth)``.

    ``device_owners`` maps an exhibit reference to a person id: each becomes a
    ``device:<ref>`` attribution appended to case.toml before loading. ``extended``
    also ingests the later exhibits (DI/5 onwards: the UFDR, the suspect's handset
    databases, the Instagram export, ...), as ``synthetic.ingest_plan(extended=True)``.
    """
    from atlas.case import load_case
    from atlas.ingest import ingest_file
    from fixtures import synthetic

    truth = synthetic.generate(root, seed=seed)
    if device_owners:
        _append_device_attributions(root / "case.toml", device_owners)
    case = load_case(root)
    plan = synthetic.ingest_plan(extended=True) if extended else synthetic.ingest_plan()
    for entry in plan:
        ingest_file(case, root / entry["file"], entry["exhibit"], entry["format"],
                    synthetic.parse_options_for(entry, root))
    return case, truth


def _append_device_attributions(path: Path, owners: dict[str, str]) -> None:
    """Insert ``[[persons.identifiers]]`` device entries after each owner's ``[[persons]]`` block."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[str] = []
    current: str | None = None

    def flush() -> None:
        for ref, pid in sorted(owners.items()):
            if pid == current:
                out.extend(["[[persons.identifiers]]", f'value = "device:{ref}"',
                            f'basis = "Exhibit {ref} was extracted from this person\'s handset (test)"'])

    for line in lines:
        if line.startswith("[[") and not line.startswith("[[persons.identifiers]]") and current is not None:
            flush()
            current = None
        if line.strip() == "[[persons]]":
            current = None
        if current is None and line.startswith("id = ") and out and out[-1].strip() == "[[persons]]":
            current = line.split("=", 1)[1].strip().strip('"')
        out.append(line)
    if current is not None:
        flush()
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def event_ids_at(frame: pd.DataFrame, refs: list[dict[str, Any]]) -> list[str]:
    """Return the event ids of ground-truth records (``file`` and ``locator``), in the given order."""
    index = {(p, loc): e for p, loc, e in zip(frame["source_path"], frame["locator"], frame["event_id"],
                                              strict=True)}
    return [index[(r["file"], r["locator"])] for r in refs]
