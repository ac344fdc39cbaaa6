"""The one-page SFR1-style summary written by ``atlas report --sfr1`` (DOCX and PDF).

SFR1 is the first stage of streamlined forensic reporting in England and Wales: a short summary
of the key findings the prosecution intends to rely on, served early so that the defence can say
whether each is agreed and, if not, what is in issue. It is not a s.9 witness statement and not
an expert's report under CrimPR Part 19 (see ``docs/statement.md``).

The summary states no fact of its own. Its findings are blocks of the witness statement's content
model, repeated as they are (sentence and citation): for each analysis stated under "Findings",
the first finding that cites at least one record, shown in the statement's order. They are
taken in the order of ``priority`` in ``sfr1.toml`` (then the rest in the statement's order),
each kept if the PDF is still one page with it and left out if not; the summary says how many
findings the statement holds and how many analyses were left out. The FSR
Code paragraph is the statement's, verbatim. Fixed wording is in ``report_templates/statement``
(``sfr1.toml``, ``sfr1_*.j2``) and passes the same wording check as the statement.

Drawing reuses the statement's fonts, escaping and fixed-zip writer, so the bytes are as
deterministic as the statement's.
"""

from __future__ import annotations

import datetime as dt
import io
import tomllib
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate, Paragraph, Spacer, Table, TableStyle

from atlas._report_content import Facts, case_quoted, join_refs, ref_key
from atlas._report_findings import _finding_block, _placement, long_date
from atlas._report_model import TEMPLATE_DIR, Block, Statement, inert, render, render_one
from atlas._report_pdf import fonts, markup
from atlas.errors import AtlasError, UsageError

PAGE_W, PAGE_H = A4
MARGIN_X = 18 * mm
TOP = 28 * mm
BOTTOM = 16 * mm
FRAME_W = PAGE_W - 2 * MARGIN_X
FINDINGS_SECTION = "sfr1_findings"


