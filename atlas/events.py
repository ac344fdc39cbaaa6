"""The unified event model: one declaration of every field.

``EVENT_FIELDS`` is the single table of fields. The Arrow schema of the store,
the ``EventDraft`` dataclass a parser builds and ``docs/event-schema.md`` all
follow it, and ``tests/test_events.py`` checks that they agree.

Fields marked ``core`` are stamped by the ingest core (``atlas.ingest``);
parsers cannot set them, so a parser can never forge provenance.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import pyarrow as pa

SCHEMA_VERSION = "1"

KINDS = (
    "call",
    "sms",
    "mms",
    "chat_message",
    "email",
    "social_post",
    "social_interaction",
    "location_fix",
    "location_visit",
    "cell_event",
    "cell_site",
    "anpr_read",
    "app_event",
    "system",
    "contact",
    "device_info",
    "note",
)
"""Closed list of event kinds. ``system`` is a line written by an app, not a person;
``contact`` and ``device_info`` are records of what a device holds (attribution hints);
``cell_site`` is a row of an operator's cell list (reference data, usually without a time)."""

DIRECTIONS = ("incoming", "outgoing", "internal", "none", "unknown")
TZ_FLAGS = ("ok", "ambiguous", "nonexistent", "no_time")
LOCATION_METHODS = ("gps", "wifi", "cell", "anpr", "manual", "fused", "unknown")
DELETION_STATES = ("intact", "deleted", "recovered", "unknown")


class Field(NamedTuple):
    """One column of the event model."""

    name: str
    arrow: pa.DataType
    origin: str  # "core" (stamped by ingest) or "parser"
    doc: str


_TS = pa.timestamp("us", tz="UTC")
_STRS = pa.list_(pa.string())

EVENT_FIELDS: tuple[Field, ...] = (
    Field("event_id", pa.string(), "core",
          "Deterministic id: SHA-256 of source_sha256, locator and part (first 24 hex digits)."),
    Field("seq", pa.int64(), "core", "Position of the record in the parser's yield order (0-based)."),
    Field("exhibit_ref", pa.string(), "core", "Exhibit reference given at ingest, e.g. `JS/1`."),
    Field("source_path", pa.string(), "core", "Source file path relative to the case directory."),
    Field("source_sha256", pa.string(), "core", "SHA-256 of the source file, taken before parsing."),
    Field("parser", pa.string(), "core", "Name of the parser (the `--format` value)."),
    Field("parser_version", pa.string(), "core", "Version of the parser."),
    Field("locator", pa.string(), "parser",
          "Where the record is in the source: `line:N`, `xpath:…`, `sqlite:table/rowid=N`, "
          "`json:/pointer`, `zip:member#…`, `xlsx:Sheet!row=N`."),
    Field("part", pa.int32(), "parser", "Index of the event within one record (0 unless a record yields several)."),
    Field("kind", pa.string(), "parser", "Event kind; one of KINDS."),
    Field("timestamp_utc", _TS, "parser", "Start of the event in UTC (null only with tz_flag `no_time`)."),
    Field("timestamp_source", pa.string(), "parser", "The timestamp exactly as written in the source."),
    Field("tz_basis", pa.string(), "parser",
          "How the zone was decided: `offset-in-source`, `utc-declared`, `assumed:<zone>`, "
          "`device-setting:<zone>` (the handset's own zone setting), `report-setting:<zone>` (the zone an "
          "extraction report was written in), `epoch`, or `none`."),
    Field("tz_flag", pa.string(), "parser",
          "`ok`, `ambiguous` (local time occurs twice, earlier reading stored), `nonexistent` "
          "(local time skipped by a clock change, pre-change offset applied) or `no_time`."),
    Field("date_order", pa.string(), "parser",
          "For sources with numeric dates: `dmy`, `mdy` or `ymd`, and whether it was `inferred` "
          "from the file or `assumed` (case default), e.g. `dmy:assumed`."),
    Field("end_utc", _TS, "parser", "End of the event in UTC, where the source gives one."),
    Field("duration_s", pa.float64(), "parser", "Duration in seconds, where the source gives one."),
    Field("direction", pa.string(), "parser", "One of DIRECTIONS, relative to the device or account the exhibit came from."),
    Field("sender", pa.string(), "parser", "Normalised identifier of the sender or caller (`tel:+447700900123`)."),
    Field("sender_name", pa.string(), "parser", "Sender's name exactly as shown in the source."),
    Field("recipients", _STRS, "parser", "Normalised identifiers of the recipients or called party."),
    Field("channel", pa.string(), "parser", "Application or network channel: `whatsapp`, `sms`, `gps`, …"),
    Field("thread", pa.string(), "parser", "Conversation, chat or track the record belongs to, as named in the source."),
    Field("text", pa.string(), "parser", "Message or note text, verbatim (never escaped in the store)."),
    Field("attachments", _STRS, "parser", "Attachment names or paths as given in the source."),
    Field("status", pa.string(), "parser", "Source status such as `missed`, `rejected`, `edited`, `deleted_message`."),
    Field("latitude", pa.float64(), "parser", "WGS84 latitude in degrees."),
    Field("longitude", pa.float64(), "parser", "WGS84 longitude in degrees."),
    Field("accuracy_m", pa.float64(), "parser", "Horizontal uncertainty radius in metres, where known."),
    Field("location_method", pa.string(), "parser", "One of LOCATION_METHODS."),
    Field("cell_id", pa.string(), "parser", "Serving cell identifier exactly as given (an area, never a point)."),
    Field("deleted", pa.string(), "parser", "Deletion state reported by the source: one of DELETION_STATES."),
    Field("flags", _STRS, "parser",
          "Record-level oddities that keep the record, e.g. `sender_unparsed_number`, "
          "`timestamp_out_of_order`."),
    Field("extra", pa.string(), "parser", "Other source fields as a JSON object with sorted keys."),
)

