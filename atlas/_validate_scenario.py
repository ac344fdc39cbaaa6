"""Generated scenarios: the seeded synthetic case, ingested and analysed, with its ground truth.

``build`` writes the case for one seed into a folder, ingests every exhibit of
``fixtures.synthetic.ingest_plan(extended=True)`` through the registered parsers and runs the
chosen analyses one at a time (so one that fails is named and the others still run). The
``Scenario`` it returns gives check functions what they need: the ground truth, the stored
events, each analysis' results document and tables, and a ``check`` factory.

``parser_checks`` compares each exhibit's ingest counts with the counts the generator wrote,
the stored times of planted records with their planted UTC times, and the clock-change flags;
``determinism`` runs the same pipeline in a second folder, writes the statement and its exhibits
(``atlas report``) in both, and compares every output's SHA-256.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from atlas._validate_record import FAIL, Check, trimmed, verdict
from atlas.analysis import AnalysisSpec, run_analyses
from atlas.case import Case, load_case
from atlas.errors import AtlasError
from atlas.ingest import ingest_file
from atlas.provenance import sha256_file
from atlas.store import load_events, read_manifest


@dataclass
class Scenario:
    """One generated case after ingest and analysis."""

    seed: int
    root: Path
    case: Case
    truth: dict[str, Any]
    store: pd.DataFrame
    plan: list[dict[str, Any]]
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    """Analyses that raised, with the error."""
    specs: dict[str, AnalysisSpec] = field(default_factory=dict)

    def table(self, analysis: str, name: str) -> pd.DataFrame:
        """Return one result table of an analysis as written to CSV."""
        return pd.read_csv(self.root / self.docs[analysis]["tables"][name]["path"], encoding="utf-8-sig",
                           keep_default_na=False, na_values=[""])

    def ids_at(self, refs: list[dict[str, Any]]) -> list[str]:
        """Return the event ids of ground-truth records (``file`` and ``locator``)."""
        index = dict(zip(zip(self.store["source_path"], self.store["locator"], strict=True),
                         self.store["event_id"], strict=True))
        return [index[(r["file"], r["locator"])] for r in refs]

    def ids_between(self, exhibit: str, start: str, end: str) -> list[str]:
        """Return the ids of an exhibit's events from ``start`` to ``end`` (UTC, inclusive)."""
        s = self.store
        sel = s[(s["exhibit_ref"] == exhibit) & (s["timestamp_utc"] >= pd.Timestamp(start))
                & (s["timestamp_utc"] <= pd.Timestamp(end))]
        return sel.sort_values(["timestamp_utc", "event_id"])["event_id"].tolist()

    def exhibit(self, file: str) -> str:
        """Return the exhibit reference the plan gives a file."""
        return next(e["exhibit"] for e in self.plan if e["file"] == file)

    def check(self, analysis: str, test: str, what: str, expected: Any, observed: Any, ok: bool,
              measures: dict[str, int] | None = None, ratios: tuple[tuple[str, str, str], ...] = (),
              detail: list[str] | None = None) -> Check:
        """Return a Check on one analysis for this scenario's seed."""
        return Check(id=f"analysis.{analysis}.{test}.seed{self.seed}", kind="analysis", name=analysis,
                     version=self.specs[analysis].version, what=what, expected=expected, observed=observed,
                     status=verdict(ok), seed=self.seed, measures=measures or {}, ratios=ratios,
                     detail=trimmed(detail or []))


def build(root: Path, seed: int, specs: tuple[AnalysisSpec, ...]) -> Scenario:
    """Generate, ingest and analyse the synthetic case for ``seed`` in ``root``."""
    from fixtures import synthetic

    truth = synthetic.generate(root, seed=seed)
    case = load_case(root)
    plan = synthetic.ingest_plan(extended=True)
    for entry in plan:
        ingest_file(case, root / entry["file"], entry["exhibit"], entry["format"],
                    synthetic.parse_options_for(entry, root))
    scenario = Scenario(seed=seed, root=root, case=case, truth=truth, store=load_events(root), plan=plan,
                        specs={s.name: s for s in specs})
    for spec in specs:
        try:
            (doc,) = run_analyses(case, only=(spec.name,))
            scenario.docs[spec.name] = doc
        except (AtlasError, Exception) as exc:  # noqa: BLE001 - a failing method is a result
            scenario.failures[spec.name] = f"{type(exc).__name__}: {exc}"
    return scenario


