"""The statement's content model: typed blocks both renderers draw, and the template loader.

The statement is built once as a list of ``Block`` objects (headings, paragraphs, tables,
production sentences …) and drawn twice, as DOCX and PDF, so the two cannot say different
things. Every string that reaches a block has passed ``inert``: message text and display
names are written by the suspect, so control characters and bidirectional overrides are
replaced by a visible ``[U+XXXX]`` marker (python-docx refuses some control characters, and a
right-to-left override would make a reader see text in a different order from the record).
Markup is escaped by each renderer; formula prefixes are plain text in DOCX and PDF.

Wording comes from ``report_templates/statement/``: ``statement.toml`` (labels, headings and
which finding keys go where), jinja2 templates per section and per caveat, and the versioned
s.9 declaration. The generator supplies facts only.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATE_DIR = Path(__file__).resolve().parents[1] / "report_templates" / "statement"

# C0/C1 controls (tab and newline are handled separately), bidirectional embeddings,
# overrides, isolates and marks, zero-width characters, the BOM and lone surrogates.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                     "\u2066-\u2069\ufeff\ufff9-\ufffb\ufffe\uffff\ud800-\udfff]")


def inert(text: Any) -> str:
    """Return ``text`` as a string safe to draw: unsafe characters shown as ``[U+XXXX]``."""
    s = "" if text is None else str(text)
    s = s.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _UNSAFE.sub(lambda m: f"[U+{ord(m.group()):04X}]", s)


def one_line(text: Any) -> str:
    """Return ``inert(text)`` with line breaks folded into spaces."""
    return re.sub(r"\s*\n\s*", " ", inert(text)).strip()


@dataclass(frozen=True)
class Block:
    """One element of the statement, in reading order.

    ``kind`` is ``heading``, ``paragraph``, ``item`` (a bulleted paragraph), ``table``,
    ``production`` (an "I produce as exhibit …" sentence) or ``signature`` (the line after the
    last word). ``quoted`` holds verbatim text from case.toml or the records (an instruction,
    an identifier, a display name) that the wording check does not treat as the analyst's words.
    ``source`` says where the text came from, for the wording check's message.
    """

    kind: str
    text: str = ""
    level: int = 1
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    widths: tuple[float, ...] = ()
    quoted: tuple[str, ...] = ()
    source: str = ""
    section: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ("heading", "paragraph", "item", "table", "production", "signature"):
            raise ValueError(f"unknown block kind {self.kind!r}")
        if self.kind == "table" and any(len(r) != len(self.header) for r in self.rows):
            raise ValueError("every table row needs one cell per header column")


@dataclass(frozen=True)
class Statement:
    """Everything the renderers draw: the MG11 header, the declaration and the body blocks."""

    urn: str
    maker: str
    age: str
    occupation: str
    date_text: str
    marking: str
    labels: dict[str, str]
    declaration_template: str
    declaration_name: str
    declaration_sha256: str
    blocks: tuple[Block, ...]
    title: str = "Witness statement"
    extra: dict[str, Any] = field(default_factory=dict)

    def declaration(self, pages: int | str) -> str:
        """Return the declaration with the page count filled in."""
        return one_line(_env().from_string(self.declaration_template).render(pages=pages))


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    """Return ``statement.toml``: labels, headings, placement of finding keys, caveats."""
    return tomllib.loads((TEMPLATE_DIR / "statement.toml").read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _env() -> jinja2.Environment:
    # Not HTML: autoescaping would put entities into the DOCX; each renderer escapes for itself.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)), autoescape=False,  # noqa: S701
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=False)


def render(name: str, **values: Any) -> list[str]:
    """Render a section template and return its paragraphs (split on blank lines)."""
    text = _env().get_template(name).render(**values)
    return [one_line(p) for p in re.split(r"\n\s*\n", text) if p.strip()]


def render_one(name: str, **values: Any) -> str:
    """Render a template that holds a single paragraph."""
    return " ".join(render(name, **values))


def declaration_file(name: str) -> tuple[str, str]:
    """Return the declaration template text and its SHA-256 (the file is used verbatim)."""
    path = TEMPLATE_DIR / name
    raw = path.read_bytes()
    text = raw.decode("utf-8")
    # Lines starting with '#' document the template and are not part of the declaration.
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#")).strip()
    return body, hashlib.sha256(raw).hexdigest()


def templates_digest() -> str:
    """Return one SHA-256 over every file in the statement templates folder (names and bytes)."""
    h = hashlib.sha256()
    for path in sorted(p for p in TEMPLATE_DIR.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(path.relative_to(TEMPLATE_DIR).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()
