"""The validation record: one ``Check`` per test, and the JSON and Markdown written from them.

The record body is deterministic: tests in a fixed order, sorted keys, no wall-clock
time (the run's date and duration go to the console and to the caller's log only).
"""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import atlas
from atlas.analysis import plain

DETECTION = (("found", "found", "planted"), ("missed", "missed", "planted"))
"""The two detection rates most checks report: (label, numerator measure, denominator measure)."""

RECORD_SCHEMA = "1"
PASS, FAIL, NOT_VALIDATED = "pass", "fail", "not validated"
MAX_DETAIL = 12
"""At most this many mismatch lines are kept per test (the count of all is kept too)."""


@dataclass(frozen=True)
class Check:
    """One validation test: what was checked, what was expected, what was observed, the verdict."""

    id: str
    """Stable identifier, e.g. ``analysis.colocation.zone_visits.seed7``."""
    kind: str
    """``parser``, ``analysis`` or ``pipeline``."""
    name: str
    """The method's registered name (parser or analysis), or ``ingest+analyse+report``."""
    version: str
    what: str
    """What is checked, in one sentence."""
    expected: Any
    observed: Any
    status: str
    seed: int | None = None
    measures: dict[str, int] = field(default_factory=dict)
    """Counts behind the verdict (e.g. planted, found, missed, spurious); summed over seeds."""
    ratios: tuple[tuple[str, str, str], ...] = ()
    """(label, numerator measure, denominator measure) rates reported over all seeds."""
    detail: tuple[str, ...] = ()
    """Mismatches, at most ``MAX_DETAIL`` of them."""

    @property
    def family(self) -> str:
        """Return the id without its seed suffix, to group a test over seeds."""
        return self.id.rsplit(".seed", 1)[0] if self.seed is not None else self.id


def verdict(ok: bool) -> str:
    """Return ``pass`` or ``fail``."""
    return PASS if ok else FAIL


def trimmed(lines: list[str]) -> tuple[str, ...]:
    """Return at most ``MAX_DETAIL`` lines, saying how many more there were."""
    if len(lines) <= MAX_DETAIL:
        return tuple(lines)
    return (*lines[:MAX_DETAIL], f"… and {len(lines) - MAX_DETAIL} more")


def environment() -> dict[str, str]:
    """Return the versions and platform the suite ran on (no host name, no time)."""
    from atlas.log import environment as versions

    env = dict(versions())
    for name in ("numpy", "matplotlib", "networkx", "python-docx", "reportlab"):
        from importlib import metadata

        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            env[name] = "not installed"
    env["python_implementation"] = platform.python_implementation()
    env["platform"] = f"{platform.system()} {platform.release()} {platform.machine()}"
    env["byteorder"] = sys.byteorder
    return dict(sorted(env.items()))


def rates(checks: list[Check]) -> list[dict[str, Any]]:
    """Sum each test family's measures over seeds and compute its declared rates."""
    families: dict[str, list[Check]] = {}
    for c in checks:
        if c.measures:
            families.setdefault(c.family, []).append(c)
    out = []
    for fam, group in families.items():
        totals: dict[str, int] = {}
        for c in group:
            for k, v in c.measures.items():
                totals[k] = totals.get(k, 0) + int(v)
        shown = {}
        for label, num, den in group[0].ratios:
            n, d = totals.get(num, 0), totals.get(den, 0)
            shown[label] = {"numerator": n, "denominator": d,
                            "rate": None if d == 0 else round(n / d, 4)}
        out.append({"test": fam, "method": f"{group[0].name} {group[0].version}",
                    "seeds": sorted(c.seed for c in group if c.seed is not None),
                    "counts": dict(sorted(totals.items())), "rates": shown,
                    "status": FAIL if any(c.status == FAIL for c in group) else PASS})
    return out


def document(checks: list[Check], methods: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, Any]:
    """Return the validation record as a JSON-able dict."""
    counts = {s: sum(c.status == s for c in checks) for s in (PASS, FAIL, NOT_VALIDATED)}
    return {
        "record_schema": RECORD_SCHEMA,
        "tool": "atlas",
        "atlas_version": atlas.__version__,
        "environment": environment(),
        "configuration": config,
        "methods": methods,
        "summary": {"tests": len(checks), "passed": counts[PASS], "failed": counts[FAIL],
                    "not_validated": counts[NOT_VALIDATED],
                    "result": "FAIL" if counts[FAIL] else "PASS"},
        "rates": rates(checks),
        "tests": [plain({"id": c.id, "kind": c.kind, "method": c.name, "method_version": c.version,
                         "checks": c.what, "seed": c.seed, "expected": c.expected, "observed": c.observed,
                         "status": c.status, "measures": c.measures, "detail": list(c.detail)})
                  for c in checks],
    }


