"""E-mail messages: single ``.eml`` files and ``.mbox`` mailboxes (RFC 5322 / MIME).

Format:
    An ``.eml`` file holds one message: header fields, a blank line, the body.
    An mbox holds many, each starting with an envelope line ``From sender
    date`` at the start of a line; body lines that began with ``From `` were
    written as ``>From `` (mboxo/mboxrd). Each message is parsed with the
    standard library (``email`` with ``policy.default``) into one ``email``
    event: ``sender``/``sender_name`` from ``From``, ``recipients`` from
    ``To``, ``Cc`` and ``Bcc`` (``email:`` identifiers, de-duplicated in
    order; each header's addresses as written, RFC 2047 names decoded, are in
    ``extra["to"|"cc"|"bcc"]``), ``text`` = subject, a blank line and the body
    (text/plain preferred; otherwise HTML reduced to its visible text with the
    standard HTML tokenizer, flagged ``body_from_html``; nothing is fetched or
    run). Attachments (parts with an attachment disposition or a filename,
    and attached messages) are listed by filename in ``attachments`` and in
    ``extra["attachment_sha256"]`` as ``{filename, content_type, size,
    sha256}`` of their decoded bytes; a part without a filename is only in
    the latter (flag ``attachment_without_filename``). An address that does
    not look like ``local@domain`` is kept verbatim, lower-cased, and flagged
    ``sender_unparsed_address``/``recipient_unparsed_address``; a message
    without ``From`` is flagged ``sender_missing``. ``Message-ID``,
    ``In-Reply-To``, ``References`` and ``Subject`` are kept in extra.
    ``thread`` is the root of ``References`` (else ``In-Reply-To``, else the
    message's own ``Message-ID``, so a conversation's first message and its
    replies share a thread), and only without any of those ``subject:<subject
    without Re:/Fwd:>``. ``direction`` is ``unknown``: the file does not say
    whose mailbox it is.
Time:
    The ``Date`` header (kept verbatim as ``timestamp_source``) is read with
    ``email.utils``; its numeric offset or zone name gives ``offset-in-source``.
    ``-0000`` (RFC 5322: UTC, local zone unknown) is ``utc-declared`` and
    flagged ``date_zone_unknown``. A date without any zone is read in
    ``options.source_tz`` (``assumed:<zone>``, flagged ``date_without_zone``;
    clock-change times flagged). A missing or unreadable ``Date`` is a
    rejection: Received headers and the mbox envelope line are other
    machines' clocks and are not substituted.
Locator:
    mbox: ``line:N`` of the message's ``From `` envelope line. ``.eml``: ``line:1``.
Limitations:
    An mbox is read line by line and only one message is held in memory at a
    time (a message with very large attachments is held whole). Any line
    starting with ``From `` splits messages, as in every mbox reader; one
    level of ``>`` is removed from ``>From `` lines (mboxrd), which changes
    an mboxo body that really began ``>From``. MIME defects are listed in
    ``extra["mime_defects"]``. Encrypted (S/MIME, PGP) parts are listed as
    attachments, not decrypted. Header order and trace headers (Received)
    are not kept.
References:
    RFC 5322 (message format, section 3.3 date-time), RFC 2045-2049 (MIME),
    RFC 2047 (encoded words), RFC 4155 (mbox); Python ``email`` and
    ``mailbox`` documentation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from typing import IO, Any

from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import line
from atlas.timeparse import TimeReading, from_local, parse_iso
from parsers._email_mime_parts import addresses, attachments, body_text, clean, thread_of

_HEADER_LINE = re.compile(rb"^([!-9;-~]+):")
# Fields that, two of them in an opening header block, mark an e-mail message.
_MAIL_FIELDS = {
    b"from",
    b"to",
    b"cc",
    b"subject",
    b"date",
    b"message-id",
    b"received",
    b"return-path",
    b"mime-version",
    b"delivered-to",
    b"reply-to",
    b"in-reply-to",
    b"references",
    b"content-type",
    b"x-mailer",
    b"sender",
    b"dkim-signature",
    b"authentication-results",
}
_ESCAPED_FROM = re.compile(rb"^>+From ")
_PARSER = BytesParser(policy=policy.default)


def sniff(head: bytes, filename: str) -> bool:
    """Return True for an mbox (``From `` line, then headers) or a message with mail headers."""
    text = head.removeprefix(b"\xef\xbb\xbf")
    if not text:
        return False
    lines = text.replace(b"\r\n", b"\n").split(b"\n")
    envelope = lines[0].startswith(b"From ")
    if envelope:
        if len(lines) < 2 or not _HEADER_LINE.match(lines[1]):
            return False
        lines = lines[1:]
    names: set[bytes] = set()
    for raw in lines[:-1] if len(lines) > 1 else lines:  # the last line may be cut off
        if not raw:
            break
        if raw[:1] in (b" ", b"\t") and names:
            continue  # a folded continuation line
        match = _HEADER_LINE.match(raw)
        if not match:
            return False
        names.add(match.group(1).lower())
    if envelope:
        return bool(names & _MAIL_FIELDS)
    return len(names & _MAIL_FIELDS) >= 2 and bool(
        names & {b"from", b"date", b"received", b"message-id"}
    )


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per message, in file order."""
    if not sniff(source.head(), source.display_path):
        raise NotThisFormat(
            "the file does not start with e-mail header fields or an mbox 'From ' line"
        )
    with source.open_binary() as fh:
        first = fh.peek(8)[:8].removeprefix(b"\xef\xbb\xbf")
        if not first.startswith(b"From "):
            data = fh.read().removeprefix(b"\xef\xbb\xbf")
            yield _message(data, line(1), None, options)
            return
        for number, envelope, data in _mbox(fh):
            yield _message(data, line(number), envelope, options)


