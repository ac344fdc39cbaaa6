"""Mapping XRY record blocks to events (helper for ``parsers.xry_txt``; not a parser)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.parsing import ParseOptions
from atlas.provenance import lines
from parsers._phone_export_common import (
    channel_from_text,
    direction_of,
    identify,
    parse_coordinate,
    parse_duration,
    unparsed_flag,
    yes_no,
)
from parsers._xry_txt_block import Block
from parsers._xry_txt_time import XryTime, read_time

TIME_KEYS = ("time", "date/time", "timestamp", "start time", "date")
APP_KEYS = ("related application", "application", "app", "service")
NAME_KEYS = ("name (matched)", "name")
NUMBER_KEYS = ("tel", "number")
PHONE_KEYS = ("tel", "number", "mobile", "home", "work", "other")
EMAIL_KEYS = ("email", "email home", "email work")
# Keys the mappers read; every other key is kept verbatim in extra["fields"].
_USED = frozenset({*TIME_KEYS, *APP_KEYS, *NAME_KEYS, *PHONE_KEYS, *EMAIL_KEYS, "from", "to",
                   "deleted", "direction", "call type", "type", "folder", "status", "duration",
                   "text", "message", "body", "end time", "latitude", "longitude", "position",
                   "coordinates", "accuracy", "account name", "user id", "data", "attribute"})


@dataclass(frozen=True)
class Context:
    """What every block of one file shares."""

    report_type: str
    order: str
    date_order: str
    options: ParseOptions


def map_block(block: Block, ctx: Context) -> EventDraft | Rejection:
    """Return the event for one block, or a rejection saying why there is none."""
    where = lines(block.first, block.last)
    if block.title is None:
        return Rejection(where, "text before the first record title ('<Category> #<tab><n>'); "
                                "not a record this parser can read", raw=block.raw)
    if not block.pairs:
        return Rejection(where, f"record {block.title!r} has no 'Key: Value' lines", raw=block.raw)
    kind = ctx.report_type.lower()
    if kind.startswith("call"):
        return _call(block, where, ctx)
    if kind.startswith(("message", "chat", "instant")):
        return _message(block, where, ctx)
    if kind.startswith("contact"):
        return _contact(block, where, ctx)
    if kind.startswith(("location", "gps")) or "location" in kind:
        return _location(block, where, ctx)
    if kind.startswith("device"):
        return _device(block, where, ctx)
    return Rejection(where, f"XRY report type {ctx.report_type!r} is not mapped by xry_txt "
                            "(calls, messages, contacts, locations, device information are)",
                     raw=block.raw)


def _time(block: Block, ctx: Context) -> tuple[XryTime | None, str | None, str | None]:
    """Return (time, verbatim value, error) for the block's main time."""
    raw = block.first_value(*TIME_KEYS)
    if raw is None:
        return None, None, None
    got = read_time(raw, ctx.order, ctx.options.source_tz)
    if isinstance(got, str):
        return None, raw, got
    return got, raw, None


def _deleted(block: Block) -> str:
    if "deleted" in block.markers or (block.title and "deleted" in block.title.lower()):
        return "deleted"
    state = yes_no(block.first_value("deleted"))
    if state is not None:
        return "deleted" if state else "intact"
    if any(v.strip().lower() == "deleted" for v in block.values("status")):
        return "deleted"
    return "unknown"


def _common(block: Block, ctx: Context, kind: str, where: str) -> dict[str, Any] | Rejection:
    """Collect the fields every timed event shares (time, deletion, extra)."""
    when, raw_time, error = _time(block, ctx)
    if error:
        return Rejection(where, error, raw=block.raw)
    extra: dict[str, Any] = {"report_type": ctx.report_type}
    if block.number is not None:
        extra["record_number"] = block.number
    fields = {p.label: p.value for p in block.pairs if p.key not in _USED and p.value}
    if fields:
        extra["fields"] = fields
    flags: list[str] = []
    if block.stray:
        extra["unrecognised_lines"] = block.stray
        flags.append("unrecognised_lines")
    if when is None:
        flags.append("no_timestamp")
        reading_utc, basis, flag, date_order = None, "none", "no_time", None
    else:
        reading_utc, basis, flag = when.reading.utc, when.reading.basis, when.reading.flag
        date_order = ctx.date_order
        extra["time_source"] = when.clock or "unstated"
        if when.zone_text:
            extra["time_zone_text"] = when.zone_text
    end_raw = block.first_value("end time")
    end_utc = None
    if end_raw:
        end = read_time(end_raw, ctx.order, ctx.options.source_tz)
        if isinstance(end, str):
            extra["end_time"] = end_raw
            flags.append("end_time_unparsed")
        else:
            end_utc = end.reading.utc
    return {"locator": where, "kind": kind, "timestamp_utc": reading_utc, "timestamp_source": raw_time,
            "tz_basis": basis, "tz_flag": flag, "date_order": date_order, "end_utc": end_utc,
            "deleted": _deleted(block), "flags": flags, "extra": extra}


