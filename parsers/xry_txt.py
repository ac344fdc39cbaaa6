"""MSAB XRY text exports: one ``.txt`` per category (Calls, Messages/SMS, Contacts ...).

Format:
    UTF-16LE with a byte-order mark as XRY writes it (UTF-16BE and UTF-8, with or
    without BOM, are also read). A five-line header starts with ``XRY export``; its
    third line is the report type (``Calls``, ``Messages/SMS``, ``Contacts/Contacts``,
    ``Device/General Information``, ``Locations`` ...). Then one block per record: a
    title line ``<Category> #<tab><n>`` and ``Key:<tab>Value`` lines. A line holding
    only ``From``/``To``/``Participant`` says whose ``Tel``/``Name`` follows; a line
    holding only ``Deleted``, a ``Deleted: Yes`` key or ``Status: Deleted`` marks a
    deleted record. Calls become ``call`` events (Call Type/Direction, Duration
    ``hh:mm:ss``, number, status such as ``missed``); messages become ``sms``/``mms``
    or ``chat_message`` when ``Related Application`` names an app (the channel);
    contacts become ``contact`` hints (``extra.hint``, ``saved_name``,
    ``identifiers``, no time); locations ``location_fix``; device information
    ``device_info``. Unused keys are kept verbatim in ``extra.fields``.
Time:
    ``Time`` values such as ``1/2/2019 1:23:45 PM (Device)`` or ``23/01/2019
    13:23:45 UTC+1 (Network)``. A written offset or ``UTC`` decides the zone
    (``offset-in-source``/``utc-declared``); a time without one is the phone's
    wall-clock time, read in ``options.source_tz`` (``assumed:<zone>``) and flagged
    by ``atlas.timeparse`` when it falls in a clock change. The bracketed clock
    (``device``/``network``) is kept in ``extra.time_source``. Numeric dates follow
    the examiner's locale: the day/month order is taken from ``options.date_order``,
    else inferred from the file's dates (a first field over 12 means day-first), else
    ``options.default_date_order`` (``date_order`` says which, e.g. ``dmy:inferred``);
    a file mixing both orders is refused with a request for ``--date-order``.
Locator:
    ``line:N-M``, the physical lines of the record block (header line 1 = line 1).
Limitations:
    Report types other than calls, messages, contacts, locations and device
    information (e.g. Web/Bookmarks) are rejected record by record, not mapped.
    Segmented SMS (``Reference Number``/``Segment Number``) yield one event per
    segment, flagged ``message_segment``, not one joined message. A blank line ends a
    record only when the next text line is a record title of the same category, so
    messages with blank lines stay whole. The file is read twice (once to settle the
    date order); XRY's XML/CSV/XLSX/PDF exports are not read by this parser. No real
    XRY export was available: the layout follows Autopsy's reader.
References:
    sleuthkit/autopsy ``Core/src/org/sleuthkit/autopsy/datasourceprocessors/xry/``
    (XRYFileReader, XRYCallsFileParser, XRYMessagesFileParser, XRYContactsFileParser,
    XRYUtils) and its ``XRYFileReaderTest`` samples; docs/formats.md section 1.2.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import line
from parsers._xry_txt_block import TITLE, split_block
from parsers._xry_txt_map import Context, map_block
from parsers._xry_txt_time import date_evidence

HEADER_START = "xry export"
HEADER_LINES = 5  # Autopsy: "Assume all headers are 5 lines in length", type on line 3
_TIME_LINE = re.compile(r"^\s*(?:time|date/time|timestamp|start time|end time|date)\s*:\s+(?P<v>.+)$",
                        re.I)


def _encoding(head: bytes) -> str:
    if head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff"):
        return "utf-16"
    if head.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if len(head) >= 4 and head[1] == 0 and head[3] == 0 and head[0] != 0:
        return "utf-16-le"
    return "utf-8"


def sniff(head: bytes, filename: str) -> bool:
    """Return True for text starting with an ``XRY export`` header or an XRY record title."""
    if not head:
        return False
    encoding = _encoding(head)
    sample = head[: len(head) - (len(head) % 2)] if encoding.startswith("utf-16") else head
    text = sample[:8192].decode(encoding, errors="replace").lstrip("\ufeff")
    found = [ln for ln in text.splitlines()[:12] if ln.strip()]
    if not found:
        return False
    if found[0].strip().lower() == HEADER_START:
        return True
    # Header-less export: a title with a tab before the number, then a Key:<tab>Value line.
    return (encoding.startswith("utf-16") and len(found) > 1 and bool(TITLE.match(found[0]))
            and bool(re.match(r"^\s*[^:\t]{1,60}:\s", found[1])))


def _lines(source: Source, encoding: str) -> Iterator[tuple[int, str]]:
    number = 0
    with source.open_text(encoding=encoding, newline=None) as fh:
        try:
            for number, raw in enumerate(fh, start=1):  # noqa: B007 - used after the loop
                yield number, raw.rstrip("\r\n").lstrip("\ufeff") if number == 1 else raw.rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise SourceError(source.display_path, line(number + 1),
                              f"not valid {encoding} text ({exc.reason}); the export may be damaged") from exc


def _date_order(source: Source, encoding: str, options: ParseOptions) -> tuple[str, str]:
    """Return (order, date_order label): given, inferred from the file, or the default."""
    if options.date_order:
        return options.date_order, f"{options.date_order}:assumed"
    seen: dict[str, int] = {}
    for number, text in _lines(source, encoding):
        match = _TIME_LINE.match(text)
        if match:
            got = date_evidence(match.group("v"))
            if got and got not in seen:
                seen[got] = number
    if len(seen) > 1:
        raise SourceError(source.display_path, line(max(seen.values())),
                          "dates are written both day-first and month-first (e.g. line "
                          f"{seen['dmy']} and line {seen['mdy']}); give --date-order dmy or mdy")
    if seen:
        order = next(iter(seen))
        return order, f"{order}:inferred"
    return options.default_date_order, f"{options.default_date_order}:assumed"


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per record block, in file order."""
    encoding = _encoding(source.head(4))
    stream = _lines(source, encoding)
    report_type, pending = _read_header(stream)
    order, label = _date_order(source, encoding, options)
    context: Context | None = None
    for block in _blocks(itertools.chain(pending, stream)):
        if context is None:
            category = block[0][1] if TITLE.match(block[0][1]) else ""
            fallback = TITLE.match(category).group("category").strip().replace("-", "/", 1) if category else ""
            context = Context(report_type or fallback, order, label, options)
        yield map_block(split_block(block), context)


