"""Android call log: the ``calls`` table of ``calllog.db`` (``contacts2.db`` before Android 7).

Format:
    SQLite 3, table ``calls`` with ``_id, number, date, duration, type`` and,
    depending on version and vendor, ``name`` (contact name cached at call
    time), ``presentation``, ``countryiso``, ``normalized_number``,
    ``formatted_number``, ``geocoded_location``, ``features`` (bit 1 = video),
    ``phone_account_address``, ``subscription_id``, ``transcription``. One event
    (kind ``call``, channel ``phone``) per row in rowid order. ``type`` gives
    direction and status (table ``CALL_TYPE``): 1 incoming (answered),
    2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked, 7 answered on
    another device. The other party is the sender of an incoming call and the
    recipient of an outgoing one; the handset is named only when the row has a
    ``phone_account_address``. ``presentation`` 2 (restricted) or 3 (unknown)
    marks a withheld number (flag ``number_withheld`` / ``number_unknown``).
    A non-empty ``calllog.db-wal`` beside the database (same folder, exact name)
    is applied: the database and the WAL are copied into a private temporary
    folder (removed afterwards) and the copy opened, so SQLite replays the
    WAL's committed frames; the originals are only read (``immutable=1``).
    Every event then carries ``wal_applied``, and an event whose ``calls`` row
    is absent from the main file alone, or differs there, also ``from_wal``.
    The WAL is recorded with the ingest (``companions``) and checked by
    ``atlas verify``. A WAL with no committed frames SQLite accepts (stale
    after a checkpoint, salt or checksum mismatch) adds nothing: flag
    ``wal_not_applied``. ``apply_wal = false`` (``atlas ingest --no-wal``)
    reads the main file alone: flag ``wal_not_read``.
Time:
    ``date`` is Unix milliseconds UTC, the start of the call (ringing for
    incoming calls); ``duration`` is whole seconds of conversation, so no end
    time is derived. A NULL, zero or implausible ``date`` rejects the row.
Locator:
    ``sqlite:calls/rowid=N``.
Limitations:
    Only live rows are read (no carving of deleted calls or stale WAL frames).
    The number is
    normalised with the row's own ``countryiso`` (the country the phone was in)
    when present, else ``options.region``; the phone's ``normalized_number`` is
    kept in ``extra``. Vendor call types (Samsung, LG) outside 1-7 keep the
    event with direction ``unknown`` and flag ``unknown_call_type``. Calls of
    third-party apps logged through Telecom are not told apart (the phone
    account, ``subscription_component_name``, is kept in ``extra``). A row with
    ``deleted`` = 1 (a voicemail deleted on the phone, awaiting sync) is
    reported with ``deleted`` set to ``deleted``.
References:
    developer.android.com CallLog.Calls (type, presentation and feature
    constants); abrignoni/ALEAPP scripts/artifacts/calllog.py;
    log2timeline/plaso test_data/android/contacts2.db.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
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

NAME = "android_calllog_db"

# calls.type (CallLog.Calls.*_TYPE): direction and status.
CALL_TYPE = {
    1: ("incoming", "answered"),
    2: ("outgoing", None),  # the log does not say whether the far end answered
    3: ("incoming", "missed"),
    4: ("incoming", "voicemail"),
    5: ("incoming", "rejected"),
    6: ("incoming", "blocked"),
    7: ("incoming", "answered_externally"),
}

# calls.presentation (CallLog.Calls.PRESENTATION_*).
PRESENTATION = {1: "allowed", 2: "restricted", 3: "unknown", 4: "payphone"}
PRESENTATION_FLAG = {2: "number_withheld", 3: "number_unknown"}

# calls.features bits (CallLog.Calls.FEATURES_*).
FEATURES = {0x1: "video", 0x2: "pulled_externally", 0x4: "hd_call", 0x8: "wifi",
            0x10: "assisted_dialing", 0x20: "rtt", 0x40: "volte"}

# Further columns copied into extra when present.
EXTRA_COLUMNS = ("name", "numbertype", "numberlabel", "countryiso", "normalized_number",
                 "formatted_number", "matched_number", "geocoded_location", "new", "is_read",
                 "subscription_component_name", "subscription_id", "phone_account_address",
                 "post_dial_digits", "via_number", "transcription", "call_screening_app_name",
                 "block_reason", "missed_reason", "voicemail_uri", "deleted", "logtype")

REQUIRED_COLUMNS = {"number", "date", "duration", "type"}


def sniff(head: bytes, filename: str) -> bool:
    """Return True for SQLite declaring ``calls`` in its head (or named calllog/contacts2.db)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].lower()
    return sniff_sqlite(NAME, head, name.endswith(("calllog.db", "contacts2.db")))


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per ``calls`` row, in rowid order."""
    db = open_database(source, options)
    conn = db.conn
    try:
        require(table_columns(conn), "calls", REQUIRED_COLUMNS)
        sql = 'SELECT rowid AS "__rowid", * FROM calls ORDER BY rowid'
        for rec in iter_rows(source, conn, "calls", sql):
            yield _call_event(rec, options, db.row_flags("calls", rec["__rowid"]))
    finally:
        db.close()


def _call_event(rec: sqlite3.Row, options: ParseOptions, file_flags: tuple[str, ...]
                ) -> EventDraft | Rejection:
    where = row("calls", rec["__rowid"])
    cols = rec.keys()
    when, problem = read_time(rec["date"], "ms", "calls.date")
    if when is None:
        return Rejection(where, problem, raw=raw_excerpt(rec))
    duration, problem = _duration(rec["duration"])
    if problem:
        return Rejection(where, problem, raw=raw_excerpt(rec))

    flags: list[str] = list(file_flags)
    code = rec["type"]
    if code in CALL_TYPE:
        direction, status = CALL_TYPE[code]
    else:
        direction, status = "unknown", None if code is None else f"type_{code}"
        flags.append("unknown_call_type")

    presentation = rec["presentation"] if "presentation" in cols else None
    if presentation in PRESENTATION_FLAG:
        flags.append(PRESENTATION_FLAG[presentation])
    region = region_for(rec["countryiso"] if "countryiso" in cols else None, options.region)
    other = address_ident(as_text(rec["number"]), region)
    own = address_ident(as_text(rec["phone_account_address"]), region) \
        if "phone_account_address" in cols else None

    sender = recipient = None
    name = as_text(rec["name"]) if "name" in cols else None
    if direction == "incoming":
        sender, recipient = other, own
    elif direction == "outgoing":
        sender, recipient = own, other
    flags.extend(unparsed_flag("sender", sender))
    flags.extend(unparsed_flag("recipient", recipient))

    extra: dict[str, Any] = {"type": code, "number": as_text(rec["number"]),
                             "number_region": region}
    if direction == "unknown" and other is not None:
        extra["party"] = other.value
    if presentation is not None:
        extra["presentation"] = PRESENTATION.get(presentation, f"code_{presentation}")
    if "features" in cols and isinstance(rec["features"], int):
        extra["features"] = [label for bit, label in FEATURES.items() if rec["features"] & bit]
    for col in EXTRA_COLUMNS:
        if col in cols and rec[col] not in (None, ""):
            extra[col] = plain(rec[col])

    return EventDraft(
        locator=where,
        kind="call",
        timestamp_utc=when.utc,
        timestamp_source=str(rec["date"]),
        tz_basis=when.basis,
        tz_flag=when.flag,
        duration_s=duration,
        direction=direction,
        sender=sender.value if sender else None,
        sender_name=name if direction == "incoming" else None,
        recipients=(recipient.value,) if recipient else (),
        channel="phone",
        status=status,
        deleted="deleted" if "deleted" in cols and rec["deleted"] == 1 else "intact",
        flags=tuple(dict.fromkeys(flags)),
        extra=extra,
    )


def _duration(value: Any) -> tuple[float | None, str | None]:
    """Return the duration in seconds (None when NULL), or a reason when it is not a count."""
    if value is None:
        return None, None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None, f"calls.duration is not a number: {value!r}"
    if seconds < 0:
        return None, f"calls.duration is negative: {value!r}"
    return seconds, None


PARSER = ParserSpec(
    name=NAME,
    version="1.1",
    family="phone",
    summary="Android call log (calls table of calllog.db or contacts2.db)",
    sniff=sniff,
    parse=parse,
    extensions=(".db",),
)
