"""Google Takeout Semantic Location History (``2023_JANUARY.json``): visits and journeys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.provenance import pointer
from parsers._google_common import (
    Stamp,
    e7_pair,
    first_time,
    interval,
    interval_event,
    known_kinds,
    no_known_kind,
)
from parsers._json_stream import JsonStream

START_KEYS = (("startTimestamp", None), ("startTimestampMs", "ms"))
END_KEYS = (("endTimestamp", None), ("endTimestampMs", "ms"))
OBJECT_KINDS = ("placeVisit", "activitySegment")


def timeline_objects(stream: JsonStream) -> Iterator[EventDraft | Rejection]:
    """Yield one item per placeVisit/activitySegment of the ``timelineObjects`` array."""
    if stream.peek() != "[":
        yield Rejection(
            pointer("/timelineObjects"), "timelineObjects is not a JSON array", stream.value()
        )
        return
    for index in stream.iter_array():
        obj = stream.value()
        base = f"/timelineObjects/{index}"
        found = known_kinds(obj, OBJECT_KINDS)
        if not found:
            yield no_known_kind(
                obj, base, "timeline object has neither placeVisit nor activitySegment"
            )
            continue
        for key in found:
            where = pointer(f"{base}/{key}")
            yield (
                place_visit(obj[key], where)
                if key == "placeVisit"
                else activity_segment(obj[key], where)
            )


def _times(record: dict[str, Any]) -> tuple[Stamp, Stamp | None]:
    duration = record.get("duration")
    if not isinstance(duration, dict):
        raise ValueError("duration is missing")
    start = first_time(duration, START_KEYS, "duration.startTimestamp")
    has_end = any(duration.get(k) is not None for k, _ in END_KEYS)
    end = first_time(duration, END_KEYS, "duration.endTimestamp") if has_end else None
    return start, end


def _point(loc: Any, name: str) -> tuple[float | None, float | None, bool]:
    """Read a location object's E7 pair; (None, None) when it carries no coordinates."""
    if not isinstance(loc, dict) or (
        loc.get("latitudeE7") is None and loc.get("longitudeE7") is None
    ):
        return None, None, False
    try:
        return e7_pair(loc.get("latitudeE7"), loc.get("longitudeE7"))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def place_visit(visit: Any, where: str) -> EventDraft | Rejection:
    """Turn a placeVisit into a location_visit interval."""
    if not isinstance(visit, dict):
        return Rejection(where, "placeVisit is not a JSON object", visit)
    loc = visit.get("location") if isinstance(visit.get("location"), dict) else {}
    try:
        start, end = _times(visit)
        lat, lng, wrapped = _point(loc, "location")
    except ValueError as exc:
        return Rejection(where, str(exc), visit)
    duration_s, flags = interval(start, end)
    flags = (*start.flags, *flags)
    if lat is None:
        flags += ("place_location_missing",)
    if wrapped:
        flags += ("e7_unsigned_wrap_corrected",)
    extra = {k: v for k, v in visit.items() if k not in ("duration", "location")}
    extra["location"] = {
        k: v for k, v in loc.items() if wrapped or k not in ("latitudeE7", "longitudeE7")
    }
    if end is not None:
        extra["end_timestamp"] = end.text
    name = loc.get("name")
    return interval_event(
        where,
        "location_visit",
        start,
        end,
        duration_s,
        text=name if isinstance(name, str) and name else None,
        status=_status(visit),
        latitude=lat,
        longitude=lng,
        location_method="fused",
        flags=flags,
        extra=extra,
    )


def activity_segment(segment: Any, where: str) -> EventDraft | Rejection:
    """Turn an activitySegment into a location_fix at its start point, with its end time."""
    if not isinstance(segment, dict):
        return Rejection(where, "activitySegment is not a JSON object", segment)
    try:
        start, end = _times(segment)
        lat, lng, wrapped = _point(segment.get("startLocation"), "startLocation")
        end_lat, end_lng, end_wrapped = _point(segment.get("endLocation"), "endLocation")
    except ValueError as exc:
        return Rejection(where, str(exc), segment)
    duration_s, flags = interval(start, end)
    flags = (*start.flags, *flags)
    if lat is None:
        flags += ("start_location_missing",)
    if wrapped or end_wrapped:
        flags += ("e7_unsigned_wrap_corrected",)
    extra = {k: v for k, v in segment.items() if k != "duration"}
    if end is not None:
        extra["end_timestamp"] = end.text
    if end_lat is not None:
        extra["end_latitude"] = end_lat
        extra["end_longitude"] = end_lng
    return interval_event(
        where,
        "location_fix",
        start,
        end,
        duration_s,
        status=_status(segment),
        latitude=lat,
        longitude=lng,
        location_method="fused",
        flags=flags,
        extra=extra,
    )


def _status(record: dict[str, Any]) -> str | None:
    # Shows whether the user confirmed or edited the entry: Timeline is editable.
    value = record.get("editConfirmationStatus")
    return value if isinstance(value, str) and value else None
