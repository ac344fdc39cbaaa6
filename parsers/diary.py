"""A victim's incident diary: plain text, Word (.docx), spreadsheet (.xlsx) or CSV.

Format:
    Victims are asked to log every incident; the log reaches the officer as
    typed text, a Word document or a spreadsheet, with dates written however
    the victim wrote them ("Tues 3rd Oct about 9pm", "yesterday evening",
    "03/10", "3/10/24 21:40", "Sunday night", "last Friday around 6",
    "Mon 2 Oct - 7.45am"; the grammar is in ``parsers._diary_dates``).
    Text and Word: an entry starts at a line or paragraph that begins with a
    date expression (in Word also at a Heading-styled paragraph once the
    first entry has begun) and runs to the next one; blank lines inside are
    kept, trailing ones dropped. ``text`` is the entry verbatim, date
    included; ``timestamp_source`` the date expression verbatim. A Word
    heading with no date is rejected on its own. Spreadsheet, CSV and Word
    tables: one row per entry under a header row (among the first ten
    non-blank rows) with a Date column, an optional Time column and a What
    happened / Description / Details / Incident column (case-insensitive);
    ``timestamp_source`` is the Date cell and the Time cell joined by a
    space (a typed Excel date is written ``YYYY-MM-DD [HH:MM]``; a typed
    midnight counts as a date alone), ``text`` is the description cell and
    other non-empty columns go to ``extra["columns"]``. A Time cell that
    cannot be read, or that repeats a time already in the Date cell, keeps
    the entry at the Date cell's precision, flagged ``time_cell_unread``
    (cell in ``extra["time_cell"]``); words after the date in a Date cell
    are flagged ``date_cell_extra_text``. Every entry is kind ``note``,
    channel ``diary``, direction ``none``, no sender.
    Header rule: the non-blank lines, paragraphs, Word tables without a diary
    header, or rows above a table's header row that come before the first
    entry are the diary's header, not records (at most ``HEADER_LIMIT``
    lines or paragraphs; later ones are rejected one by one). A stated period
    in it ("kept by ... from 1 September 2024 to 31 October 2024", "since",
    "starting", "Dates:") gives year and anchor context.
Time:
    Wall-clock time in ``options.source_tz`` (tz_basis ``assumed:<zone>``),
    converted with ``atlas.timeparse.from_local`` so clock-change times are
    flagged ``ambiguous``/``nonexistent``, never shifted. Numeric dates are
    day-first (``date_order`` ``dmy:assumed``; ISO ``ymd:inferred``) unless
    ``options.date_order`` is ``mdy``; two-digit years are 20YY. A year-less
    date takes the year that puts it nearest the previous entry, else the
    stated start (flag ``year_inferred``, ``extra["year_from"]``); with
    neither it is rejected. Relative days are read by dateparser (DATE_ORDER
    DMY, PREFER_DATES_FROM past, RETURN_AS_TIMEZONE_AWARE False) with
    RELATIVE_BASE the entry's own written date ("Mon 9 Oct - Sunday night"),
    else the previous resolved entry, else the stated start, never today
    (flags ``relative_to_own_date`` / ``relative_to_previous_entry`` /
    ``relative_to_diary_header``, anchor in ``extra["relative_to"]``).
    Numeric and month-name dates are read by the module's own patterns:
    dateparser would read "3/10/24" as 1924 under PREFER_DATES_FROM past and
    take missing years from today. ``extra["time_precision"]``: ``minute``
    (end_utc None), ``hour`` (one hour, or to the end of "9-10pm"),
    ``part_of_day`` (``PART_WINDOWS``: morning 06-12, afternoon 12-18,
    evening 18-22, night 22-06 ending on the next day, lunchtime 12-14,
    early hours 00-06) or ``day`` (midnight to midnight); timestamp_utc is
    the window's start, end_utc its end, each converted separately.
    "midnight" is the end of the stated day; with "night", hours before 6
    fall on the next day. Flags: ``approximate`` (about, around, approx,
    circa, ish), ``weekday_mismatch`` (written weekday differs from the
    date; the date is kept), ``am_pm_unstated`` (a 1-11 o'clock time with no
    am/pm and no part of day, read as morning), ``timestamp_out_of_order``
    (earlier than the previous entry), ``outside_stated_dates``. An entry
    whose day cannot be resolved ("the other day", "last week", an
    impossible date, no year or anchor) is rejected with the reason.
Locator:
    Text and CSV: ``line:N`` / ``line:N-M``. XLSX: ``xlsx:<sheet>!row=N``.
    Word: ``json:/paragraphs/I`` or ``json:/paragraphs/I-J`` (0-based indexes
    into the body paragraphs, as python-docx ``Document.paragraphs``) and
    ``json:/tables/T/rows/R`` (0-based into ``Document.tables`` and its rows,
    header row included).
Limitations:
    A continuation line that itself starts with a date word ("Sunday I told
    my mum", "Tonight ...") starts a new entry. Relative days counted from
    the previous entry assume the victim wrote in order; counted from the
    stated start they may fall before it (flagged). A bare hour ("around 6")
    is not turned into pm by guesswork. Only the date expression at the start
    of an entry (or in the Date/Time cells) is read, so a time written in the
    paragraph under a Word date heading is not used. Rows of a sheet or Word
    table without a diary header are rejected. Word files are read whole by
    python-docx. Text or CSV that is not UTF-8 is read as Windows-1252. A CSV
    row with text beyond the header's columns is rejected; short rows are
    padded. Quoted multi-line CSV cells keep their line endings.
References:
    dateparser settings, https://dateparser.readthedocs.io/en/latest/settings.html;
    python-docx, https://python-docx.readthedocs.io/; openpyxl read-only
    mode, https://openpyxl.readthedocs.io/en/stable/optimized.html;
    ``parsers._diary_resolve`` for the resolution rules.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import lines
from parsers._diary_dates import Lead, scan_lead
from parsers._diary_entries import docx_table_rows, event, table_entries
from parsers._diary_resolve import Context, read_stated_dates
from parsers._diary_sources import (
    HEADER_SEARCH_ROWS,
    csv_head_has_header,
    csv_table,
    docx_blocks,
    docx_paragraphs_locator,
    docx_row_locator,
    find_columns,
    text_encoding,
    text_lines,
    xlsx_has_header,
    xlsx_tables,
)

HEADER_LIMIT = 20  # non-blank lines/paragraphs before the first entry that count as the header
NAME_WORDS = ("diary", "incident log")
TABLE_NAME_WORDS = ("diary", "incident")
ZIP_MAGIC = b"PK\x03\x04"
# A chat export's message header ("03/10/2023, 21:40 - Name: text", "[03/10/2023, 21:40:12]
# Name: text"): such a file is a chat even when its name says diary.
CHAT_HEADER = re.compile(r"^\[?\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}, \d{1,2}:\d{2}(?::\d{2})?"
                         r"(?:\s?[APap]\.?[Mm]\.?)?(?:\] | - )[^:]{1,60}: ")


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a file named as a diary whose first bytes have a diary's structure."""
    if not head:
        return False
    name = filename.lower().replace("_", " ").replace("-", " ")
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    if ext in ("docx", "xlsx"):
        marker = b"word/" if ext == "docx" else b"xl/"
        return (any(w in name for w in TABLE_NAME_WORDS) and head.startswith(ZIP_MAGIC)
                and marker in head)
    text = head.decode("utf-8-sig", errors="replace")
    if ext == "csv":
        return any(w in name for w in TABLE_NAME_WORDS) and csv_head_has_header(text)
    if ext == "txt" and any(w in name for w in NAME_WORDS):
        first = text.splitlines()[:60]
        return any(_dated(ln) for ln in first) and not any(CHAT_HEADER.match(ln) for ln in first)
    return False


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per diary entry, in file order."""
    head = source.head()
    ctx = Context(zone=options.source_tz,
                  order="mdy" if options.date_order == "mdy" else "dmy",
                  order_label="mdy:assumed" if options.date_order == "mdy" else "dmy:assumed")
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(source.path) as zf:
                names = set(zf.namelist())
        except zipfile.BadZipFile as exc:
            raise SourceError(source.display_path, None,
                              f"not a readable Word or Excel file (truncated or corrupt?): {exc}"
                              ) from exc
        if "word/document.xml" in names:
            yield from _segments(docx_blocks(source), ctx, docx_paragraphs_locator, "paragraph")
        elif "xl/workbook.xml" in names:
            if not xlsx_has_header(source):
                raise NotThisFormat("no sheet has a Date and a What happened/Description header")
            yield from table_entries(xlsx_tables(source), ctx)
        else:
            raise NotThisFormat("a ZIP file that is neither a Word document nor a workbook")
    elif source.path.lower().endswith((".csv", ".tsv")):
        encoding = text_encoding(source)
        text = head.decode(encoding, errors="replace")
        if not csv_head_has_header(text):
            raise NotThisFormat("no Date and What happened/Description header in the first rows")
        yield from table_entries(csv_table(source, encoding), ctx)
    else:
        encoding = text_encoding(source)
        if not any(_dated(ln) for ln in head.decode(encoding, errors="replace").splitlines()):
            raise NotThisFormat("no line in the first 64 KiB starts with a date")
        yield from _text(source, encoding, ctx)


def _dated(text: str) -> bool:
    lead = scan_lead(text)
    return lead is not None and lead.day_kind in ("iso", "numeric", "words")


def _text(source: Source, encoding: str, ctx: Context) -> Iterator[EventDraft | Rejection]:
    blocks = (("p", number, text, False) for number, text in text_lines(source, encoding))
    yield from _segments(blocks, ctx, lines, "line")


def _segments(blocks: Iterator[tuple[str, int, Any, bool]], ctx: Context,
              where: Callable[[int, int], str], unit: str) -> Iterator[EventDraft | Rejection]:
    """Group lines or paragraphs into entries; hand Word tables to the table reader."""
    block: list[str] = []
    lead = None
    first = last = header = 0
    started = False
    for kind, index, content, heading in blocks:
        if kind == "t":
            rows = [(docx_row_locator(index, r), cells) for r, cells in enumerate(content)]
            columns = next(filter(None, (find_columns(c) for _, c in rows[:HEADER_SEARCH_ROWS])),
                           None)
            if columns is None and not started:
                for _, cells in rows:  # a table in the header, e.g. name and period
                    read_stated_dates(" ".join(cells), ctx)
                continue
            if block:
                yield _entry(where(first, last), lead, block[: last - first + 1], ctx)
                block = []
            started = True
            yield from table_entries(docx_table_rows(rows, columns, index), ctx)
            continue
        found = scan_lead(content)
        if found is not None or (heading and started and content.strip()):
            if block:
                yield _entry(where(first, last), lead, block[: last - first + 1], ctx)
            block, lead, first, last, started = [content], found, index, index, True
        elif block:
            block.append(content)
            if content.strip():
                last = index
        elif content.strip():
            header += 1
            if header > HEADER_LIMIT:
                yield Rejection(where(index, index), f"text before the first dated entry, beyond "
                                f"the {HEADER_LIMIT}-{unit} header", content)
            else:
                read_stated_dates(content, ctx)
    if block:
        yield _entry(where(first, last), lead, block[: last - first + 1], ctx)


def _entry(where: str, lead: Lead | None, block: list[str], ctx: Context) -> EventDraft | Rejection:
    text = "\n".join(block)
    if lead is None:
        return Rejection(where, f"heading {block[0].strip()!r} does not start with a date", text)
    return event(where, lead, lead.text, text, ctx, {})


PARSER = ParserSpec(
    name="diary",
    version="1.0",
    family="diary",
    summary="Victim's incident diary (text, Word, spreadsheet or CSV) with free-written dates",
    sniff=sniff,
    parse=parse,
    extensions=(".txt", ".docx", ".xlsx", ".csv"),
)
