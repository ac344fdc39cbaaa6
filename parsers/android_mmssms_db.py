"""Android SMS and MMS store: ``mmssms.db`` of com.android.providers.telephony.

Format:
    SQLite 3. Table ``sms`` (``_id, thread_id, address, date, date_sent, read,
    status, type, body, service_center, seen, ...``) holds one row per SMS. MMS
    are spread over ``pdu`` (headers: ``date``, ``date_sent``, ``msg_box``,
    ``m_type``, ``sub``), ``addr`` (``msg_id, address, type`` with the PDU header
    codes 137 From, 151 To, 130 Cc, 129 Bcc) and ``part`` (``mid, seq, ct, name,
    cl, _data, text``; text parts have ``ct='text/plain'``, ``application/smil``
    is the slide layout). One event per ``sms`` row (kind ``sms``, channel
    ``sms``), then one per ``pdu`` row (kind ``mms``, channel ``mms``), each
    table in rowid order. Direction comes from ``sms.type`` / ``pdu.msg_box``
    (tables ``SMS_TYPE`` and ``_android_mmssms_mms.MSG_BOX``). The handset's own
    number is not stored: outgoing SMS have no sender, and the From of an
    outgoing MMS is the placeholder ``insert-address-token``, read as unknown.
    A non-empty ``mmssms.db-wal`` beside the database (same folder, exact name)
    is applied: the database and the WAL are copied into a private temporary
    folder (removed afterwards) and the copy opened, so SQLite replays the
    WAL's committed frames; the originals are only read (``immutable=1``).
    Every event then carries ``wal_applied``, and an event whose ``sms`` or ``pdu`` row
    is absent from the main file alone, or differs there, also ``from_wal``.
    The WAL is recorded with the ingest (``companions``) and checked by
    ``atlas verify``. A WAL with no committed frames SQLite accepts (stale
    after a checkpoint, salt or checksum mismatch) adds nothing: flag
    ``wal_not_applied``. ``apply_wal = false`` (``atlas ingest --no-wal``)
    reads the main file alone: flag ``wal_not_read``.
Time:
    ``sms.date`` and ``sms.date_sent`` are Unix milliseconds UTC (``date_sent``
    is 0 when unknown); ``pdu.date`` and ``pdu.date_sent`` are Unix *seconds*.
    ``date`` is the event time (tz_basis ``epoch``); ``date_sent`` (the sender's
    network time for received messages) goes in ``extra``. A NULL, zero or
    implausible ``date`` (outside 1990-2099) rejects the row.
Locator:
    ``sqlite:sms/rowid=N`` and ``sqlite:pdu/rowid=N``.
Limitations:
    Only live rows are read: deleted messages left in free pages are not carved
    (a gap in ``_id`` is a hint that rows were deleted), nor stale WAL frames.
    ``from_wal`` compares the ``sms``/``pdu`` row only, not its ``addr``/``part``
    rows. ``addr``/``part`` rows whose ``pdu`` row is gone
    are not reported. Vendor tables (Samsung ``spam_sms``, RCS tables) are not
    read. Numbers without a country code are read in ``options.region``; an
    alphanumeric sender (``VODAFONE``) is kept verbatim as ``account:`` and flagged.
References:
    developer.android.com Telephony.TextBasedSmsColumns and Telephony.BaseMmsColumns;
    AOSP PduHeaders (address and message-type codes); abrignoni/ALEAPP
    scripts/artifacts/smsmms.py; log2timeline/plaso test_data/android/mmssms.db.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.parsing import ParseOptions, ParserSpec, Source
from atlas.provenance import row
from parsers._android_mmssms_mms import iter_mms
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

NAME = "android_mmssms_db"

# sms.type (Telephony.TextBasedSmsColumns.MESSAGE_TYPE_*): direction and status.
SMS_TYPE = {
    1: ("incoming", "received"),
    2: ("outgoing", "sent"),
    3: ("outgoing", "draft"),
    4: ("outgoing", "outbox"),
    5: ("outgoing", "failed"),
    6: ("outgoing", "queued"),
}

# sms.status: the delivery report (TextBasedSmsColumns.STATUS_*), kept in extra.
DELIVERY_STATUS = {-1: "none", 0: "complete", 32: "pending", 64: "failed"}

# Further sms columns copied into extra when present (vendors add and drop columns).
SMS_EXTRA_COLUMNS = ("read", "seen", "person", "service_center", "subject", "error_code", "locked",
                     "protocol", "reply_path_present", "sub_id", "creator")

REQUIRED_SMS_COLUMNS = {"thread_id", "date", "type", "address", "body"}


def sniff(head: bytes, filename: str) -> bool:
    """Return True for an SQLite file whose head declares the ``sms`` table (or named mmssms.db)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return sniff_sqlite(NAME, head, name.endswith("mmssms.db"))


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per ``sms`` row, then per ``pdu`` row."""
    db = open_database(source, options)
    conn = db.conn
    try:
        tables = table_columns(conn)
        require(tables, "sms", REQUIRED_SMS_COLUMNS)
        if "pdu" in tables:
            require(tables, "pdu", {"date", "msg_box", "thread_id"})
        sql = 'SELECT rowid AS "__rowid", * FROM sms ORDER BY rowid'
        for rec in iter_rows(source, conn, "sms", sql):
            yield _sms_event(rec, options, db.row_flags("sms", rec["__rowid"]))
        if "pdu" in tables:
            yield from iter_mms(source, db, tables, options)
    finally:
        db.close()


def _sms_event(rec: sqlite3.Row, options: ParseOptions, file_flags: tuple[str, ...]
               ) -> EventDraft | Rejection:
    where = row("sms", rec["__rowid"])
    cols = rec.keys()
    when, problem = read_time(rec["date"], "ms", "sms.date")
    if when is None:
        return Rejection(where, problem, raw=raw_excerpt(rec))

    code = rec["type"]
    flags: list[str] = list(file_flags)
    if code in SMS_TYPE:
        direction, status = SMS_TYPE[code]
    else:
        direction, status = "unknown", None if code is None else f"type_{code}"
        flags.append("unknown_message_type")

    ident = address_ident(as_text(rec["address"]), options.region)
    sender: str | None = None
    recipients: tuple[str, ...] = ()
    if ident is not None and direction == "incoming":
        sender = ident.value
        flags.extend(unparsed_flag("sender", ident))
    elif ident is not None and direction == "outgoing":
        recipients = (ident.value,)
        flags.extend(unparsed_flag("recipient", ident))
    elif ident is not None:
        flags.extend(unparsed_flag("party", ident))

    extra: dict[str, Any] = {"type": code, "address": as_text(rec["address"])}
    if ident is not None and direction == "unknown":
        extra["party"] = ident.value  # the other party, whichever way the message went
    if "date_sent" in cols:
        extra["date_sent_utc"] = optional_time(rec["date_sent"], "ms")
        extra["date_sent_source"] = plain(rec["date_sent"])
    if "status" in cols and rec["status"] is not None:
        extra["delivery_status"] = DELIVERY_STATUS.get(rec["status"], f"code_{rec['status']}")
    for name in SMS_EXTRA_COLUMNS:
        if name in cols and rec[name] is not None:
            extra[name] = plain(rec[name])

    return EventDraft(
        locator=where,
        kind="sms",
        timestamp_utc=when.utc,
        timestamp_source=str(rec["date"]),
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction=direction,
        sender=sender,
        recipients=recipients,
        channel="sms",
        thread=None if rec["thread_id"] is None else str(rec["thread_id"]),
        text=_body(rec["body"]),
        status=status,
        deleted="intact",
        flags=tuple(dict.fromkeys(flags)),
        extra=extra,
    )


def _body(value: Any) -> str | None:
    """Return the body verbatim; bytes (a vendor quirk) are decoded as UTF-8 with replacement."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return None if value is None else str(value)


PARSER = ParserSpec(
    name=NAME,
    version="1.1",
    family="phone",
    summary="Android SMS/MMS database (mmssms.db: sms, pdu, addr, part)",
    sniff=sniff,
    parse=parse,
    extensions=(".db",),
)
