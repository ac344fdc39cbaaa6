"""The shape of an analysis, and the runner behind ``atlas analyse``.

An analysis module ends with ``ANALYSIS = AnalysisSpec(...)`` naming a pure
function ``run(events, case, params) -> AnalysisResult``: no I/O, no wall clock,
no global state. Its ``Params`` is a frozen keyword-only dataclass whose fields
``--param NAME.FIELD=VALUE`` sets. A result holds tables (sorted DataFrames with
a fixed column order), findings (a template key, plain values and the ids of the
events behind it, in time order), limitation keys and counts. Wording lives in
``report_templates/analyses/<name>.toml``; figures and extra files (GraphML,
KML) are drawn by the spec's ``render`` from the result, so ``run`` stays pure.

``run_analyses`` writes ``CASE/results/<name>.json`` (schema in
``docs/results.md``), ``CASE/results/<name>/<table>.csv`` and the rendered files,
byte-identical for the same store, parameters and Atlas version, and logs the
run with its parameters and every output's SHA-256.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
import types
import typing
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import atlas
from atlas import log
from atlas.case import Case
from atlas.errors import ParamError, UsageError
from atlas.events import FIELD_NAMES
from atlas.provenance import sha256_file
from atlas.store import load_events, store_dir
from atlas.timeparse import display

RESULTS_SCHEMA = "1"
TEMPLATES = Path(__file__).resolve().parents[1] / "report_templates" / "analyses"


@dataclass(frozen=True)
class Finding:
    """One fact an analysis found: a template key, plain values, and the events behind it."""

    key: str
    values: dict[str, Any]
    event_ids: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class AnalysisSpec:
    """The declaration an analysis module ends with."""

    name: str
    version: str
    summary: str
    requires: tuple[str, ...]
    params: type
    run: Callable[..., AnalysisResult]
    render: Callable[[AnalysisResult, Case, Path], list[Path]] | None = None
    # How the statement uses the findings: "findings" are facts stated in the MG11;
    # "leads" (e.g. candidate identifiers, lexicon tags) are for the officer to check
    # and never appear there as findings.
    statement_role: str = "findings"

    def __post_init__(self) -> None:
        if self.statement_role not in ("findings", "leads"):
            raise ValueError(f"analysis {self.name}: statement_role must be 'findings' or 'leads'")
        unknown = sorted(set(self.requires) - set(FIELD_NAMES))
        if unknown:
            raise ValueError(f"analysis {self.name}: requires unknown fields {unknown}")


@dataclass(frozen=True)
class AnalysisResult:
    """What ``run`` returns."""

    analysis: AnalysisSpec
    params: Any
    tables: dict[str, pd.DataFrame]
    findings: tuple[Finding, ...]
    limitations: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------- parameters

def parse_params(spec: AnalysisSpec, overrides: dict[str, str]) -> Any:
    """Build the spec's Params from ``FIELD=VALUE`` strings, converting by annotation."""
    hints = typing.get_type_hints(spec.params)
    known = {f.name for f in dataclasses.fields(spec.params) if f.init}
    kwargs: dict[str, Any] = {}
    for name, raw in sorted(overrides.items()):
        if name not in known:
            raise ParamError(f"{spec.name}.{name}", raw, f"unknown parameter; known: {', '.join(sorted(known))}")
        kwargs[name] = _convert(f"{spec.name}.{name}", raw, hints[name])
    return spec.params(**kwargs)


