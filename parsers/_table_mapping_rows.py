"""Stream the rows of a CSV or XLSX table for the ``table_mapping`` parser.

Each reader is a generator: it first yields the header (a list of strings),
then one ``Row`` per non-blank data row with the locator taken from the
reader (``line:N`` / ``line:N-M`` for CSV, ``xlsx:Sheet!row=N`` for XLSX).
Rows above the header row are a preamble and are not records; a row whose
cells are all empty is a blank separator and is not a record either.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from typing import Any

from atlas.errors import SourceError, UsageError
from atlas.parsing import Source
from atlas.provenance import line, lines, sheet_row
from parsers._table_io import ZIP_MAGIC, Row, csv_records, is_blank, open_workbook, sheet_values
from parsers._table_mapping_config import Mapping


def table_type(source: Source, mapping: Mapping) -> str:
    """Return ``csv`` or ``xlsx``: as the mapping says, else by the file's first bytes."""
    if mapping.table_type:
        return mapping.table_type
    return "xlsx" if source.head(4) == ZIP_MAGIC else "csv"


def csv_rows(source: Source, mapping: Mapping) -> Iterator[list[str] | Row]:
    """Yield the header, then each data row of a CSV file."""
    def bad_text(_first: int, exc: UnicodeDecodeError) -> SourceError:
        # The text layer decodes ahead of the csv reader, so find the line afresh.
        return SourceError(source.display_path, line(_bad_text_line(source, mapping)),
                           f"not valid {mapping.encoding} text ({exc.reason}); set "
                           f"table.encoding in the mapping {mapping.path}")

    with source.open_text(encoding=mapping.encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=mapping.delimiter, quotechar=mapping.quotechar,
                            strict=True)
        header_seen = False
        for first, last, cells in csv_records(source, reader, bad_text):
            if not header_seen:
                if first < mapping.header_row:
                    continue
                if first > mapping.header_row:
                    raise UsageError(f"mapping {mapping.path}: table.header_row: no record "
                                     f"starts at line {mapping.header_row} of "
                                     f"{source.display_path} (a quoted cell spans it)")
                header_seen = True
                yield [c.strip() for c in cells]
                continue
            if is_blank(cells):
                continue
            yield Row(lines(first, last), cells)
        if not header_seen:
            raise SourceError(source.display_path, None,
                              f"the file ends before the header row (line {mapping.header_row} "
                              f"set by table.header_row in {mapping.path})")


def _bad_text_line(source: Source, mapping: Mapping) -> int:
    """Return the 1-based line holding the first byte that does not decode."""
    decoder = codecs.getincrementaldecoder(mapping.encoding)()
    newlines = 0
    with source.open_binary() as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            state = decoder.getstate()
            try:
                newlines += decoder.decode(chunk).count("\n")
            except UnicodeDecodeError:
                decoder.setstate(state)
                for i in range(len(chunk)):
                    try:
                        newlines += decoder.decode(chunk[i:i + 1]).count("\n")
                    except UnicodeDecodeError:
                        return newlines + 1
    return newlines + 1


def xlsx_rows(source: Source, mapping: Mapping) -> Iterator[list[str] | Row]:
    """Yield the header, then each data row of one worksheet (read-only, cached values)."""
    with open_workbook(source) as workbook:
        name = mapping.sheet or workbook.sheetnames[0]
        if name not in workbook.sheetnames:
            raise UsageError(f"mapping {mapping.path}: table.sheet: no sheet {name!r} in "
                             f"{source.display_path}; sheets: "
                             f"{', '.join(workbook.sheetnames)}")
        header_seen = False
        for number, cells in sheet_values(source, workbook, name):
            if number < mapping.header_row:
                continue
            if not header_seen:
                header_seen = True
                yield [_header_text(c) for c in cells]
                continue
            if is_blank(cells):
                continue
            yield Row(sheet_row(name, number), cells)
        if not header_seen:
            raise SourceError(source.display_path, None,
                              f"sheet {name!r} ends before the header row "
                              f"(row {mapping.header_row} set by table.header_row)")


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