# ---------------------------------------------------------------- parsers on the scenario

def expected_counts(truth: dict[str, Any]) -> dict[str, tuple[int, list[dict[str, Any]]]]:
    """Return, per exhibit file, the records the generator wrote and the rejections it planted."""
    from fixtures import synthetic
    from fixtures._extended import (
        CALLLOG_PATH,
        DIARY_PATH,
        EMAIL_PATH,
        INSTAGRAM_PATH,
        MMSSMS_PATH,
        RECORDS_PATH,
        UFDR_PATH,
    )

    c, tel, iph = truth["counts"], truth["telecoms"], truth["victim_iphone"]
    cdr = tel["cdr"]
    rejections = cdr.get("expected_rejections", [])
    out = {
        synthetic.WA_PATH: c["whatsapp_messages"] + c["whatsapp_system_lines"],
        synthetic.TABLE_PATH: c["table_rows"],
        synthetic.SUSPECT_GPX: c["suspect_gps_points"],
        synthetic.VICTIM_GPX: c["victim_gps_points"],
        UFDR_PATH: truth["victim_phone_ufdr"]["counts"]["records"],
        MMSSMS_PATH: truth["suspect_handset"]["counts"]["sms"],
        CALLLOG_PATH: truth["suspect_handset"]["counts"]["calls"],
        INSTAGRAM_PATH: truth["instagram"]["counts"]["records"],
        RECORDS_PATH: truth["google_records"]["records"],
        EMAIL_PATH: 1,
        DIARY_PATH: len(truth["diary"]["entries"]),
        iph["sms_db"]["file"]: iph["sms_db"]["counts"]["messages"],
        iph["call_history"]["file"]: iph["call_history"]["counts"]["calls"],
        cdr["files"]["orig"]: cdr["counts"]["orig"]["records"],
        cdr["files"]["new"]: cdr["counts"]["new"]["records"],
        truth["anpr"]["file"]: truth["anpr"]["counts"]["reads"],
        tel["cell_sites"]["file"]: tel["cell_sites"]["rows"],
        tel["tower_dump"]["file"]: tel["tower_dump"]["rows"],
    }
    return {f: (n, [r for r in rejections if r["file"] == f]) for f, n in out.items()}


def _planted_times(truth: dict[str, Any]) -> list[dict[str, Any]]:
    """Return planted records that carry a file, a locator and their true UTC time."""
    refs = [truth["stop_request"], truth["new_number"]["first_contact"], truth["block"]["last_contact_original"],
            *truth["threats"], *truth["contacts_after_service"]["records"], *truth["withheld_calls"]]
    for v in truth["visits"]:
        refs += [v["first"], v["last"]]
    seen, out = set(), []
    for r in refs:
        if r.get("locator") and r.get("utc") and (r["file"], r["locator"]) not in seen:
            seen.add((r["file"], r["locator"]))
            out.append(r)
    return out


def parser_checks(sc: Scenario, parser_versions: dict[str, str]) -> list[Check]:
    """Compare each exhibit's ingest with the ground truth: counts, planted times, clock-change flags."""
    out: list[Check] = []
    manifest = {e["source_path"]: e for e in read_manifest(sc.root)["ingests"]}
    for file, (records, rejections) in sorted(expected_counts(sc.truth).items()):
        entry = manifest.get(file)
        fmt = next((e["format"] for e in sc.plan if e["file"] == file), "?")
        got = entry["counts"] if entry else {"read": 0, "accepted": 0, "rejected": 0}
        want = {"read": records + len(rejections), "accepted": records, "rejected": len(rejections)}
        observed = {k: got[k] for k in want}
        diffs = [f"{k}: expected {want[k]}, got {observed[k]}" for k in want if want[k] != observed[k]]
        if rejections and entry:
            stored = load_rejected(sc.root, entry["exhibit_ref"])
            for r in rejections:
                hit = stored[(stored["locator"] == r["locator"])]
                if hit.empty or not hit["reason"].iloc[0].startswith(r["reason_starts_with"]):
                    diffs.append(f"{r['locator']}: planted rejection '{r['reason_starts_with']}…' not recorded")
        out.append(Check(id=f"parser.{fmt}.synthetic.{sc.exhibit(file)}.seed{sc.seed}", kind="parser", name=fmt,
                         version=parser_versions.get(fmt, "?"),
                         what=f"{sc.exhibit(file)} {file}: records read/accepted/rejected against the records the "
                              "generator wrote (and each planted rejection)",
                         expected=want, observed=observed, status=verdict(not diffs), seed=sc.seed,
                         measures={"records_expected": want["read"], "records_read": observed["read"],
                                   "accepted_expected": want["accepted"], "accepted": observed["accepted"]},
                         ratios=(("records read of those written", "records_read", "records_expected"),
                                 ("accepted of those expected", "accepted", "accepted_expected")),
                         detail=trimmed(diffs)))
    out += _time_checks(sc, parser_versions)
    return out