def _direction(block: Block) -> tuple[str, str | None]:
    for key in ("direction", "call type", "type", "folder"):
        for value in block.values(key):
            got = direction_of(value)
            if got is not None:
                return got
    return "unknown", None


def _parties(block: Block, direction: str, channel: str | None, region: str,
             fields: dict[str, Any]) -> None:
    """Fill sender/recipients from From/To namespaces, else from the direction."""
    senders = block.values(*NUMBER_KEYS, namespace="from") + block.values("from")
    receivers = block.values(*NUMBER_KEYS, namespace="to") + block.values("to")
    others = (block.values(*NUMBER_KEYS, namespace=None)
              + block.values(*NUMBER_KEYS, namespace="participant"))
    sender_name = block.first_value(*NAME_KEYS, namespace="from")
    if direction == "incoming" and not senders and others:
        senders, others = others[:1], others[1:]
        sender_name = sender_name or block.first_value(*NAME_KEYS, namespace=None)
    elif direction == "outgoing" and not receivers and others:
        receivers, others = others, []
    sender = identify(senders[0], channel, region) if senders else None
    recipients = [identify(raw, channel, region) for raw in receivers]
    fields["sender"] = sender.value if sender else None
    fields["sender_name"] = sender_name
    fields["recipients"] = tuple(r.value for r in recipients if r is not None)
    fields["flags"] += list(unparsed_flag("sender", sender))
    if senders and sender is None:
        fields["flags"].append("sender_withheld")
    if any(ident is None for ident in recipients):
        fields["flags"].append("recipient_withheld")
    for ident in recipients:
        for flag in unparsed_flag("recipient", ident):
            if flag not in fields["flags"]:
                fields["flags"].append(flag)
    if others:
        fields["extra"]["other_numbers"] = others
    names = block.values(*NAME_KEYS, namespace="to") or (
        block.values(*NAME_KEYS, namespace=None) if direction == "outgoing" else [])
    if names:
        fields["extra"]["recipient_names"] = names


def _finish(fields: dict[str, Any]) -> EventDraft:
    fields["flags"] = tuple(fields["flags"])
    return EventDraft(**fields)


def _call(block: Block, where: str, ctx: Context) -> EventDraft | Rejection:
    fields = _common(block, ctx, "call", where)
    if isinstance(fields, Rejection):
        return fields
    direction, status = _direction(block)
    channel = channel_from_text(block.first_value(*APP_KEYS)) or "phone"
    raw_type = block.first_value("call type", "type", "direction")
    fields.update(direction=direction, channel=channel,
                  status=status or (raw_type.strip().lower() if raw_type else None))
    if raw_type and direction == "unknown":
        fields["flags"].append("call_type_unrecognised")
    duration_raw = block.first_value("duration")
    if duration_raw:
        seconds = parse_duration(duration_raw)
        if seconds is None:
            fields["extra"]["duration"] = duration_raw
            fields["flags"].append("duration_unparsed")
        fields["duration_s"] = seconds
    _parties(block, direction, channel, ctx.options.region, fields)
    return _finish(fields)


