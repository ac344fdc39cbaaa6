"""WhatsApp "Export chat" text, as a bare ``.txt`` or the iOS ``.zip`` with ``_chat.txt``.

Format:
    UTF-8 text, with or without a byte-order mark. A message starts with a header
    line and continues on any following lines that have none. Android writes
    ``29/01/18, 12:24 - Name: text``; iOS writes ``[29.01.18, 12:24:03] Name: text``.
    Date fields follow the phone's locale: ``/ . -`` separators, 2- or 4-digit
    years, dmy / mdy / yyyy-mm-dd order, 24 h or 12 h clocks (``PM``, ``p.m.``,
    ``a. m.``, with a space, U+00A0 or U+202F before the marker). Invisible marks
    (U+200E, U+200F, bidi embeddings, stray U+FEFF) may precede a header. The name
    ends at the first ``": "`` after the header; a line with none is a system line
    (Android), as is an iOS line whose text starts with U+200E and reads as a known
    notice. Media appear as ``<attached: x.jpg>`` / ``<Anhang: x.jpg>`` (iOS),
    ``x.jpg (file attached)`` (Android with media) or a placeholder (``<Media
    omitted>``, ``image omitted``, ``<Medien ausgeschlossen>``, ``Bild
    weggelassen``). The iOS share is ``WhatsApp Chat - <name>.zip`` holding
    ``_chat.txt`` and the media; it is read in place, never extracted.
Time:
    Headers are wall-clock times of the exporting phone with no offset; they are
    converted with ``options.source_tz`` through ``timeparse.from_local``, so times
    in a clock change are flagged ``ambiguous``/``nonexistent``. The date order is
    inferred in a first pass over the headers (constant memory): a first field above
    12 settles dmy, a second field above 12 settles mdy. ``options.date_order``
    (``--date-order``, recorded as ``:forced``) wins, but a forced order that the
    file's own dates contradict stops the ingest with an error. Otherwise the
    file's order is used (``:inferred``), else ``options.default_date_order``
    (``:assumed``, the case's UK day-first default). A four-digit first field is ymd
    by shape. A time earlier than the message before it is flagged
    ``timestamp_out_of_order`` (exports are not always monotonic).
Locator:
    ``line:N`` or ``line:N-M`` for a message spanning lines N..M (1-based physical
    lines, trailing blank lines excluded); inside the zip ``zip:_chat.txt#line:N``.
Limitations:
    The export does not say whose phone made it, so ``direction`` is ``unknown``.
    Senders are display names as saved on the exporting phone unless the name is a
    phone number. System notices are recognised by wording (English and German
    tables); a notice with a ``": "`` in an unknown wording can be split as if it
    were a message. A continuation line that happens to look exactly like a header
    starts a new record. Localised AM/PM words placed before the time (e.g. 오후,
    下午) and ``klo``-style separators are not read: those lines become rejections
    or continuation text. Android zips (``WhatsApp Chat with X.txt`` inside) are
    not opened. A single line is read whole, however long. A header with no
    ``": "`` after the name (chat-miner's ``John Doe:.``) is kept as a system line,
    unattributed. iOS notices keep the chat name they were written under in
    ``extra["shown_as"]``. Attachment hashes exist only for the zip; an unsafe,
    duplicated or damaged media member is named in ``extra["attachment_not_hashed"]``
    and flagged ``attachment_not_hashed``.
References:
    docs formats.md §2.1; joweich/chat-miner test logs; lucasrodes/whatstk header
    formats (whatstk/whatsapp/assets/header_format_support.json); whatstk#140 and
    Pustur/whatsapp-chat-parser#248 (U+202F before AM/PM).
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import lines, member
from parsers import _whatsapp_txt_grammar as g
from parsers._whatsapp_txt_zip import MemberHasher, chat_member, sniff_zip

ZIP_MAGIC = b"PK\x03\x04"
DATE_ORDERS = ("dmy", "mdy", "ymd")
_ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError)


@dataclass
class _Context:
    """What every record of one file shares, plus the running out-of-order check."""

    display_path: str
    locate: Callable[[int, int], str]
    order: str
    basis: str
    zone: str
    region: str
    thread: str | None
    hasher: MemberHasher | None = None
    prev_utc: datetime | None = None
    last_line: int = 0
    seen_header: bool = False
    conflict: bool = False
    dates: dict[tuple[str, str, str], object] = field(default_factory=dict)
    senders: dict[str, tuple[str | None, tuple[str, ...]]] = field(default_factory=dict)
    clock: g.HourClock = field(init=False)

    def __post_init__(self) -> None:
        self.clock = g.HourClock(self.zone)


@dataclass
class _Pending:
    """A header line and the continuation lines gathered so far."""

    first: int
    header: str
    match: re.Match[str]
    more: list[str] = field(default_factory=list)
    blanks: list[str] = field(default_factory=list)
    last: int = 0


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a WhatsApp chat text, or a zip naming ``_chat.txt``."""
    if not head:
        return False
    if head.startswith(ZIP_MAGIC):
        return sniff_zip(head) or g.thread_from_filename(filename or "") is not None
    return g.sniff_text(head, filename or "")


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per message, system line or stray line, in file order."""
    if source.head(4).startswith(ZIP_MAGIC):
        yield from _parse_zip(source, options)
        return
    ctx = _context(source, options, lambda a, b: lines(a, b))
    with source.open_binary() as fh:
        _settle_order(ctx, fh, options)
    with source.open_binary() as fh:
        yield from _records(_lines(fh, ctx), ctx)


def _parse_zip(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    with source.open_binary() as raw:
        try:
            zf = zipfile.ZipFile(raw)
        except _ZIP_ERRORS as exc:
            raise SourceError(source.display_path, None, f"not a readable zip: {exc}") from exc
        with zf:
            info = chat_member(zf, source.display_path)
            ctx = _context(source, options, lambda a, b: member(info.filename, lines(a, b)))
            ctx.hasher = MemberHasher(zf)
            try:
                with zf.open(info) as fh:
                    _settle_order(ctx, fh, options)
                with zf.open(info) as fh:
                    yield from _records(_lines(fh, ctx), ctx)
            except _ZIP_ERRORS as exc:
                # zipfile reads ahead and checks the CRC only at the member's end, so
                # no single line can be blamed: name the member and how far reading got.
                raise SourceError(source.display_path, None,
                                  f"zip member {info.filename!r} is damaged (reading stopped "
                                  f"after line {ctx.last_line}): {exc}") from exc


def _context(source: Source, options: ParseOptions, locate: Callable[[int, int], str]) -> _Context:
    return _Context(display_path=source.display_path, locate=locate, order="", basis="",
                    zone=options.source_tz, region=options.region,
                    thread=g.thread_from_filename(source.display_path))


def _settle_order(ctx: _Context, fh: IO[bytes], options: ParseOptions) -> None:
    """Run the first pass: decide the date order, or raise NotThisFormat."""
    try:
        order, seen, ctx.conflict = g.infer_order(text for _, text in _lines(fh, ctx))
    except SourceError:
        if not ctx.seen_header:
            raise NotThisFormat("not UTF-8 text before any WhatsApp header") from None
        raise
    if not seen:
        raise NotThisFormat("no line has a WhatsApp message header")
    if options.date_order:
        # The analyst's explicit choice wins, but not against the file's own evidence.
        if order is not None and order != options.date_order:
            raise SourceError(ctx.display_path, None,
                              f"--date-order {options.date_order} contradicts the file, whose dates "
                              f"settle the order as {order}; drop --date-order or check the file")
        ctx.order, ctx.basis = options.date_order, "forced"
    elif order is not None:
        ctx.order, ctx.basis = order, "inferred"
    else:
        ctx.order, ctx.basis = options.default_date_order, "assumed"
    if ctx.order not in DATE_ORDERS:
        raise SourceError(ctx.display_path, None,
                          f"date order {ctx.order!r} is not one of {', '.join(DATE_ORDERS)}")
    ctx.last_line = 0


def _lines(fh: Iterable[bytes], ctx: _Context) -> Iterator[tuple[int, str]]:
    """Yield (line number, text without its line ending), decoding each line strictly."""
    for no, raw in enumerate(fh, 1):
        ctx.last_line = no
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            where = ctx.locate(no, no)
            raise SourceError(ctx.display_path, where,
                              f"not UTF-8 ({exc.reason} at byte {exc.start} of the line); "
                              "WhatsApp exports are UTF-8") from exc
        if text.endswith("\n"):
            text = text[:-2] if text.endswith("\r\n") else text[:-1]
        if no == 1 and text.startswith("\ufeff"):
            text = text[1:]  # the file's byte-order mark, not content
        if not ctx.seen_header and g.HEADER.match(text):
            ctx.seen_header = True
        yield no, text


def _records(numbered: Iterator[tuple[int, str]], ctx: _Context
             ) -> Iterator[EventDraft | Rejection]:
    pending: _Pending | None = None
    match_header = g.HEADER.match
    for no, text in numbered:
        m = match_header(text)
        if m is not None:
            if pending is not None:
                yield _build(pending, ctx)
            pending = _Pending(first=no, header=text, match=m, last=no)
        elif pending is None:
            if text.strip():
                yield Rejection(ctx.locate(no, no),
                                "text before the first message header: not a WhatsApp message "
                                "line (expected e.g. '29/01/2018, 12:24 - Name: text')", raw=text)
        elif not text.strip():
            pending.blanks.append(text)  # inside a message only if more text follows
        else:
            if pending.blanks:
                pending.more.extend(pending.blanks)
                pending.blanks.clear()
            pending.more.append(text)
            pending.last = no
    if pending is not None:
        yield _build(pending, ctx)


def _build(p: _Pending, ctx: _Context) -> EventDraft | Rejection:
    m = p.match
    where = ctx.locate(p.first, p.last)
    rest = p.header[m.end():]
    if p.more:
        rest = rest + "\n" + "\n".join(p.more)
    naive, used = g.wall_clock(m, ctx.order, ctx.dates)
    if naive is None:
        by_shape = len(m.group("a")) == 4
        note = "" if by_shape else f" (date order {ctx.order}:{ctx.basis})"
        if ctx.conflict and not by_shape:
            note += "; the file has both day-first and month-first headers"
        return Rejection(where, used + note, raw="\n".join([p.header, *p.more]))
    reading = ctx.clock.convert(naive)
    flags: list[str] = []
    if ctx.prev_utc is not None and reading.utc < ctx.prev_utc:
        flags.append("timestamp_out_of_order")
    ctx.prev_utc = reading.utc
    extra: dict[str, object] = {"time_precision": "second" if m.group("S") else "minute"}
    kind, sender, name, body = "system", None, None, rest
    split_at = rest.find(": ")
    if split_at >= 0 and not g.SYSTEM_IN_NAME.search(rest[:split_at]):
        name, body = rest[:split_at], rest[split_at + 2:]
        if g.is_ios_system(body):
            extra["shown_as"] = name  # iOS writes the chat name before its notices
            name = None
        else:
            kind = "chat_message"
            known = ctx.senders.get(name)
            if known is None:
                if len(ctx.senders) > 10_000:
                    ctx.senders.clear()
                known = ctx.senders[name] = g.sender_of(name, ctx.region)
            sender, sender_flags = known
            flags.extend(sender_flags)
    attachments, status = g.classify(body) if kind == "chat_message" else ((), None)
    if attachments and ctx.hasher is not None:
        ctx.hasher.record(attachments, extra, flags)
    return EventDraft(
        locator=where,
        kind=kind,
        timestamp_utc=reading.utc,
        timestamp_source=m.group("ts"),
        tz_basis=reading.basis,
        tz_flag=reading.flag,
        date_order=f"{used}:inferred" if used == "ymd" else f"{used}:{ctx.basis}",
        direction="unknown" if kind == "chat_message" else "none",
        sender=sender,
        sender_name=name,
        channel="whatsapp",
        thread=ctx.thread,
        text=body,
        attachments=attachments,
        status=status,
        flags=tuple(flags),
        extra=extra,
    )


PARSER = ParserSpec(
    name="whatsapp_txt",
    version="1.0",
    family="chat",
    summary="WhatsApp 'Export chat' text (Android .txt, iOS _chat.txt zip)",
    sniff=sniff,
    parse=parse,
    extensions=(".txt", ".zip"),
)
