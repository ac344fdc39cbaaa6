"""Build the statement's blocks, second half: findings, what the data does not show,
material that may undermine, exhibits produced, the FSR declaration and the reproducibility annex.

Findings are stated per analysis whose ``statement_role`` is ``"findings"``, in registry order,
each paragraph ending with the count of records behind it and the exhibits that hold them
(event ids mapped to exhibits through the store). Leads analyses, and finding keys that
``statement.toml`` places with the officer, get one neutral sentence, never their content.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from atlas._report_content import (
    Facts,
    case_quoted,
    cite,
    hash_cell,
    heading,
    join_refs,
    paragraphs,
    ref_key,
    value_quotes,
)
from atlas._report_model import Block, config, inert, one_line, render_one
from atlas.errors import AtlasError


def _placement(key: str) -> str:
    return config().get("placement", {}).get(key, "findings")


def _finding_block(f: Facts, analysis: str, finding: dict[str, Any], section: str, kind: str = "paragraph",
                   template: str | None = None) -> Block:
    if finding.get("text") is None:
        raise AtlasError(f"results/{analysis}.json: finding {finding['key']} has no wording in "
                         f"report_templates/analyses/{analysis}.toml")
    citation, _ = cite(f, finding["event_ids"])
    text = one_line(finding["text"])
    if template:
        text = render_one(template, text=text)
    return Block(kind, f"{text} {citation}", section=section, source=f"finding {finding['key']}",
                 quoted=value_quotes(finding.get("values", {})) + case_quoted(f.case))


def findings(f: Facts) -> list[Block]:
    """Return the findings of each 'findings' analysis, with derived exhibits noted."""
    blocks = [heading("findings"), *paragraphs("findings_intro.j2", "findings", chronology=f.chronology)]
    leads = [n for n in f.results if f.roles.get(n) == "leads"]
    held_back = False
    for name, doc in f.results.items():
        if f.roles.get(name) != "findings":
            continue
        stated = [x for x in doc["findings"] if _placement(x["key"]) == "findings"]
        held_back |= any(_placement(x["key"]) == "officer" for x in doc["findings"])
        derived = [p.ref for p in f.produced if p.analysis == name]
        if not stated and not derived:
            continue
        blocks.append(Block("heading", inert(doc["summary"]), level=2, section="findings", source=name))
        blocks += [_finding_block(f, name, x, "findings") for x in stated]
        if derived:
            blocks += paragraphs("derived.j2", "findings", refs=derived)
    if leads or held_back:
        names = [f"the {n} analysis" for n in leads] + (["some results marked for the officer to confirm"]
                                                         if held_back else [])
        blocks += paragraphs("leads.j2", "findings", names=_and(names))
    return blocks


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _caveats(f: Facts) -> list[Block]:
    from atlas import registry

    family = {}
    for i in f.manifest["ingests"]:
        try:
            family[i["exhibit_ref"]] = registry.get(i["parser"]).family
        except Exception:  # noqa: BLE001 - an unregistered parser has no family; its name still selects
            family[i["exhibit_ref"]] = ""
    kinds = f.events.groupby("exhibit_ref")["kind"].agg(lambda s: set(s.unique()))
    out = []
    for name, rule in config()["caveats"].items():
        refs = [i["exhibit_ref"] for i in f.manifest["ingests"]
                if i["parser"] in rule.get("parsers", ()) or family[i["exhibit_ref"]] in rule.get("families", ())
                or (set(rule.get("kinds", ())) & kinds.get(i["exhibit_ref"], set()))]
        if refs or rule.get("always"):
            text = render_one(f"caveats/{name}.j2", exhibits=join_refs(refs))
            out.append(Block("item", text, section="caveats", source=f"caveat {name}"))
    return out


def not_shown(f: Facts) -> list[Block]:
    """Return what the data does not show: limitations, source caveats, coverage gaps."""
    blocks = [heading("not_shown"), *paragraphs("not_shown_intro.j2", "not_shown"), heading("limitations", 2)]
    seen: set[str] = set()
    for name, doc in f.results.items():
        if f.roles.get(name) != "findings":
            continue
        for lim in doc["limitations"]:
            if _placement(lim["key"]) != "findings":
                continue
            text = one_line(lim["text"] or lim["key"])
            if text not in seen:
                seen.add(text)
                blocks.append(Block("item", text, section="limitations", source=f"limitation {lim['key']}"))
    blocks += [heading("caveats", 2), *_caveats(f)]
    gaps = [(name, x) for name, doc in f.results.items() for x in doc["findings"] if _placement(x["key"]) == "gaps"]
    if gaps:
        blocks += [heading("gaps", 2), *paragraphs("gaps_intro.j2", "gaps")]
        blocks += [_finding_block(f, name, x, "gaps", kind="item") for name, x in gaps]
    return blocks


def undermine(f: Facts) -> list[Block]:
    """Return the disclosure section: results marked may_undermine, and contact the complainant began."""
    blocks = [heading("undermine"), *paragraphs("undermine_intro.j2", "undermine")]
    items = []
    for name, doc in f.results.items():
        for x in doc["findings"]:
            values = x.get("values") or {}
            if values.get("disclosure") == "may_undermine":
                items.append(_finding_block(f, name, x, "undermine", kind="item"))
            elif (f.roles.get(name) == "findings" and values.get("sender_role") == "victim"
                  and values.get("recipient_role") == "suspect"):
                items.append(_finding_block(f, name, x, "undermine", kind="item", template="undermine_victim.j2"))
    return blocks + (items or paragraphs("undermine_none.j2", "undermine"))


def produced(f: Facts) -> list[Block]:
    """Return the exhibits produced: the production sentences and their provenance table."""
    blocks = [heading("produced")]
    if not f.produced:
        return blocks + paragraphs("produced_none.j2", "produced")
    blocks += paragraphs("produced_intro.j2", "produced")
    blocks += [Block("production", one_line(p.production), section="produced", source=f"exhibit {p.ref}",
                     quoted=(inert(p.title), inert(p.path))) for p in f.produced]
    cfg = config()["tables"]
    rows = tuple((inert(p.ref), inert(p.title) + (" (third parties pseudonymised)" if p.redacted else ""),
                  "\n".join(f"{inert(ref)} {sha[:16]}…" for ref, sha in sorted(p.sources, key=lambda s: ref_key(s[0])))
                  or "none",
                  hash_cell(p.sha256)) for p in f.produced)
    blocks.append(Block("table", header=tuple(cfg["produced"]), rows=rows, widths=tuple(cfg["produced_widths"]),
                        quoted=tuple(inert(p.title) for p in f.produced), section="produced"))
    return blocks


def fsr_code_version(when: dt.date) -> str:
    """Return the FSR Code of Practice version in force on a date (statement.toml [[fsr_code]])."""
    version = "none in force"
    for entry in sorted(config()["fsr_code"], key=lambda e: e["from"]):
        if when >= entry["from"]:
            version = entry["version"]
    return version


def fsr(f: Facts) -> list[Block]:
    """Return the officer's FSR Code declaration, worded by its status (never defaulted)."""
    s = f.case.statement
    text = render_one(f"fsr_{s.fsr_status}.j2", code_version=fsr_code_version(s.date), date=long_date(s.date),
                      details=inert(s.fsr_details))
    return [heading("fsr"), Block("paragraph", text, section="fsr", quoted=(inert(s.fsr_details),))]


def annex(f: Facts) -> list[Block]:
    """Return the reproducibility annex: the log and its hash, the verify command, template versions."""
    return [heading("annex"), *paragraphs(
        "annex.j2", "annex", log_name=f.log["name"], log_lines=f.log["lines"], log_sha256=f.log["sha256"],
        verify_command=f.verify_command, declaration_name=f.declaration["name"],
        declaration_sha256=f.declaration["sha256"], templates_sha256=f.templates_sha256)]


def long_date(when: dt.date) -> str:
    """Return a date as '20 January 2025'."""
    return f"{when.day} {when.strftime('%B %Y')}"
