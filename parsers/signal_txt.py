"""Signal conversation text written by signal-export (``[YYYY-MM-DD, HH:MM] Name: text``).

Format:
    UTF-8 text, optional byte-order mark. Each message starts with a header
    line ``[2019-12-24, 12:23] Jane Doe: Hello John!``; lines that do not
    start with a header continue the previous message's body (multi-line
    messages). A header whose rest has no ``Name: `` part is kept as kind
    ``system``. Lines before the first header cannot belong to a message and
    are rejected. Senders become ``name:signal:<name as shown>``; channel
    ``signal``.
Time:
    Minute precision, wall-clock time of the exporting device with no offset:
    read in ``options.source_tz`` (tz_basis ``assumed:<zone>``); times in a
    clock change are flagged ``ambiguous``/``nonexistent`` by
    ``atlas.timeparse``, never shifted.
Locator:
    ``line:N`` or ``line:N-M`` for a message spanning lines N..M (trailing
    blank lines excluded).
Limitations:
    The layout names no thread, no recipients and no direction (the account
    holder's own name is not marked), so direction is ``unknown``.
    Up to two non-blank lines before the first header are accepted (and
    rejected as records) so that a short preamble does not hide the file.
    Attachments and reactions, which signal-export writes as text, stay in
    the body. A body line that itself looks like a header starts a new
    message.
References:
    docs formats.md section 2.3; joweich/chat-miner signal test export;
    carderne/signal-export.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.identifiers import display_name
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import line, lines
from atlas.timeparse import parse_local

HEADER = re.compile(r"^\[(\d{4}-\d{2}-\d{2}), (\d{1,2}:\d{2})\] (.*)$")
TIME_FORMAT = "%Y-%m-%d %H:%M"


def sniff(head: bytes, filename: str) -> bool:
    """Return True when one of the first three non-blank lines is a header with a sender."""
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        text = head[: exc.start].decode("utf-8-sig", errors="ignore")
    for candidate in [ln for ln in text.splitlines()[:50] if ln.strip()][:3]:
        match = HEADER.match(candidate)
        if match and ": " in match.group(3):
            return True
    return False


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event per message (header plus continuation lines), in file order."""
    if not sniff(source.head(), source.display_path):
        raise NotThisFormat("no '[YYYY-MM-DD, HH:MM] Name: text' header in the first lines")
    number = 0
    try:
        with source.open_text(encoding="utf-8-sig", newline=None) as fh:
            current: list[str] = []
            first = last = 0
            for number, raw in enumerate(fh, start=1):
                text = raw.rstrip("\n")
                if HEADER.match(text):
                    if current:
                        yield _message(current, first, last, options)
                    current, first, last = [text], number, number
                elif current:
                    current.append(text)
                    if text.strip():
                        last = number
                elif text.strip():
                    yield Rejection(line(number), "text before the first message header", text)
            if current:
                yield _message(current, first, last, options)
    except UnicodeDecodeError as exc:
        raise SourceError(source.display_path, line(number + 1), f"not UTF-8 text: {exc}") from exc


def _message(
    block: list[str], first: int, last: int, options: ParseOptions
) -> EventDraft | Rejection:
    where = lines(first, last)
    match = HEADER.match(block[0])
    date, clock, rest = match.groups()
    stamp = f"{date}, {clock}"
    when = parse_local(f"{date} {clock}", TIME_FORMAT, options.source_tz)
    if when.error:
        return Rejection(where, when.error, "\n".join(block))
    body_lines = block[: last - first + 1]
    name, sep, body = rest.partition(": ")
    if not sep:
        name, body = "", rest
    text = "\n".join([body, *body_lines[1:]])
    return EventDraft(
        locator=where,
        kind="chat_message" if sep else "system",
        timestamp_utc=when.utc,
        timestamp_source=stamp,
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction="unknown",
        sender=display_name("signal", name) if name.strip() else None,
        sender_name=name or None,
        channel="signal",
        text=text,
    )


PARSER = ParserSpec(
    name="signal_txt",
    version="1.0",
    family="chat",
    summary="Signal conversation text from signal-export ([YYYY-MM-DD, HH:MM] Name: text)",
    sniff=sniff,
    parse=parse,
    extensions=(".txt", ".md"),
)