def _message(block: Block, where: str, ctx: Context) -> EventDraft | Rejection:
    fields = _common(block, ctx, "sms", where)
    if isinstance(fields, Rejection):
        return fields
    sub = ctx.report_type.split("/", 1)[-1]
    channel = channel_from_text(block.first_value(*APP_KEYS)) or channel_from_text(sub)
    kind = "sms" if channel in (None, "sms") else "mms" if channel == "mms" else "chat_message"
    direction, status = _direction(block)
    if direction == "unknown" and block.values(*NUMBER_KEYS, namespace="from") + block.values("from"):
        direction = "incoming"
    elif direction == "unknown" and block.values(*NUMBER_KEYS, namespace="to") + block.values("to"):
        direction = "outgoing"
    if any(v.strip().lower() == "status report" for v in block.values("type")):
        status = "status_report"
    statuses = [v.strip().lower() for v in block.values("status") if v.strip().lower() != "deleted"]
    fields.update(kind=kind, channel=channel or "sms", direction=direction,
                  status=status or (statuses[0] if statuses else None),
                  text=block.first_value("text", "message", "body"),
                  thread=block.first_value("thread", "chat", "group"))
    fields["extra"].pop("fields", None)
    rest = {p.label: p.value for p in block.pairs
            if p.key not in _USED and p.key not in ("thread", "chat", "group") and p.value}
    if rest:
        fields["extra"]["fields"] = rest
    if block.first_value("segments") not in (None, "1"):
        fields["flags"].append("message_segment")
    _parties(block, direction, channel or "sms", ctx.options.region, fields)
    return _finish(fields)


def _contact(block: Block, where: str, ctx: Context) -> EventDraft | Rejection:
    app = block.first_value(*APP_KEYS)
    channel = channel_from_text(app)
    region = ctx.options.region
    idents = [identify(v, None, region) for v in block.values(*PHONE_KEYS)]
    idents += [identify(v, None, region) for v in block.values(*EMAIL_KEYS)]
    if channel:
        idents += [identify(v, channel, region) for v in block.values("account name", "user id")]
    values = list(dict.fromkeys(i.value for i in idents if i is not None))
    names = block.values(*NAME_KEYS)
    if not names and not values:
        return Rejection(where, f"contact {block.title!r} has neither a name nor a number/address",
                         raw=block.raw)
    extra: dict[str, Any] = {"hint": "contact", "saved_name": names[0] if names else None,
                             "identifiers": values, "report_type": ctx.report_type}
    if len(names) > 1:
        extra["other_names"] = names[1:]
    fields = {p.label: p.value for p in block.pairs
              if p.key not in _USED and p.value}
    times = {p.label: p.value for p in block.pairs if p.key in TIME_KEYS and p.value}
    if fields or times:
        extra["fields"] = {**fields, **times}
    flags = tuple(f for i in idents for f in unparsed_flag("identifier", i))
    return EventDraft(locator=where, kind="contact", timestamp_utc=None, timestamp_source=None,
                      tz_basis="none", tz_flag="no_time", channel=channel, deleted=_deleted(block),
                      flags=tuple(dict.fromkeys(flags)), extra=extra)


def _location(block: Block, where: str, ctx: Context) -> EventDraft | Rejection:
    lat_raw, lon_raw = block.first_value("latitude"), block.first_value("longitude")
    position = block.first_value("position", "coordinates")
    if (lat_raw is None or lon_raw is None) and position and position.count(",") == 1:
        lat_raw, lon_raw = (part.strip(" ()") for part in position.split(","))
    lat, lon = parse_coordinate(lat_raw), parse_coordinate(lon_raw)
    if lat is None or lon is None:
        return Rejection(where, "location record needs decimal Latitude and Longitude, found "
                                f"{lat_raw!r}, {lon_raw!r}", raw=block.raw)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return Rejection(where, f"coordinates out of range: {lat}, {lon}", raw=block.raw)
    fields = _common(block, ctx, "location_fix", where)
    if isinstance(fields, Rejection):
        return fields
    accuracy_raw = block.first_value("accuracy")
    accuracy = parse_coordinate(accuracy_raw.lower().removesuffix("m").strip()) if accuracy_raw else None
    if accuracy_raw and (accuracy is None or accuracy < 0):
        fields["flags"].append("accuracy_unparsed")
        fields["extra"]["accuracy"] = accuracy_raw
        accuracy = None
    app = block.first_value(*APP_KEYS)
    fields.update(latitude=lat, longitude=lon, accuracy_m=accuracy, location_method="unknown",
                  channel=channel_from_text(app), direction="none")
    if app:
        fields["extra"]["application"] = app
    return _finish(fields)


def _device(block: Block, where: str, ctx: Context) -> EventDraft:
    extra: dict[str, Any] = {"report_type": ctx.report_type}
    for pair in block.pairs:
        extra.setdefault("fields", {})[pair.label] = pair.value
    return EventDraft(locator=where, kind="device_info", timestamp_utc=None, timestamp_source=None,
                      tz_basis="none", tz_flag="no_time", direction="none",
                      text=block.first_value("data"), extra=extra)
