"""Build the statement's blocks, first half: who I am, the material, the method.

Facts come from the store manifest, the events' exhibit and time columns, the results
documents and case.toml; words come from ``report_templates/statement``. The second half
(findings, limitations, disclosure, exhibits produced, declarations) is in
``atlas._report_findings``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from atlas._report_model import Block, config, inert, one_line, render, render_one
from atlas.case import Case
from atlas.provenance import exhibit_key


@dataclass
class Facts:
    """What the content builders read: one object, filled by ``atlas.report``."""

    case: Case
    results: dict[str, dict[str, Any]]          # analysis name -> results document, registry order
    roles: dict[str, str]                       # analysis name -> statement_role
    manifest: dict[str, Any]
    events: pd.DataFrame                        # event_id, exhibit_ref, timestamp_utc, tz_basis, tz_flag, kind
    produced: list[Any]                         # atlas.exhibits.ProducedExhibit, reference order
    environment: dict[str, str]
    log: dict[str, Any]                         # name, sha256, lines
    declaration: dict[str, str]                 # name, sha256
    templates_sha256: str
    verify_command: str
    exhibit_of: pd.Series = field(init=False)   # event_id -> exhibit_ref

    def __post_init__(self) -> None:
        self.exhibit_of = pd.Series(self.events["exhibit_ref"].to_numpy(), index=self.events["event_id"].to_numpy())

    @property
    def chronology(self) -> str | None:
        """Return the reference of the chronology of cited events, if one was produced."""
        for p in self.produced:
            if p.analysis is None and "chronolog" in f"{p.title} {p.path}".lower():
                return p.ref
        return None


ref_key = exhibit_key  # natural order: DI/2 before DI/10


def join_refs(refs: list[str]) -> str:
    """Return exhibit references sorted naturally and joined."""
    return ", ".join(sorted(dict.fromkeys(refs), key=ref_key))


def heading(key: str, level: int = 1) -> Block:
    """Return a heading block with its text from statement.toml."""
    return Block("heading", config()["headings"][key], level=level, section=key)


def paragraphs(name: str, section: str, quoted: tuple[str, ...] = (), **values: Any) -> list[Block]:
    """Render a section template into paragraph blocks."""
    return [Block("paragraph", p, section=section, quoted=quoted, source=name) for p in render(name, **values)]


def case_quoted(case: Case) -> tuple[str, ...]:
    """Return verbatim case.toml text the wording check does not treat as the analyst's words."""
    out = [p.name for p in case.persons] + [p.id for p in case.persons]
    out += [a.value for p in case.persons for a in p.identifiers] + [a.basis for p in case.persons for a in p.identifiers]
    out += [pl.name for pl in case.places] + [k.note for k in case.key_dates if k.note]
    out += [e for o in case.orders for e in o.exceptions]
    out += [d for _, d in case.statement.exhibit_descriptions]
    s = case.statement
    out += [t for t in (s.instructions, s.requested_by, s.experience, s.occupation, s.fsr_details,
                        case.analyst.organisation) if t]
    return tuple(inert(t) for t in out if t)


# ------------------------------------------------------------------ who I am

def intro(f: Facts) -> list[Block]:
    """Return the opening section: the analyst and what they were asked."""
    s, a = f.case.statement, f.case.analyst
    quoted = case_quoted(f.case)
    return [heading("intro"), *paragraphs(
        "intro.j2", "intro", quoted, maker=inert(a.name), occupation=inert(s.occupation),
        organisation=inert(a.organisation), experience=inert(s.experience),
        requested_by=inert(s.requested_by), instructions=inert(s.instructions))]


# ------------------------------------------------------------------ material examined

def _dates(f: Facts) -> dict[str, tuple[str, str]]:
    timed = f.events.dropna(subset=["timestamp_utc"])
    if timed.empty:
        return {}
    local = timed["timestamp_utc"].dt.tz_convert(f.case.display_timezone).dt.strftime("%Y-%m-%d")
    span = pd.DataFrame({"ref": timed["exhibit_ref"], "d": local}).groupby("ref")["d"].agg(["min", "max"])
    return {r: (row["min"], row["max"]) for r, row in span.iterrows()}


def hash_cell(sha: str) -> str:
    """Return a SHA-256 split into four lines of 16, so it fits a narrow table column."""
    return "\n".join(sha[i:i + 16] for i in range(0, len(sha), 16))


def material(f: Facts) -> list[Block]:
    """Return the material-examined section: one row per source exhibit."""
    cfg = config()["tables"]
    ingests = sorted(f.manifest["ingests"], key=lambda i: ref_key(i["exhibit_ref"]))
    descriptions = dict(f.case.statement.exhibit_descriptions)
    dates = _dates(f)
    from atlas import registry

    rows, quoted = [], list(case_quoted(f.case))
    for i in ingests:
        ref = i["exhibit_ref"]
        try:
            summary = registry.get(i["parser"]).summary
        except Exception:  # noqa: BLE001 - a parser no longer registered is still described by name
            summary = i["parser"]
        desc = inert(descriptions.get(ref, summary))
        first, last = dates.get(ref, ("", ""))
        period = "no dated records" if not first else (first if first == last else f"{first} to {last}")
        c = i["counts"]
        counts = f"{c['read']:,} / {c['accepted']:,} / {c['rejected']:,}"
        if c.get("out_of_scope"):
            counts += f" ({c['out_of_scope']:,} out of scope)"
        source = inert(f"{i['source_path']}\n(parser {i['parser']} {i['parser_version']})")
        quoted += [desc, source]
        rows.append((inert(ref), desc, source, period, counts, hash_cell(i["source_sha256"])))
    rejected = [(i["exhibit_ref"], i["counts"]["rejected"]) for i in ingests if i["counts"]["rejected"]]
    scoped = [(i["exhibit_ref"], i["counts"].get("out_of_scope", 0)) for i in ingests if i["counts"].get("out_of_scope")]
    undated = int(f.events["timestamp_utc"].isna().sum())
    blocks = [heading("material"), *paragraphs(
        "material.j2", "material", count=len(ingests), undated=undated,
        rejected=sum(n for _, n in rejected), rejected_exhibits=", ".join(f"{n:,} in {r}" for r, n in rejected),
        out_of_scope=sum(n for _, n in scoped), scope_exhibits=", ".join(f"{n:,} in {r}" for r, n in scoped))]
    blocks.append(Block("table", header=tuple(cfg["material"]), rows=tuple(rows),
                        widths=tuple(cfg["material_widths"]), quoted=tuple(quoted), section="material"))
    return blocks


