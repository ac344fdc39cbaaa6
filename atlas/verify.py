"""``atlas verify``: re-hash everything and re-run the logged pipeline from the sources.

A reviewer (supervisor, CPS, defence expert) runs ``atlas verify CASE`` to check
that the store and results follow from the exhibits. Three checks, each with a
verdict per item:

1. **Sources**: every exhibit in the manifest, and every companion file read
   with it (an SQLite ``-wal``), is present and has the SHA-256 recorded at ingest.
2. **Recorded files**: every file under ``store/``, ``results/`` and ``report/`` has the hash
   the log last recorded for it; a file no command produced is reported as
   extra, a recorded one that is gone as missing.
3. **Re-run**: every successful ``ingest``, ``analyse`` and ``report`` in the log is run again,
   in order, in a temporary workspace holding a copy of ``case.toml`` and links
   to the sources; after each step every output it logged must have the same
   SHA-256. A step whose ``case.toml`` or mapping file differs from the one
   logged is reported, since its outputs are then expected to differ.

Only paths relative to the case are used, so a case folder copied to another
machine verifies there (``--log FILE`` names a copied log). The exit code is 1
on any difference, naming the step and the file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atlas.case import load_case
from atlas.errors import AtlasError, VerifyMismatch
from atlas.provenance import sha256_file
from atlas.store import read_manifest

RERUN_COMMANDS = ("ingest", "analyse", "report")
TRACKED = ("store/", "results/", "report/")


@dataclass
class Report:
    """Verdict lines and whether anything differed."""

    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def ok(self, text: str) -> None:
        self.lines.append(f"OK        {text}")

    def bad(self, verdict: str, text: str) -> None:
        line = f"{verdict:<9} {text}"
        self.lines.append(line)
        self.problems.append(line)


def _hash(path: Path) -> str | None:
    return sha256_file(str(path)) if path.is_file() else None


def read_log(path: Path) -> list[dict[str, Any]]:
    """Read a log file, naming the line of any entry that is not JSON."""
    entries = []
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                entries.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise AtlasError(f"{path} line {number}: not a log entry ({exc})") from None
    return entries


def verify(case_dir: str | Path, log_file: str | Path | None = None) -> Report:
    """Check a case against its manifest and log, and re-run its pipeline."""
    root = Path(case_dir)
    case = load_case(root)
    log_path = Path(log_file) if log_file else root / "log" / "analysis.jsonl"
    if not log_path.is_file():
        raise AtlasError(f"{log_path}: no analysis log to verify against")
    entries = read_log(log_path)
    report = Report()
    _check_sources(root, report)
    _check_recorded_files(root, entries, report)
    _rerun(case.root, entries, report)
    return report


def _check_sources(root: Path, report: Report) -> None:
    for entry in read_manifest(root)["ingests"]:
        path = root / entry["source_path"]
        got = _hash(path)
        label = f"source {entry['exhibit_ref']} {entry['source_path']}"
        if got is None:
            report.bad("MISSING", f"{label}: the file is not in the case")
        elif got != entry["source_sha256"]:
            report.bad("MODIFIED", f"{label}: SHA-256 {got[:16]}… differs from {entry['source_sha256'][:16]}… "
                       "recorded at ingest")
        else:
            report.ok(f"{label}")
        for companion in entry.get("companions", []):
            got = _hash(root / companion["path"])
            label = (f"source {entry['exhibit_ref']} {companion['path']} "
                     f"(read with {entry['source_path']})")
            if got is None:
                report.bad("MISSING", f"{label}: the file is not in the case")
            elif got != companion["sha256"]:
                report.bad("MODIFIED", f"{label}: SHA-256 {got[:16]}… differs from "
                           f"{companion['sha256'][:16]}… recorded at ingest")
            else:
                report.ok(label)


def _check_recorded_files(root: Path, entries: list[dict[str, Any]], report: Report) -> None:
    last: dict[str, str] = {}
    for e in entries:
        if e.get("status") == "ok":
            for out in e.get("outputs", []):
                last[out["path"]] = out["sha256"]
    # A report run replaces report/exhibits, so only the last report's files are expected as they
    # were logged; files an earlier report logged (e.g. a redaction map) are not extra.
    reports = [e for e in entries if e.get("command") == "report" and e.get("status") == "ok"]
    last_report = {o["path"]: o["sha256"] for o in reports[-1].get("outputs", [])} if reports else {}
    tracked = {p: h for p, h in last.items() if p.startswith(TRACKED) and not p.startswith("report/")}
    tracked.update(last_report)
    for rel, want in sorted(tracked.items()):
        got = _hash(root / rel)
        if got is None:
            report.bad("MISSING", f"output {rel}: recorded in the log but not present")
        elif got != want:
            report.bad("MODIFIED", f"output {rel}: SHA-256 {got[:16]}… differs from {want[:16]}… last logged")
    present = sorted(p.relative_to(root).as_posix() for sub in ("store", "results", "report") if (root / sub).is_dir()
                     for p in (root / sub).rglob("*") if p.is_file() and p.name != ".lock")
    for rel in present:
        if rel not in tracked and rel not in last:
            report.bad("EXTRA", f"output {rel}: no logged command produced this file")
    if tracked and not any(line.startswith(("MISSING   output", "MODIFIED  output")) for line in report.problems):
        report.ok(f"{len(tracked)} recorded output file(s) match their last logged SHA-256")


def _link(src_root: Path, dst_root: Path, rel: str) -> None:
    target = dst_root / rel
    if target.exists() or not (src_root / rel).exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(os.path.abspath(src_root / rel), target)


def _rerun(root: Path, entries: list[dict[str, Any]], report: Report) -> None:
    from atlas.analysis import analyses, run_analyses
    from atlas.ingest import ingest_file, parse_options, scope_from_description

    steps = [(n, e) for n, e in enumerate(entries, start=1)
             if e.get("command") in RERUN_COMMANDS and e.get("status") == "ok" and e.get("outputs")]
    if not steps:
        report.ok("no ingest, analyse or report step to re-run")
        return
    # Each report replaces the previous statement and exhibits, so only the last one is re-run.
    reports = [n for n, e in steps if e["command"] == "report"]
    for n in reports[:-1]:
        report.ok(f"step {n} report: superseded by step {reports[-1]}; not re-run")
    steps = [(n, e) for n, e in steps if e["command"] != "report" or n == reports[-1]]
    with tempfile.TemporaryDirectory(prefix="atlas-verify-") as tmp:
        work = Path(tmp) / "case"
        work.mkdir()
        shutil.copy2(root / "case.toml", work / "case.toml")
        case = load_case(work)
        for number, e in steps:
            label = f"step {number} {e['command']}"
            toml_changed = False
            for inp in e.get("inputs", []):
                if inp["path"].startswith(TRACKED):
                    continue
                now = _hash(root / inp["path"])
                if now != inp["sha256"] and inp["path"] == "case.toml" and now is not None:
                    # Completing the [statement] header after an analysis changes case.toml but
                    # not what the step reads: judge this input by whether the outputs reproduce.
                    toml_changed = True
                elif now != inp["sha256"]:
                    state = "missing" if now is None else "changed since this step"
                    report.bad("CHANGED", f"{label}: input {inp['path']} is {state}; its outputs will differ")
                _link(root, work, inp["path"])
            try:
                if e["command"] == "ingest":
                    args = e["args"]
                    o = args["options"]
                    mapping = None
                    if o.get("mapping_path"):
                        import tomllib

                        mapping = tomllib.loads((work / o["mapping_path"]).read_text(encoding="utf-8"))
                    options = parse_options(case, o["source_tz"], o["date_order"], o["region"], mapping,
                                            str(work / o["mapping_path"]) if o.get("mapping_path") else None,
                                            apply_wal=o.get("apply_wal", True))
                    scope = scope_from_description(args["scope"]) if args.get("scope") else None
                    ingest_file(case, work / args["file"], args["exhibit"], args["format"], options, scope)
                    label += f" {args['exhibit']} {args['file']}"
                elif e["command"] == "report":
                    from atlas.report import write_report

                    # The statement cites the analysis log as it stood before the step; the re-run
                    # cites the same logged state, not the temporary workspace's own log.
                    a = e["args"]
                    write_report(case, tuple(a["formats"]), a["exhibit_prefix"], a["redact_third_parties"],
                                 sfr1=a.get("sfr1", False), log_record=a["log"], case_label=a.get("case_label"))
                else:
                    settable = {s.name: {f.name for f in dataclasses.fields(s.params) if f.init}
                                for s in analyses()}
                    # Fields computed by an analysis (init=False, e.g. a lexicon's hash) are logged
                    # for the record but are not parameters: they are recomputed by the re-run.
                    pairs = tuple(f"{name}.{k}={_param_text(v)}" for name, values in e["args"]["params"].items()
                                  for k, v in values.items() if k in settable.get(name, ()) and v is not None)
                    run_analyses(case, tuple(e["args"].get("only", [])), pairs)
            except AtlasError as exc:
                report.bad("FAILED", f"{label}: the re-run stopped: {exc.message}")
                continue
            differ = [o for o in e["outputs"] if _hash(work / o["path"]) != o["sha256"]]
            if toml_changed and differ:
                report.bad("CHANGED", f"{label}: input case.toml is changed since this step; its outputs differ")
            elif toml_changed:
                report.ok(f"{label}: case.toml has changed since this step; its outputs are reproduced with "
                          "the current case.toml")
            for o in differ:
                got = _hash(work / o["path"])
                what = "not produced" if got is None else f"SHA-256 {got[:16]}… instead of {o['sha256'][:16]}…"
                report.bad("DIFFERS", f"{label}: re-run output {o['path']}: {what}")
            if not differ:
                report.ok(f"{label}: {len(e['outputs'])} output(s) reproduced byte for byte")


def _param_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return "" if value is None else str(value)


def run(case_dir: str | Path, log_file: str | Path | None = None) -> Report:
    """Verify and raise ``VerifyMismatch`` (exit code 1) when anything differs."""
    report = verify(case_dir, log_file)
    if report.problems:
        raise VerifyMismatch("verify found differences:\n" + "\n".join(report.problems))
    return report
