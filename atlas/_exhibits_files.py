"""Writing derived exhibit files deterministically: CSV and XLSX with inert cells, fixed zips.

Every cell written here goes through ``cell_text``: control characters and bidirectional
overrides are shown as ``[U+XXXX]`` (``atlas._report_model.inert``) and a leading formula
character gets a quote prefix (``atlas.timeline.neutralise``), so text written by a suspect
cannot run as a formula or reorder what a reader sees. XLSX cells are typed explicitly: numbers
as numbers, everything else as text (never a formula). The workbook's properties and the zip
entries' dates are fixed, so the same tables give the same bytes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from atlas._report_model import inert
from atlas.timeline import neutralise

FIXED_TIME = dt.datetime(2000, 1, 1, 0, 0, 0)  # noqa: DTZ001 - a fixed stamp, not a wall-clock reading
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_INT = re.compile(r"-?(0|[1-9]\d{0,14})")
_FLOAT = re.compile(r"-?(0|[1-9]\d{0,14})\.\d{1,12}")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def cell_text(value: object, transform: Callable[[str], str] | None = None) -> str:
    """Return a cell as inert text (see the module docstring); ``transform`` runs first (redaction)."""
    text = "" if value is None else str(value)
    if transform is not None:
        text = transform(text)
    # A neutralised cell read back starts with the quote already: neutralise is idempotent.
    return neutralise(inert(text))


def read_csv(path: Path) -> list[list[str]]:
    """Read a CSV written by Atlas (UTF-8, optional BOM)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return [list(row) for row in csv.reader(fh)]


def write_csv(path: Path, rows: Iterable[Sequence[object]], transform: Callable[[str], str] | None = None) -> None:
    """Write rows as CSV that Excel opens (UTF-8 with BOM, CRLF), every cell inert."""
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        for row in rows:
            writer.writerow([cell_text(v, transform) for v in row])


def write_xlsx(path: Path, sheets: Sequence[tuple[str, Sequence[Sequence[object]]]],
               transform: Callable[[str], str] | None = None) -> None:
    """Write one worksheet per ``(name, rows)``; the first row of each is its header."""
    wb = Workbook(write_only=True)
    wb.properties.creator = "Atlas"
    wb.properties.lastModifiedBy = "Atlas"
    wb.properties.created = FIXED_TIME
    wb.properties.modified = FIXED_TIME
    used: set[str] = set()
    for name, rows in sheets:
        ws = wb.create_sheet(_sheet_name(name, used))
        for row in rows:
            ws.append([_cell(ws, v, transform) for v in row])
    buffer = io.BytesIO()
    wb.save(buffer)
    fix_zip(buffer.getvalue(), path)


def fix_zip(data: bytes, path: Path) -> None:
    """Rewrite a zip with every entry dated ``ZIP_TIME``, in the same order, deflated."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            body = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps the save time here
                body = _MODIFIED.sub(rb"\g<1>2000-01-01T00:00:00Z\g<2>", body)
            dst.writestr(fixed, body)
    path.write_bytes(out.getvalue())


def _cell(ws, value: object, transform: Callable[[str], str] | None) -> WriteOnlyCell:  # noqa: ANN001
    if isinstance(value, bool):
        value = str(value).lower()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return WriteOnlyCell(ws, value=value)
    text = "" if value is None else str(value)
    if _INT.fullmatch(text):
        return WriteOnlyCell(ws, value=int(text))
    if _FLOAT.fullmatch(text):
        return WriteOnlyCell(ws, value=float(text))
    cell = WriteOnlyCell(ws, value=cell_text(text, transform))
    cell.data_type = "s"  # text, whatever it starts with: never a formula
    return cell


def _sheet_name(name: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub("_", name)[:31] or "Sheet"
    candidate, k = base, 2
    while candidate.lower() in used:
        suffix = f"~{k}"
        candidate, k = base[: 31 - len(suffix)] + suffix, k + 1
    used.add(candidate.lower())
    return candidate
