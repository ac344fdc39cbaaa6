"""iOS Messages store ``sms.db`` (and macOS ``chat.db``, same core schema): iMessage, SMS, MMS.

Format:
    SQLite 3 (usually WAL mode). ``message`` (``ROWID, guid, text,
    attributedBody, handle_id, service, account, date, date_read,
    date_delivered, is_from_me, is_read, is_sent, is_delivered, error,
    item_type, ...``), ``handle`` (``ROWID, id`` = phone number or e-mail),
    ``chat`` with ``chat_message_join`` and ``chat_handle_join``, and
    ``attachment`` with ``message_attachment_join``. One event per ``message``
    row in ROWID order. ``service`` gives kind and channel (table ``SERVICE``):
    iMessage -> ``chat_message``/``imessage``, SMS -> ``sms``/``sms`` (``mms``
    when attachments are joined), RCS -> ``chat_message``/``rcs``; rows with
    ``item_type`` other than 0 (group renames, members added) are kind
    ``system``. ``is_from_me`` gives the direction (NULL: ``unknown``, no
    parties named, flag ``direction_unknown``). The other party is the
    message's handle; when ``handle_id`` is 0 it is taken from the chat's
    handles (a one-to-one chat names the sender, flag ``sender_from_chat``).
    The phone's own identity is taken from ``destination_caller_id`` or
    ``account`` (``e:``/``p:`` prefixes) when the row has one. Recent iOS leave
    ``text`` NULL and keep the body only in ``attributedBody`` (a typedstream
    NSAttributedString), which is decoded (flag ``text_from_attributedBody``);
    when both exist and disagree, ``text`` is kept, the decoded body goes in
    ``extra`` and the event is flagged ``text_differs_from_attributedBody``. A
    message with no text and no attachment is kept with the flag ``no_text``.
    A non-empty ``sms.db-wal`` beside the database (same folder, exact name)
    is applied: the database and the WAL are copied into a private temporary
    folder (removed afterwards) and the copy opened, so SQLite replays the
    WAL's committed frames; the originals are only read (``immutable=1``).
    Every event then carries ``wal_applied``, and an event whose ``message`` row
    is absent from the main file alone, or differs there, also ``from_wal``.
    The WAL is recorded with the ingest (``companions``) and checked by
    ``atlas verify``. A WAL with no committed frames SQLite accepts (stale
    after a checkpoint, salt or checksum mismatch) adds nothing: flag
    ``wal_not_applied``. ``apply_wal = false`` (``atlas ingest --no-wal``)
    reads the main file alone: flag ``wal_not_read``.
Time:
    ``date`` is Apple absolute time (since 2001-01-01 UTC): seconds up to
    iOS 10, nanoseconds from iOS 11 (told apart by size, values above 1e15 are
    nanoseconds). ``date_read``, ``date_delivered`` (and ``date_played``,
    ``date_edited``, ``date_retracted`` where present) go in ``extra`` as UTC;
    0 there means "not yet". A NULL, zero or implausible ``date`` rejects the row.
Locator:
    ``sqlite:message/rowid=N``.
Limitations:
    iOS 5 and earlier (``message.address``/``flags``, no ``handle``) are not
    read. Only live rows are read; ``deleted_messages`` (guids only) and free
    pages are not, nor stale (uncommitted or overwritten) WAL frames. Only the
    text of ``attributedBody`` is decoded, not mentions, links or edit history
    (``message_summary_info``). Attachment files are named, not read.
References:
    log2timeline/plaso test_data/sqlite/imessage_chat.db and its iMessage
    plugin; abrignoni/iLEAPP scripts/artifacts/sms.py (nanosecond switch,
    attributedBody); dgelessus/python-typedstream (typedstream encoding).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.parsing import ParseOptions, ParserSpec, Source
from atlas.provenance import row
from parsers._ios_sms_lookup import ChatLookup, own_identity
from parsers._ios_sms_typedstream import decode_attributed_body
from parsers._phone_sqlite import (
    address_ident,
    as_text,
    iter_rows,
    open_database,
    optional_time,
    plain,
    raw_excerpt,
    read_time,
    require,
    sniff_sqlite,
    table_columns,
    unparsed_flag,
)

NAME = "ios_sms_db"
BACKUP_FILE_ID = "3d0d7e5fb2ce288813306e4d4636395e047a3d28"

# message.service -> (kind, channel). SMS rows with attachments are MMS.
SERVICE = {
    "imessage": ("chat_message", "imessage"),
    "sms": ("sms", "sms"),
    "rcs": ("chat_message", "rcs"),
}

SECONDARY_TIMES = ("date_read", "date_delivered", "date_played", "date_edited", "date_retracted")
EXTRA_COLUMNS = ("guid", "service", "account", "destination_caller_id", "handle_id", "other_handle",
                 "is_read", "is_sent", "is_delivered", "is_finished", "error", "item_type",
                 "group_title", "group_action_type", "associated_message_guid",
                 "associated_message_type", "thread_originator_guid", "reply_to_guid",
                 "is_audio_message", "is_system_message", "cache_roomnames", "subject",
                 "expressive_send_style_id", "balloon_bundle_id")

REQUIRED_COLUMNS = {"text", "handle_id", "date", "is_from_me"}


def sniff(head: bytes, filename: str) -> bool:
    """Return True for an SQLite file whose head declares ``message`` (or named sms.db/chat.db)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    hint = name in ("sms.db", "chat.db", BACKUP_FILE_ID) or name.endswith(("_sms.db", "-sms.db"))
    return sniff_sqlite(NAME, head, hint and not name.endswith("mmssms.db"))


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per ``message`` row, in ROWID order."""
    db = open_database(source, options)
    conn = db.conn
    try:
        tables = table_columns(conn)
        require(tables, "message", REQUIRED_COLUMNS)
        require(tables, "handle", {"id"})
        lookup = ChatLookup(conn, tables)
        sql = ('SELECT m.rowid AS "__rowid", m.*, h.id AS "__handle" FROM message m '
               "LEFT JOIN handle h ON h.rowid = m.handle_id ORDER BY m.rowid")
        for rec in iter_rows(source, conn, "message", sql):
            yield _message_event(rec, lookup, options, db.row_flags("message", rec["__rowid"]))
    finally:
        db.close()


def _message_event(rec: sqlite3.Row, lookup: ChatLookup, options: ParseOptions,
                   file_flags: tuple[str, ...]) -> EventDraft | Rejection:
    rowid = rec["__rowid"]
    where = row("message", rowid)
    cols = set(rec.keys())
    when, problem = read_time(rec["date"], "apple", "message.date")
    if when is None:
        return Rejection(where, problem, raw=raw_excerpt(rec))

    flags: list[str] = list(file_flags)
    extra: dict[str, Any] = {c: plain(rec[c]) for c in EXTRA_COLUMNS
                             if c in cols and rec[c] is not None}
    chats = lookup.chats(rowid)
    attachments, attachment_info = lookup.attachments(rowid)
    extra["chats"] = [c.info for c in chats]
    if attachment_info:
        extra["attachments"] = attachment_info

    service = as_text(rec["service"]) if "service" in cols else None
    service_key = (service or "").lower()
    kind, channel = SERVICE.get(service_key, ("chat_message", service_key or None))
    if service is None or service.lower() not in SERVICE:
        flags.append("unknown_service")
    if kind == "sms" and attachments:
        kind, channel = "mms", "mms"
    if "item_type" in cols and rec["item_type"] not in (None, 0):
        kind = "system"

    mine = rec["is_from_me"]
    direction = {1: "outgoing", 0: "incoming"}.get(mine, "unknown")
    sender, recipients = _parties(rec, chats, direction, options.region, flags)
    text = _text(rec, cols, flags, extra)
    if not text and not attachments:
        flags.append("no_text")
    for col in SECONDARY_TIMES:
        if col in cols and rec[col] not in (None, 0):
            extra[f"{col}_utc"] = optional_time(rec[col], "apple")

    return EventDraft(
        locator=where,
        kind=kind,
        timestamp_utc=when.utc,
        timestamp_source=str(rec["date"]),
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction=direction,
        sender=sender,
        recipients=recipients,
        channel=channel,
        thread=chats[0].identifier if chats else None,
        text=text,
        attachments=attachments,
        status=_status(rec, cols, direction),
        deleted="intact",
        flags=tuple(dict.fromkeys(flags)),
        extra=extra,
    )


def _parties(rec: sqlite3.Row, chats: list, direction: str, region: str, flags: list[str]
             ) -> tuple[str | None, tuple[str, ...]]:
    """Return (sender, recipients) relative to the phone; nobody when the direction is unknown."""
    own = own_identity(rec, region)
    handle = address_ident(as_text(rec["__handle"]), region)
    members = [m for chat in chats for m in chat.members(region)]
    if direction == "unknown":
        flags.append("direction_unknown")
        return None, ()
    if direction == "outgoing":
        others = members or ([handle] if handle else [])
        if handle is not None and handle.value not in {m.value for m in others}:
            others.append(handle)
        for ident in others:
            flags.extend(unparsed_flag("recipient", ident))
        return (own.value if own else None), tuple(dict.fromkeys(i.value for i in others))
    sender = handle
    if sender is None and len({m.value for m in members}) == 1:
        sender = members[0]
        flags.append("sender_from_chat")
    if sender is None and direction == "incoming":
        flags.append("sender_unknown")
    flags.extend(unparsed_flag("sender", sender))
    recipients = [own] if own else []
    recipients += [m for m in members if sender is None or m.value != sender.value]
    return (sender.value if sender else None), tuple(dict.fromkeys(i.value for i in recipients))


def _text(rec: sqlite3.Row, cols: set[str], flags: list[str], extra: dict[str, Any]) -> str | None:
    """Return the body: ``text``, else the text decoded from ``attributedBody``."""
    text = rec["text"] if isinstance(rec["text"], str) else as_text(rec["text"])
    blob = rec["attributedBody"] if "attributedbody" in {c.lower() for c in cols} else None
    decoded = decode_attributed_body(blob) if blob is not None else None
    if blob is not None and decoded is None:
        flags.append("attributedBody_undecoded")
    if not text and decoded:
        flags.append("text_from_attributedBody")
        return decoded
    if text and decoded is not None and decoded != text:
        flags.append("text_differs_from_attributedBody")
        extra["attributedBody_text"] = decoded
    return text


def _status(rec: sqlite3.Row, cols: set[str], direction: str) -> str | None:
    """Return the message's status, the most telling first."""
    def value(col: str) -> Any:
        return rec[col] if col in cols else None

    if value("date_retracted"):
        return "retracted"
    if value("date_edited"):
        return "edited"
    if value("error"):
        return "failed"
    if direction == "outgoing":
        return "delivered" if value("is_delivered") else ("sent" if value("is_sent") else None)
    if direction == "incoming" and value("is_read") is not None:
        return "read" if value("is_read") else "unread"
    return None


PARSER = ParserSpec(
    name=NAME,
    version="1.1",
    family="phone",
    summary="iOS Messages sms.db / macOS chat.db (iMessage, SMS, MMS)",
    sniff=sniff,
    parse=parse,
    extensions=(".db",),
)
