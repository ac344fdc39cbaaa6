"""The ``atlas`` command line.

Every command appends one line to ``CASE/log/analysis.jsonl``. Errors meant
for the user print as ``atlas: error: …`` with exit code 1 or 2, never as a
traceback.
"""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path
from typing import Any

import click

from atlas import log
from atlas import registry
from atlas.case import load_case, write_new_case
from atlas.errors import AtlasError, UsageError, VerifyMismatch
from atlas.ingest import Scope, ingest_file, parse_options
from atlas.store import read_manifest, store_dir
from atlas.timeline import parse_bound, select, terminal_safe, write_csv
from atlas.timeparse import display


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="atlas-evidence", prog_name="atlas")
def cli() -> None:
    """Atlas: digital-evidence timeline analysis for stalking investigations."""


@cli.command()
@click.argument("case_dir", type=click.Path(file_okay=False))
@click.option("--urn", required=True, help="The case's Unique Reference Number.")
@click.option("--analyst", required=True, help="The analyst's name as it will appear on the statement.")
@click.option("--role", default="Digital investigator", show_default=True, help="The analyst's role.")
@click.option("--organisation", default="", help="The analyst's force or organisation.")
@click.option("--initials", default=None, help="Initials for exhibit references (default: from the name).")
def init(case_dir: str, urn: str, analyst: str, role: str, organisation: str, initials: str | None) -> None:
    """Create a case workspace with a commented case.toml."""
    path = write_new_case(case_dir, urn, analyst, role, organisation, initials)
    root = Path(case_dir)
    log.append(root, "init", {"case_dir": ".", "urn": urn, "analyst": analyst, "role": role,
                              "organisation": organisation, "initials": initials},
               outputs=[log.file_record(root, path)])
    click.echo(f"Created {path}. Add persons, identifiers, places, key dates and orders to it, "
               f"then run 'atlas check {case_dir}'.")


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
def check(case_dir: str) -> None:
    """Validate case.toml and summarise what it declares."""
    case = load_case(case_dir)
    click.echo(f"case.toml is valid: URN {case.urn}, analyst {case.analyst.name} ({case.analyst.initials})")
    for p in case.persons:
        click.echo(f"  {p.id} {p.name} [{p.role}]: {len(p.identifiers)} identifier(s)")
        for a in p.identifiers:
            click.echo(f"      {a.value}  (basis: {a.basis})")
    click.echo(f"  places: {len(case.places)}, key dates: {len(case.key_dates)}, orders: {len(case.orders)}")


@cli.command()
def formats() -> None:
    """List the supported source formats (the --format values)."""
    click.echo(registry.supported())