# ------------------------------------------------------------------ method

def _basis_text(basis: str) -> str:
    words = config()["time_basis"]
    kind, _, zone = basis.partition(":")
    template = words.get(basis) or words.get(kind) or basis
    return template.replace("{zone}", zone)


def _times_table(f: Facts) -> Block:
    cfg, flags_words = config()["tables"], config()["time_flags"]
    rows = []
    frame = f.events[["exhibit_ref", "tz_basis", "tz_flag"]]
    for ref, group in sorted(frame.groupby("exhibit_ref"), key=lambda g: ref_key(g[0])):
        bases = group["tz_basis"].value_counts()
        basis = "; ".join(f"{_basis_text(b)}: {n:,}" for b, n in sorted(bases.items()))
        flags = group["tz_flag"].value_counts()
        flagged = [flags_words[k].replace("{n}", f"{int(flags[k]):,}") for k in ("ambiguous", "nonexistent")
                   if k in flags]
        rows.append((inert(ref), basis, "; ".join(flagged) or flags_words["ok"]))
    return Block("table", header=tuple(cfg["times"]), rows=tuple(rows), widths=tuple(cfg["times_widths"]),
                 section="times")


def _attribution_table(f: Facts) -> Block:
    cfg = config()["tables"]
    rows = tuple((inert(f"{p.id} {p.name} ({p.role})"), inert(a.value), inert(a.basis))
                 for p in f.case.persons for a in p.identifiers)
    if not rows:
        rows = (("none", "no identifier is attributed to any person in case.toml", ""),)
    return Block("table", header=tuple(cfg["attribution"]), rows=rows, widths=tuple(cfg["attribution_widths"]),
                 quoted=case_quoted(f.case), section="attribution")


def _param_text(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_param_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_param_text(v)}" for k, v in sorted(value.items())) + "}"
    return "none" if value is None or value == "" else str(value)


def _short(value: Any, limit: int = 160) -> str:
    """Return a parameter's text, or for a long one its size and SHA-256 (the log has it in full)."""
    text = _param_text(value)
    if len(text) <= limit:
        return text
    import hashlib
    import json

    digest = hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    size = f"{len(value)} items" if isinstance(value, list | dict) else f"{len(text)} characters"
    return f"({size}, listed in the analysis log; SHA-256 {digest[:16]}…)"


def method(f: Facts) -> list[Block]:
    """Return the method: tool versions, time handling, attribution, parameters."""
    cfg, env = config()["tables"], f.environment
    rows = []
    quoted = []
    for name, doc in f.results.items():
        if f.roles.get(name) != "findings":
            continue
        params = "; ".join(f"{k} = {_short(v)}" for k, v in sorted(doc["params"].items())) or "none"
        quoted.append(inert(params))
        rows.append((inert(name), inert(doc["analysis_version"]), inert(params)))
    return [
        heading("method"),
        *paragraphs("parameters.j2", "method", atlas_version=env.get("atlas", "?"), python=env.get("python", "?"),
                    pandas=env.get("pandas", "?"), tzdata=env.get("tzdata", "?")),
        heading("times", 2),
        *paragraphs("times.j2", "times", display_timezone=f.case.display_timezone, tzdata=env.get("tzdata", "?")),
        _times_table(f),
        heading("attribution", 2),
        *paragraphs("attribution.j2", "attribution"),
        _attribution_table(f),
        heading("parameters", 2),
        Block("table", header=tuple(cfg["parameters"]), rows=tuple(rows), widths=tuple(cfg["parameters_widths"]),
              quoted=tuple(quoted), section="parameters"),
    ]


def cite(f: Facts, event_ids: list[str]) -> tuple[str, list[str]]:
    """Return the citation for a finding's events and the exhibit references behind it."""
    missing = [e for e in event_ids if e not in f.exhibit_of.index]
    if missing:
        from atlas.errors import AtlasError

        raise AtlasError(f"a result cites event {missing[0]} which is not in the store; run 'atlas analyse' again")
    refs = sorted(set(f.exhibit_of.loc[list(event_ids)].tolist()), key=ref_key) if event_ids else []
    return render_one("cite.j2", count=len(event_ids), exhibits=join_refs(refs), chronology=f.chronology), refs


def value_quotes(values: dict[str, Any]) -> tuple[str, ...]:
    """Return short string values of a finding (names, identifiers, phrases): data, not wording."""
    out: list[str] = []

    def add(v: Any) -> None:
        if isinstance(v, str) and len(v.split()) <= 6:
            out.append(one_line(v))
        elif isinstance(v, list):
            for x in v:
                add(x)

    for v in values.values():
        add(v)
    return tuple(out)
