"""Draw the statement as a fixed PDF with reportlab.

Every page carries the MG11 header (protective marking, title, URN) and a footer with the
signature line and "Page X of Y"; Y is known only after layout, so a canvas keeps each page
and draws the footer when the document is saved. The declaration states the page count too,
so the document is laid out again with the count found until the count stops changing.

Text is XML-escaped before reportlab's Paragraph sees it (Paragraph parses markup such as
``<b>``), and was made ``inert`` by the content model. The font is DejaVu Sans, shipped with
matplotlib, so text in any script is drawn and extracted as written. ``invariant=1`` fixes
the document id and dates, so the same statement gives the same bytes.
"""

from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Frame,
    PageTemplate,
    Paragraph,
    Spacer,
    Table,
    TableStyle,
)

from atlas._report_model import Block, Statement
from atlas.errors import AtlasError

PAGE_W, PAGE_H = A4
MARGIN_X = 20 * mm
TOP = 34 * mm      # header band
BOTTOM = 22 * mm   # footer band
FRAME_W = PAGE_W - 2 * MARGIN_X
_HASH_LINE = re.compile(r"(\S+ )?[0-9a-f]{16}…?")


@lru_cache(maxsize=1)
def fonts() -> tuple[str, str, str]:
    """Register DejaVu Sans (regular, bold, mono) from matplotlib's data folder."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    names = (("AtlasSans", "DejaVuSans.ttf"), ("AtlasSans-Bold", "DejaVuSans-Bold.ttf"),
             ("AtlasMono", "DejaVuSansMono.ttf"))
    for name, file in names:
        pdfmetrics.registerFont(TTFont(name, str(folder / file)))
    pdfmetrics.registerFontFamily("AtlasSans", normal="AtlasSans", bold="AtlasSans-Bold",
                                  italic="AtlasSans", boldItalic="AtlasSans-Bold")
    return "AtlasSans", "AtlasSans-Bold", "AtlasMono"


def _styles() -> dict[str, ParagraphStyle]:
    regular, bold, mono = fonts()
    base = ParagraphStyle("body", fontName=regular, fontSize=10, leading=13.5, spaceAfter=6)
    return {
        "body": base,
        "h1": ParagraphStyle("h1", base, fontName=bold, fontSize=11.5, leading=15, spaceBefore=10, spaceAfter=5,
                             keepWithNext=1),
        "h2": ParagraphStyle("h2", base, fontName=bold, fontSize=10, leading=13, spaceBefore=7, spaceAfter=4,
                             keepWithNext=1),
        "item": ParagraphStyle("item", base, leftIndent=12, bulletIndent=2, spaceAfter=4, bulletFontName=regular),
        "production": ParagraphStyle("production", base, leftIndent=12),
        "cell": ParagraphStyle("cell", base, fontSize=7.5, leading=9.2, spaceAfter=0),
        "cellhead": ParagraphStyle("cellhead", base, fontName=bold, fontSize=7.5, leading=9.2, spaceAfter=0),
        "mono": ParagraphStyle("mono", base, fontName=mono, fontSize=6.6, leading=8.2, spaceAfter=0),
        "label": ParagraphStyle("label", base, fontName=bold, spaceAfter=0),
        "value": ParagraphStyle("value", base, spaceAfter=0),
        "signature": ParagraphStyle("signature", base, spaceBefore=10),
    }


def markup(text: str) -> str:
    """Return text as reportlab Paragraph markup: escaped, line breaks kept."""
    return escape(text).replace("\n", "<br/>")


def _is_hash(cell: str) -> bool:
    """Return whether a cell holds SHA-256 values (drawn in a fixed-width font)."""
    return bool(cell) and all(_HASH_LINE.fullmatch(line) for line in cell.split("\n"))


def _table(block: Block, st: dict[str, ParagraphStyle]) -> Table:
    head = [Paragraph(markup(h), st["cellhead"]) for h in block.header]
    body = [[Paragraph(markup(c), st["mono"] if _is_hash(c) else st["cell"]) for c in row] for row in block.rows]
    widths = [w * FRAME_W for w in block.widths] if block.widths else None
    table = Table([head, *body], colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return table


def flowables(stmt: Statement, pages: int) -> list:
    """Return the flowables: the MG11 front (fields, declaration, signature) and the body."""
    st = _styles()
    lab = stmt.labels
    fields = [[Paragraph(markup(lab["statement_of"]), st["label"]), Paragraph(markup(stmt.maker), st["value"])],
              [Paragraph(markup(lab["age"]), st["label"]), Paragraph(markup(stmt.age), st["value"])],
              [Paragraph(markup(lab["occupation"]), st["label"]), Paragraph(markup(stmt.occupation), st["value"])]]
    front = Table(fields, colWidths=[0.3 * FRAME_W, 0.7 * FRAME_W], hAlign="LEFT")
    front.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LINEBELOW", (0, -1), (-1, -1), 0.4, colors.grey),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 4)]))
    out: list = [front, Spacer(1, 6), Paragraph(markup(stmt.declaration(pages)), st["body"]),
                 Paragraph(markup(f"{lab['signed']}   {lab['date']}: {stmt.date_text}"), st["signature"]),
                 Spacer(1, 8)]
    for b in stmt.blocks:
        if b.kind == "heading":
            out.append(Paragraph(markup(b.text), st["h1" if b.level == 1 else "h2"]))
        elif b.kind == "table":
            out += [_table(b, st), Spacer(1, 6)]
        elif b.kind == "item":
            out.append(Paragraph(markup(b.text), st["item"], bulletText="•"))
        elif b.kind == "signature":
            out.append(Paragraph(markup(b.text), st["signature"]))
        else:
            out.append(Paragraph(markup(b.text), st["production" if b.kind == "production" else "body"]))
    return out


def _canvas_class(stmt: Statement) -> type[Canvas]:
    regular, bold, _ = fonts()
    lab = stmt.labels

    class StatementCanvas(Canvas):
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
            top = PAGE_H - 12 * mm
            if stmt.marking:
                self.setFont(bold, 8.5)
                self.drawCentredString(PAGE_W / 2, top + 4, stmt.marking)
            self.setFont(bold, 12)
            self.drawCentredString(PAGE_W / 2, top - 10, stmt.title)
            self.setFont(regular, 7.5)
            self.drawCentredString(PAGE_W / 2, top - 20, stmt.extra.get("legal_basis", ""))
            self.setFont(regular, 9)
            self.drawRightString(PAGE_W - MARGIN_X, top - 10, f"{lab['urn']}: {stmt.urn}")
            self.setLineWidth(0.5)
            self.line(MARGIN_X, PAGE_H - TOP + 4 * mm, PAGE_W - MARGIN_X, PAGE_H - TOP + 4 * mm)
            self.line(MARGIN_X, BOTTOM - 4 * mm, PAGE_W - MARGIN_X, BOTTOM - 4 * mm)
            self.setFont(regular, 9)
            self.drawString(MARGIN_X, BOTTOM - 11 * mm, lab["signed"])
            self.drawRightString(PAGE_W - MARGIN_X, BOTTOM - 11 * mm,
                                 lab["page"].format(page=number, pages=total))

    return StatementCanvas


def _build(stmt: Statement, pages: int) -> tuple[bytes, int]:
    buf = io.BytesIO()
    doc = BaseDocTemplate(buf, pagesize=A4, leftMargin=MARGIN_X, rightMargin=MARGIN_X, topMargin=TOP,
                          bottomMargin=BOTTOM, invariant=1, title=f"{stmt.title} {stmt.urn}",
                          author=stmt.maker, subject=stmt.title, creator="Atlas", producer="Atlas")
    frame = Frame(MARGIN_X, BOTTOM, FRAME_W, PAGE_H - TOP - BOTTOM, id="body", leftPadding=0, rightPadding=0,
                  topPadding=0, bottomPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    canvas_class = _canvas_class(stmt)
    counted: list[int] = []

    class Counting(canvas_class):  # type: ignore[misc, valid-type]
        def save(self) -> None:
            counted.append(len(self._pages))
            super().save()

    doc.build(flowables(stmt, pages), canvasmaker=Counting)
    return buf.getvalue(), counted[-1]


def render_pdf(stmt: Statement) -> tuple[bytes, int]:
    """Return the PDF bytes and its page count, the declaration stating that count."""
    pages = 1
    for _ in range(6):
        data, got = _build(stmt, pages)
        if got == pages:
            return data, pages
        pages = got
    raise AtlasError("the statement's page count did not settle after six layouts; this is a defect")

