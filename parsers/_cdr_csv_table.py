"""Stream the rows of an operator's CSV or XLSX table (``cdr_csv`` and ``cell_sites``).

``table_rows`` yields every row that is not blank, in file order, with its
locator taken from the reader (``line:N`` / ``line:N-M`` for CSV, counted by
the csv module, header and title rows included; ``xlsx:<sheet>!row=N`` for
XLSX as the spreadsheet numbers rows). Which row is the header is the
caller's decision. Broken CSV quoting or undecodable text is a file-level
``SourceError`` naming the line: the csv reader cannot resynchronise, and
skipping would lose every later row without trace.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import islice
from typing import Any

from atlas.errors import SourceError
from atlas.parsing import Source
from atlas.provenance import line, lines, sheet_row
from parsers._table_io import ZIP_MAGIC, Row, csv_records, is_blank, open_workbook, sheet_values


def is_xlsx(source: Source) -> bool:
    """Return True when the file is a ZIP container (an XLSX workbook)."""
    return source.head(4) == ZIP_MAGIC


def cell_text(value: Any) -> str:
    """Return a cell as stripped text (XLSX numbers typed as whole floats lose the ``.0``)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value).strip()


def first_rows(source: Source, n: int, *, xlsx: bool, delimiter: str = ",",
               encoding: str = "utf-8-sig", sheet: str | None = None) -> list[Row]:
    """Return up to ``n`` first non-blank rows (for choosing a profile or layout).

    Rows before a file-level error are returned; the error itself is raised only
    when it is in the very first row (the stream raises it later with its line).
    """
    rows = table_rows(source, xlsx=xlsx, delimiter=delimiter, encoding=encoding, sheet=sheet)
    got: list[Row] = []
    try:
        got.extend(islice(rows, n))
    except SourceError:
        if not got:
            raise
        # A broken row after the first ones is reported, with its line, when streaming.
    finally:
        rows.close()
    return got


def table_rows(source: Source, *, xlsx: bool, delimiter: str = ",", encoding: str = "utf-8-sig",
               sheet: str | None = None) -> Iterator[Row]:
    """Yield each non-blank row of the CSV file or of one worksheet, in file order."""
    if xlsx:
        yield from _xlsx_rows(source, sheet)
        return
    def bad_text(first: int, exc: UnicodeDecodeError) -> SourceError:
        return SourceError(source.display_path, line(first),
                           f"not valid {encoding} text ({exc.reason}) at or after this "
                           "line; give table.encoding in a mapping file")

    with source.open_text(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter, strict=True)
        for first, last, cells in csv_records(source, reader, bad_text):
            if not is_blank(cells):
                yield Row(lines(first, last), cells)


def _xlsx_rows(source: Source, sheet: str | None) -> Iterator[Row]:
    with open_workbook(source) as workbook:
        name = sheet or workbook.sheetnames[0]
        if name not in workbook.sheetnames:
            raise SourceError(source.display_path, None,
                              f"no sheet {name!r}; sheets: {', '.join(workbook.sheetnames)}")
        for number, cells in sheet_values(source, workbook, name):
            if not is_blank(cells):
                yield Row(sheet_row(name, number), cells)