def write(doc: dict[str, Any], out: Path) -> tuple[Path, Path]:
    """Write ``validation.json`` and ``validation.md`` into ``out``; return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    jpath, mpath = out / "validation.json", out / "validation.md"
    jpath.write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n",
                     encoding="utf-8", newline="\n")
    mpath.write_text(markdown(doc), encoding="utf-8", newline="\n")
    return jpath, mpath


def _cell(value: Any, width: int = 90) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"


def markdown(doc: dict[str, Any]) -> str:
    """Return the human-readable validation record."""
    s = doc["summary"]
    cfg = doc["configuration"]
    lines = [
        "# Atlas validation record",
        "",
        f"Result: **{s['result']}**: {s['passed']} passed, {s['failed']} failed, "
        f"{s['not_validated']} not validated, of {s['tests']} tests.",
        "",
        "This record is written by `atlas validate`. It holds no date: the date of the run is in the "
        "log or the console output of the command that produced it. The same Atlas version, library "
        "versions and configuration give a byte-identical record.",
        "",
        "## Configuration",
        "",
        f"- Atlas {doc['atlas_version']} (record schema {doc['record_schema']})",
        f"- Synthetic case seeds: {', '.join(str(x) for x in cfg['seeds'])}",
        f"- Mode: {'quick' if cfg['quick'] else 'full'}; selection: {', '.join(cfg['only']) or 'everything'}",
        "",
        "## Environment",
        "",
        *[f"- {k}: {v}" for k, v in doc["environment"].items()],
        "",
        "## Method",
        "",
        "Known-answer tests, two kinds. (1) Generated scenarios with ground truth: the seeded synthetic "
        "case (`fixtures/synthetic.py`) is generated into a temporary folder for each seed, every exhibit "
        "is ingested through the registered parsers, every analysis is run, and what the analyses report "
        "is compared with the facts the generator planted (`ground_truth.json`). (2) Hand-checked "
        "reference inputs (`fixtures/validation/parsers/`): small files per parser whose expected "
        "events and rejections were written down by reading the input; each is parsed and compared "
        "field by field. Determinism: the pipeline is run twice in two different folders and the SHA-256 "
        "of every store, results and report file (the statement and its exhibits) is compared.",
        "",
        "## Methods under test",
        "",
        "| kind | method | version | validated by |",
        "|---|---|---|---|",
        *[f"| {m['kind']} | {m['name']} | {m['version']} | {_cell(m['validated_by'], 120)} |"
          for m in doc["methods"]],
        "",
        "## Measured rates (summed over seeds)",
        "",
        "| test | method | seeds | counts | rates | status |",
        "|---|---|---|---|---|---|",
    ]
    for r in doc["rates"]:
        shown = "; ".join(f"{k} {v['numerator']}/{v['denominator']}"
                          + ("" if v["rate"] is None else f" = {v['rate']:.4f}") for k, v in r["rates"].items())
        counts = ", ".join(f"{k} {v}" for k, v in r["counts"].items())
        lines.append(f"| {r['test']} | {r['method']} | {', '.join(map(str, r['seeds'])) or '-'} | {counts} | "
                     f"{shown or '-'} | {r['status']} |")
    lines += ["", "## Tests", "", "| id | method | checks | expected | observed | result |",
              "|---|---|---|---|---|---|"]
    for t in doc["tests"]:
        lines.append(f"| {t['id']} | {t['method']} {t['method_version']} | {_cell(t['checks'], 200)} | "
                     f"{_cell(t['expected'])} | {_cell(t['observed'])} | **{t['status'].upper()}** |")
    failed = [t for t in doc["tests"] if t["status"] == FAIL and t["detail"]]
    if failed:
        lines += ["", "## Differences found", ""]
        for t in failed:
            lines.append(f"- {t['id']}:")
            lines += [f"  - {_cell(d, 300)}" for d in t["detail"]]
    return "\n".join(lines) + "\n"
