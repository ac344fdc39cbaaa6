"""Draw the statement as an editable DOCX with python-docx, from the same blocks as the PDF.

The page header repeats the protective marking, the title and the URN; the footer holds the
signature line and "Page {PAGE} of {NUMPAGES}" as Word fields, so Word counts the pages after
its own layout. The declaration's page count is a NUMPAGES field too, its cached value the
count from the PDF layout. python-docx escapes XML itself; control characters, which it
refuses, were made visible by the content model.

Determinism: the core properties (created, modified, author, revision) come from the
statement, and the zip is rewritten with its entries in a fixed order and a fixed timestamp,
so the same statement gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile

from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

from atlas._report_model import Block, Statement

FONT = "Arial"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def _field(paragraph, instr: str, cached: str) -> None:  # noqa: ANN001 - a python-docx paragraph
    """Append a simple Word field (PAGE, NUMPAGES) with a cached result."""
    fld = OxmlElement("w:fldSimple")
    fld.set(qn("w:instr"), f" {instr} ")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = cached
    run.append(text)
    fld.append(run)
    paragraph._p.append(fld)


def _text(paragraph, text: str, bold: bool = False, size: float | None = None) -> None:  # noqa: ANN001
    """Append text, turning line breaks into Word line breaks."""
    for i, line in enumerate(text.split("\n")):
        run = paragraph.add_run(line)
        run.bold = bold or None
        if size:
            run.font.size = Pt(size)
        if i < len(text.split("\n")) - 1:
            run.add_break()


def _repeat_header(row) -> None:  # noqa: ANN001
    tr_pr = row._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    tr_pr.append(el)


def _table(doc, block: Block, width_mm: float) -> None:  # noqa: ANN001
    table = doc.add_table(rows=1 + len(block.rows), cols=len(block.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    widths = [Mm(w * width_mm) for w in block.widths] if block.widths else None
    for r, cells in enumerate([block.header, *block.rows]):
        row = table.rows[r]
        for c, value in enumerate(cells):
            cell = row.cells[c]
            if widths:
                cell.width = widths[c]
            p = cell.paragraphs[0]
            p.paragraph_format.space_after = Pt(0)
            _text(p, value, bold=(r == 0), size=7.5)
        if r == 0:
            _repeat_header(row)


def _furniture(doc, stmt: Statement) -> None:  # noqa: ANN001
    section = doc.sections[0]
    header = section.header
    first = header.paragraphs[0]
    if stmt.marking:
        first.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _text(first, stmt.marking, bold=True, size=8.5)
        first = header.add_paragraph()
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _text(first, stmt.title, bold=True, size=12)
    basis = header.add_paragraph()
    basis.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _text(basis, stmt.extra.get("legal_basis", ""), size=7.5)
    urn = header.add_paragraph()
    urn.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _text(urn, f"{stmt.labels['urn']}: {stmt.urn}", size=9)
    foot = section.footer.paragraphs[0]
    foot.paragraph_format.tab_stops.add_tab_stop(section.page_width - section.left_margin - section.right_margin,
                                                 WD_TAB_ALIGNMENT.RIGHT)
    page_label = stmt.labels["page"]
    before, rest = page_label.split("{page}", 1)
    middle, after = rest.split("{pages}", 1)
    _text(foot, stmt.labels["signed"] + "\t" + before, size=9)
    _field(foot, "PAGE", "1")
    _text(foot, middle, size=9)
    _field(foot, "NUMPAGES", str(stmt.extra.get("pages", 1)))
    if after:
        _text(foot, after, size=9)


def render_docx(stmt: Statement, pages: int) -> bytes:
    """Return the DOCX bytes of the statement."""
    doc = Document()
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(20)
    section.top_margin, section.bottom_margin = Mm(34), Mm(22)
    section.header_distance, section.footer_distance = Mm(8), Mm(8)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    for name in ("Heading 1", "Heading 2"):
        doc.styles[name].font.name = FONT
    stmt.extra["pages"] = pages
    _furniture(doc, stmt)

    lab = stmt.labels
    front = doc.add_table(rows=3, cols=2)
    for r, (label, value) in enumerate(((lab["statement_of"], stmt.maker), (lab["age"], stmt.age),
                                        (lab["occupation"], stmt.occupation))):
        _text(front.rows[r].cells[0].paragraphs[0], label, bold=True)
        _text(front.rows[r].cells[1].paragraphs[0], value)
    declaration = doc.add_paragraph()
    marker = "@@ATLAS-PAGES@@"
    before, after = stmt.declaration(marker).split(marker, 1)
    _text(declaration, before)
    _field(declaration, "NUMPAGES", str(pages))
    _text(declaration, after)
    _text(doc.add_paragraph(), f"{lab['signed']}   {lab['date']}: {stmt.date_text}")

    width_mm = 170.0
    for b in stmt.blocks:
        if b.kind == "heading":
            _text(doc.add_paragraph(style="Heading 1" if b.level == 1 else "Heading 2"), b.text)
        elif b.kind == "table":
            _table(doc, b, width_mm)
            doc.add_paragraph()
        elif b.kind == "item":
            _text(doc.add_paragraph(style="List Bullet"), b.text)
        else:
            p = doc.add_paragraph()
            if b.kind == "production":
                p.paragraph_format.left_indent = Mm(4)
            _text(p, b.text)

    props = doc.core_properties
    when = dt.datetime.combine(stmt.extra["date"], dt.time(0, 0), tzinfo=dt.UTC)
    props.author = props.last_modified_by = stmt.maker
    props.title = f"{stmt.title} {stmt.urn}"
    props.subject = stmt.title
    props.comments = ""
    props.keywords = ""
    props.created = props.modified = props.last_printed = when
    props.revision = 1
    buf = io.BytesIO()
    doc.save(buf)
    return fixed_zip(buf.getvalue())


def fixed_zip(data: bytes) -> bytes:
    """Rewrite a zip with entries in a fixed order and a fixed timestamp."""
    src = zipfile.ZipFile(io.BytesIO(data))
    names = sorted(src.namelist(), key=lambda n: (n != "[Content_Types].xml", n))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            dst.writestr(info, src.read(name))
    return out.getvalue()
