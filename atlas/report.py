"""``atlas report``: the MG11-style witness statement (DOCX and PDF) and its derived exhibits.

The statement is built once as a content model (``atlas._report_model.Block``) from the
results of ``atlas analyse`` (``CASE/results/*.json``), the store (each cited event's
exhibit), the store manifest and case.toml, checked by ``atlas.wording`` for conclusions, and
drawn by ``atlas._report_docx`` and ``atlas._report_pdf``. Derived exhibits (charts, tables,
map, KML, chronology) are written by ``atlas.exhibits.produce_exhibits`` under
``CASE/report/exhibits`` and produced in the statement by their own sentences.

Refusals, each naming what to do:

* a required header field is missing (``statement.occupation``, ``statement.age``,
  ``statement.date``, ``statement.fsr_status``): never defaulted;
* there are no results, or a result was produced from an older store than the current one
  (the store manifest's SHA-256 logged by ``atlas analyse`` differs from the manifest now),
  or a results file was changed after it was logged;
* a sentence states a conclusion (``atlas.wording``).

The run is appended to ``CASE/log/analysis.jsonl`` with its inputs and every output's SHA-256,
and ``atlas verify`` re-runs it. The analysis log's own hash, cited in the statement, is the
hash before this step; it is logged as an argument so the re-run cites the same value.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from atlas import _report_content as content
from atlas import _report_findings as later
from atlas import log
from atlas._report_model import Block, Statement, config, declaration_file, inert, templates_digest
from atlas.case import Case
from atlas.errors import AtlasError, CaseConfigError, UsageError
from atlas.provenance import sha256_file
from atlas.store import load_events, read_manifest, store_dir

FORMATS = ("docx", "pdf")
REPORT_DIR = "report"
EVENT_COLUMNS = ["event_id", "exhibit_ref", "timestamp_utc", "tz_basis", "tz_flag", "kind"]


@dataclass(frozen=True)
class ReportResult:
    """What ``atlas report`` wrote."""

    statement_files: tuple[Path, ...]
    exhibits: tuple[Any, ...]
    pages: int
    findings: int
    sfr1_files: tuple[Path, ...] = ()
    sfr1_findings: int = 0


def check_header(case: Case) -> None:
    """Refuse, naming the key, when a field the MG11 header needs is missing."""
    s = case.statement
    required = (("statement.occupation", s.occupation, "your occupation, e.g. \"Police staff, digital investigator\""),
                ("statement.age", s.age, "\"Over 18\", or your age in years if under 18"),
                ("statement.date", s.date, "the date the statement is made, e.g. 2025-01-20"),
                ("statement.fsr_status", s.fsr_status, "compliant, non_compliant or not_applicable (with "
                 "statement.fsr_details); Atlas never assumes compliance"))
    for key, value, hint in required:
        if not value:
            raise CaseConfigError(key, f"is required to write the statement: {hint}",
                                  str(case.root / "case.toml"))


def parse_formats(text: str | tuple[str, ...]) -> tuple[str, ...]:
    """Return the requested formats from 'docx,pdf'."""
    items = text.split(",") if isinstance(text, str) else list(text)
    chosen = tuple(dict.fromkeys(i.strip().lower() for i in items if i.strip()))
    bad = [c for c in chosen if c not in FORMATS]
    if bad or not chosen:
        raise UsageError(f"--format {','.join(items)}: choose from {', '.join(FORMATS)}")
    return tuple(f for f in FORMATS if f in chosen)


def current_results(case: Case) -> tuple[dict[str, dict[str, Any]], list[dict[str, str]]]:
    """Return the results documents (registry order) and their log records; refuse stale ones."""
    import json

    from atlas.analysis import analyses

    manifest = store_dir(case.root) / "manifest.json"
    if not manifest.exists():
        raise UsageError("the store is empty: ingest the sources and run 'atlas analyse' before 'atlas report'")
    manifest_sha = sha256_file(str(manifest))
    logged: dict[str, tuple[str, str]] = {}
    for entry in log.read(case.root):
        if entry.get("command") != "analyse" or entry.get("status") != "ok":
            continue
        store_in = next((i["sha256"] for i in entry.get("inputs", []) if i["path"] == "store/manifest.json"), "")
        for out in entry.get("outputs", []):
            if re.fullmatch(r"results/[^/]+\.json", out["path"]):
                logged[out["path"]] = (out["sha256"], store_in)
    docs, records = {}, []
    for spec in analyses():
        rel = f"results/{spec.name}.json"
        path = case.root / rel
        if not path.exists():
            continue
        if rel not in logged:
            raise UsageError(f"{rel} is not recorded in the analysis log; run 'atlas analyse {case.root}' again")
        want, store_sha = logged[rel]
        got = sha256_file(str(path))
        if got != want:
            raise UsageError(f"{rel} was changed after 'atlas analyse' wrote it; run 'atlas analyse' again")
        if store_sha != manifest_sha:
            raise UsageError(f"{rel} was produced from an older store (sources were ingested since); "
                             f"run 'atlas analyse {case.root}' again")
        docs[spec.name] = json.loads(path.read_text(encoding="utf-8"))
        records.append({"path": rel, "sha256": got})
    if not docs:
        raise UsageError(f"no analysis results in {case.root / 'results'}: run 'atlas analyse {case.root}' first")
    return docs, records


def first_number(manifest: dict[str, Any], prefix: str) -> int:
    """Return the first free number for derived exhibits: after the highest source exhibit of the prefix."""
    numbers = [int(m.group(1)) for i in manifest["ingests"]
               if (m := re.fullmatch(re.escape(prefix) + r"/(\d+)[A-Za-z]?", i["exhibit_ref"]))]
    return max(numbers, default=0) + 1


def log_state(case: Case) -> dict[str, Any]:
    """Return the analysis log's name, SHA-256 and entry count as it stands now."""
    path = case.log_path
    if not path.exists():
        return {"name": log.LOG_RELATIVE, "sha256": "none", "lines": 0}
    return {"name": log.LOG_RELATIVE, "sha256": sha256_file(str(path)), "lines": len(log.read(case.root))}


