"""Read the three shapes a diary arrives in: lines of text, table rows, Word blocks.

Each reader streams what the ``diary`` parser segments: text lines with their
numbers; table rows with a locator and the header's column plan; Word
paragraphs and tables in body order. Header-column recognition lives here too.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from atlas.errors import SourceError
from atlas.parsing import Source
from atlas.provenance import line, lines, pointer, sheet_row
from parsers._table_io import csv_records, is_blank, open_workbook

HEADER_SEARCH_ROWS = 10  # a table's header row must be among its first ten non-blank rows
DATE_HEADERS = ("date", "day", "when", "date/time", "date and time", "date & time",
                "date of incident", "incident date", "date and time of incident")
TIME_HEADERS = ("time", "times", "approx time", "approx. time", "approximate time",
                "time of incident", "incident time")
TEXT_HEADERS = ("what happened", "description", "details", "incident", "incident details",
                "details of incident", "description of incident", "incident description",
                "summary", "notes", "event")


class TypedDate(str):
    """A spreadsheet cell that was already a date-time, written ISO (``2024-10-03 21:40``)."""

    __slots__ = ()


@dataclass(frozen=True)
class Columns:
    """Where the date, optional time and description are in a header row."""

    headers: tuple[str, ...]
    date: int
    time: int | None
    text: int


@dataclass(frozen=True)
class TableRow:
    """One non-blank data row of a diary table."""

    locator: str
    cells: list[Any]
    columns: Columns


def normalise_header(cell: Any) -> str:
    """Return a header cell lower-cased, spaces collapsed, trailing ``?:*`` dropped."""
    return " ".join(str(cell or "").lower().split()).rstrip("?:* ")


def find_columns(cells: list[Any]) -> Columns | None:
    """Return the column plan when ``cells`` is a diary header row, else None."""
    names = [normalise_header(c) for c in cells]
    date_col = time_col = text_col = None
    for i, name in enumerate(names):
        if date_col is None and (name in DATE_HEADERS or name.startswith("date")):
            date_col = i
        elif time_col is None and (name in TIME_HEADERS or name.startswith("time ")):
            time_col = i
        elif text_col is None and (name in TEXT_HEADERS or "what happened" in name
                                   or "description" in name or "details" in name):
            text_col = i
    if date_col is None or text_col is None:
        return None
    headers = tuple(str(c).strip() if c is not None else "" for c in cells)
    return Columns(headers, date_col, time_col, text_col)


def text_encoding(source: Source) -> str:
    """Return ``utf-8-sig`` when the whole file decodes as UTF-8, else ``cp1252`` (Windows)."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    with source.open_binary() as fh:
        try:
            for chunk in iter(lambda: fh.read(1 << 16), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "cp1252"
    return "utf-8-sig"


def text_lines(source: Source, encoding: str) -> Iterator[tuple[int, str]]:
    """Yield (line number, line without its newline) for a text diary."""
    number = 0
    try:
        with source.open_text(encoding=encoding, newline=None) as fh:
            for number, raw in enumerate(fh, start=1):
                yield number, raw.rstrip("\n")
    except UnicodeDecodeError as exc:
        raise SourceError(source.display_path, line(number + 1),
                          f"not {encoding} text: {exc.reason}") from exc


def csv_table(source: Source, encoding: str) -> Iterator[str | TableRow]:
    """Yield preamble text (rows above the header), then each data row of a CSV diary."""
    with source.open_text(encoding=encoding, newline="") as fh:
        delimiter = csv_delimiter(fh.read(1 << 16))
        fh.seek(0)
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        columns, seen = None, 0
        for first, last, cells in csv_records(source, reader):
            if is_blank(cells):
                continue
            if columns is None:
                columns = find_columns(cells)
                seen += 1
                if columns is None:
                    if seen >= HEADER_SEARCH_ROWS:
                        raise SourceError(source.display_path, None, "no header row with a Date "
                                          "and a What happened/Description column")
                    yield " ".join(str(c) for c in cells)
                continue
            yield TableRow(lines(first, last), cells, columns)


def csv_delimiter(text: str) -> str:
    """Return the most frequent of comma, semicolon and tab in the first lines of ``text``."""
    sample = "\n".join(text.splitlines()[:HEADER_SEARCH_ROWS])
    return max(",;\t", key=sample.count)


def csv_head_has_header(text: str) -> bool:
    """Return True when a diary header row is among the first non-blank rows of CSV ``text``."""
    reader = csv.reader(io.StringIO(text), delimiter=csv_delimiter(text))
    try:
        rows = [r for r in itertools.islice(reader, 3 * HEADER_SEARCH_ROWS) if not is_blank(r)]
    except csv.Error:
        return False
    return any(find_columns(r) for r in rows[:HEADER_SEARCH_ROWS])


@dataclass(frozen=True)
class LooseRow:
    """A non-blank row of a sheet that has no diary header row."""

    locator: str
    cells: list[Any]
    container: str  # "sheet 'Log'" or "Word table 2", for the rejection reason


def xlsx_tables(source: Source) -> Iterator[str | TableRow | LooseRow]:
    """Yield, sheet by sheet: preamble text, then data rows (``LooseRow`` without a header)."""
    with open_workbook(source) as workbook:
        for name in workbook.sheetnames:
            columns, held = None, []
            for number, cells in _sheet_rows(source, workbook, name):
                if columns is not None:
                    yield TableRow(sheet_row(name, number), cells, columns)
                elif len(held) >= HEADER_SEARCH_ROWS:
                    yield LooseRow(sheet_row(name, number), cells, f"sheet {name!r}")
                else:
                    columns = find_columns(cells)
                    if columns is not None:
                        yield from (" ".join(str(c) for c in h if c is not None) for _, h in held)
                        held = []
                    else:
                        held.append((number, cells))
                        if len(held) == HEADER_SEARCH_ROWS:
                            yield from (LooseRow(sheet_row(name, n), h, f"sheet {name!r}")
                                        for n, h in held)
            if columns is None and len(held) < HEADER_SEARCH_ROWS:
                yield from (LooseRow(sheet_row(name, n), h, f"sheet {name!r}")
                            for n, h in held)


def xlsx_has_header(source: Source) -> bool:
    """Return True when some sheet has a diary header among its first non-blank rows."""
    with open_workbook(source) as workbook:
        for name in workbook.sheetnames:
            for seen, (_, cells) in enumerate(_sheet_rows(source, workbook, name), start=1):
                if find_columns(cells) is not None:
                    return True
                if seen >= HEADER_SEARCH_ROWS:
                    break
    return False


def _sheet_rows(source: Source, workbook: Any, name: str) -> Iterator[tuple[int, list[Any]]]:
    sheet = workbook[name]
    sheet.reset_dimensions()  # exporters often write a wrong <dimension>; read every row
    try:
        for number, row in enumerate(sheet.iter_rows(), start=1):
            cells = [_cell_value(c) for c in row]
            if not is_blank(cells):
                yield number, cells
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SourceError(source.display_path, sheet_row(name, 1),
                          f"sheet {name!r} cannot be read: {exc}") from exc


def _cell_value(cell: Any) -> Any:
    """Return a cell's value; a typed date-time is written ISO, a date alone without a time."""
    value = getattr(cell, "value", None)
    if isinstance(value, datetime):
        if value.date().isoformat() in ("1899-12-30", "1899-12-31", "1900-01-01"):
            return value.strftime("%H:%M")  # a time-only cell read as a date-time
        # Excel's default date-time format shows 00:00 for a date typed alone, so a
        # typed midnight is read as a date; the Time column (if any) then gives the time.
        if value.time() != time():
            return TypedDate(value.strftime("%Y-%m-%d %H:%M"))
        return TypedDate(value.strftime("%Y-%m-%d"))
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


def docx_blocks(source: Source) -> Iterator[tuple[str, int, Any, bool]]:
    """Yield ("p", index, text, is_heading) and ("t", index, cell texts, False) in body order."""
    from docx import Document  # heavy import, only for Word files
    from docx.opc.exceptions import PackageNotFoundError
    from docx.text.paragraph import Paragraph

    with source.open_binary() as fh:
        try:
            document = Document(fh)
        except (zipfile.BadZipFile, PackageNotFoundError, KeyError, ValueError) as exc:
            raise SourceError(source.display_path, None,
                              f"not a readable Word document: {exc}") from exc
    paragraphs = tables = 0
    for block in document.iter_inner_content():
        if isinstance(block, Paragraph):
            style = (block.style.name if block.style is not None else "") or ""
            yield "p", paragraphs, block.text, style.lower().startswith("heading")
            paragraphs += 1
        else:
            rows = [[cell.text for cell in row.cells] for row in block.rows]
            yield "t", tables, rows, False
            tables += 1


def docx_row_locator(table: int, row: int) -> str:
    """Return the locator of a Word table row (both 0-based, header row included)."""
    return pointer(f"/tables/{table}/rows/{row}")


def docx_paragraphs_locator(first: int, last: int) -> str:
    """Return the locator of Word body paragraphs ``first``..``last`` (0-based)."""
    return pointer(f"/paragraphs/{first}" if last <= first else f"/paragraphs/{first}-{last}")