def _load_mapping(mapping: str | None) -> dict[str, Any] | None:
    if mapping is None:
        return None
    try:
        with open(mapping, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise UsageError(f"--mapping {mapping}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"--mapping {mapping}: not valid TOML: {exc}") from None


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--exhibit", "exhibit_ref", required=True, help="Exhibit reference of the source, e.g. JS/1.")
@click.option("--format", "fmt", default=None, help="Source format (see 'atlas formats'); detected if omitted.")
@click.option("--tz", "source_tz", default=None, help="Zone of local times with no offset (default: the case's).")
@click.option("--date-order", type=click.Choice(["dmy", "mdy", "ymd"]), default=None,
              help="Force the numeric date order when the file does not settle it.")
@click.option("--region", default=None, help="Default region for phone numbers (default: the case's).")
@click.option("--mapping", default=None, type=click.Path(dir_okay=False),
              help="Mapping file (TOML): the column mapping for table_mapping, or an analyst CDR profile "
                   "for cdr_csv, or column names for cell_sites.")
@click.option("--no-wal", "no_wal", is_flag=True,
              help="Do not apply a -wal file beside an SQLite database: read the main file alone "
                   "(events are flagged wal_not_read).")
@click.option("--from", "start", default=None, help="Scope: keep records from this date/time (local).")
@click.option("--to", "end", default=None, help="Scope: keep records up to this date/time (a date includes the day).")
@click.option("--only-with", "only_with", multiple=True, help="Scope: keep records with this person (repeatable).")
@click.option("--reason", default=None, help="Why the scope was set (required with a scope).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
def ingest(case_dir: str, file: str, exhibit_ref: str, fmt: str | None, source_tz: str | None,
           date_order: str | None, region: str | None, mapping: str | None, no_wal: bool,
           start: str | None, end: str | None, only_with: tuple[str, ...], reason: str | None,
           quiet: bool) -> None:
    """Parse FILE into the case's event store as exhibit --exhibit."""
    case = load_case(case_dir)
    scope = _scope(case, start, end, only_with, reason)
    mapping_path = None if mapping is None else str(Path(mapping))
    options = parse_options(case, source_tz, date_order, region, _load_mapping(mapping), mapping_path,
                            apply_wal=not no_wal)
    with _progress(quiet) as progress:
        result = ingest_file(case, file, exhibit_ref, fmt, options, scope, progress)
    entry = result.entry
    click.echo(result.message)
    if result.added and entry["counts"]["rejected"]:
        click.echo(f"  {entry['counts']['rejected']} record(s) rejected; see 'atlas rejected {case_dir} "
                   f"--exhibit {exhibit_ref}'")


def _scope(case, start, end, only_with, reason) -> Scope | None:  # noqa: ANN001
    if not (start or end or only_with):
        if reason:
            raise UsageError("--reason is only used with --from, --to or --only-with")
        return None
    if not reason or not reason.strip():
        raise UsageError("a scope (--from/--to/--only-with) needs --reason: say why the rest is left out")
    persons = [case.person(p) for p in only_with]
    idents = frozenset(a.value for p in persons for a in p.identifiers)
    if only_with and not idents:
        raise UsageError(f"--only-with: no identifiers are attributed to {', '.join(only_with)} in case.toml")
    tz = case.display_timezone
    return Scope(reason=reason.strip(),
                 start_utc=parse_bound(start, tz, end=False) if start else None,
                 end_utc=parse_bound(end, tz, end=True) if end else None,
                 only_with=tuple(p.id for p in persons), identifiers=idents,
                 description={"from": start, "to": end, "only_with": [p.id for p in persons],
                              "identifiers": sorted(idents), "reason": reason.strip(),
                              "timezone": tz})


class _progress:
    """A rich progress bar over bytes read, shown only on a terminal."""

    def __init__(self, quiet: bool) -> None:
        self.enabled = not quiet and sys.stderr.isatty()
        self.bar = None
        self.task = None

    def __enter__(self):  # noqa: ANN204
        if not self.enabled:
            return None
        from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

        self.bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                            TimeRemainingColumn(), transient=True)
        self.bar.__enter__()
        self.task = self.bar.add_task("ingesting", total=None)

        def update(done: int, total: int) -> None:
            self.bar.update(self.task, completed=done, total=total)

        return update

    def __exit__(self, *exc) -> None:  # noqa: ANN002
        if self.bar is not None:
            self.bar.__exit__(*exc)


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--from", "start", default=None, help="From this local date/time.")
@click.option("--to", "end", default=None, help="Up to this local date/time (a date includes the day).")
@click.option("--person", default=None, help="Only events sent by or to this person's identifiers.")
@click.option("--kind", "kinds", multiple=True, help="Only these kinds (repeatable).")
@click.option("--exhibit", "exhibits", multiple=True, help="Only these exhibits (repeatable).")
@click.option("--csv", "csv_path", default=None, type=click.Path(dir_okay=False),
              help="Write every field to this CSV instead of printing.")
@click.option("--limit", default=None, type=int, help="Print at most this many events.")
def events(case_dir: str, start: str | None, end: str | None, person: str | None,
           kinds: tuple[str, ...], exhibits: tuple[str, ...], csv_path: str | None, limit: int | None) -> None:
    """Show the merged chronology in UK local time (GMT/BST marked)."""
    case = load_case(case_dir)
    frame = select(case, start, end, person, kinds, exhibits)
    args = {"from": start, "to": end, "person": person, "kind": list(kinds), "exhibit": list(exhibits),
            "csv": csv_path, "limit": limit}
    inputs = [log.file_record(case.root, store_dir(case.root) / "manifest.json")] \
        if (store_dir(case.root) / "manifest.json").exists() else []
    if csv_path:
        n = write_csv(frame, Path(csv_path), case.display_timezone)
        log.append(case.root, "events", args, inputs=inputs,
                   outputs=[log.file_record(case.root, Path(csv_path))], counts={"events": n})
        click.echo(f"Wrote {n} events to {csv_path}")
        return
    log.append(case.root, "events", args, inputs=inputs, counts={"events": len(frame)})
    shown = frame if limit is None else frame.head(limit)
    tz = case.display_timezone
    for rec in shown.itertuples(index=False):
        click.echo(_event_line(rec, tz))
    if limit is not None and len(frame) > limit:
        click.echo(f"… {len(frame) - limit} more; use --csv to write them all")
    click.echo(f"{len(frame)} event(s)")


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and value != value) and str(value) != "NaT"


def _event_line(rec, tz: str) -> str:  # noqa: ANN001 - a pandas itertuples row
    """Return one printable line for an event (terminal-safe)."""
    when = display(rec.timestamp_utc.to_pydatetime() if _present(rec.timestamp_utc) else None, tz)
    flag = "" if rec.tz_flag == "ok" else f" [{rec.tz_flag}]"
    recipients = list(rec.recipients) if rec.recipients is not None else []
    parties = ""
    if _present(rec.sender) or recipients:
        parties = f"{rec.sender if _present(rec.sender) else '?'} -> {', '.join(recipients) or '?'}"
    if _present(rec.latitude):
        body = f"{rec.latitude:.5f},{rec.longitude:.5f}"
        if _present(rec.accuracy_m):
            body += f" ±{rec.accuracy_m:.0f} m"
    else:
        body = terminal_safe(rec.text, 80) if _present(rec.text) else ""
    channel = rec.channel if _present(rec.channel) else ""
    return (f"{when}{flag}  {rec.exhibit_ref} {rec.locator}  {rec.kind}/{rec.direction} {channel}  "
            f"{terminal_safe(parties, 70)}  {body}").rstrip()


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--exhibit", "exhibits", multiple=True, help="Only these exhibits.")
def rejected(case_dir: str, exhibits: tuple[str, ...]) -> None:
    """List the rejected-records ledger: every record that could not become an event, and why."""
    from atlas.store import load_rejections

    case = load_case(case_dir)
    frame = load_rejections(case.root, list(exhibits) or None)
    for rec in frame.itertuples(index=False):
        click.echo(f"{rec.exhibit_ref} {rec.source_path} {rec.locator}: {terminal_safe(rec.reason)}"
                   f"\n    {terminal_safe(rec.raw, 120)}")
    click.echo(f"{len(frame)} rejected record(s)")


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--csv", "csv_path", default=None, type=click.Path(dir_okay=False), help="Write the hints to a CSV.")
def hints(case_dir: str, csv_path: str | None) -> None:
    """List identity hints from extractions (saved contact names, the device's own numbers).

    Hints are leads: they never change the attributions in case.toml.
    """
    import csv as _csv

    from atlas.hints import identity_hints
    from atlas.timeline import neutralise

    case = load_case(case_dir)
    frame = identity_hints(case)
    inputs = [log.file_record(case.root, store_dir(case.root) / "manifest.json")] \
        if (store_dir(case.root) / "manifest.json").exists() else []
    if csv_path:
        with open(csv_path, "w", encoding="utf-8-sig", newline="") as fh:
            writer = _csv.writer(fh, lineterminator="\r\n")
            writer.writerow(frame.columns)
            for rec in frame.itertuples(index=False):
                writer.writerow([neutralise(str(v)) for v in rec])
        log.append(case.root, "hints", {"csv": csv_path}, inputs=inputs,
                   outputs=[log.file_record(case.root, Path(csv_path))], counts={"hints": len(frame)})
        click.echo(f"Wrote {len(frame)} hints to {csv_path}")
        return
    log.append(case.root, "hints", {"csv": None}, inputs=inputs, counts={"hints": len(frame)})
    for rec in frame.itertuples(index=False):
        who = f"attributed to {rec.attributed_to} in case.toml" if rec.attributed_to else "not attributed"
        click.echo(f"{rec.identifier:<28} {rec.hint:<22} {terminal_safe(rec.label, 40):<40} "
                   f"{rec.exhibit_ref} {rec.locator}  ({who})")
    click.echo(f"{len(frame)} hint(s); hints are leads and never change case.toml")


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--only", "only", multiple=True, help="Run only this analysis (repeatable).")
@click.option("--param", "params", multiple=True, help="ANALYSIS.FIELD=VALUE (repeatable).")
def analyse(case_dir: str, only: tuple[str, ...], params: tuple[str, ...]) -> None:
    """Run the analyses on the store; write CASE/results/<name>.json, CSV tables and charts."""
    from atlas.analysis import run_analyses

    case = load_case(case_dir)
    docs = run_analyses(case, only, params)
    for doc in docs:
        click.echo(f"{doc['analysis']} {doc['analysis_version']}: {len(doc['findings'])} finding(s)"
                   f" -> results/{doc['analysis']}.json")
        for f in doc["findings"][:5]:
            click.echo(f"  - {terminal_safe(f['text'] or f['key'], 200)} [{len(f['event_ids'])} event(s)]")
        if len(doc["findings"]) > 5:
            click.echo(f"  … {len(doc['findings']) - 5} more in results/{doc['analysis']}.json")


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--format", "formats", default="docx,pdf", show_default=True,
              help="Statement formats to write: docx, pdf or both (comma-separated).")