def load_rejected(root: Path, exhibit: str) -> pd.DataFrame:
    """Return the rejected-records ledger of one exhibit."""
    from atlas.store import load_rejections

    return load_rejections(root, [exhibit])


def _time_checks(sc: Scenario, versions: dict[str, str]) -> list[Check]:
    s = sc.store.set_index(["source_path", "locator"])
    by_format: dict[str, list[str]] = {}
    counted: dict[str, int] = {}
    for r in _planted_times(sc.truth):
        fmt = next(e["format"] for e in sc.plan if e["file"] == r["file"])
        counted[fmt] = counted.get(fmt, 0) + 1
        try:
            got = s.loc[(r["file"], r["locator"]), "timestamp_utc"]
        except KeyError:
            by_format.setdefault(fmt, []).append(f"{r['file']} {r['locator']}: not in the store")
            continue
        got = got.iloc[0] if isinstance(got, pd.Series) else got
        want = pd.Timestamp(r["utc"])
        if pd.isna(got) or got != want:
            by_format.setdefault(fmt, []).append(f"{r['file']} {r['locator']}: stored {got}, planted {want}")
    out = []
    for fmt in sorted(counted):
        bad = by_format.get(fmt, [])
        out.append(Check(id=f"parser.{fmt}.synthetic.times.seed{sc.seed}", kind="parser", name=fmt,
                         version=versions.get(fmt, "?"),
                         what="stored UTC time of each planted record (threats, contacts after service, stop "
                              "request, first contact from the new number, visit fixes) equals its planted time",
                         expected={"records": counted[fmt], "wrong_time": 0},
                         observed={"records": counted[fmt], "wrong_time": len(bad)}, status=verdict(not bad),
                         seed=sc.seed, measures={"planted": counted[fmt], "correct": counted[fmt] - len(bad)},
                         ratios=(("time correct", "correct", "planted"),), detail=trimmed(bad)))
    # Clock change: the planted local times in the repeated October hour must be flagged, not resolved.
    planted = [("whatsapp_txt", sc.truth["dst_ambiguous"])]
    if "dst_ambiguous" in sc.truth["telecoms"]["cdr"]:
        planted.append(("cdr_csv", sc.truth["telecoms"]["cdr"]["dst_ambiguous"]))
    flagged, diffs = 0, []
    for fmt, p in planted:
        try:
            row = s.loc[(p["file"], p["locator"])]
        except KeyError:
            diffs.append(f"{fmt} {p['locator']}: not in the store")
            continue
        row = row.iloc[0] if isinstance(row, pd.DataFrame) else row
        readings = {pd.Timestamp(t) for t in p["readings_utc"]}
        if row["tz_flag"] == p["expected_tz_flag"] and row["timestamp_utc"] in readings:
            flagged += 1
        else:
            diffs.append(f"{fmt} {p['file']} {p['locator']}: tz_flag {row['tz_flag']!r}, time "
                         f"{row['timestamp_utc']}; expected flag {p['expected_tz_flag']!r} "
                         f"on one of {sorted(readings)}")
    out.append(Check(id=f"parser.timeparse.dst_ambiguous.seed{sc.seed}", kind="parser",
                     name="+".join(f for f, _ in planted), version="/".join(versions.get(f, "?") for f, _ in planted),
                     what="local times written in the repeated hour of the October clock change are flagged "
                          "'ambiguous' (one of the two readings stored, never silently resolved)",
                     expected={"planted": len(planted), "flagged": len(planted)},
                     observed={"planted": len(planted), "flagged": flagged}, status=verdict(not diffs),
                     seed=sc.seed, measures={"planted": len(planted), "flagged": flagged},
                     ratios=(("flagged", "flagged", "planted"),), detail=trimmed(diffs)))
    return out