def _convert(name: str, raw: str, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    args = [a for a in typing.get_args(kind) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _convert(name, raw, args[0])
    try:
        if kind is bool:
            if raw.lower() in ("1", "true", "yes"):
                return True
            if raw.lower() in ("0", "false", "no"):
                return False
            raise ValueError("expected true or false")
        if kind is int:
            return int(raw)
        if kind is float:
            return float(raw)
        if kind is str:
            return raw
        if origin is tuple:
            (inner, *_rest) = typing.get_args(kind) or (str,)
            return tuple(_convert(name, part.strip(), inner) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ParamError(name, raw, str(exc)) from None
    raise ParamError(name, raw, f"cannot be set from the command line ({kind})")


def split_overrides(pairs: tuple[str, ...], names: list[str]) -> dict[str, dict[str, str]]:
    """Split ``NAME.FIELD=VALUE`` (or ``FIELD=VALUE`` when one analysis runs) by analysis."""
    out: dict[str, dict[str, str]] = {n: {} for n in names}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"--param {pair!r}: write ANALYSIS.FIELD=VALUE")
        key, value = pair.split("=", 1)
        if "." in key:
            analysis, fld = key.split(".", 1)
        elif len(names) == 1:
            analysis, fld = names[0], key
        else:
            raise UsageError(f"--param {pair!r}: name the analysis, e.g. {names[0]}.{key}={value}")
        if analysis not in out:
            raise UsageError(f"--param {pair!r}: {analysis!r} is not among the analyses run ({', '.join(names)})")
        out[analysis][fld] = value
    return out


# ---------------------------------------------------------------- wording

def templates(name: str) -> dict[str, dict[str, str]]:
    """Return the analysis' wording: ``{"findings": {key: text}, "limitations": {key: text}}``."""
    path = TEMPLATES / f"{name}.toml"
    if not path.exists():
        return {"findings": {}, "limitations": {}}
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    return {"findings": data.get("findings", {}), "limitations": data.get("limitations", {})}


class _Shown(dict):
    """Format values for wording: times in the display zone with GMT/BST, lists joined."""

    def __init__(self, values: dict[str, Any], tz: str) -> None:
        super().__init__({k: _show(v, tz) for k, v in values.items()})

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _show(value: Any, tz: str) -> str:
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return f"{display(value, tz)} ({value.strftime('%H:%M')} UTC)"
    if isinstance(value, list | tuple):
        return ", ".join(_show(v, tz) for v in value)
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render_text(template: str, values: dict[str, Any], tz: str) -> str:
    """Fill a template with values shown for people."""
    return template.format_map(_Shown(values, tz))


# ---------------------------------------------------------------- JSON

def plain(value: Any) -> Any:
    """Return a JSON-able form of a value with a stable representation."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return plain(value.item())
    if isinstance(value, float):
        # Ten significant figures: stable across platforms, and small p-values survive.
        return None if math.isnan(value) else float(f"{value:.10g}")
    return value


def result_document(result: AnalysisResult, case: Case, table_files: dict[str, dict[str, Any]],
                    figure_files: list[dict[str, str]]) -> dict[str, Any]:
    """Return the results JSON document (see docs/results.md)."""
    spec = result.analysis
    words = templates(spec.name)
    tz = case.display_timezone
    findings = []
    for f in result.findings:
        template = words["findings"].get(f.key)
        findings.append({"key": f.key, "text": render_text(template, f.values, tz) if template else None,
                         "values": plain(f.values), "event_ids": list(f.event_ids)})
    return {
        "results_schema": RESULTS_SCHEMA,
        "analysis": spec.name,
        "analysis_version": spec.version,
        "atlas_version": atlas.__version__,
        "summary": spec.summary,
        "params": plain(dataclasses.asdict(result.params)),
        "counts": plain(result.counts),
        "findings": findings,
        "limitations": [{"key": k, "text": words["limitations"].get(k)} for k in result.limitations],
        "tables": table_files,
        "files": figure_files,
    }


def write_table_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a result table as CSV with formula-like cells neutralised, byte-stable."""
    from atlas.timeline import neutralise

    def cell(v: Any) -> str:
        p = plain(v)
        if p is None:
            return ""
        if isinstance(p, list):
            return neutralise(json.dumps(p, ensure_ascii=False))
        return neutralise(str(p)) if isinstance(p, str) else str(p)

    import csv

    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(list(frame.columns))
        for rec in frame.itertuples(index=False, name=None):
            writer.writerow([cell(v) for v in rec])


# ---------------------------------------------------------------- runner

def analyses() -> tuple[AnalysisSpec, ...]:
    """Return the registered analyses in registry order."""
    from analyses import ANALYSES

    return tuple(ANALYSES)


def run_analyses(case: Case, only: tuple[str, ...] = (), param_pairs: tuple[str, ...] = (),
                 specs: tuple[AnalysisSpec, ...] | None = None) -> list[dict[str, Any]]:
    """Run analyses on the store, write results, log the run; return the result documents.

    ``specs`` defaults to the registry; tests pass a single spec.
    """
    specs = analyses() if specs is None else specs
    names = [s.name for s in specs]
    for n in only:
        if n not in names:
            raise UsageError(f"unknown analysis {n!r}; known: {', '.join(names)}")
    chosen = [s for s in specs if not only or s.name in only]
    overrides = split_overrides(param_pairs, [s.name for s in chosen])
    params = {s.name: parse_params(s, overrides[s.name]) for s in chosen}
    manifest = store_dir(case.root) / "manifest.json"
    if not manifest.exists():
        raise UsageError("the store is empty: ingest sources before running analyses")
    # Only the fields the chosen analyses declare are read from the store.
    needed = list(dict.fromkeys(["event_id", *(f for s in chosen for f in s.requires)]))
    all_events = load_events(case.root, columns=needed)
    out_dir = case.root / "results"
    out_dir.mkdir(exist_ok=True)
    docs: list[dict[str, Any]] = []
    outputs: list[dict[str, str]] = []
    for spec in chosen:
        columns = list(dict.fromkeys(("event_id", *spec.requires)))
        result = spec.run(all_events[columns].copy(), case, params[spec.name])
        folder = out_dir / spec.name
        folder.mkdir(exist_ok=True)
        for stale in sorted(folder.iterdir()):
            if stale.is_file():
                stale.unlink()
        table_files: dict[str, dict[str, Any]] = {}
        for tname in sorted(result.tables):
            path = folder / f"{tname}.csv"
            write_table_csv(result.tables[tname], path)
            table_files[tname] = {"path": f"results/{spec.name}/{path.name}", "rows": len(result.tables[tname]),
                                  "sha256": sha256_file(str(path))}
        with warnings.catch_warnings():
            # Emoji in names and messages have no glyph in the bundled font; the chart shows a
            # box instead, and the text itself is unchanged in the tables and JSON.
            warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
            rendered = spec.render(result, case, folder) if spec.render else []
        figure_files = [{"path": f"results/{spec.name}/{p.name}", "sha256": sha256_file(str(p))}
                        for p in sorted(rendered)]
        doc = result_document(result, case, table_files, figure_files)
        path = out_dir / f"{spec.name}.json"
        path.write_text(json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
        docs.append(doc)
        outputs.append({"path": f"results/{spec.name}.json", "sha256": sha256_file(str(path))})
        outputs += [{"path": t["path"], "sha256": t["sha256"]} for t in table_files.values()]
        outputs += figure_files
    log.append(case.root, "analyse", {"only": list(only), "params": {n: plain(dataclasses.asdict(p))
                                                                     for n, p in params.items()}},
               inputs=[log.file_record(case.root, manifest), log.file_record(case.root, case.root / "case.toml")],
               outputs=outputs,
               counts={d["analysis"]: len(d["findings"]) for d in docs})
    return docs