@click.option("--exhibit-prefix", "prefix", default=None,
              help="Initials for the derived exhibits' references (default: analyst.initials in case.toml).")
@click.option("--redact-third-parties", is_flag=True,
              help="Replace identifiers of people other than the suspect and the complainant in the exhibits "
                   "by pseudonyms (Person 3, ...); the mapping stays in CASE/report.")
@click.option("--sfr1", is_flag=True,
              help="Also write a one-page SFR1-style summary (report/sfr1.docx, report/sfr1.pdf) repeating "
                   "key findings of the statement word for word.")
def report(case_dir: str, formats: str, prefix: str | None, redact_third_parties: bool, sfr1: bool) -> None:
    """Write the MG11-style witness statement (DOCX, PDF) and its exhibits under CASE/report."""
    from atlas.report import write_report

    case = load_case(case_dir)
    result = write_report(case, formats, prefix, redact_third_parties, sfr1=sfr1)
    click.echo(f"Wrote the statement ({result.pages} pages, {result.findings} findings):")
    for path in result.statement_files:
        click.echo(f"  {path}")
    if sfr1:
        click.echo(f"the SFR1 summary (one page, {result.sfr1_findings} of the findings):")
        for path in result.sfr1_files:
            click.echo(f"  {path}")
    click.echo(f"and {len(result.exhibits)} exhibit(s):")
    for ex in result.exhibits:
        click.echo(f"  {ex.ref}  {case.root / ex.path}  ({terminal_safe(ex.title, 80)})")
    click.echo("Read it through, complete anything marked for the officer, then sign every page.")


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--log", "log_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Verify against this analysis log (default: CASE/log/analysis.jsonl).")
def verify(case_dir: str, log_file: str | None) -> None:
    """Re-hash sources and outputs and re-run the logged pipeline; exit 1 on any difference."""
    from atlas.verify import verify as check

    report = check(case_dir, log_file)
    for line in report.lines:
        click.echo(line)
    root = Path(case_dir)
    used = Path(log_file) if log_file else root / "log" / "analysis.jsonl"
    log.append(root, "verify", {"log": os.path.relpath(used, root)}, inputs=[log.file_record(root, used)],
               status="ok" if not report.problems else "differences",
               counts={"checks": len(report.lines), "differences": len(report.problems)})
    if report.problems:
        raise VerifyMismatch(f"{len(report.problems)} difference(s) found; see the lines marked above")
    click.echo("Verified: every source, stored file and result matches the log and was reproduced.")


