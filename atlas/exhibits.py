"""The exhibits Atlas derives for the statement: charts, map files, tables and the chronology.

``produce_exhibits`` is called by ``atlas report`` (``atlas/report.py``). It writes, into
``CASE/report/exhibits``, for each analysis whose findings the statement states
(``AnalysisSpec.statement_role == "findings"``), in the registry's order:

* each chart the analysis drew (PNG, copied byte for byte: the analyses draw them with fixed
  metadata, and the co-location map is drawn without online tiles);
* each map file (KML, for Google Earth);
* one XLSX workbook holding every table of the analysis, one sheet each;
* the tables named in ``report_templates/statement/exhibits.toml`` (``csv_tables``) on their own
  as CSV (the schedule of occasions among them); tables the statement leaves to the officer
  (``exclude_tables``: the advisory time-limit working, possible stop requests) are not produced;

then the chronology of every record the statement cites, as CSV and XLSX. Each produced exhibit
gets the next reference ``{prefix}/{n}`` and records the source exhibits behind it (those holding
the records its analysis' findings cite) with their SHA-256 from the store manifest.

With ``redact_third_parties`` the tables, chronology and map files carry pseudonyms for persons
other than the suspect and the complainant (``atlas.redact``), and a chart whose labels name
identifiers (the contact graph) is not produced, since a drawn label cannot be rewritten.

Wording (titles and production sentences) is in ``report_templates/statement/exhibits.toml``.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from atlas import redact
from atlas._exhibits_files import read_csv, write_csv, write_xlsx
from atlas._report_model import TEMPLATE_DIR
from atlas.case import Case
from atlas.errors import AtlasError
from atlas.provenance import exhibit_key, sha256_file
from atlas.store import load_events, read_manifest
from atlas.timeline import display_times

CHRONOLOGY_FIELDS = ("event_id", "timestamp_utc", "exhibit_ref", "locator", "kind", "channel", "direction",
                     "sender", "recipients", "text", "source_path", "source_sha256")
CHRONOLOGY_HEADER = ("event_id", "time_utc", "time_uk", "exhibit", "locator", "kind", "channel", "direction",
                     "sender", "recipients", "text", "source_file", "source_sha256")
LABELLED_CHARTS = frozenset({"contact_graph/contact_graph"})  # labels name identifiers
MEDIA = {".png": "image/png", ".kml": "application/vnd.google-earth.kml+xml", ".csv": "text/csv",
         ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@dataclass(frozen=True)
class ProducedExhibit:
    """One derived exhibit: where it is, what it is, and what it was drawn from."""

    ref: str
    path: str
    title: str
    production: str
    media_type: str
    sha256: str
    sources: tuple[tuple[str, str], ...]
    analysis: str | None
    redacted: bool


@dataclass(frozen=True)
class _Planned:
    kind: str           # chart, kml, workbook, csv, chronology_csv, chronology_xlsx
    key: str            # "analysis/stem" for titles
    stem: str
    suffix: str
    analysis: str | None
    sources: tuple[tuple[str, str], ...]
    write: Callable[[Path], None]
    values: dict[str, Any]


def wording() -> dict[str, Any]:
    """Return ``exhibits.toml``."""
    return tomllib.loads((TEMPLATE_DIR / "exhibits.toml").read_text(encoding="utf-8"))


def produce_exhibits(case: Case, out_dir: Path, prefix: str, first_number: int, *,
                     cited_event_ids: Sequence[str], redact_third_parties: bool = False,
                     ) -> list[ProducedExhibit]:
    """Write the derived exhibits into ``out_dir`` and return them in reference order."""
    from atlas.analysis import analyses

    words = wording()
    manifest = read_manifest(case.root)
    sha_of = {i["exhibit_ref"]: i["source_sha256"] for i in manifest["ingests"]}
    events = load_events(case.root, columns=list(CHRONOLOGY_FIELDS))
    exhibit_of = dict(zip(events["event_id"], events["exhibit_ref"], strict=True))
    transform = (lambda s: redact.pseudonymise(case, s)) if redact_third_parties else None

    def sources(ids: Sequence[str]) -> tuple[tuple[str, str], ...]:
        refs = {exhibit_of[e] for e in ids if e in exhibit_of}
        return tuple((r, sha_of[r]) for r in sorted(refs, key=exhibit_key))

    plan: list[_Planned] = []
    csv_tables = set(words.get("csv_tables", []))
    excluded = set(words.get("exclude_tables", []))
    for spec in analyses():
        doc_path = case.root / "results" / f"{spec.name}.json"
        if spec.statement_role != "findings" or not doc_path.exists():
            continue
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
        src = sources([e for f in doc.get("findings", []) for e in f.get("event_ids", [])])
        plan += _analysis_plan(spec.name, case.root / "results" / spec.name, src, csv_tables, excluded,
                               redact_third_parties, transform)

    cited = events.loc[events["event_id"].isin(set(cited_event_ids))]
    rows = _chronology_rows(cited, case.display_timezone)
    chrono_src = sources(cited["event_id"].tolist())
    plan.append(_Planned("chronology_csv", "chronology", "chronology", ".csv", None, chrono_src,
                         lambda p: write_csv(p, rows, transform), {"count": len(cited)}))
    plan.append(_Planned("chronology_xlsx", "chronology", "chronology", ".xlsx", None, chrono_src,
                         lambda p: write_xlsx(p, [("chronology", rows)], transform), {"count": len(cited)}))

    taken = set(sha_of)
    clash = [f"{prefix}/{n}" for n in range(first_number, first_number + len(plan)) if f"{prefix}/{n}" in taken]
    if clash:
        raise AtlasError(f"derived exhibit reference {clash[0]} is already a source exhibit; choose another "
                         "--exhibit-prefix or first number")
    out_dir.mkdir(parents=True, exist_ok=True)
    produced = []
    for n, item in enumerate(plan, start=first_number):
        ref = f"{prefix}/{n}"
        name = f"{prefix}-{n}_{item.analysis + '_' if item.analysis else ''}{item.stem}{item.suffix}"
        target = out_dir / name
        item.write(target)
        produced.append(_describe(case, words, item, ref, target, redact_third_parties))
    if redact_third_parties:
        redact.write_map(case, out_dir.parent / "redaction_map.json")
    return produced


def _analysis_plan(name: str, folder: Path, src: tuple[tuple[str, str], ...], csv_tables: set[str],
                   excluded: set[str], redacting: bool, transform: Callable[[str], str] | None) -> list[_Planned]:
    if not folder.is_dir():
        return []
    files = sorted(p for p in folder.iterdir() if p.is_file())
    plan = []
    for png in (p for p in files if p.suffix == ".png"):
        key = f"{name}/{png.stem}"
        if redacting and key in LABELLED_CHARTS:
            continue
        plan.append(_Planned("chart", key, png.stem, ".png", name, src,
                             lambda p, s=png: shutil.copyfile(s, p), {}))
    for kml in (p for p in files if p.suffix == ".kml"):
        plan.append(_Planned("kml", f"{name}/{kml.stem}", kml.stem, ".kml", name, src,
                             lambda p, s=kml: _copy_text(s, p, transform), {}))
    tables = [p for p in files if p.suffix == ".csv" and f"{name}/{p.stem}" not in excluded]
    if tables:
        sheets = [t.stem for t in tables]
        plan.append(_Planned("workbook", f"{name}/tables", "tables", ".xlsx", name, src,
                             lambda p, ts=tables: write_xlsx(p, [(t.stem, read_csv(t)) for t in ts], transform),
                             {"sheets": ", ".join(sheets)}))
    for table in tables:
        key = f"{name}/{table.stem}"
        if key in csv_tables:
            plan.append(_Planned("csv", key, table.stem, ".csv", name, src,
                                 lambda p, t=table: write_csv(p, read_csv(t), transform), {"table": table.stem}))
    return plan


def _copy_text(source: Path, target: Path, transform: Callable[[str], str] | None) -> None:
    if transform is None:
        shutil.copyfile(source, target)
    else:
        target.write_text(transform(source.read_text(encoding="utf-8")), encoding="utf-8")


def _chronology_rows(cited: pd.DataFrame, tz: str) -> list[list[object]]:
    local = display_times(cited["timestamp_utc"], tz) if len(cited) else pd.Series([], dtype=object)
    rows: list[list[object]] = [list(CHRONOLOGY_HEADER)]
    for rec, shown in zip(cited.itertuples(index=False), local.tolist(), strict=True):
        utc = rec.timestamp_utc.isoformat() if pd.notna(rec.timestamp_utc) else ""
        recipients = "; ".join(rec.recipients) if rec.recipients is not None else ""
        rows.append([rec.event_id, utc, shown, rec.exhibit_ref, rec.locator, rec.kind, rec.channel or "",
                     rec.direction or "", rec.sender or "", recipients, rec.text or "", rec.source_path,
                     rec.source_sha256])
    return rows


def _describe(case: Case, words: dict[str, Any], item: _Planned, ref: str, target: Path,
              redacted: bool) -> ProducedExhibit:
    titles, production = words["titles"], words["production"]
    names = ", ".join(r for r, _ in item.sources) or "no exhibit"
    values = {"ref": ref, "file": target.name, "sources": names, "analysis": item.analysis or "",
              "stem": item.stem, **item.values}
    title = titles.get(f"{item.kind}.{item.key}", titles.get(item.kind, "{stem}")).format(**values)
    sentence = production[item.kind].format(title=title, **values)
    if redacted and item.kind != "chart":
        sentence += production["redacted"]
    return ProducedExhibit(ref=ref, path=target.relative_to(case.root).as_posix(), title=title,
                           production=sentence, media_type=MEDIA[item.suffix], sha256=sha256_file(str(target)),
                           sources=item.sources, analysis=item.analysis, redacted=redacted and item.kind != "chart")