@lru_cache(maxsize=1)
def config() -> dict[str, Any]:
    """Return ``sfr1.toml``: title, labels, headings and the analyses' priority."""
    return tomllib.loads((TEMPLATE_DIR / "sfr1.toml").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Summary:
    """Everything the SFR1 renderers draw: page furniture, the header fields and the body blocks."""

    urn: str
    maker: str
    marking: str
    date: dt.date
    fields: Block            # a two-column table of label and value (drawn without a header row)
    blocks: tuple[Block, ...]
    shown: int               # findings repeated
    total: int               # findings in the statement

    def all_blocks(self) -> tuple[Block, ...]:
        """Return every block the wording check reads."""
        return (self.fields, *self.blocks)


@dataclass(frozen=True)
class Candidate:
    """A finding of the statement that may be repeated: its analysis and its block."""

    analysis: str
    position: int            # the analysis' place in the statement
    block: Block


def candidates(f: Facts, statement: Statement) -> list[Candidate]:
    """Return, per analysis stated under Findings, its first finding citing records, as stated.

    Each block is built by the statement's own builder and must be in the statement, word for word;
    anything else is a defect and refused.
    """
    stated_texts = {b.text for b in statement.blocks if b.section == "findings" and b.source.startswith("finding ")}
    out = []
    for position, (name, doc) in enumerate(f.results.items()):
        if f.roles.get(name) != "findings":
            continue
        first = next((x for x in doc["findings"] if _placement(x["key"]) == "findings" and x["event_ids"]), None)
        if first is None:
            continue
        block = _finding_block(f, name, first, FINDINGS_SECTION)
        if block.text not in stated_texts:
            raise AtlasError(f"SFR1: finding {first['key']} of {name} is not in the statement as built; "
                             "this is a defect")
        out.append(Candidate(name, position, block))
    return out


def _by_priority(cands: list[Candidate]) -> list[Candidate]:
    """Return the candidates in the order they are kept: ``priority`` first, then the statement's order."""
    priority = list(config().get("priority", []))
    rank = {name: i for i, name in enumerate(priority)}
    return sorted(cands, key=lambda c: (rank.get(c.analysis, len(priority)), c.position))


def _count(statement: Statement, section: str, prefix: str) -> int:
    return sum(1 for b in statement.blocks if b.section == section and b.source.startswith(prefix))


def build(f: Facts, statement: Statement, kept: list[Candidate], analyses: int, statement_file: tuple[str, str],
          pages: int) -> Summary:
    """Return the summary's content model for the kept findings."""
    cfg, case = config(), f.case
    s, a = case.statement, case.analyst
    labels, headings = cfg["labels"], cfg["headings"]
    total = _count(statement, "findings", "finding ")
    prepared = ", ".join(inert(t) for t in (a.name, s.occupation, a.organisation) if t)
    examined = sorted((i["exhibit_ref"] for i in f.manifest["ingests"]), key=ref_key)
    file_name, sha = statement_file
    full = render_one("sfr1_statement.j2", maker=inert(a.name), date=long_date(s.date), pages=pages,
                      file=file_name, sha256=sha)
    quoted = case_quoted(case)
    fields = Block("table", header=(labels["urn"], inert(case.urn)),
                   rows=((labels["prepared_by"], prepared), (labels["date"], long_date(s.date)),
                         (labels["examined"], render_one("sfr1_examined.j2", refs=join_refs(examined),
                                                          count=len(examined))),
                         (labels["statement"], full)),
                   widths=(0.2, 0.8), quoted=(*quoted, inert(case.urn), prepared), section="sfr1_header")

    def heading(key: str) -> Block:
        return Block("heading", headings[key], level=2, section="sfr1", source="sfr1.toml")

    def paras(name: str, **values: Any) -> list[Block]:
        return [Block("paragraph", p, section="sfr1", source=name, quoted=quoted) for p in render(name, **values)]

    fsr = [replace(b, section="sfr1") for b in statement.blocks if b.section == "fsr" and b.kind == "paragraph"]
    blocks = [heading("purpose"), *paras("sfr1_purpose.j2"), heading("findings"),
              *paras("sfr1_findings_intro.j2", total=total, shown=len(kept), analyses=analyses,
                     left_out=analyses - len(kept)),
              *(c.block for c in kept),
              heading("limitations"),
              *paras("sfr1_limitations.j2", limitations=_count(statement, "limitations", "limitation "),
                     gaps=_count(statement, "gaps", "finding ")),
              heading("fsr"), *fsr,
              Block("signature", labels["signature"].format(date=long_date(s.date)), section="sfr1")]
    return Summary(urn=inert(case.urn), maker=inert(a.name), marking=inert(s.protective_marking), date=s.date,
                   fields=fields, blocks=tuple(blocks), shown=len(kept), total=total)


def fit(f: Facts, statement: Statement, statement_file: tuple[str, str], pages: int) -> tuple[Summary, bytes]:
    """Return the summary with as many findings as fit on one PDF page, and that PDF."""
    cands = candidates(f, statement)
    if not cands:
        raise UsageError("--sfr1: the statement states no finding that cites records, so there is nothing to "
                         "summarise; write the statement without --sfr1")
    # Each candidate, in priority order, is kept if the page still fits with it; a long one that
    # does not fit is left out and the next is tried, so the choice depends only on the inputs.
    kept: list[Candidate] = []
    best = None
    for cand in _by_priority(cands):
        trial = sorted([*kept, cand], key=lambda c: c.position)
        summary = build(f, statement, trial, len(cands), statement_file, pages)
        data, got = render_pdf(summary)
        if got == 1:
            kept, best = trial, (summary, data)
    if best is None:
        raise AtlasError("--sfr1: the summary does not fit on one page even with a single finding; shorten the "
                         "wording in report_templates/statement/sfr1*")
    return best


# ------------------------------------------------------------------ PDF


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold, _ = fonts()
    base = ParagraphStyle("sfr1", fontName=regular, fontSize=8.6, leading=11, spaceAfter=4)
    return {
        "body": base,
        "h2": ParagraphStyle("sfr1h2", base, fontName=bold, fontSize=9.2, leading=12, spaceBefore=5, spaceAfter=3,
                             keepWithNext=1),
        "item": ParagraphStyle("sfr1item", base, leftIndent=16, bulletIndent=2, spaceAfter=3, bulletFontName=bold),
        "label": ParagraphStyle("sfr1label", base, fontName=bold, spaceAfter=0),
        "value": ParagraphStyle("sfr1value", base, spaceAfter=0),
        "signature": ParagraphStyle("sfr1sig", base, spaceBefore=8),
    }


def flowables(summary: Summary) -> list:
    """Return the flowables: the header fields, then the blocks with the findings numbered."""
    st = _styles()
    rows = [summary.fields.header, *summary.fields.rows]
    table = Table([[Paragraph(markup(k), st["label"]), Paragraph(markup(v), st["value"])] for k, v in rows],
                  colWidths=[w * FRAME_W for w in summary.fields.widths], hAlign="LEFT")
    table.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP"),
                               ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#eeeeee")),
                               ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]))
    out: list = [table, Spacer(1, 3)]
    number = 0
    for b in summary.blocks:
        if b.kind == "heading":
            out.append(Paragraph(markup(b.text), st["h2"]))
        elif b.section == FINDINGS_SECTION:
            number += 1
            out.append(Paragraph(markup(b.text), st["item"], bulletText=f"{number}."))
        elif b.kind == "signature":
            out.append(Paragraph(markup(b.text), st["signature"]))
        else:
            out.append(Paragraph(markup(b.text), st["body"]))
    return out


