"""Low-level CSV and XLSX reading shared by the table parsers (``cdr_csv``, ``cell_sites``,
``tower_dump_csv``, ``anpr_csv``, ``table_mapping``, ``diary``).

Not a parser: no ``PARSER`` here. Each parser decides which row is its header
and what a row means; this module only streams records with the lines they
span, opens workbooks, and turns a reader failure into a ``SourceError`` that
names the place: the csv reader cannot resynchronise after broken quoting, and
skipping would lose every later row without trace. ``date_order_of`` reads the
day/month/year order an analyst's strptime format for a date column states.
"""

from __future__ import annotations

import csv
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from atlas.errors import SourceError
from atlas.parsing import Source
from atlas.provenance import line

ZIP_MAGIC = b"PK\x03\x04"


class Row(NamedTuple):
    """One non-blank row: its locator and cells (str for CSV, typed values for XLSX)."""

    locator: str
    cells: list[Any]


def is_blank(cells: list[Any]) -> bool:
    """Return True when every cell is empty or whitespace."""
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def csv_records(source: Source, reader: Any,
                bad_text: Callable[[int, UnicodeDecodeError], Exception] | None = None,
                ) -> Iterator[tuple[int, int, list[str]]]:
    """Yield (first line, last line, cells) for every record of ``reader``, blank ones included.

    Broken quoting is a ``SourceError`` at the line the record starts on. Text that
    does not decode becomes ``bad_text(first line, error)`` when given, else is raised as is.
    """
    # A field larger than csv's default 128 KiB is a long message, not corruption.
    csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))
    while True:
        first = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceError(source.display_path, line(first),
                              f"malformed CSV (broken quoting?): {exc}") from exc
        except UnicodeDecodeError as exc:
            if bad_text is None:
                raise
            raise bad_text(first, exc) from exc
        yield first, reader.line_num, cells


@contextmanager
def open_workbook(source: Source) -> Iterator[Any]:
    """Open ``source`` as a read-only XLSX workbook (cached values), closed on leaving."""
    from openpyxl import load_workbook  # heavy import, only for spreadsheets
    from openpyxl.utils.exceptions import InvalidFileException

    with source.open_binary() as fh:
        try:
            workbook = load_workbook(fh, read_only=True, data_only=True)
        except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
            raise SourceError(source.display_path, None,
                              f"not a readable XLSX workbook: {exc}") from exc
        try:
            yield workbook
        finally:
            workbook.close()


def sheet_values(source: Source, workbook: Any, name: str) -> Iterator[tuple[int, list[Any]]]:
    """Yield (row number, cell values) for every row of sheet ``name``, blank ones included."""
    sheet = workbook[name]
    sheet.reset_dimensions()  # exporters often write a wrong <dimension>; read every row
    try:
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(values)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise SourceError(source.display_path, None,
                          f"sheet {name!r} cannot be read: {exc}") from exc


def date_order_of(fmt: str) -> str | None:
    """Return ``dmy``/``mdy``/``ymd`` + ``:assumed`` for a numeric strptime date format."""
    spots = {k: fmt.find(d) for k, d in (("d", "%d"), ("m", "%m"), ("y", "%Y"))}
    if spots["y"] < 0:
        spots["y"] = fmt.find("%y")
    if min(spots.values()) < 0:
        return None
    return "".join(sorted(spots, key=spots.__getitem__)) + ":assumed"