def _blocks(numbered: Iterator[tuple[int, str]]) -> Iterator[list[tuple[int, str]]]:
    """Group lines into record blocks.

    A blank line ends a record only when the next text line is a record title of the
    file's category (or the file ends), so a message text holding a blank line stays
    one record.
    """
    category: str | None = None
    block: list[tuple[int, str]] = []
    blanks: list[tuple[int, str]] = []
    for number, text in numbered:
        if not text.strip():
            if block:
                blanks.append((number, text))
            continue
        title = TITLE.match(text)
        if title and category is None:
            category = title.group("category").strip()
        if title and title.group("category").strip() == category and block:
            yield block
            block = []
        elif blanks:
            block.extend(blanks)
        blanks = []
        block.append((number, text))
    if block:
        yield block


def _read_header(stream: Iterator[tuple[int, str]]) -> tuple[str | None, list[tuple[int, str]]]:
    """Consume the header; return (report type, lines already read that belong to the body)."""
    for number, text in stream:
        if not text.strip():
            continue
        if text.strip().lower() == HEADER_START:
            header: list[str] = []
            for more_number, more in stream:
                if TITLE.match(more):  # a short header: the first record starts here
                    return _report_type(header), [(more_number, more)]
                header.append(more)
                if len(header) == HEADER_LINES - 1:
                    break
            return _report_type(header), []
        if TITLE.match(text):
            return None, [(number, text)]
        raise NotThisFormat(f"line {number} is neither an 'XRY export' header nor an XRY record title")
    raise NotThisFormat("the file has no 'XRY export' header")


def _report_type(header: list[str]) -> str | None:
    # header[0] is line 2; the report type is line 3 of the header.
    return (header[1].strip() or None) if len(header) > 1 else None


PARSER = ParserSpec(
    name="xry_txt",
    version="1.0",
    family="phone",
    summary="MSAB XRY text export (UTF-16 .txt per category: calls, messages, contacts, locations)",
    sniff=sniff,
    parse=parse,
    extensions=(".txt",),
)
