"""Accepted header spellings, event-type codes and cell readers for ``tower_dump_csv``.

Headers are compared after ``header_key`` folding (``Date/Time`` -> ``date time``,
``Duration (s)`` -> ``duration s``). Each tuple is tried in order and a column
is given to one field only, so the more specific spellings come first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from atlas.cells import cgi_from_parts, normalise_cgi
from parsers._csv_layout_common import header_key

# A dump covers a few cells, so their identities repeat on every row (bounded cache).
_cgi = lru_cache(maxsize=4096)(normalise_cgi)

SYNONYMS: dict[str, tuple[str, ...]] = {
    "dump_id": ("request id", "request ref", "request reference", "request number",
                "dump id", "dump ref", "dump reference", "tower dump id", "tower dump ref",
                "tower dump reference", "td reference", "td ref", "td id"),
    "msisdn": ("msisdn", "subscriber msisdn", "served msisdn", "a msisdn", "subscriber number",
               "a number", "a party", "a party number"),
    "imsi": ("imsi", "served imsi", "subscriber imsi"),
    "imei": ("imei", "imeisv", "imei sv", "served imei", "handset imei"),
    "other": ("other party", "other party number", "other number", "b number", "b party",
              "b party number", "third party", "partner number", "called calling number"),
    "event": ("event type", "event", "call type", "record type", "service type", "service",
              "transaction type"),
    "date": ("event date", "start date", "call date", "date"),
    "time": ("event time", "call time", "time"),
    "datetime": ("date time", "event date time", "start date time", "date and time",
                 "timestamp", "event timestamp", "start time", "start"),
    "duration": ("duration", "duration s", "duration secs", "duration seconds", "call duration",
                 "duration hh mm ss"),
    "last_cell": ("last cell id", "last cgi", "end cgi", "end cell", "end cell id",
                  "last cell"),
    "cell": ("cell id", "cgi", "ecgi", "cell global identity", "serving cell", "serving cgi",
             "serving cell id", "first cell id", "first cgi", "start cgi", "start cell",
             "first cell", "cell"),
    "mcc": ("mcc",),
    "mnc": ("mnc",),
    "lac": ("lac", "tac", "lac tac", "enodeb", "enodeb id", "enb id"),
    "ci": ("ci", "cell number", "sector id"),
}

# Event-type code (header_key-folded) -> (status, direction, channel).
EVENT_TYPES: dict[str, tuple[str, str, str | None]] = {
    **dict.fromkeys(("moc", "voice mo", "mo voice", "mo call", "outgoing call", "voice out",
                     "call out", "voice outgoing"), ("voice_mo", "outgoing", "phone")),
    **dict.fromkeys(("mtc", "voice mt", "mt voice", "mt call", "incoming call", "voice in",
                     "call in", "voice incoming"), ("voice_mt", "incoming", "phone")),
    **dict.fromkeys(("smsmo", "sms mo", "mo sms", "outgoing sms", "sms out", "sms outgoing"),
                    ("sms_mo", "outgoing", "sms")),
    **dict.fromkeys(("smsmt", "sms mt", "mt sms", "incoming sms", "sms in", "sms incoming"),
                    ("sms_mt", "incoming", "sms")),
    **dict.fromkeys(("mmsmo", "mms mo", "mo mms", "outgoing mms"), ("mms_mo", "outgoing", "mms")),
    **dict.fromkeys(("mmsmt", "mms mt", "mt mms", "incoming mms"), ("mms_mt", "incoming", "mms")),
    **dict.fromkeys(("gprs", "data", "data session", "ps", "packet data", "internet", "psd"),
                    ("data", "none", "data")),
    **dict.fromkeys(("lu", "location update", "loc update", "attach", "registration"),
                    ("location_update", "none", None)),
    **dict.fromkeys(("cfw", "call forward", "forwarded call", "call forwarding"),
                    ("call_forward", "unknown", "phone")),
}

# A title row naming the production; group 1 of DUMP_REF is the dump/request reference.
TOWER_TITLE = re.compile(r"\b(tower|cell|mast|site)[\s_-]*dump", re.IGNORECASE)
DUMP_REF = re.compile(
    r"\b(?:request|reference|ref|dump|id|no|number)\b\.?\s*(?:id|ref|reference|no|number)?\.?"
    r"\s*[:#]?\s*([A-Za-z0-9][A-Za-z0-9/_.-]*\d[A-Za-z0-9/_.-]*)", re.IGNORECASE)
DUMP_FILENAME = re.compile(r"tower|dump", re.IGNORECASE)


def is_header(found: dict[str, int]) -> bool:
    """Return True when a row names a subscriber identity, a time and a cell."""
    subscriber = bool({"msisdn", "imsi", "imei"} & found.keys())
    when = bool({"datetime", "date", "time"} & found.keys())
    cell = "cell" in found or {"mcc", "mnc", "lac", "ci"} <= found.keys()
    return subscriber and when and cell


def title_reference(text: str) -> str | None:
    """Return the dump/request reference written in a title row, or None."""
    match = DUMP_REF.search(text)
    return match.group(1).rstrip(".,;:") if match else None


def event_type(code: str, has_column: bool, flags: list[str],
               extra: dict[str, Any]) -> tuple[str | None, str, str | None]:
    """Return (status, direction, channel) for an event-type code; unknown codes are kept."""
    if not code:
        if has_column:
            flags.append("event_type_empty")
        return None, "unknown", None
    extra["event_type"] = code
    mapped = EVENT_TYPES.get(header_key(code))
    if mapped is None:
        flags.append("event_type_unmapped")
        return header_key(code).replace(" ", "_") or code, "unknown", None
    return mapped


def cell_identity(text: Callable[[str], str], has_cgi: bool, flags: list[str],
                  extra: dict[str, Any]) -> str | None:
    """Return the normalised serving cell (or verbatim, flagged); the last cell goes to extra."""
    if has_cgi:
        verbatim = text("cell")
        cell_id = _cgi(verbatim)
    else:
        values = [text(f) for f in ("mcc", "mnc", "lac", "ci")]
        verbatim = "-".join(values) if any(values) else ""
        cell_id = cgi_from_parts(*values) if all(values) else None
    if not verbatim:
        flags.append("cell_id_missing")
        return None
    if cell_id is None:
        flags.append("cell_id_unparsed")
        cell_id = verbatim
    elif cell_id != verbatim:
        extra["cell_id_raw"] = verbatim
    last = text("last_cell")
    if last:
        last_id = _cgi(last)
        extra["last_cell_id"] = last_id or last
        if last_id is None:
            flags.append("last_cell_id_unparsed")
    return cell_id
