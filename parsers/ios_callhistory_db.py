"""iOS call history: ``CallHistory.storedata`` (Library/CallHistoryDB), table ``ZCALLRECORD``.

Format:
    Core Data SQLite store (iOS 8 and later). ``ZCALLRECORD`` has one row per
    call: ``ZDATE`` (start), ``ZDURATION`` (seconds, float), ``ZORIGINATED``
    (1 outgoing, 0 incoming), ``ZANSWERED``, ``ZCALLTYPE`` (1 phone,
    8 FaceTime video, 16 FaceTime audio, 0 third-party app through CallKit),
    ``ZSERVICE_PROVIDER`` (``com.apple.Telephony``, ``com.apple.FaceTime``,
    ``net.whatsapp.WhatsApp`` ...), ``ZADDRESS`` (number or handle; Core Data
    may store it as a BLOB of UTF-8 bytes), ``ZNAME``, ``ZISO_COUNTRY_CODE``,
    ``ZLOCATION``, ``ZHANDLE_TYPE`` (CallKit: 1 generic, 2 phone number,
    3 e-mail), ``ZDISCONNECTED_CAUSE``, ``ZUNIQUE_ID``. One event (kind
    ``call``) per row in ``Z_PK`` (rowid) order. The provider gives the channel
    (table ``PROVIDER_CHANNEL``; an unknown provider is kept, lower-cased).
    Status: an incoming call not answered is ``missed``, an answered one
    ``answered``; outgoing calls carry no status (``ZANSWERED`` in ``extra``).
    A non-empty ``CallHistory.storedata-wal`` beside the database (same folder, exact name)
    is applied: the database and the WAL are copied into a private temporary
    folder (removed afterwards) and the copy opened, so SQLite replays the
    WAL's committed frames; the originals are only read (``immutable=1``).
    Every event then carries ``wal_applied``, and an event whose ``ZCALLRECORD`` row
    is absent from the main file alone, or differs there, also ``from_wal``.
    The WAL is recorded with the ingest (``companions``) and checked by
    ``atlas verify``. A WAL with no committed frames SQLite accepts (stale
    after a checkpoint, salt or checksum mismatch) adds nothing: flag
    ``wal_not_applied``. ``apply_wal = false`` (``atlas ingest --no-wal``)
    reads the main file alone: flag ``wal_not_read``.
Time:
    ``ZDATE`` is Apple absolute time in seconds (float) since 2001-01-01 UTC
    (tz_basis ``epoch``). A NULL, zero or implausible ``ZDATE`` rejects the row.
Locator:
    ``sqlite:ZCALLRECORD/rowid=N`` (the rowid is ``Z_PK``).
Limitations:
    Calls before iOS 8 (``call_history.db``, table ``call``) are not read, nor
    stale (uncommitted or overwritten) WAL frames. ``ZDISCONNECTED_CAUSE`` is kept
    raw, because its meaning depends on the provider. Numbers are normalised with
    the row's ``ZISO_COUNTRY_CODE`` when present, else ``options.region``.
    No public sample exists: the tests use a schema rebuilt from iLEAPP's
    queries and Core Data naming.
References:
    abrignoni/iLEAPP scripts/artifacts/callHistory.py (columns, ZCALLTYPE
    values, BLOB addresses); Apple CallKit CXHandle.HandleType.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.identifiers import SCHEMES, Ident, email, tel, whatsapp_jid
from atlas.parsing import ParseOptions, ParserSpec, Source
from atlas.provenance import row
from parsers._phone_sqlite import (
    address_ident,
    as_text,
    iter_rows,
    open_database,
    plain,
    raw_excerpt,
    read_time,
    region_for,
    require,
    sniff_sqlite,
    table_columns,
    unparsed_flag,
)

NAME = "ios_callhistory_db"
BACKUP_FILE_ID = "5a4935c78a5255723f707230a451d79c540d2741"

# ZSERVICE_PROVIDER bundle id -> channel.
PROVIDER_CHANNEL = {
    "com.apple.telephony": "phone",
    "com.apple.facetime": "facetime",
    "net.whatsapp.whatsapp": "whatsapp",
    "net.whatsapp.whatsappsmb": "whatsapp",
    "ph.telegra.telegraph": "telegram",
    "org.whispersystems.signal": "signal",
    "com.facebook.messenger": "messenger",
    "com.skype.skype": "skype",
    "com.viber": "viber",
    "com.burbn.instagram": "instagram",
    "com.toyopagroup.picaboo": "snapchat",
}

# ZCALLTYPE values as iLEAPP reads them; also the channel when the provider is missing.
CALL_TYPE = {0: "third_party", 1: "phone", 8: "facetime_video", 16: "facetime_audio"}
CALL_TYPE_CHANNEL = {1: "phone", 8: "facetime", 16: "facetime"}

# ZHANDLE_TYPE (CXHandle.HandleType).
HANDLE_TYPE = {1: "generic", 2: "phone_number", 3: "email_address"}

EXTRA_COLUMNS = ("ZANSWERED", "ZCALLTYPE", "ZSERVICE_PROVIDER", "ZNAME", "ZISO_COUNTRY_CODE",
                 "ZLOCATION", "ZDISCONNECTED_CAUSE", "ZUNIQUE_ID", "ZREAD", "ZHANDLE_TYPE",
                 "ZNUMBER_AVAILABILITY", "ZCALL_CATEGORY", "ZJUNKCONFIDENCE",
                 "ZJUNKIDENTIFICATIONCATEGORY", "ZWASEMERGENCYCALL", "ZDEVICE_ID")


def sniff(head: bytes, filename: str) -> bool:
    """Return True for an SQLite file whose head declares ``ZCALLRECORD`` (or named CallHistory)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    hint = name.endswith("callhistory.storedata") or name == BACKUP_FILE_ID
    return sniff_sqlite(NAME, head, hint)


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per ``ZCALLRECORD`` row, in rowid order."""
    db = open_database(source, options)
    conn = db.conn
    try:
        require(table_columns(conn), "zcallrecord", {"zdate", "zoriginated", "zaddress"})
        sql = 'SELECT rowid AS "__rowid", * FROM ZCALLRECORD ORDER BY rowid'
        for rec in iter_rows(source, conn, "ZCALLRECORD", sql):
            yield _call_event(rec, options, db.row_flags("ZCALLRECORD", rec["__rowid"]))
    finally:
        db.close()


def _call_event(rec: sqlite3.Row, options: ParseOptions, file_flags: tuple[str, ...]
                ) -> EventDraft | Rejection:
    where = row("ZCALLRECORD", rec["__rowid"])
    cols = {c.upper() for c in rec.keys()}

    def col(name: str) -> Any:
        return rec[name] if name in cols else None

    when, problem = read_time(rec["ZDATE"], "apple", "ZDATE")
    if when is None:
        return Rejection(where, problem, raw=raw_excerpt(rec))
    duration = col("ZDURATION")
    if duration is not None and (not isinstance(duration, int | float) or duration < 0):
        return Rejection(where, f"ZDURATION is not a non-negative number: {duration!r}",
                         raw=raw_excerpt(rec))

    flags: list[str] = list(file_flags)
    direction = {1: "outgoing", 0: "incoming"}.get(rec["ZORIGINATED"], "unknown")
    answered = col("ZANSWERED")
    status = None
    if direction == "incoming" and answered is not None:
        status = "answered" if answered else "missed"

    provider = as_text(col("ZSERVICE_PROVIDER"))
    call_type = col("ZCALLTYPE")
    if provider:
        channel = PROVIDER_CHANNEL.get(provider.lower(), provider.lower())
    else:
        channel = CALL_TYPE_CHANNEL.get(call_type)

    address, blob_flag = _address_text(rec["ZADDRESS"])
    flags.extend(blob_flag)
    region = region_for(col("ZISO_COUNTRY_CODE"), options.region)
    # an undecodable BLOB is kept as hex in extra, never turned into an identifier
    other = None if blob_flag else _ident(address, col("ZHANDLE_TYPE"), region, channel)
    if other is None and not blob_flag:
        flags.append("no_number")

    name = as_text(col("ZNAME"))
    sender = other if direction == "incoming" else None
    recipient = other if direction == "outgoing" else None
    flags.extend(unparsed_flag("sender", sender))
    flags.extend(unparsed_flag("recipient", recipient))

    extra: dict[str, Any] = {"address": address, "number_region": region}
    if direction == "unknown" and other is not None:
        extra["party"] = other.value
    for name_ in EXTRA_COLUMNS:
        value = col(name_)
        if value not in (None, ""):
            extra[name_.lower()] = plain(value)
    if call_type in CALL_TYPE:
        extra["call_type_name"] = CALL_TYPE[call_type]
    if col("ZHANDLE_TYPE") in HANDLE_TYPE:
        extra["handle_type_name"] = HANDLE_TYPE[col("ZHANDLE_TYPE")]

    return EventDraft(
        locator=where,
        kind="call",
        timestamp_utc=when.utc,
        timestamp_source=str(rec["ZDATE"]),
        tz_basis=when.basis,
        tz_flag=when.flag,
        duration_s=None if duration is None else float(duration),
        direction=direction,
        sender=sender.value if sender else None,
        sender_name=name if direction == "incoming" else None,
        recipients=(recipient.value,) if recipient else (),
        channel=channel,
        status=status,
        deleted="intact",
        flags=tuple(dict.fromkeys(flags)),
        extra=extra,
    )


def _address_text(value: Any) -> tuple[str | None, tuple[str, ...]]:
    """Return ZADDRESS as text; a BLOB is read as UTF-8, or kept as hex and flagged."""
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8").strip() or None, ()
        except UnicodeDecodeError:
            return value.hex(), ("address_blob_not_utf8",)
    return as_text(value), ()


def _ident(address: str | None, handle_type: Any, region: str, channel: str | None) -> Ident | None:
    """Normalise the other party by its CallKit handle type, else by its shape."""
    if address is None:
        return None
    if handle_type == 3:
        return email(address)
    if handle_type == 2:
        return tel(address, region)
    if channel == "whatsapp":
        return whatsapp_jid(address, region)
    if handle_type == 1 and channel not in (None, "phone", "facetime"):
        scheme = channel if channel in SCHEMES else "account"
        return Ident(f"{scheme}:{address}", False)  # an app's own account id, kept verbatim
    return address_ident(address, region)


PARSER = ParserSpec(
    name=NAME,
    version="1.1",
    family="phone",
    summary="iOS call history (CallHistory.storedata, ZCALLRECORD)",
    sniff=sniff,
    parse=parse,
    extensions=(".storedata",),
)
