"""Magnet AXIOM CSV exports: one CSV per artifact type (Android SMS, WhatsApp Messages, Call Logs ...).

Format:
    UTF-8 CSV (optional BOM; UTF-16 with BOM is also read), one header row, one row
    per artifact hit. The artifact type is the file name (``Android SMS.csv``). Time
    columns are named ``<label> Date/Time - UTC<+hh:mm> (<.NET date pattern>)``, e.g.
    ``Message Sent Date/Time - UTC+00:00 (dd/MM/yyyy)``. Other columns are mapped by
    name: Partner/Partner Name/Local User (calls), Sender/Recipient(s)/Message/
    _ThreadID/Attachment (messages), Direction/Call Type/Message Status, Call
    Status/Status, Duration, Latitude/Longitude/Accuracy (locations), Display Name/
    Phone Number(s) (contacts, as ``contact`` hints with ``extra.hint``,
    ``saved_name``, ``identifiers`` and no time), Deleted/Deleted source/Recovery
    method. A file whose columns fit none of these still yields ``app_event`` rows.
    Every unmapped non-empty cell is kept under ``extra.fields``.
Time:
    The zone and the date pattern are read from each time column's header: the
    pattern is translated from .NET to ``strptime``; the clock part after the date
    (``13:05:09`` or ``1:05:09 PM``, as the examiner's Windows wrote it) is tried in
    the usual forms. The header's offset is applied (``utc-declared`` for
    UTC+00:00, else ``offset-in-source``); ``date_order`` comes from the pattern
    (e.g. ``dmy:inferred``). The main time is the first non-empty column in a
    per-kind order (calls: Call/Start; messages: Message Sent/Sent/.../Received;
    ...; ``extra.time_column`` names it); the other time columns go to
    ``extra.times`` as UTC ISO text, an ``End`` column to ``end_utc``. A row without
    any time is kept with ``tz_flag`` ``no_time`` and the flag ``no_timestamp``.
Locator:
    ``line:N``, N being the first physical line of the row (header = line 1); a
    quoted cell spanning lines does not shift later locators.
Limitations:
    No real AXIOM export was available: column names follow third-party code that
    reads AXIOM exports. The header offset is applied as a fixed offset; if the
    examiner's display zone observed summer time and AXIOM shifted values by date,
    the header would not say so (unverified) -- export in UTC+00:00 to be safe.
    "Deleted source"/"Recovery method: Carving" are read as ``recovered``; their
    exact meaning per AXIOM version is unverified. Recipients in one cell are split
    on ``;`` and new lines only. AXIOM's XLSX, HTML and .mfdb outputs are not read.
References:
    docs/formats.md section 1.3; acquiredsecurity/forensic-timeliner ``Docs/Axiom.md``
    and ``Tools/Axiom/*`` (time header shape ``... Date/Time - UTC+00:00 (M/d/yyyy)``);
    Microsoft .NET "Custom date and time format strings".
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterator

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import line
from parsers._axiom_csv_header import SNIFF, time_column
from parsers._axiom_csv_map import make_profile, map_row


def _encoding(head: bytes) -> str:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    return "utf-8-sig"


def sniff(head: bytes, filename: str) -> bool:
    """Return True when the first line carries an AXIOM time column header."""
    if not head:
        return False
    encoding = _encoding(head)
    sample = head[: len(head) - (len(head) % 2)] if encoding == "utf-16" else head
    text = sample.decode(encoding, errors="replace")
    first = text.split("\n", 1)[0]
    return bool(SNIFF.search(first))


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield exactly one event or one rejection per data row, in file order."""
    encoding = _encoding(source.head(4))
    artifact = os.path.splitext(os.path.basename(source.path))[0]
    with source.open_text(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, strict=True)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise NotThisFormat(f"first row is not a readable CSV header: {exc}") from exc
        if not header:
            raise NotThisFormat("the file is empty")
        times = []
        for index, name in enumerate(header):
            try:
                column = time_column(index, name)
            except ValueError as exc:
                raise SourceError(source.display_path, line(1), str(exc)) from exc
            if column is not None:
                times.append(column)
        if not times:
            raise NotThisFormat("no column header of the form '<label> Date/Time - UTC+hh:mm (pattern)'")
        profile = make_profile(artifact, header, times)
        while True:
            first_line = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                # csv cannot resynchronise after a broken quote; stop and say where.
                raise SourceError(source.display_path, line(first_line), f"malformed CSV: {exc}") from exc
            except UnicodeDecodeError as exc:
                raise SourceError(source.display_path, line(first_line),
                                  f"not valid {encoding} text ({exc.reason})") from exc
            if not cells or all(not cell.strip() for cell in cells):
                continue  # a blank line is not a record
            yield map_row(cells, line(first_line), profile, options)


PARSER = ParserSpec(
    name="axiom_csv",
    version="1.0",
    family="phone",
    summary="Magnet AXIOM CSV export (one artifact type per file; zone and date pattern in headers)",
    sniff=sniff,
    parse=parse,
    extensions=(".csv",),
)
