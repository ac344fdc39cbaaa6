"""MMS rows of Android ``mmssms.db``: ``pdu`` headers joined with their ``addr`` and ``part`` rows.

A helper of ``android_mmssms_db`` (not a parser). The ``addr`` and ``part`` tables
are read in ``msg_id``/``mid`` order beside the ``pdu`` rows (a merge join), so a
large database is streamed rather than queried once per message.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.parsing import ParseOptions, Source
from atlas.provenance import row
from parsers._phone_sqlite import (
    PhoneDb,
    address_ident,
    as_text,
    iter_rows,
    optional_time,
    plain,
    raw_excerpt,
    read_time,
    unparsed_flag,
)

# pdu.msg_box (Telephony.BaseMmsColumns.MESSAGE_BOX_*): direction and status.
MSG_BOX = {
    1: ("incoming", "received"),
    2: ("outgoing", "sent"),
    3: ("outgoing", "draft"),
    4: ("outgoing", "outbox"),
    5: ("outgoing", "failed"),
}

# pdu.m_type (PduHeaders MESSAGE_TYPE_*): name, and a status that overrides msg_box.
M_TYPE = {
    128: ("send_req", None),
    130: ("notification_ind", "not_downloaded"),
    132: ("retrieve_conf", None),
    134: ("delivery_ind", "delivery_report"),
    136: ("read_orig_ind", "read_report"),
}

# addr.type (PduHeaders): which header an address came from.
ADDR_TYPE = {137: "from", 151: "to", 130: "cc", 129: "bcc"}

# Android writes this placeholder in the From of outgoing MMS instead of the own number.
OWN_NUMBER_TOKEN = "insert-address-token"

TEXT_TYPES = ("text/plain",)
LAYOUT_TYPES = ("application/smil",)
PART_DETAILS = ("_id", "seq", "ct", "name", "cl", "fn", "_data")


class _Grouped:
    """Walk rows sorted by a key column and hand out the group for each key asked for."""

    def __init__(self, rows: Iterator[sqlite3.Row] | None, key: str) -> None:
        self._rows = rows
        self._key = key
        self._next: sqlite3.Row | None = None
        self._advance()

    def _advance(self) -> None:
        self._next = next(self._rows, None) if self._rows is not None else None

    def take(self, wanted: int) -> list[sqlite3.Row]:
        """Return the rows whose key equals ``wanted`` (asked for in ascending order)."""
        out: list[sqlite3.Row] = []
        while self._next is not None:
            key = self._next[self._key]
            if key is None or key < wanted:
                self._advance()  # orphan of a pdu that is gone: not a record of this table
            elif key == wanted:
                out.append(self._next)
                self._advance()
            else:
                break
        return out


def iter_mms(source: Source, db: PhoneDb, tables: dict[str, frozenset[str]],
             options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per ``pdu`` row, in rowid order."""
    conn = db.conn
    addrs = _Grouped(_side_rows(source, conn, tables, "addr", "msg_id", "_id"), "__key")
    parts = _Grouped(_side_rows(source, conn, tables, "part", "mid", "seq, _id"), "__key")
    sql = 'SELECT rowid AS "__rowid", * FROM pdu ORDER BY rowid'
    for rec in iter_rows(source, conn, "pdu", sql):
        rowid = rec["__rowid"]
        yield _mms_event(rec, addrs.take(rowid), parts.take(rowid), options,
                         db.row_flags("pdu", rowid))


def _side_rows(source: Source, conn: sqlite3.Connection, tables: dict[str, frozenset[str]],
               table: str, key: str, then: str) -> Iterator[sqlite3.Row] | None:
    columns = tables.get(table)
    if columns is None or key not in columns:
        return None
    order = ", ".join(c.strip() for c in then.split(",") if c.strip() in columns)
    order = f"{key}, {order}" if order else key
    sql = f'SELECT rowid AS "__rowid", {key} AS "__key", * FROM {table} ORDER BY {order}'
    return iter_rows(source, conn, table, sql)