def _cited(docs: dict[str, dict[str, Any]], roles: dict[str, str], order: list[str]) -> list[str]:
    wanted = set()
    for name, doc in docs.items():
        for f in doc["findings"]:
            place = config().get("placement", {}).get(f["key"], "findings")
            undermine = (f.get("values") or {}).get("disclosure") == "may_undermine"
            if undermine or (roles.get(name) == "findings" and place in ("findings", "gaps")):
                wanted.update(f["event_ids"])
    return [e for e in order if e in wanted]


def build_statement(case: Case, facts: content.Facts) -> Statement:
    """Return the statement's content model (not yet checked or drawn)."""
    blocks: list[Block] = []
    for part in (content.intro, content.material, content.method, later.findings, later.not_shown,
                 later.undermine, later.produced, later.fsr, later.annex):
        blocks += part(facts)
    labels = config()["labels"]
    blocks.append(Block("signature", labels["end_of_statement"], section="end"))
    decl_text, _ = declaration_file(facts.declaration["name"])
    s = case.statement
    return Statement(urn=inert(case.urn), maker=inert(case.analyst.name), age=inert(s.age),
                     occupation=inert(s.occupation), date_text=later.long_date(s.date),
                     marking=inert(s.protective_marking), labels=labels, declaration_template=decl_text,
                     declaration_name=facts.declaration["name"], declaration_sha256=facts.declaration["sha256"],
                     blocks=tuple(blocks), title=config()["title"],
                     extra={"legal_basis": config()["legal_basis"], "date": s.date})


