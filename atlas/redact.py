"""Third parties in exhibits: consistent pseudonyms ("Person 3"), the mapping kept in the case only.

A *third party* is a person in ``case.toml`` whose role is neither suspect nor victim. With
redaction on, every identifier attributed to such a person (in its full form, e.g.
``tel:+447700900766``, and its bare value, e.g. ``+447700900766`` and, for a UK number, the
national form ``07700900766``) and the person's name are replaced by "Person N" in the derived
exhibits. Numbers run on from the suspects and victims (persons 1 and 2 in the usual case), in
the order the persons are listed in ``case.toml``, so the same person always has the same
pseudonym in every exhibit of the case. Identifiers attributed to nobody are not changed: whether
one belongs to the suspect is for the officer, and hiding it could hide material.

The mapping is written to ``CASE/report/redaction_map.json``, never under
``report/exhibits/``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

from atlas.case import Case

PARTIES = ("suspect", "victim")


def pseudonyms(case: Case) -> dict[str, str]:
    """Return ``person id -> "Person N"`` for the third parties of the case, in case.toml order."""
    named = sum(1 for p in case.persons if p.role in PARTIES)
    others = [p for p in case.persons if p.role not in PARTIES]
    return {p.id: f"Person {named + k}" for k, p in enumerate(others, start=1)}


def replacements(case: Case) -> list[tuple[str, str]]:
    """Return ``(text to replace, pseudonym)`` pairs, longest text first (so a full identifier wins)."""
    names = pseudonyms(case)
    pairs: dict[str, str] = {}
    for person in case.persons:
        if person.id not in names:
            continue
        alias = names[person.id]
        if person.name.strip():
            pairs[person.name.strip()] = alias
        for att in person.identifiers:
            for form in _forms(att.value):
                pairs.setdefault(form, alias)
    return sorted(pairs.items(), key=lambda kv: (-len(kv[0]), kv[0]))


def _forms(identifier: str) -> list[str]:
    scheme, _, value = identifier.partition(":")
    forms = [identifier]
    if not value or scheme == "device":
        return forms
    if scheme == "name":  # name:whatsapp:Dave -> Dave
        value = value.partition(":")[2] or value
    if len(value) >= 3:
        forms.append(value)
    if scheme in ("tel", "whatsapp") and value.startswith("+44") and len(value) > 6:
        forms.append("0" + value[3:])
    return forms


@lru_cache(maxsize=32)
def _pattern(pairs: tuple[tuple[str, str], ...]) -> re.Pattern[str] | None:
    if not pairs:
        return None
    # Whole tokens only: "Jo" must not change "Jones"; a number must not match inside a longer one.
    alternation = "|".join(re.escape(text) for text, _ in pairs)
    return re.compile(rf"(?<![\w+]){'(?:' + alternation + ')'}(?!\w)")


def pseudonymise(case: Case, text: str) -> str:
    """Return ``text`` with third parties' identifiers and names replaced by their pseudonyms."""
    pairs = tuple(replacements(case))
    pattern = _pattern(pairs)
    if pattern is None or not text:
        return text
    lookup = dict(pairs)
    return pattern.sub(lambda m: lookup[m.group(0)], text)


def write_map(case: Case, path: Path) -> None:
    """Write the mapping (pseudonym -> person id, name and identifiers) inside the case."""
    names = pseudonyms(case)
    body = {"note": "Kept in the case only: never disclosed with the exhibits.",
            "pseudonyms": [{"pseudonym": names[p.id], "person": p.id, "name": p.name,
                            "identifiers": [a.value for a in p.identifiers]}
                           for p in case.persons if p.id in names]}
    path.write_text(json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