# ---------------------------------------------------------------- determinism

OUTPUT_DIRS = ("store", "results", "report")
"""The folders whose every file the determinism check hashes."""


def output_hashes(root: Path) -> dict[str, str]:
    """Return the SHA-256 of every store, results and report file of a case (the lock file aside)."""
    return {p.relative_to(root).as_posix(): sha256_file(str(p))
            for sub in OUTPUT_DIRS if (root / sub).is_dir()
            for p in sorted((root / sub).rglob("*")) if p.is_file() and p.name != ".lock"}


def write_statement(sc: Scenario, log_record: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Write the statement and its exhibits (``atlas report``) for a scenario; return the log state cited.

    The statement cites the analysis log's SHA-256, and the log holds each step's wall-clock time,
    so a second run is given the first run's log state (as ``atlas verify`` does). Returns None,
    writing nothing, when no analysis wrote results (``--only determinism``).
    """
    from atlas.report import log_state, write_report

    if not sc.docs:
        return None
    log_record = log_record or log_state(sc.case)
    write_report(sc.case, log_record=log_record, case_label=sc.root.name)
    return log_record


def determinism(first: Scenario, second_root: Path, specs: tuple[AnalysisSpec, ...]) -> Check:
    """Run the same seed again in another folder, write both statements and compare every output's SHA-256."""
    second = build(second_root, first.seed, specs)
    report_errors = []
    try:
        cited = write_statement(first)
        write_statement(second, cited)
    except Exception as exc:  # noqa: BLE001 - a report that cannot be written is a result
        report_errors.append(f"atlas report: {type(exc).__name__}: {exc}")
    a, b = output_hashes(first.root), output_hashes(second.root)
    diffs = report_errors + [f"{p}: only in the {'first' if p in a else 'second'} run" for p in sorted(set(a) ^ set(b))]
    diffs += [f"{p}: SHA-256 {a[p][:16]}… then {b[p][:16]}…" for p in sorted(set(a) & set(b)) if a[p] != b[p]]
    kinds: dict[str, int] = {}
    for p in a:
        ext = p.rsplit(".", 1)[-1]
        kinds[ext] = kinds.get(ext, 0) + 1
    same = sum(1 for p in set(a) & set(b) if a[p] == b[p])
    reported = sum(1 for p in a if p.startswith("report/"))
    import atlas

    return Check(id=f"pipeline.determinism.seed{first.seed}", kind="pipeline", name="ingest+analyse+report",
                 version=atlas.__version__,
                 what="the pipeline run twice in two different folders gives byte-identical store, results and "
                      + ("report files (statement DOCX and PDF and its produced exhibits, both citing the first "
                         "run's analysis-log state" if reported else "report files (no analysis selected, so no "
                         "report written") + "; SHA-256 of every file: "
                      + ", ".join(f"{n} .{k}" for k, n in sorted(kinds.items())) + ")",
                 expected={"files": len(a), "identical": len(a)},
                 observed={"files": len(set(a) | set(b)), "identical": same},
                 status=verdict(not diffs and bool(a)), seed=first.seed,
                 measures={"files": len(set(a) | set(b)), "identical": same, "report_files": reported},
                 ratios=(("identical", "identical", "files"),), detail=trimmed(diffs))


def failed_run(sc: Scenario, name: str) -> Check:
    """Return the failing Check for an analysis that raised on the scenario."""
    return sc.check(name, "runs", "the analysis runs on the synthetic case", "results written",
                    sc.failures[name], False)


def dump(sc: Scenario) -> str:
    """Return a short description of the scenario (for the console)."""
    return json.dumps({"seed": sc.seed, "events": len(sc.store), "exhibits": len(sc.plan),
                       "analyses": sorted(sc.docs), "failed": sorted(sc.failures)})


__all__ = ["FAIL", "Scenario", "build", "determinism", "dump", "failed_run", "parser_checks"]
