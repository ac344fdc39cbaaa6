"""Mapping AXIOM CSV rows to events (helper for ``parsers.axiom_csv``; not a parser)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.parsing import ParseOptions
from parsers._axiom_csv_header import TimeColumn, read_value
from parsers._phone_export_common import (
    channel_from_text,
    direction_of,
    identify,
    parse_coordinate,
    parse_duration,
    split_name,
    unparsed_flag,
    yes_no,
)

# Column names (lower-case) per role, in the order they are consulted. AXIOM names
# differ per artifact; these are the spellings seen in AXIOM exports.
ROLES: dict[str, tuple[str, ...]] = {
    "text": ("message", "message body", "body", "text", "content"),
    "sender": ("sender phone number", "sender id", "sender", "from"),
    "sender_name": ("sender name",),
    "recipients": ("recipient phone number", "recipient id", "recipient id(s)", "recipient",
                   "recipient(s)", "recipients", "to"),
    "recipient_names": ("recipient name", "recipient name(s)", "receiver name"),
    "partner": ("partner", "partner phone number", "phone number", "number"),
    "partner_name": ("partner name",),
    "local_user": ("local user",),
    "direction": ("direction", "message direction", "call direction", "call type", "type",
                  "message type", "message status", "folder"),
    "status": ("call status", "status", "message status", "read status"),
    "duration": ("duration", "call duration"),
    "thread": ("_threadid", "thread id", "chat id", "_chatid", "conversation id", "conversation"),
    "deleted": ("deleted",),
    "deleted_source": ("deleted source",),
    "recovery": ("recovery method",),
    "latitude": ("latitude",),
    "longitude": ("longitude",),
    "accuracy": ("accuracy", "horizontal accuracy", "accuracy (m)", "accuracy (meters)"),
    "app": ("application", "application name", "app", "service", "service type"),
    "display_name": ("display name", "contact name", "name", "full name"),
    "contact_ids": ("phone number(s)", "phone numbers", "phone number", "mobile phone", "phone",
                    "email(s)", "email address(es)", "email addresses", "email"),
}
_TIME_PRIORITY = {
    "call": ("call", "start", "timestamp", "created", "date"),
    "message": ("message sent", "sent", "sent/received", "message", "received", "timestamp",
                "created", "date"),
    "location_fix": ("timestamp", "location", "created", "date", "start"),
}
_END_LABELS = ("end", "call end", "end time")
# Roles whose cells are carried by the event itself; every other non-empty cell
# (direction, status and application words included) is also kept in extra.fields.
_CARRIED = {
    "call": ("partner", "partner_name", "local_user", "duration"),
    "message": ("text", "sender", "sender_name", "recipients", "recipient_names", "thread"),
    "location_fix": ("latitude", "longitude", "accuracy"),
    "contact": ("display_name", "contact_ids"),
    "app_event": ("text",),
}
_ATTACHMENT = re.compile(r"^attachments?(\s*#\d+|\s*name\(s\)|\s*\(s\))?$")


@dataclass(frozen=True)
class Profile:
    """What the header and file name say about every row of one AXIOM CSV."""

    artifact: str
    kind: str
    channel: str | None
    header: tuple[str, ...]
    roles: dict[str, tuple[int, ...]]
    primary: tuple[TimeColumn, ...]
    others: tuple[TimeColumn, ...]
    end: TimeColumn | None
    attachments: tuple[int, ...]


def make_profile(artifact: str, header: list[str], times: list[TimeColumn]) -> Profile:
    """Decide the event kind, channel and column roles for a file."""
    low = [h.strip().lower() for h in header]
    roles = {role: tuple(low.index(n) for n in names if n in low) for role, names in ROLES.items()}
    name = artifact.lower()
    channel = channel_from_text(artifact)
    if "contact" in name:
        kind = "contact"
    elif "call" in name or (roles["partner"] and any(t.label.lower() == "call" for t in times)):
        kind, channel = "call", channel or "phone"
    elif roles["text"]:
        kind = "message"
        channel = channel or ("sms" if "message" in name else None)
    elif roles["latitude"] and roles["longitude"]:
        kind = "location_fix"
    else:
        kind = "app_event"
    end = next((t for t in times if t.label.lower() in _END_LABELS), None)
    ranked = [t for label in _TIME_PRIORITY.get(kind, ()) for t in times if t.label.lower() == label]
    ranked += [t for t in times if t not in ranked and t is not end]
    primary = () if kind == "contact" else tuple(ranked)
    others = tuple(t for t in times if t not in primary[:1])
    attachments = tuple(i for i, h in enumerate(low) if _ATTACHMENT.match(h))
    return Profile(artifact, kind, channel, tuple(header), roles, primary, others, end, attachments)


def _get(cells: list[str], profile: Profile, role: str) -> str | None:
    for index in profile.roles[role]:
        value = cells[index].strip()
        if value:
            return value
    return None


def _used(profile: Profile) -> set[int]:
    roles = (*_CARRIED[profile.kind], "deleted", "deleted_source", "recovery")
    used = {i for role in roles for i in profile.roles[role]}
    used.update(t.index for t in profile.primary + profile.others)
    used.update(profile.attachments)
    return used


def map_row(cells: list[str], where: str, profile: Profile, options: ParseOptions) -> EventDraft | Rejection:
    """Return the event for one data row, or a rejection saying why there is none."""
    if len(cells) != len(profile.header):
        return Rejection(where, f"expected {len(profile.header)} columns, found {len(cells)}", raw=cells)
    extra: dict[str, Any] = {"artifact": profile.artifact}
    flags: list[str] = []
    chosen: TimeColumn | None = None
    reading = None
    for column in profile.primary:
        if cells[column.index].strip():
            chosen, reading = column, read_value(column, cells[column.index])
            if reading.error:
                return Rejection(where, reading.error, raw=cells)
            break
    times: dict[str, str] = {}
    for column in profile.others:
        value = cells[column.index].strip()
        if value and column is not chosen:
            got = read_value(column, value)
            times[column.header] = got.utc.isoformat() if got.utc else value
            if got.error:
                flags.append("secondary_time_unparsed")
    if times:
        extra["times"] = times
    fields = {profile.header[i]: c.strip() for i, c in enumerate(cells)
              if i not in _used(profile) and c.strip()}
    if fields:
        extra["fields"] = fields
    base: dict[str, Any] = {"locator": where, "deleted": _deleted(cells, profile, extra, flags)}
    if chosen is None or reading is None:
        if profile.kind != "contact":
            flags.append("no_timestamp")
        base.update(timestamp_utc=None, timestamp_source=None, tz_basis="none", tz_flag="no_time")
    else:
        extra["time_column"] = chosen.header
        base.update(timestamp_utc=reading.utc, timestamp_source=cells[chosen.index],
                    tz_basis=reading.basis, tz_flag=reading.flag, date_order=_order(chosen))
    if profile.end is not None and cells[profile.end.index].strip() and chosen is not profile.end:
        end = read_value(profile.end, cells[profile.end.index])
        base["end_utc"] = end.utc
    if profile.kind == "contact":
        return _contact(cells, profile, base, extra, flags, options)
    channel = channel_from_text(_get(cells, profile, "app")) or profile.channel
    direction, status = _direction(cells, profile)
    raw_status = _get(cells, profile, "status")
    base.update(channel=channel, direction=direction,
                status=status or (raw_status.lower() if raw_status else None))
    if profile.kind == "call":
        _call(cells, profile, base, extra, flags, channel, options)
    elif profile.kind == "message":
        _message(cells, profile, base, extra, flags, channel, options)
    elif profile.kind == "location_fix":
        problem = _location(cells, profile, base, extra, flags)
        if problem:
            return Rejection(where, problem, raw=cells)
    else:
        base.update(kind="app_event", text=_get(cells, profile, "text"))
    return EventDraft(**base, flags=tuple(dict.fromkeys(flags)), extra=extra)


def _order(column: TimeColumn) -> str | None:
    order = column.date_order
    return f"{order}:inferred" if order else None


def _deleted(cells: list[str], profile: Profile, extra: dict[str, Any], flags: list[str]) -> str:
    state = yes_no(_get(cells, profile, "deleted"))
    source = _get(cells, profile, "deleted_source")
    recovery = _get(cells, profile, "recovery")
    if source:
        extra["deleted_source"] = source
    if recovery:
        extra["recovery_method"] = recovery
        if recovery.strip().lower().startswith("carv"):
            flags.append("carved")
    if state is True:
        return "deleted"
    if (source and yes_no(source) is not False) or "carved" in flags:
        return "recovered"
    if state is False:
        return "intact"
    return "unknown"


def _direction(cells: list[str], profile: Profile) -> tuple[str, str | None]:
    for index in profile.roles["direction"]:
        got = direction_of(cells[index])
        if got:
            return got
    return "unknown", None


def _party(raw: str | None, channel: str | None, options: ParseOptions) -> tuple[Any, str | None]:
    """Return (Ident or None, display name) for a party cell such as ``Sam <+4477...>``."""
    if not raw:
        return None, None
    name, address = split_name(raw)
    if address.lower() == "local user":
        return None, name or address
    return identify(address, channel, options.region), name


def _split(raw: str | None) -> list[str]:
    return [part.strip() for part in re.split(r"[;\n]", raw or "") if part.strip()]


def _call(cells, profile, base, extra, flags, channel, options) -> None:  # noqa: ANN001
    partner, partner_label = _party(_get(cells, profile, "partner"), channel, options)
    local, _ = _party(_get(cells, profile, "local_user"), channel, options)
    partner_name = _get(cells, profile, "partner_name") or partner_label
    duration_raw = _get(cells, profile, "duration")
    if duration_raw:
        base["duration_s"] = parse_duration(duration_raw)
        if base["duration_s"] is None:
            flags.append("duration_unparsed")
            extra["duration"] = duration_raw
    sender, recipients = (partner, [local]) if base["direction"] == "incoming" else (local, [partner])
    if base["direction"] == "unknown":
        sender, recipients = None, []
        if partner is not None:
            extra["partner"] = partner.value
    base.update(kind="call", sender=sender.value if sender else None,
                recipients=tuple(r.value for r in recipients if r is not None),
                sender_name=partner_name if base["direction"] == "incoming" else None)
    if partner_name and base["direction"] != "incoming":
        extra["partner_name"] = partner_name
    flags.extend(unparsed_flag("sender", sender))
    for ident in recipients:
        flags.extend(unparsed_flag("recipient", ident))


def _message(cells, profile, base, extra, flags, channel, options) -> None:  # noqa: ANN001
    kind = "sms" if channel in (None, "sms") else "mms" if channel == "mms" else "chat_message"
    sender, sender_label = _party(_get(cells, profile, "sender"), channel, options)
    recipients = [_party(raw, channel, options) for raw in _split(_get(cells, profile, "recipients"))]
    if sender is None and not recipients and profile.roles["partner"]:
        partner, label = _party(_get(cells, profile, "partner"), channel, options)
        if base["direction"] == "incoming":
            sender, sender_label = partner, label
        elif base["direction"] == "outgoing":
            recipients = [(partner, label)]
    names = _split(_get(cells, profile, "recipient_names")) or [n for _, n in recipients if n]
    if names:
        extra["recipient_names"] = names
    base.update(kind=kind, channel=channel or "sms", text=_get(cells, profile, "text"),
                sender=sender.value if sender else None,
                sender_name=_get(cells, profile, "sender_name") or sender_label,
                recipients=tuple(r.value for r, _ in recipients if r is not None),
                thread=_get(cells, profile, "thread"),
                attachments=tuple(cells[i].strip() for i in profile.attachments if cells[i].strip()))
    flags.extend(unparsed_flag("sender", sender))
    for ident, _ in recipients:
        flags.extend(unparsed_flag("recipient", ident))


def _location(cells, profile, base, extra, flags) -> str | None:  # noqa: ANN001
    lat_raw, lon_raw = _get(cells, profile, "latitude"), _get(cells, profile, "longitude")
    lat, lon = parse_coordinate(lat_raw), parse_coordinate(lon_raw)
    if lat is None or lon is None:
        return f"location row needs decimal Latitude and Longitude, found {lat_raw!r}, {lon_raw!r}"
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return f"coordinates out of range: {lat}, {lon}"
    accuracy_raw = _get(cells, profile, "accuracy")
    accuracy = parse_coordinate(accuracy_raw) if accuracy_raw else None
    if accuracy_raw and (accuracy is None or accuracy < 0):
        flags.append("accuracy_unparsed")
        extra["accuracy"] = accuracy_raw
        accuracy = None
    base.update(kind="location_fix", latitude=lat, longitude=lon, accuracy_m=accuracy,
                location_method="unknown", direction="none")
    return None


def _contact(cells, profile, base, extra, flags, options) -> EventDraft | Rejection:  # noqa: ANN001
    name = _get(cells, profile, "display_name")
    # "Phone Number(s)" may hold several, each perhaps labelled ("Mobile: +44...").
    raws = [re.sub(r"^[A-Za-z ]{1,20}:\s*", "", part.strip())
            for index in profile.roles["contact_ids"] for part in re.split(r"[;,\n]", cells[index])]
    idents = [identify(split_name(raw)[1], None, options.region) for raw in raws if raw]
    values = list(dict.fromkeys(i.value for i in idents if i is not None))
    if not name and not values:
        return Rejection(base["locator"], "contact row has neither a display name nor a number/address",
                         raw=cells)
    extra.update(hint="contact", saved_name=name, identifiers=values)
    for ident in idents:
        flags.extend(unparsed_flag("identifier", ident))
    return EventDraft(**base, kind="contact", direction="none", flags=tuple(dict.fromkeys(flags)),
                      extra=extra)
