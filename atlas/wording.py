"""The conclusion check: the statement is refused if a sentence states a conclusion.

A s.9 statement by an analyst reports what records show; a sentence saying that something is
proved, that a person stalked or was at a place, or that a finding is "consistent with" one
account without the alternatives, is opinion or a legal judgement (see ``../shared/docs`` on
UK practice). ``check_blocks`` runs every rule in
``report_templates/statement/wording_rules.toml`` over every sentence of the content model
(paragraphs, items, headings and table cells) before anything is rendered, and
``enforce`` raises ``WordingError`` naming the sentence, the word and the rule.

Exempt by design, and only these: text the block marks as ``quoted``, which is verbatim from
case.toml or from the records (the officer's instructions quoted in quotation marks, an
identifier such as a display name chosen by an account holder, an exhibit description, a
person's name). It is not the analyst's words, and refusing it would make a suspect's chosen
display name able to block the statement. Quoted text is replaced by a neutral placeholder, so
the analyst's words around it are still checked. The name of the Protection from Harassment
Act 1997 does not match any rule ("harassment" is not in the list; "harassed" is).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from atlas._report_model import TEMPLATE_DIR, Block
from atlas.errors import AtlasError

RULES_FILE = TEMPLATE_DIR / "wording_rules.toml"
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Rule:
    """A pattern that marks a conclusion, and the reason it is refused."""

    id: str
    pattern: re.Pattern[str]
    reason: str
    unless: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Violation:
    """A sentence that states a conclusion."""

    rule: str
    word: str
    sentence: str
    source: str
    reason: str

    def describe(self) -> str:
        """Return one line for the analyst: where, which word, why, and the sentence."""
        where = f" ({self.source})" if self.source else ""
        return f"{self.rule}{where}: \"{self.word}\" - {self.reason}: \"{self.sentence}\""


class WordingError(AtlasError):
    """The statement holds sentences that state conclusions; nothing was written."""

    exit_code = 1

    def __init__(self, violations: list[Violation]) -> None:
        shown = "\n  ".join(v.describe() for v in violations[:20])
        more = f"\n  … and {len(violations) - 20} more" if len(violations) > 20 else ""
        super().__init__(f"the statement was not written: {len(violations)} sentence(s) state a conclusion "
                         f"(see report_templates/statement/wording_rules.toml):\n  {shown}{more}")
        self.violations = violations


def load_rules(path: Path | None = None) -> tuple[Rule, ...]:
    """Read the rules file; a bad pattern is an error naming the rule."""
    path = path or RULES_FILE
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    rules = []
    for i, r in enumerate(data.get("rules", [])):
        try:
            rules.append(Rule(r["id"], re.compile(r["pattern"], re.IGNORECASE), r["reason"],
                              re.compile(r["unless"], re.IGNORECASE) if r.get("unless") else None))
        except (KeyError, re.error) as exc:
            raise AtlasError(f"{path}: rules[{i}]: {exc}") from None
    return tuple(rules)


def sentences(text: str) -> list[str]:
    """Split text into sentences (at '.', '!' or '?' followed by a capital, digit or bracket)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _strip_quoted(text: str, quoted: Iterable[str]) -> str:
    # Longest first, so a quoted phrase inside a longer quoted phrase does not split it.
    for q in sorted({q for q in quoted if q}, key=len, reverse=True):
        # Keep a closing full stop so the sentence after the quotation is still split off.
        text = text.replace(q, "«quoted»" + (q[-1] if q[-1] in ".!?" else ""))
    return text


def check_text(text: str, rules: tuple[Rule, ...], source: str = "",
               quoted: Iterable[str] = ()) -> list[Violation]:
    """Return the violations in ``text`` (quoted spans removed first)."""
    found = []
    for sentence in sentences(_strip_quoted(text, tuple(quoted))):
        for rule in rules:
            m = rule.pattern.search(sentence)
            if m and not (rule.unless and rule.unless.search(sentence)):
                found.append(Violation(rule.id, m.group(0), sentence, source, rule.reason))
    return found


def check_blocks(blocks: Iterable[Block], rules: tuple[Rule, ...] | None = None) -> list[Violation]:
    """Return every violation in the content model, in reading order."""
    rules = load_rules() if rules is None else rules
    found: list[Violation] = []
    for b in blocks:
        source = b.source or b.section
        if b.kind == "table":
            for cell in (*b.header, *(c for row in b.rows for c in row)):
                found += check_text(cell, rules, source, b.quoted)
        else:
            found += check_text(b.text, rules, source, b.quoted)
    return found


def enforce(blocks: Iterable[Block], rules: tuple[Rule, ...] | None = None) -> None:
    """Raise ``WordingError`` if any sentence of the content model states a conclusion."""
    violations = check_blocks(blocks, rules)
    if violations:
        raise WordingError(violations)
