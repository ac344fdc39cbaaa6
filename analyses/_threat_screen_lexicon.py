"""Loading and matching the threat-screen lexicon (``analyses/threat_lexicon.toml``).

The matching rules (word boundaries, case, negation) are documented at the top of the
lexicon file itself, so a force editing its own copy reads them where it edits.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

DEFAULT_LEXICON = Path(__file__).with_name("threat_lexicon.toml")
FLAGS = re.IGNORECASE | re.UNICODE
MATCH_COLUMNS = ("row", "category", "pattern", "phrase", "before", "after", "negated")


@dataclass(frozen=True)
class Category:
    """One category of the lexicon: an id, a label for the wording, and its patterns."""

    id: str
    label: str
    description: str
    negatable: bool
    patterns: tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    """A validated lexicon; recorded in full in the run's parameters."""

    version: str
    cues: tuple[str, ...]
    window_words: int
    clause_breaks: str
    categories: tuple[Category, ...]


def load(path: Path) -> tuple[Lexicon, str]:
    """Read and check a lexicon file; return it and the file's SHA-256.

    Raises ``ValueError`` naming the key and what is wrong.
    """
    raw = path.read_bytes()
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"not a UTF-8 TOML file: {exc}") from None
    neg = data.get("negation", {})
    cues = tuple(str(c).lower() for c in neg.get("cues", ()))
    window = neg.get("window_words", 3)
    if not isinstance(window, int) or not 0 <= window <= 10:
        raise ValueError("negation.window_words must be a whole number from 0 to 10")
    breaks = str(neg.get("clause_breaks", ".!?;:,"))
    cats = []
    seen: set[str] = set()
    for i, c in enumerate(data.get("categories", ())):
        where = f"categories[{i}]"
        cid, label = str(c.get("id", "")), str(c.get("label", ""))
        if not re.fullmatch(r"[a-z][a-z0-9_]*", cid) or cid in seen:
            raise ValueError(f"{where}.id must be a unique lower_snake name, got {cid!r}")
        if not label:
            raise ValueError(f"{where}.label must not be empty")
        pats = tuple(str(p) for p in c.get("patterns", ()))
        if not pats:
            raise ValueError(f"{where}.patterns must list at least one pattern")
        for j, p in enumerate(pats):
            if "(?P<" in p or not p.strip():
                raise ValueError(f"{where}.patterns[{j}] is empty or uses a named group")
            try:
                rx = re.compile(p, FLAGS)
            except re.error as exc:
                raise ValueError(
                    f"{where}.patterns[{j}] is not a valid regular expression: {exc}"
                ) from None
            if rx.match(""):
                raise ValueError(f"{where}.patterns[{j}] matches empty text")
        seen.add(cid)
        cats.append(
            Category(
                cid, label, str(c.get("description", "")), bool(c.get("negatable", True)), pats
            )
        )
    if not cats:
        raise ValueError("the lexicon has no [[categories]]")
    lex = Lexicon(str(data.get("version", "")), cues, window, breaks, tuple(cats))
    return lex, hashlib.sha256(raw).hexdigest()


def normalise(texts: pd.Series) -> pd.Series:
    """Return texts in NFKC form with curly apostrophes made straight (same length or shorter)."""
    out = texts.str.normalize("NFKC")
    for quote in ("\u2019", "\u2018", "\u02bc", "\uff07"):
        out = out.str.replace(quote, "'", regex=False)
    return out


def matches(texts: pd.Series, lex: Lexicon, context: int) -> pd.DataFrame:
    """Return every pattern match in ``texts`` (indexed by row position) with its negation state.

    One ``extractall`` per pattern: the pattern is wrapped in word boundaries, preceded by
    a lazy group that cannot cross a clause break (so it holds the clause before the
    match) and followed by a look-ahead that captures ``context`` characters after it.
    """
    breaks = re.escape(lex.clause_breaks) + r"\n\r"
    cues = frozenset(lex.cues)
    frames = []
    norm = normalise(texts)
    for cat in lex.categories:  # loops over the lexicon, not over messages
        for j, p in enumerate(cat.patterns):
            bare = re.compile(rf"(?<!\w)(?:{p})(?!\w)", FLAGS)
            rx = re.compile(
                rf"(?P<before>[^{breaks}]*?)(?<!\w)(?P<hit>(?:{p}))(?!\w)"
                rf"(?=(?P<after>(?s:.){{0,{context}}}))",
                FLAGS,
            )
            # The plain search is cheap; only texts it finds go through the slower extraction.
            has = norm.str.contains(bare, na=False)
            found = norm.loc[has].str.extractall(rx)
            if found.empty:
                continue
            found = found.reset_index()
            # An empty group comes back as missing; the clause before a match may be empty.
            found["before"] = found["before"].fillna("")
            found["after"] = found["after"].fillna("")
            row = found.columns[0]
            words = found["before"].str.lower().str.findall(r"[\w']+")
            negated = (
                words.map(lambda ws: _negated(ws, cues, lex.window_words))
                if cat.negatable
                else pd.Series(False, index=found.index)
            )
            frames.append(
                pd.DataFrame(
                    {
                        "row": found[row].to_numpy(),
                        "match": found["match"].to_numpy(),
                        "category": cat.id,
                        "pattern": j,
                        "phrase": found["hit"].to_numpy(),
                        "before": found["before"].to_numpy(),
                        "after": found["after"].to_numpy(),
                        "negated": negated.astype(bool).to_numpy(),
                    }
                )
            )
    if not frames:
        return pd.DataFrame(columns=list(MATCH_COLUMNS))
    out = pd.concat(frames, ignore_index=True)
    order = {c.id: n for n, c in enumerate(lex.categories)}
    out["category_order"] = out["category"].map(order)
    out = out.sort_values(["row", "category_order", "pattern", "match"], kind="stable")
    return out[list(MATCH_COLUMNS)].reset_index(drop=True)


def _negated(words: list[str], cues: frozenset[str], window: int) -> bool:
    """Return True when a negation cue is among the last ``window`` words before a match."""
    return window > 0 and bool(cues.intersection(words[-window:]))
