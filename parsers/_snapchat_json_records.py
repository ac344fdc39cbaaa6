"""Record mappers for Snapchat "My Data" JSON (see ``parsers.snapchat_json``)."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.identifiers import handle
from atlas.timeparse import TimeReading, from_unix, parse_local

Item = EventDraft | Rejection
CHANNEL = "snapchat"
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S")
# "lat 34.206 ± 19.47 meters, long -118.432 ± 19.47 meters",
# "37.332 ± 39.66 meters, -121.884 ± 39.66 meters" or plain "41.5, -82.5".
_COORDS = re.compile(
    r"^\s*(?:lat\s+)?(?P<lat>[-+]?\d+(?:\.\d+)?)\s*(?:±\s*(?P<lat_acc>\d+(?:\.\d+)?)\s*meters)?\s*,"
    r"\s*(?:long\s+)?(?P<lon>[-+]?\d+(?:\.\d+)?)\s*(?:±\s*(?P<lon_acc>\d+(?:\.\d+)?)\s*meters)?\s*$"
)
_EPOCH_UNITS = {10: "s", 13: "ms", 16: "us"}

# friends.json section -> (status, direction, whether the other account is the sender).
FRIEND_SECTIONS: dict[str, tuple[str, str, bool]] = {
    "Friends": ("friend", "unknown", False),
    "Deleted Friends": ("friend_removed", "outgoing", False),
    "Friend Requests Sent": ("friend_request", "outgoing", False),
    "Blocked Users": ("block", "outgoing", False),
    "Hidden Friend Suggestions": ("hide_suggestion", "outgoing", False),
    "Ignored Snapchatters": ("ignore", "outgoing", False),
    "Pending Requests": ("friend_request", "incoming", True),
}


def utc_time(text: Any, fmts: tuple[str, ...] = _TIME_FORMATS) -> TimeReading:
    """Read a ``YYYY-MM-DD HH:MM:SS UTC`` (or ``YYYY/MM/DD``) time, declared UTC."""
    if not isinstance(text, str) or not text.strip().endswith(" UTC"):
        return TimeReading(
            None, "none", "ok", f"time {text!r} is not written as '<date> <time> UTC'"
        )
    core = text.strip()[:-4]
    for fmt in fmts:
        reading = parse_local(core, fmt, "UTC", basis="utc-declared")
        if not reading.error:
            return reading
    return TimeReading(None, "none", "ok", f"time {text!r} is not 'YYYY-MM-DD HH:MM:SS UTC'")


def _ident(username: Any) -> str | None:
    if not isinstance(username, str) or not username.strip():
        return None
    return handle("snapchat", username).value


def _text(value: Any, flags: list[str], extra: dict) -> str | None:
    if not isinstance(value, str) or value == "":
        return None
    decoded = html.unescape(value)
    if decoded != value:
        flags.append("html_entities_decoded")
        extra["text_as_written"] = value
    return decoded


def _event(where: str, when: TimeReading, stamp: Any, **fields: Any) -> EventDraft:
    return EventDraft(
        locator=where,
        timestamp_utc=when.utc,
        timestamp_source=None if stamp is None else str(stamp),
        tz_basis=when.basis,
        tz_flag=when.flag,
        channel=CHANNEL,
        **fields,
    )


def category_chat(rec: Any, where: str, direction: str, saved: bool | None, snap: bool) -> Item:
    """Map an older ``Received/Sent [Saved|Unsaved] Chat|Snap History`` entry."""
    if not isinstance(rec, dict):
        return Rejection(where, "entry is not a JSON object", rec)
    when = utc_time(rec.get("Created"))
    if when.error:
        return Rejection(where, when.error, rec)
    flags: list[str] = []
    extra = {k: v for k, v in rec.items() if k not in ("From", "To", "Created", "Text")}
    if saved is not None:
        extra["saved"] = saved
    outgoing = direction == "outgoing"
    return _event(
        where,
        when,
        rec.get("Created"),
        kind="chat_message",
        direction=direction,
        sender=None if outgoing else _ident(rec.get("From")),
        recipients=tuple(r for r in [_ident(rec.get("To"))] if r) if outgoing else (),
        thread=rec.get("To") if outgoing else rec.get("From"),
        text=None if snap else _text(rec.get("Text"), flags, extra),
        status="snap" if snap else None,
        flags=tuple(flags),
        extra=extra,
    )


def conversation_message(rec: Any, where: str, conversation: str) -> Item:
    """Map a newer per-conversation ``chat_history.json`` entry."""
    if not isinstance(rec, dict):
        return Rejection(where, "entry is not a JSON object", rec)
    flags: list[str] = []
    extra = {k: v for k, v in rec.items() if k not in ("From", "Content", "IsSender", "Media IDs")}
    extra["conversation"] = conversation
    precise = rec.get("Created(microseconds)")
    if precise is not None:
        digits = str(precise).strip()
        unit = _EPOCH_UNITS.get(len(digits.lstrip("-"))) if digits.isdigit() else None
        if unit is None:
            return Rejection(
                where, f"Created(microseconds) {precise!r} is not a 10, 13 or 16 digit epoch", rec
            )
        when, stamp = from_unix(int(digits), unit), digits
        extra["created_precise_unit"] = unit
        written = utc_time(rec.get("Created")) if "Created" in rec else None
        if written and (written.error or abs((written.utc - when.utc).total_seconds()) >= 1):
            flags.append("created_fields_disagree")
    else:
        when, stamp = utc_time(rec.get("Created")), rec.get("Created")
    if when.error:
        return Rejection(where, when.error, rec)
    is_sender = rec.get("IsSender")
    direction = {True: "outgoing", False: "incoming"}.get(is_sender, "unknown")
    title = rec.get("Conversation Title")
    recipients = (
        (_ident(conversation),) if is_sender is True and not title and _ident(conversation) else ()
    )
    media = rec.get("Media IDs")
    return _event(
        where,
        when,
        stamp,
        kind="chat_message",
        direction=direction,
        sender=_ident(rec.get("From")),
        recipients=recipients,
        thread=title or conversation,
        text=_text(rec.get("Content"), flags, extra),
        attachments=(media,) if isinstance(media, str) and media.strip() else (),
        flags=tuple(flags),
        extra=extra,
    )


def friend(rec: Any, where: str, section: str) -> Item:
    """Map a ``friends.json`` entry."""
    if not isinstance(rec, dict):
        return Rejection(where, "entry is not a JSON object", rec)
    status, direction, other_is_sender = FRIEND_SECTIONS[section]
    other = _ident(rec.get("Username"))
    if other is None:
        return Rejection(where, "entry has no Username", rec)
    stamp = rec.get("Creation Timestamp")
    flags: list[str] = []
    if stamp in (None, ""):
        when = TimeReading(None, "none", "no_time")
        flags.append("no_timestamp")
    else:
        when = utc_time(stamp)
        if when.error:
            return Rejection(where, when.error, rec)
    extra = {k: v for k, v in rec.items() if k not in ("Username", "Creation Timestamp")}
    return _event(
        where,
        when,
        stamp or None,
        kind="social_interaction",
        direction=direction,
        status=status,
        sender=other if other_is_sender else None,
        recipients=() if other_is_sender else (other,),
        flags=tuple(flags),
        extra=extra,
    )


def coordinates(text: Any) -> tuple[float, float, float | None, dict] | str:
    """Parse a coordinate string with optional ``± N meters``; return values or an error."""
    match = _COORDS.match(text) if isinstance(text, str) else None
    if not match:
        return f"coordinates {text!r} are not 'lat[ ± m], long[ ± m]'"
    lat, lon = float(match["lat"]), float(match["lon"])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return f"coordinates {lat}, {lon} are out of range"
    accs = [float(a) for a in (match["lat_acc"], match["lon_acc"]) if a is not None]
    extra = {"coordinates_as_written": text}
    if len(set(accs)) > 1:
        extra["accuracy_lat_lon_m"] = accs
    return lat, lon, max(accs) if accs else None, extra


def location_fix(rec: Any, where: str) -> Item:
    """Map a ``Location History`` entry, ``{Time, "Latitude, Longitude"}`` or ``[time, coords]``.

    Both shapes are one fix each.
    """
    if isinstance(rec, dict):
        stamp, coords = rec.get("Time"), rec.get("Latitude, Longitude")
    elif isinstance(rec, list) and len(rec) == 2:
        stamp, coords = rec
    else:
        return Rejection(
            where,
            "entry is neither {Time, Latitude, Longitude} nor a [time, coordinates] pair",
            rec,
        )
    when = utc_time(stamp)
    if when.error:
        return Rejection(where, when.error, rec)
    got = coordinates(coords)
    if isinstance(got, str):
        return Rejection(where, got, rec)
    lat, lon, acc, extra = got
    return _event(
        where,
        when,
        stamp,
        kind="location_fix",
        direction="none",
        latitude=lat,
        longitude=lon,
        accuracy_m=acc,
        location_method="unknown",
        extra=extra,
    )


def top_location(rec: Any, where: str, days: int, status: str) -> Item:
    """Map a ``{"Date: YYYY-MM-DD UTC": "lat … long …"}`` top location as a whole-day interval."""
    if not isinstance(rec, dict) or len(rec) != 1:
        return Rejection(where, 'entry is not a one-key {"Date: …": coordinates} object', rec)
    ((label, coords),) = rec.items()
    when = utc_time(label.removeprefix("Date:").strip(), ("%Y-%m-%d",))
    if when.error:
        return Rejection(where, when.error, rec)
    got = coordinates(coords)
    if isinstance(got, str):
        return Rejection(where, got, rec)
    lat, lon, acc, extra = got
    return _event(
        where,
        when,
        label,
        kind="location_visit",
        direction="none",
        end_utc=when.utc + timedelta(days=days),
        latitude=lat,
        longitude=lon,
        accuracy_m=acc,
        location_method="unknown",
        status=status,
        flags=("date_only",),
        extra=extra,
    )


def named_place(value: Any, where: str, status: str) -> Item:
    """Map an untimed place: ``Home & Work`` coordinates or a ``{City, Region, Country}`` object."""
    no_time = TimeReading(None, "none", "no_time")
    if isinstance(value, dict):
        parts = [
            value.get(k)
            for k in ("City", "Region", "Country")
            if isinstance(value.get(k), str) and value[k]
        ]
        if not parts:
            return Rejection(where, "place has no City, Region or Country", value)
        return _event(
            where,
            no_time,
            None,
            kind="location_visit",
            direction="none",
            text=", ".join(parts),
            status=status,
            extra=dict(value),
        )
    got = coordinates(value)
    if isinstance(got, str):
        return Rejection(where, got, value)
    lat, lon, acc, extra = got
    return _event(
        where,
        no_time,
        None,
        kind="location_visit",
        direction="none",
        latitude=lat,
        longitude=lon,
        accuracy_m=acc,
        location_method="unknown",
        status=status,
        extra=extra,
    )