def _mms_event(rec: sqlite3.Row, addrs: list[sqlite3.Row], parts: list[sqlite3.Row],
               options: ParseOptions, file_flags: tuple[str, ...]) -> EventDraft | Rejection:
    where = row("pdu", rec["__rowid"])
    cols = rec.keys()
    when, problem = read_time(rec["date"], "s", "pdu.date")
    if when is None:
        return Rejection(where, problem, raw=raw_excerpt(rec))

    box = rec["msg_box"] if "msg_box" in cols else None
    direction, status = MSG_BOX.get(box, ("unknown", None if box is None else f"msg_box_{box}"))
    flags: list[str] = list(file_flags)
    if box is not None and box not in MSG_BOX:
        flags.append("unknown_msg_box")
    m_type = rec["m_type"] if "m_type" in cols else None
    m_name, m_status = M_TYPE.get(m_type, (None, None))
    status = m_status or status

    sender, recipients, addr_extra = _addresses(addrs, options.region, flags)
    text, attachments, part_extra = _parts(parts)
    if text is None and not attachments:
        flags.append("no_text")

    extra: dict[str, Any] = {
        "msg_box": box,
        "m_type": m_type,
        "m_type_name": m_name,
        "addresses": addr_extra,
        "parts": part_extra,
    }
    if "date_sent" in cols:
        extra["date_sent_utc"] = optional_time(rec["date_sent"], "s")
    for name in ("read", "seen", "m_id", "sub", "ct_t", "m_size", "locked", "sub_id", "creator",
                 "text_only", "tr_id", "st", "resp_st", "retr_st", "d_rpt", "rr"):
        if name in cols and rec[name] is not None:
            extra[name] = plain(rec[name])

    return EventDraft(
        locator=where,
        kind="mms",
        timestamp_utc=when.utc,
        timestamp_source=str(rec["date"]),
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction=direction,
        sender=sender,
        recipients=recipients,
        channel="mms",
        thread=None if rec["thread_id"] is None else str(rec["thread_id"]),
        text=text,
        attachments=attachments,
        status=status,
        deleted="intact",
        flags=tuple(dict.fromkeys(flags)),
        extra=extra,
    )


def _addresses(addrs: list[sqlite3.Row], region: str, flags: list[str]
               ) -> tuple[str | None, tuple[str, ...], list[dict[str, Any]]]:
    sender: str | None = None
    recipients: list[str] = []
    listing: list[dict[str, Any]] = []
    for addr in addrs:
        raw = as_text(addr["address"])
        header = ADDR_TYPE.get(addr["type"], f"type_{addr['type']}")
        listing.append({"address": raw, "type": addr["type"], "header": header})
        if raw is None or raw == OWN_NUMBER_TOKEN:
            continue  # the handset itself: its number is not in the database
        ident = address_ident(raw, region)
        if ident is None:
            continue
        if header == "from":
            sender = ident.value
            flags.extend(unparsed_flag("sender", ident))
        elif header in ("to", "cc", "bcc"):
            recipients.append(ident.value)
            flags.extend(unparsed_flag("recipient", ident))
    return sender, tuple(dict.fromkeys(recipients)), listing


def _parts(parts: list[sqlite3.Row]) -> tuple[str | None, tuple[str, ...], list[dict[str, Any]]]:
    texts: list[str] = []
    attachments: list[str] = []
    listing: list[dict[str, Any]] = []
    for part in parts:
        cols = part.keys()
        ctype = (as_text(part["ct"]) or "").lower()
        info = {name: plain(part[name]) for name in PART_DETAILS
                if name in cols and part[name] is not None}
        listing.append(info)
        if ctype in TEXT_TYPES:
            if "text" in cols and part["text"] is not None:
                texts.append(part["text"])
            continue
        if ctype in LAYOUT_TYPES:
            continue  # the slide layout, not content
        label = next((as_text(part[n]) for n in ("cl", "name", "fn")
                      if n in cols and as_text(part[n])), None)
        if label is None and "_data" in cols and as_text(part["_data"]):
            label = os.path.basename(as_text(part["_data"]) or "")
        attachments.append(label or f"part {part['__rowid']} ({ctype or 'no content type'})")
    text = "\n".join(texts) if texts else None
    return text, tuple(attachments), listing