def _canvas_class(summary: Summary) -> type[Canvas]:
    regular, bold, _ = fonts()
    cfg = config()

    class SummaryCanvas(Canvas):
        """Keeps every page until save, then draws header and footer knowing the page count."""

        def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                self._furniture(number, total)
                Canvas.showPage(self)
            Canvas.save(self)

        def _furniture(self, number: int, total: int) -> None:
            top = PAGE_H - 10 * mm
            if summary.marking:
                self.setFont(bold, 8.5)
                self.drawCentredString(PAGE_W / 2, top, summary.marking)
            self.setFont(bold, 12)
            self.drawCentredString(PAGE_W / 2, top - 14, cfg["title"])
            self.setFont(regular, 7.5)
            self.drawCentredString(PAGE_W / 2, top - 25, cfg["subtitle"])
            self.setFont(regular, 9)
            self.drawRightString(PAGE_W - MARGIN_X, top, f"{cfg['labels']['urn']}: {summary.urn}")
            self.setLineWidth(0.5)
            self.line(MARGIN_X, PAGE_H - TOP + 3 * mm, PAGE_W - MARGIN_X, PAGE_H - TOP + 3 * mm)
            self.line(MARGIN_X, BOTTOM - 3 * mm, PAGE_W - MARGIN_X, BOTTOM - 3 * mm)
            self.setFont(regular, 8)
            self.drawRightString(PAGE_W - MARGIN_X, BOTTOM - 8 * mm, cfg["page"].format(page=number, pages=total))

    return SummaryCanvas


def render_pdf(summary: Summary) -> tuple[bytes, int]:
    """Return the summary's PDF bytes and its page count."""
    buf = io.BytesIO()
    title = f"{config()['title']} {summary.urn}"
    doc = BaseDocTemplate(buf, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=TOP,
                          bottomMargin=BOTTOM, invariant=1, title=title, author=summary.maker,
                          subject=config()["title"], creator="Atlas", producer="Atlas")
    frame = Frame(MARGIN_X, BOTTOM, FRAME_W, PAGE_H - TOP - BOTTOM, id="body", leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    counted: list[int] = []
    base = _canvas_class(summary)

    class Counting(base):  # type: ignore[misc, valid-type]
        def save(self) -> None:
            counted.append(len(self._pages))
            super().save()

    doc.build(flowables(summary), canvasmaker=Counting)
    return buf.getvalue(), counted[-1]


# ------------------------------------------------------------------ DOCX


def render_docx(summary: Summary) -> bytes:
    """Return the DOCX bytes of the summary (same blocks; Word counts the pages in the footer)."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    from atlas._report_docx import FONT, _field, _text, fixed_zip

    cfg = config()
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin, section.bottom_margin = Mm(28), Mm(16)
    section.header_distance, section.footer_distance = Mm(7), Mm(6)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(8.6)
    normal.paragraph_format.space_after = Pt(4)
    doc.styles["Heading 2"].font.name = FONT
    doc.styles["Heading 2"].font.size = Pt(9.2)

    header = section.header
    first = header.paragraphs[0]
    if summary.marking:
        first.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _text(first, summary.marking, bold=True, size=8.5)
        first = header.add_paragraph()
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _text(first, cfg["title"], bold=True, size=12)
    sub = header.add_paragraph()
    sub.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _text(sub, cfg["subtitle"], size=7.5)
    urn = header.add_paragraph()
    urn.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _text(urn, f"{cfg['labels']['urn']}: {summary.urn}", size=9)
    foot = section.footer.paragraphs[0]
    foot.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    before, rest = cfg["page"].split("{page}", 1)
    middle, after = rest.split("{pages}", 1)
    _text(foot, before, size=8)
    _field(foot, "PAGE", "1")
    _text(foot, middle, size=8)
    _field(foot, "NUMPAGES", "1")
    if after:
        _text(foot, after, size=8)

    rows = [summary.fields.header, *summary.fields.rows]
    table = doc.add_table(rows=len(rows), cols=2)
    table.style = "Table Grid"
    for r, (label, value) in enumerate(rows):
        for c, (text, width) in enumerate(((label, summary.fields.widths[0]), (value, summary.fields.widths[1]))):
            cell = table.rows[r].cells[c]
            cell.width = Mm(width * 174)
            p = cell.paragraphs[0]
            p.paragraph_format.space_after = Pt(0)
            _text(p, text, bold=(c == 0))
    number = 0
    for b in summary.blocks:
        if b.kind == "heading":
            _text(doc.add_paragraph(style="Heading 2"), b.text)
        elif b.section == FINDINGS_SECTION:
            number += 1
            p = doc.add_paragraph()
            p.paragraph_format.left_indent = Mm(6)
            p.paragraph_format.first_line_indent = Mm(-5)
            _text(p, f"{number}.\t", bold=True)
            _text(p, b.text)
        else:
            _text(doc.add_paragraph(), b.text)

    props = doc.core_properties
    when = dt.datetime.combine(summary.date, dt.time(0, 0), tzinfo=dt.UTC)
    props.author = props.last_modified_by = summary.maker
    props.title = f"{cfg['title']} {summary.urn}"
    props.subject = cfg["title"]
    props.comments = ""
    props.keywords = ""
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return fixed_zip(buf.getvalue())