FIELD_NAMES = tuple(f.name for f in EVENT_FIELDS)
CORE_FIELDS = tuple(f.name for f in EVENT_FIELDS if f.origin == "core")
PARSER_FIELDS = tuple(f.name for f in EVENT_FIELDS if f.origin == "parser")


def arrow_schema() -> pa.Schema:
    """Return the Arrow schema of an event table in the store."""
    return pa.schema(
        [pa.field(f.name, f.arrow) for f in EVENT_FIELDS],
        metadata={"atlas_schema_version": SCHEMA_VERSION},
    )


REJECTION_FIELDS: tuple[Field, ...] = (
    Field("exhibit_ref", pa.string(), "core", "Exhibit reference."),
    Field("source_path", pa.string(), "core", "Source path relative to the case."),
    Field("source_sha256", pa.string(), "core", "SHA-256 of the source."),
    Field("parser", pa.string(), "core", "Parser name."),
    Field("parser_version", pa.string(), "core", "Parser version."),
    Field("seq", pa.int64(), "core", "Position in the parser's yield order."),
    Field("locator", pa.string(), "parser", "Where the record is in the source."),
    Field("reason", pa.string(), "parser", "Why it could not become an event."),
    Field("raw", pa.string(), "parser", "Excerpt of the record (at most 500 characters, control characters escaped)."),
)


def rejection_schema() -> pa.Schema:
    """Return the Arrow schema of the rejected-records ledger."""
    return pa.schema([pa.field(f.name, f.arrow) for f in REJECTION_FIELDS])


def _check_utc(name: str, value: datetime | None) -> None:
    if value is None:
        return
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() != timedelta(0):
        raise ValueError(f"{name} must be timezone-aware UTC, got {value!r}")


@dataclass(frozen=True, slots=True, kw_only=True)
class EventDraft:
    """An event as a parser yields it: every parser field, no provenance beyond the locator."""

    locator: str
    kind: str
    timestamp_utc: datetime | None
    timestamp_source: str | None
    tz_basis: str
    tz_flag: str = "ok"
    part: int = 0
    date_order: str | None = None
    end_utc: datetime | None = None
    duration_s: float | None = None
    direction: str = "unknown"
    sender: str | None = None
    sender_name: str | None = None
    recipients: tuple[str, ...] = ()
    channel: str | None = None
    thread: str | None = None
    text: str | None = None
    attachments: tuple[str, ...] = ()
    status: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    location_method: str | None = None
    cell_id: str | None = None
    deleted: str = "unknown"
    flags: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.locator:
            raise ValueError("locator is required")
        if self.kind not in KINDS:
            raise ValueError(f"kind {self.kind!r} is not one of {KINDS}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction {self.direction!r} is not one of {DIRECTIONS}")
        if self.tz_flag not in TZ_FLAGS:
            raise ValueError(f"tz_flag {self.tz_flag!r} is not one of {TZ_FLAGS}")
        if self.deleted not in DELETION_STATES:
            raise ValueError(f"deleted {self.deleted!r} is not one of {DELETION_STATES}")
        if self.location_method is not None and self.location_method not in LOCATION_METHODS:
            raise ValueError(f"location_method {self.location_method!r} is not one of {LOCATION_METHODS}")
        if (self.timestamp_utc is None) != (self.tz_flag == "no_time"):
            raise ValueError("timestamp_utc is null exactly when tz_flag is 'no_time'")
        _check_utc("timestamp_utc", self.timestamp_utc)
        _check_utc("end_utc", self.end_utc)
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude come together")
        if self.latitude is not None and not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValueError(f"coordinates out of range: {self.latitude}, {self.longitude}")
        if self.accuracy_m is not None and self.accuracy_m < 0:
            raise ValueError("accuracy_m must not be negative")
        for name in ("recipients", "attachments", "flags"):
            if not isinstance(getattr(self, name), tuple):
                raise TypeError(f"{name} must be a tuple")

    def extra_json(self) -> str | None:
        """Return ``extra`` as canonical JSON (sorted keys), or None when empty."""
        if not self.extra:
            return None
        return json.dumps(self.extra, sort_keys=True, ensure_ascii=False, default=str)


RAW_LIMIT = 500


def escape_raw(raw: object) -> str:
    """Return a bounded, printable excerpt of a raw record for the ledger."""
    text = raw if isinstance(raw, str) else repr(raw)
    out = []
    for ch in text[:RAW_LIMIT]:
        code = ord(ch)
        if code < 0x20 or code == 0x7F or 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    if len(text) > RAW_LIMIT:
        out.append("…")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A source record that could not become an event, with where it is and why."""

    locator: str
    reason: str
    raw: object = None

    def __post_init__(self) -> None:
        if not self.locator:
            raise ValueError("locator is required")
        if not self.reason:
            raise ValueError("reason is required")


def draft_field_names() -> tuple[str, ...]:
    """Return the EventDraft field names, for the consistency test."""
    return tuple(f.name for f in fields(EventDraft))