def write_report(case: Case, formats: str | tuple[str, ...] = FORMATS, prefix: str | None = None,
                 redact_third_parties: bool = False, *, sfr1: bool = False,
                 log_record: dict[str, Any] | None = None, case_label: str | None = None) -> ReportResult:
    """Write the statement and its exhibits under CASE/report and log the step.

    With ``sfr1`` the one-page SFR1-style summary (``atlas._report_sfr1``) is written too, in the
    same formats, as ``report/sfr1.docx`` and ``report/sfr1.pdf``.

    ``log_record`` is the analysis log's state to cite (``atlas verify`` passes the logged one);
    ``case_label`` is how the case folder is named in the verify command shown to reviewers.
    """
    from atlas import exhibits as exhibit_module
    from atlas._report_docx import render_docx
    from atlas._report_pdf import render_pdf
    from atlas.analysis import analyses
    from atlas.log import environment
    from atlas.wording import enforce

    chosen = parse_formats(formats)
    check_header(case)
    prefix = prefix or case.analyst.initials
    if not re.fullmatch(r"[A-Z]{1,5}", prefix):
        raise UsageError(f"--exhibit-prefix {prefix!r}: use 1-5 capital letters (the producer's initials)")
    docs, result_records = current_results(case)
    roles = {s.name: s.statement_role for s in analyses()}
    manifest = read_manifest(case.root)
    events = load_events(case.root, columns=EVENT_COLUMNS)
    log_record = log_record or log_state(case)

    report_dir = case.root / REPORT_DIR
    out_dir = report_dir / "exhibits"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    cited = _cited(docs, roles, events["event_id"].tolist())
    produced = exhibit_module.produce_exhibits(case, out_dir, prefix, first_number(manifest, prefix),
                                               cited_event_ids=cited, redact_third_parties=redact_third_parties)
    sources = {i["exhibit_ref"] for i in manifest["ingests"]}
    clash = [p.ref for p in produced if p.ref in sources]
    if clash:
        raise AtlasError(f"derived exhibit reference {clash[0]} is already a source exhibit; choose another "
                         "--exhibit-prefix")
    decl_name = config()["declaration"]
    _, decl_sha = declaration_file(decl_name)
    facts = content.Facts(case=case, results=docs, roles=roles, manifest=manifest, events=events,
                          produced=list(produced), environment=environment(), log=log_record,
                          declaration={"name": decl_name, "sha256": decl_sha}, templates_sha256=templates_digest(),
                          verify_command=f"atlas verify {case_label or case.root.resolve().name}")
    statement = build_statement(case, facts)
    enforce(statement.blocks)

    pdf, pages = render_pdf(statement)
    files = {"pdf": pdf, **({"docx": render_docx(statement, pages)} if "docx" in chosen else {})}
    summary_files: dict[str, bytes] = {}
    summary = None
    if sfr1:
        from atlas import _report_sfr1

        # The summary names the statement it repeats by file and SHA-256 (the PDF when written).
        named = "pdf" if "pdf" in chosen else "docx"
        digest = hashlib.sha256(files[named]).hexdigest()
        summary, summary_pdf = _report_sfr1.fit(facts, statement, (f"statement.{named}", digest), pages)
        enforce(summary.all_blocks())
        summary_files = {"pdf": summary_pdf, "docx": _report_sfr1.render_docx(summary)}
    written, summary_written = [], []
    for fmt in FORMATS:
        for stem, data, into in (("statement", files, written), ("sfr1", summary_files, summary_written)):
            path = report_dir / f"{stem}.{fmt}"
            if fmt not in chosen or fmt not in data:
                path.unlink(missing_ok=True)
                continue
            path.write_bytes(data[fmt])
            into.append(path)

    outputs = [log.file_record(case.root, p) for p in (*written, *summary_written)]
    for p in produced:
        got = sha256_file(str(case.root / p.path))
        if got != p.sha256:
            raise AtlasError(f"exhibit {p.ref} {p.path}: its SHA-256 changed after it was written")
        outputs.append({"path": p.path, "sha256": p.sha256})
    redaction_map = report_dir / "redaction_map.json"
    if redact_third_parties and redaction_map.exists():
        outputs.append(log.file_record(case.root, redaction_map))
    inputs = [log.file_record(case.root, store_dir(case.root) / "manifest.json"),
              log.file_record(case.root, case.root / "case.toml"), *result_records]
    findings = sum(1 for b in statement.blocks if b.source.startswith("finding ") and b.section == "findings")
    log.append(case.root, "report",
               {"formats": list(chosen), "exhibit_prefix": prefix, "redact_third_parties": redact_third_parties,
                "sfr1": sfr1, "log": log_record, "case_label": case_label or case.root.resolve().name,
                "declaration": {"name": decl_name, "sha256": decl_sha}},
               inputs=inputs, outputs=outputs,
               counts={"pages": pages, "findings": findings, "exhibits_produced": len(produced),
                       **({"sfr1_findings": summary.shown} if summary else {})})
    return ReportResult(tuple(written), tuple(produced), pages, findings, tuple(summary_written),
                        summary.shown if summary else 0)
