"""Telegram Desktop JSON export (``result.json``).

Format:
    UTF-8 JSON written by Telegram Desktop's "Export chat history" (one chat:
    the chat object at the root, ``{"name", "type", "id", "messages": [...]}``)
    or "Export Telegram data" (whole account: ``{"about",
    "personal_information", "chats": {"about", "list": [chat, ...]},
    "left_chats": {...}, ...}``). Each element of a chat's ``messages`` is one
    record. ``type`` is ``message`` (kind ``chat_message``) or ``service``
    (kind ``system``; a ``phone_call``/``group_call`` action becomes kind
    ``call`` with its ``duration_seconds`` and ``discard_reason``). ``text`` is
    a string or a list mixing strings and entity objects ``{"type", "text"}``;
    the pieces are joined. ``from``/``from_id`` (``actor``/``actor_id`` on
    service records) give the sender; ``user123`` becomes ``telegram:user123``.
    ``photo`` and ``file`` paths become attachments, including the literal
    "(File not included. ...)" placeholder (then flagged
    ``attachment_not_included``). ``edited`` records get status ``edited``.
    When ``personal_information.user_id`` precedes the chats (a full-account
    export), messages from that account are ``outgoing`` and others
    ``incoming``; otherwise direction is ``unknown``.
Time:
    ``date_unixtime`` (epoch seconds as a string) is preferred: tz_basis
    ``epoch``. ``date`` is the exporting computer's local wall-clock time with
    no offset; it is kept verbatim in ``extra["date"]``. Older exports have no
    ``date_unixtime``: ``date`` is then read in ``options.source_tz``
    (tz_basis ``assumed:<zone>``, flag ``local_time_assumed``, clock-change
    times flagged by ``atlas.timeparse``). ``edited_unixtime``/``edited`` are
    kept in ``extra``.
Locator:
    JSON pointer of the message: ``json:/messages/12`` (one chat) or
    ``json:/chats/list/3/messages/12`` (whole account, also ``/left_chats``).
Limitations:
    Only chat messages are read; contacts, sessions, stories and other
    account sections are skipped. The file is streamed with a standard-library
    walker, one message at a time, so a chat's ``name``/``type``/``id`` are
    known only if they precede its ``messages`` (as Telegram Desktop writes
    them). Recipients are not set: a message's audience is the chat
    (``thread``), not an identifier in the record. Reactions, reply and forward
    details are kept in ``extra`` only.
References:
    docs formats.md section 2.2 (Telegram Desktop export; tg-parser
    TELEGRAM_FORMAT.md; joweich/chat-miner telegram test exports).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.identifiers import handle
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import pointer
from atlas.timeparse import from_unix, parse_iso
from parsers._json_stream import JsonStream, JsonStreamError

NOT_INCLUDED = "(File not included."
CALL_ACTIONS = ("phone_call", "group_call")
CHAT_SECTIONS = ("chats", "left_chats")
_HANDLED = {
    "type",
    "date_unixtime",
    "from",
    "from_id",
    "actor",
    "actor_id",
    "text",
    "photo",
    "file",
}
_SNIFF = re.compile(
    rb'"date_unixtime"\s*:\s*"\d+"'
    rb'|"personal_information"\s*:\s*\{'
    rb'|"chats"\s*:\s*\{\s*"(?:about|list)"'
    rb'|"type"\s*:\s*"(?:personal_chat|private_group|private_supergroup|public_supergroup|'
    rb'private_channel|public_channel|bot_chat|saved_messages)"'
    rb'|"type"\s*:\s*"(?:message|service)"\s*,\s*"date"\s*:\s*"\d{4}-\d\d-\d\dT'
)


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a JSON object with Telegram export keys near its start."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not text.startswith(b"{") or b'"sender_name"' in text:
        return False
    return bool(_SNIFF.search(text))


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per message of every chat, in file order."""
    if not sniff(source.head(), source.display_path):
        raise NotThisFormat("no Telegram export keys near the start of the file")
    where = "json:"
    try:
        with source.open_text(encoding="utf-8-sig") as fh:
            stream = JsonStream(fh)
            owner: list[str | None] = [None]
            root: dict[str, Any] = {}
            for key in stream.iter_object():
                where = pointer(f"/{key}")
                if key == "messages":
                    yield from _messages(stream, "", root, owner[0], options)
                elif key in CHAT_SECTIONS and stream.peek() == "{":
                    yield from _section(stream, f"/{key}", owner[0], options)
                elif key == "personal_information" and stream.peek() == "{":
                    info = stream.value()
                    if info.get("user_id") is not None:
                        owner[0] = f"user{info['user_id']}"
                else:
                    _keep_scalar(root, key, stream.value())
            stream.end()
    except JsonStreamError as exc:
        raise SourceError(source.display_path, where, f"not well-formed JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(source.display_path, where, f"not UTF-8 text: {exc}") from exc


def _section(
    stream: JsonStream, base: str, owner: str | None, options: ParseOptions
) -> Iterator[EventDraft | Rejection]:
    for key in stream.iter_object():
        if key != "list" or stream.peek() != "[":
            stream.skip()
            continue
        for index in stream.iter_array():
            path = f"{base}/list/{index}"
            if stream.peek() != "{":
                yield Rejection(pointer(path), "chat entry is not a JSON object", stream.value())
                continue
            chat: dict[str, Any] = {}
            for ckey in stream.iter_object():
                if ckey == "messages":
                    yield from _messages(stream, path, chat, owner, options)
                else:
                    _keep_scalar(chat, ckey, stream.value())


def _keep_scalar(into: dict[str, Any], key: str, value: Any) -> None:
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        into[key] = value


def _messages(
    stream: JsonStream, base: str, chat: dict[str, Any], owner: str | None, options: ParseOptions
) -> Iterator[EventDraft | Rejection]:
    if stream.peek() != "[":
        yield Rejection(pointer(f"{base}/messages"), "messages is not a JSON array", stream.value())
        return
    for index in stream.iter_array():
        yield _message(stream.value(), pointer(f"{base}/messages/{index}"), chat, owner, options)


def _message(
    msg: Any, where: str, chat: dict[str, Any], owner: str | None, options: ParseOptions
) -> EventDraft | Rejection:
    if not isinstance(msg, dict):
        return Rejection(where, "message is not a JSON object", msg)
    mtype = msg.get("type")
    if mtype not in ("message", "service"):
        return Rejection(
            where, f"unknown message type {mtype!r} (expected 'message' or 'service')", msg
        )

    flags: list[str] = []
    extra: dict[str, Any] = {k: v for k, v in msg.items() if k not in _HANDLED}
    for key in ("type", "id"):
        if key in chat:
            extra[f"chat_{key}"] = chat[key]

    unix = msg.get("date_unixtime")
    if unix is not None:
        text_unix = str(unix).strip()
        if not text_unix.isdigit():
            return Rejection(where, f"date_unixtime {unix!r} is not whole epoch seconds", msg)
        when = from_unix(int(text_unix), "s")
        stamp = text_unix
    elif isinstance(msg.get("date"), str):
        when = parse_iso(msg["date"], options.source_tz)
        stamp = msg["date"]
        flags.append("local_time_assumed")
    else:
        return Rejection(where, "message has neither date_unixtime nor date", msg)
    if when.error:
        return Rejection(where, when.error, msg)

    is_service = mtype == "service"
    who_id = msg.get("actor_id" if is_service else "from_id")
    who_name = msg.get("actor" if is_service else "from")
    sender = handle("telegram", str(who_id)).value if who_id not in (None, "") else None
    direction = "unknown"
    if owner is not None and who_id not in (None, ""):
        direction = "outgoing" if str(who_id) == owner else "incoming"

    kind = "system" if is_service else "chat_message"
    duration = None
    status = "edited" if ("edited" in msg or "edited_unixtime" in msg) else None
    if is_service and msg.get("action") in CALL_ACTIONS:
        kind = "call"
        if isinstance(msg.get("duration_seconds"), (int, float)):
            duration = float(msg["duration_seconds"])
        status = msg.get("discard_reason") or status

    attachments = tuple(
        str(msg[k]) for k in ("photo", "file") if isinstance(msg.get(k), str) and msg[k]
    )
    if any(a.startswith(NOT_INCLUDED) for a in attachments):
        flags.append("attachment_not_included")

    return EventDraft(
        locator=where,
        kind=kind,
        timestamp_utc=when.utc,
        timestamp_source=stamp,
        tz_basis=when.basis,
        tz_flag=when.flag,
        duration_s=duration,
        direction=direction,
        sender=sender,
        sender_name=who_name if isinstance(who_name, str) else None,
        channel="telegram",
        thread=str(chat["name"]) if chat.get("name") is not None else None,
        text=_text(msg.get("text")),
        attachments=attachments,
        status=status,
        flags=tuple(flags),
        extra=extra,
    )


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = "".join(
            p if isinstance(p, str) else str(p.get("text", "")) if isinstance(p, dict) else ""
            for p in value
        )
    if not isinstance(value, str) or value == "":
        return None
    return value


PARSER = ParserSpec(
    name="telegram_json",
    version="1.0",
    family="chat",
    summary="Telegram Desktop JSON export (result.json), one chat or whole account",
    sniff=sniff,
    parse=parse,
    extensions=(".json",),
)
