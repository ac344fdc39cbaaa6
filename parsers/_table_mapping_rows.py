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
import zipfile
from collections.abc import Iterator
from typing import Any, NamedTuple

from atlas.errors import SourceError, UsageError
from atlas.parsing import Source
from atlas.provenance import line, lines, sheet_row
from parsers._table_mapping_config import Mapping

ZIP_MAGIC = b"PK\x03\x04"


class Row(NamedTuple):
    """One data row: where it is, its cells (str for CSV, typed for XLSX)."""

    locator: str
    cells: list[Any]


def table_type(source: Source, mapping: Mapping) -> str:
    """Return ``csv`` or ``xlsx``: as the mapping says, else by the file's first bytes."""
    if mapping.table_type:
        return mapping.table_type
    return "xlsx" if source.head(4) == ZIP_MAGIC else "csv"


def is_blank(cells: list[Any]) -> bool:
    """Return True when every cell is empty or whitespace."""
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def csv_rows(source: Source, mapping: Mapping) -> Iterator[list[str] | Row]:
    """Yield the header, then each data row of a CSV file."""
    # A field larger than csv's default 128 KiB is a long message, not corruption.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    with source.open_text(encoding=mapping.encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=mapping.delimiter, quotechar=mapping.quotechar,
                            strict=True)
        header_seen = False
        while True:
            first = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                # csv cannot resynchronise after a broken quote; skipping would lose
                # every later row without trace, so stop the ingest and say where.
                raise SourceError(source.display_path, line(first),
                                  f"malformed CSV (broken quoting?): {exc}") from exc
            except UnicodeDecodeError as exc:
                # The text layer decodes ahead of the csv reader, so find the line afresh.
                raise SourceError(source.display_path, line(_bad_text_line(source, mapping)),
                                  f"not valid {mapping.encoding} text ({exc.reason}); set "
                                  f"table.encoding in the mapping {mapping.path}") from exc
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
            yield Row(lines(first, reader.line_num), cells)
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
    from openpyxl import load_workbook  # heavy import, only for spreadsheets
    from openpyxl.utils.exceptions import InvalidFileException

    with source.open_binary() as fh:
        try:
            workbook = load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
            raise SourceError(source.display_path, None,
                              f"not a readable XLSX workbook: {exc}") from exc
        try:
            name = mapping.sheet or workbook.sheetnames[0]
            if name not in workbook.sheetnames:
                raise UsageError(f"mapping {mapping.path}: table.sheet: no sheet {name!r} in "
                                 f"{source.display_path}; sheets: "
                                 f"{', '.join(workbook.sheetnames)}")
            sheet = workbook[name]
            # Exporters often write a wrong <dimension>; let openpyxl read every row.
            sheet.reset_dimensions()
            header_seen = False
            try:
                for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                    cells = list(values)
                    if number < mapping.header_row:
                        continue
                    if not header_seen:
                        header_seen = True
                        yield [_header_text(c) for c in cells]
                        continue
                    if is_blank(cells):
                        continue
                    yield Row(sheet_row(name, number), cells)
            except (zipfile.BadZipFile, KeyError, ValueError) as exc:
                raise SourceError(source.display_path, None,
                                  f"sheet {name!r} cannot be read: {exc}") from exc
            if not header_seen:
                raise SourceError(source.display_path, None,
                                  f"sheet {name!r} ends before the header row "
                                  f"(row {mapping.header_row} set by table.header_row)")
        finally:
            workbook.close()


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