def _mbox(fh: IO[bytes]) -> Iterator[tuple[int, str, bytes]]:
    """Yield (line number of the From line, the From line, message bytes) one message at a time."""
    start = 0
    envelope = ""
    chunk: list[bytes] = []
    for number, raw in enumerate(fh, start=1):
        if number == 1:
            raw = raw.removeprefix(b"\xef\xbb\xbf")
        if raw.startswith(b"From "):
            if start:
                yield start, envelope, _join(chunk)
            start, envelope, chunk = number, raw.rstrip(b"\r\n").decode("utf-8", "replace"), []
            continue
        if _ESCAPED_FROM.match(raw):
            raw = raw[1:]
        chunk.append(raw)
    if start:
        yield start, envelope, _join(chunk)


def _join(chunk: list[bytes]) -> bytes:
    # The blank line before the next "From " belongs to the mbox, not the message.
    if chunk and chunk[-1].strip(b"\r\n") == b"":
        chunk = chunk[:-1]
    return b"".join(chunk)


def _message(
    data: bytes, where: str, envelope: str | None, options: ParseOptions
) -> EventDraft | Rejection:
    msg = _PARSER.parsebytes(data)
    raw_date = _raw(msg, "Date")
    if raw_date is None:
        return Rejection(where, "message has no Date header (or it is empty)", _excerpt(data))
    when, flags = _date(raw_date, options)
    if when.error or when.utc is None:
        return Rejection(where, f"Date header {raw_date!r} is not an RFC 5322 date", _excerpt(data))

    froms, from_shown = addresses(msg, "From")
    extra: dict[str, Any] = {"from": from_shown}
    recipients: list[str] = []
    unparsed = False
    for name in ("To", "Cc", "Bcc"):
        found, shown = addresses(msg, name)
        if shown:
            extra[name.lower()] = shown
        unparsed = unparsed or any(not ok for _, _, ok in found)
        for ident, _, _ in found:
            if ident not in recipients:
                recipients.append(ident)
    if not froms:
        flags.append("sender_missing")
    if len(froms) > 1:
        flags.append("several_from_addresses")
    if any(not ok for _, _, ok in froms):
        flags.append("sender_unparsed_address")
    if unparsed:
        flags.append("recipient_unparsed_address")

    subject = _raw(msg, "Subject", decoded=True)
    body, body_part, body_flags = body_text(msg)
    flags.extend(body_flags)
    found_files = attachments(msg, body_part)
    if any(a["filename"] is None for a in found_files):
        flags.append("attachment_without_filename")
    thread, thread_basis = thread_of(msg, subject)

    for key, header in (
        ("subject", "Subject"),
        ("message_id", "Message-ID"),
        ("in_reply_to", "In-Reply-To"),
        ("references", "References"),
    ):
        value = subject if key == "subject" else _raw(msg, header)
        if value is not None:
            extra[key] = value
    extra["thread_from"] = thread_basis
    if found_files:
        extra["attachment_sha256"] = found_files
    if envelope is not None:
        extra["mbox_from_line"] = envelope
    if msg.defects or any(p.defects for p in msg.walk()):
        extra["mime_defects"] = sorted({type(d).__name__ for p in msg.walk() for d in p.defects})

    parts = [p for p in (subject, body) if p]
    return EventDraft(
        locator=where,
        kind="email",
        timestamp_utc=when.utc,
        timestamp_source=raw_date,
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction="unknown",
        sender=froms[0][0] if froms else None,
        sender_name=froms[0][1] if froms else None,
        recipients=tuple(recipients),
        channel="email",
        thread=thread,
        text="\n\n".join(parts) if parts else None,
        attachments=tuple(a["filename"] for a in found_files if a["filename"]),
        flags=tuple(flags),
        extra=extra,
    )


def _date(raw: str, options: ParseOptions) -> tuple[TimeReading, list[str]]:
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return TimeReading(None, "none", "ok", "unreadable"), []
    if parsed.tzinfo is not None:
        return parse_iso(parsed.isoformat()), []
    if re.search(r"\s-0000\s*(\(.*\))?\s*$", raw):
        return parse_iso(parsed.isoformat() + "Z"), ["date_zone_unknown"]
    return from_local(parsed.replace(tzinfo=None), options.source_tz), ["date_without_zone"]


def _raw(msg: Any, name: str, decoded: bool = False) -> str | None:
    """Return the first ``name`` header as written (or RFC 2047 decoded); None if absent/empty."""
    if decoded:
        value = msg.get(name)
        text = _unfold(value).strip() if value is not None else ""
        return text or None
    for key, value in msg.raw_items():
        if key.lower() == name.lower():
            text = _unfold(value).strip()
            return text or None
    return None


def _unfold(value: Any) -> str:
    return clean(re.sub(r"\r?\n[ \t]+", " ", str(value)))


def _excerpt(data: bytes) -> str:
    return data[:500].decode("utf-8", errors="replace")


PARSER = ParserSpec(
    name="email_mime",
    version="1.0",
    family="email",
    summary="E-mail messages (.eml) and mailboxes (.mbox), MIME with attachments hashed",
    sniff=sniff,
    parse=parse,
    extensions=(".eml", ".mbox", ".mbx"),
)
