"""Hand-checked reference inputs: parse each small file and compare with its written-down answer.

Each registered parser has a folder ``fixtures/validation/parsers/<name>/`` with one or more
small input files and ``expected.json``::

    {"parser": "gpx", "checked_against_version": "1.0",
     "inputs": [{"file": "bad_records.gpx", "options": {...}, "mapping": null,
                 "how_checked": "what was read in the input to write this down",
                 "counts": {"read": 8, "accepted": 2, "rejected": 6},
                 "events": [{"locator": "...", "part": 0, "kind": "...", ...}],
                 "rejections": [{"locator": "...", "reason": "..."}]}]}

Only the fields written in an expected event are compared (times as ISO 8601 in UTC,
coordinates to 1e-7 degrees), so each answer says exactly what was checked by hand.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from pathlib import Path
from typing import Any

from atlas._validate_record import NOT_VALIDATED, Check, trimmed, verdict
from atlas.errors import AtlasError, NotThisFormat
from atlas.events import EventDraft
from atlas.parsing import ParseOptions, ParserSpec, Source

REFERENCE = Path(__file__).resolve().parents[1] / "fixtures" / "validation" / "parsers"
TOLERANCE = 1e-7


def _value(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_value(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def observe(spec: ParserSpec, folder: Path, item: dict[str, Any]) -> dict[str, Any]:
    """Parse one reference input and return counts, events by (locator, part), rejections and error."""
    path = folder / item["file"]
    kwargs = dict(item.get("options", {}))
    if item.get("mapping"):
        kwargs["mapping"] = tomllib.loads((folder / item["mapping"]).read_text(encoding="utf-8"))
        kwargs["mapping_path"] = item["mapping"]
    events: dict[tuple[str, int], dict[str, Any]] = {}
    rejections: list[dict[str, str]] = []
    error = None
    try:
        for got in spec.parse(Source.from_path(str(path), path.name), ParseOptions(**kwargs)):
            if isinstance(got, EventDraft):
                events[(got.locator, got.part)] = {f.name: _value(getattr(got, f.name))
                                                   for f in dataclasses.fields(got)}
            else:
                rejections.append({"locator": got.locator, "reason": got.reason})
    except (AtlasError, NotThisFormat) as exc:
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - a parser defect is a failed validation, not a crash
        error = f"defect {type(exc).__name__}: {exc}"
    counts = {"read": len(events) + len(rejections), "accepted": len(events), "rejected": len(rejections)}
    return {"counts": counts, "events": events, "rejections": rejections, "error": error}


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, float) and isinstance(got, int | float) and got is not None:
        return math.isclose(want, float(got), rel_tol=0, abs_tol=TOLERANCE)
    return want == got


def compare(item: dict[str, Any], seen: dict[str, Any]) -> list[str]:
    """Return the differences between an expected answer and what the parser yielded."""
    diffs = []
    if seen["error"] != item.get("error"):
        diffs.append(f"file-level error: expected {item.get('error')!r}, got {seen['error']!r}")
    for key, want in item["counts"].items():
        if seen["counts"][key] != want:
            diffs.append(f"{key}: expected {want}, got {seen['counts'][key]}")
    for ev in item["events"]:
        got = seen["events"].get((ev["locator"], ev.get("part", 0)))
        if got is None:
            diffs.append(f"{ev['locator']}: expected an event, none yielded")
            continue
        for name, want in ev.items():
            if name != "part" and not _same(want, got.get(name)):
                diffs.append(f"{ev['locator']} {name}: expected {want!r}, got {got.get(name)!r}")
    wanted = {(e["locator"], e.get("part", 0)) for e in item["events"]}
    for key in sorted(set(seen["events"]) - wanted):
        diffs.append(f"{key[0]}: an event was yielded that the answer does not list")
    got_rej = [(r["locator"], r["reason"]) for r in seen["rejections"]]
    want_rej = [(r["locator"], r["reason"]) for r in item["rejections"]]
    for loc, reason in want_rej:
        if (loc, reason) not in got_rej:
            diffs.append(f"{loc}: expected rejection {reason!r}; got "
                         f"{[r for lo, r in got_rej if lo == loc] or 'none'}")
    for loc, reason in got_rej:
        if (loc, reason) not in want_rej:
            diffs.append(f"{loc}: unexpected rejection {reason!r}")
    return diffs


def checks(specs: tuple[ParserSpec, ...]) -> list[Check]:
    """Run every reference input of every registered parser; a parser with none is not validated."""
    out = []
    for spec in specs:
        answer_file = REFERENCE / spec.name / "expected.json"
        if not answer_file.is_file():
            out.append(Check(id=f"parser.{spec.name}.reference", kind="parser", name=spec.name,
                             version=spec.version, what="hand-checked reference input",
                             expected="a reference input", observed="none in fixtures/validation",
                             status=NOT_VALIDATED))
            continue
        answer = json.loads(answer_file.read_text(encoding="utf-8"))
        for item in answer["inputs"]:
            seen = observe(spec, answer_file.parent, item)
            diffs = compare(item, seen)
            if answer.get("checked_against_version") != spec.version:
                diffs.append(f"the answer was checked against version {answer.get('checked_against_version')}, "
                             f"the parser is {spec.version}: re-check it by hand")
            n_fields = sum(len(e) - ("part" in e) for e in item["events"])
            out.append(Check(
                id=f"parser.{spec.name}.reference.{item['file']}", kind="parser", name=spec.name,
                version=spec.version,
                what=(f"reference input {item['file']}: records read/accepted/rejected, {n_fields} event field(s), "
                      f"every rejection's locator and reason (how the answer was checked: {item['how_checked']})"),
                expected={**item["counts"], "mismatches": 0},
                observed={**seen["counts"], "mismatches": len(diffs)},
                status=verdict(not diffs), detail=trimmed(diffs)))
    return out