@cli.command()
@click.argument("case_dir", type=click.Path(exists=True, file_okay=False))
def summary(case_dir: str) -> None:
    """Summarise the store: exhibits, counts, periods covered, time flags."""
    from atlas.summary import summarise

    case = load_case(case_dir)
    click.echo(summarise(case))


@cli.command()
@click.option("--out", default="validation", show_default=True, type=click.Path(file_okay=False),
              help="Folder for validation.json, validation.md and validation-log.jsonl.")
@click.option("--seed", "seeds", multiple=True, type=int,
              help="Synthetic case seed (repeatable; default 7, 11 and 23, or 7 with --quick).")
@click.option("--quick", is_flag=True, help="One seed (7) unless --seed is given.")
@click.option("--only", "only", multiple=True,
              help="Validate only this parser or analysis, or 'determinism' (repeatable).")
@click.option("--keep", default=None, type=click.Path(file_okay=False),
              help="Keep the generated cases in this folder (default: a temporary folder, removed).")
def validate(out: str, seeds: tuple[int, ...], quick: bool, only: tuple[str, ...], keep: str | None) -> None:
    """Run the known-answer validation suite and write the validation record; exit 1 if a test fails."""
    import json
    import time
    from datetime import UTC, datetime

    from atlas.provenance import sha256_file
    from atlas.validate import run

    started = datetime.now(UTC)
    clock = time.monotonic()
    outcome = run(Path(out), seeds, quick, only, Path(keep) if keep else None,
                  progress=lambda text: click.echo(f"  {text}", err=True))
    s = outcome.document["summary"]
    # The record holds no time, so two runs compare byte for byte; the run's date is logged beside it.
    with open(Path(out) / "validation-log.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps({"time_utc": started.isoformat(timespec="seconds"),
                             "seconds": round(time.monotonic() - clock, 1), "command": "validate",
                             "args": {"seeds": list(seeds), "quick": quick, "only": list(only)},
                             "environment": log.environment(), "result": s["result"],
                             "outputs": [{"path": p.name, "sha256": sha256_file(str(p))}
                                         for p in (outcome.json_path, outcome.markdown_path)]},
                            sort_keys=True) + "\n")
    for t in outcome.document["tests"]:
        if t["status"] != "pass":
            click.echo(f"{t['status'].upper():<14} {t['id']}: {terminal_safe(str(t['observed']), 120)}")
    for r in outcome.document["rates"]:
        shown = "; ".join(f"{k} {v['numerator']}/{v['denominator']}" for k, v in r["rates"].items())
        click.echo(f"rate           {r['test']}: {shown}")
    click.echo(f"{s['passed']} passed, {s['failed']} failed, {s['not_validated']} not validated; "
               f"record: {outcome.json_path} and {outcome.markdown_path}")
    if s["failed"]:
        raise AtlasError(f"validation failed: {s['failed']} test(s) did not give the known answer; "
                         f"see {outcome.markdown_path}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; print user errors without a traceback and return the exit code."""
    try:
        cli.main(args=argv, prog_name="atlas", standalone_mode=False)
    except AtlasError as exc:
        click.echo(f"atlas: error: {exc.message}", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("atlas: interrupted; nothing was changed", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return 2
    except KeyboardInterrupt:
        click.echo("atlas: interrupted; nothing was changed", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
