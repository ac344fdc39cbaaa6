"""On-device Google Timeline export (2024 on): Android object and iOS top-level array."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.provenance import pointer
from parsers._google_common import (
    CHANNEL,
    Stamp,
    interval,
    interval_event,
    known_kinds,
    latlng_of,
    method,
    no_known_kind,
    number_or_none,
    stamp,
)
from parsers._json_stream import JsonStream

SEGMENT_KINDS = ("visit", "activity", "timelineMemory", "timelinePath")
SIGNAL_KINDS = {"position": "timestamp", "activityRecord": "timestamp", "wifiScan": "deliveryTime"}
OFFSET_KEY = "durationMinutesOffsetFromStartTime"
Item = EventDraft | Rejection


def array(
    stream: JsonStream, base: str, each: Callable[[Any, str], Iterator[Item]]
) -> Iterator[Item]:
    """Yield ``each(value, path)`` for every element of the array at the cursor."""
    if stream.peek() != "[":
        yield Rejection(
            pointer(base or "/"), f"{base or 'the document'} is not a JSON array", stream.value()
        )
        return
    for index in stream.iter_array():
        yield from each(stream.value(), f"{base}/{index}")


def profile(stream: JsonStream) -> Iterator[Item]:
    """Yield the frequent places of ``userLocationProfile``; other profile keys are skipped."""
    if stream.peek() != "{":
        stream.skip()
        return
    for key in stream.iter_object():
        if key == "frequentPlaces":
            yield from array(stream, "/userLocationProfile/frequentPlaces", frequent_place)
        else:
            stream.skip()


def segment(seg: Any, path: str) -> Iterator[Item]:
    """Yield the items of one semantic segment (a visit, an activity, a memory or path points)."""
    found = known_kinds(seg, SEGMENT_KINDS)
    if not found:
        yield no_known_kind(
            seg, path, "segment has no visit, activity, timelineMemory or timelinePath"
        )
        return
    try:
        start: Stamp | str = stamp(seg.get("startTime"), "startTime")
    except ValueError as exc:
        start = str(exc)
    for key in found:
        if key == "timelinePath":
            points = seg[key]
            if not isinstance(points, list) or not points:
                yield Rejection(
                    pointer(f"{path}/timelinePath"), "timelinePath is empty or not an array", seg
                )
                continue
            for index, point in enumerate(points):
                yield path_point(point, pointer(f"{path}/timelinePath/{index}"), start, seg)
        elif isinstance(start, str):
            yield Rejection(pointer(path), start, seg)
        else:
            yield _segment_event(seg, key, pointer(path), start)


def _segment_event(seg: dict[str, Any], key: str, where: str, start: Stamp) -> Item:
    body = seg[key]
    if not isinstance(body, dict):
        return Rejection(where, f"{key} is not a JSON object", seg)
    lat = lng = None
    flags: tuple[str, ...] = ()
    extra: dict[str, Any] = {k: v for k, v in seg.items() if k not in ("startTime", "endTime")}
    try:
        end = stamp(seg["endTime"], "endTime") if seg.get("endTime") is not None else None
        if key == "visit":
            candidate = (
                body.get("topCandidate") if isinstance(body.get("topCandidate"), dict) else {}
            )
            if candidate.get("placeLocation") is not None:
                lat, lng = latlng_of(candidate["placeLocation"], "visit.topCandidate.placeLocation")
            else:
                flags += ("place_location_missing",)
        elif key == "activity":
            if body.get("start") is not None:
                lat, lng = latlng_of(body["start"], "activity.start")
            else:
                flags += ("start_location_missing",)
            if body.get("end") is not None:
                extra["end_latitude"], extra["end_longitude"] = latlng_of(
                    body["end"], "activity.end"
                )
    except ValueError as exc:
        return Rejection(where, str(exc), seg)
    duration_s, more = interval(start, end)
    if end is not None:
        extra["end_time"] = end.text
    kind = {"visit": "location_visit", "activity": "location_fix"}.get(key, "app_event")
    return interval_event(
        where,
        kind,
        start,
        end,
        duration_s,
        status="timeline_memory" if key == "timelineMemory" else None,
        latitude=lat,
        longitude=lng,
        location_method="fused" if lat is not None else None,
        flags=(*flags, *more),
        extra=extra,
    )


def path_point(point: Any, where: str, start: Stamp | str, seg: dict[str, Any]) -> Item:
    """Turn one timelinePath point into a location fix (iOS points carry only a minute offset)."""
    if not isinstance(point, dict):
        return Rejection(where, "timelinePath point is not a JSON object", point)
    extra: dict[str, Any] = {k: v for k, v in point.items() if k not in ("point", "time")}
    extra.update({f"segment_{k}": seg[k] for k in ("startTime", "endTime") if k in seg})
    flags: tuple[str, ...] = ()
    try:
        lat, lng = latlng_of(point.get("point"), "point")
        if point.get("time") is not None:
            when = stamp(point["time"], "time")
            utc, text = when.utc, when.text
        elif point.get(OFFSET_KEY) is not None:
            if isinstance(start, str):
                raise ValueError(f"point time depends on the segment's {start}")
            minutes = number_or_none(point[OFFSET_KEY], OFFSET_KEY)
            if minutes is None:
                raise ValueError(f"{OFFSET_KEY} is empty")
            when = start
            # The export gives only whole minutes after the segment start: the
            # derived time is a minute-precision reading, and flagged as derived.
            utc, text = start.utc + timedelta(minutes=minutes), start.text
            flags = ("time_from_segment_offset",)
        else:
            raise ValueError(f"timelinePath point has neither time nor {OFFSET_KEY}")
    except ValueError as exc:
        return Rejection(where, str(exc), point)
    return EventDraft(
        locator=where,
        kind="location_fix",
        timestamp_utc=utc,
        timestamp_source=text,
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction="none",
        channel=CHANNEL,
        latitude=lat,
        longitude=lng,
        location_method="fused",
        flags=(*when.flags, *flags),
        extra=extra,
    )


def raw_signal(signal: Any, path: str) -> Iterator[Item]:
    """Yield one item for a rawSignals element: a position, an activity record or a Wi-Fi scan."""
    where = pointer(path)
    key = next(
        (k for k in SIGNAL_KINDS if isinstance(signal, dict) and isinstance(signal.get(k), dict)),
        None,
    )
    if key is None:
        keys = sorted(signal) if isinstance(signal, dict) else type(signal).__name__
        yield Rejection(
            where, f"raw signal has no position, activityRecord or wifiScan (found {keys})", signal
        )
        return
    body = signal[key]
    time_key = SIGNAL_KINDS[key]
    lat = lng = accuracy = None
    try:
        when = stamp(body.get(time_key), f"{key}.{time_key}")
        if key == "position":
            lat, lng = latlng_of(body.get("LatLng", body.get("latLng")), "position.LatLng")
            accuracy = number_or_none(body.get("accuracyMeters"), "position.accuracyMeters")
    except ValueError as exc:
        yield Rejection(where, str(exc), signal)
        return
    skip = {time_key, "LatLng", "latLng", "accuracyMeters"}
    extra = {k: v for k, v in signal.items() if k != key}
    extra.update({k: v for k, v in body.items() if k not in skip})
    yield EventDraft(
        locator=where,
        kind="location_fix" if key == "position" else "app_event",
        timestamp_utc=when.utc,
        timestamp_source=when.text,
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction="none",
        channel=CHANNEL,
        status={"activityRecord": "activity_record", "wifiScan": "wifi_scan"}.get(key),
        latitude=lat,
        longitude=lng,
        accuracy_m=accuracy,
        location_method=method(body.get("source")) if key == "position" else None,
        flags=when.flags,
        extra=extra,
    )


def frequent_place(place: Any, path: str) -> Iterator[Item]:
    """Yield a frequent place (HOME, WORK, ...) as an undated location_visit."""
    where = pointer(path)
    if not isinstance(place, dict):
        yield Rejection(where, "frequent place is not a JSON object", place)
        return
    try:
        lat, lng = latlng_of(place.get("placeLocation"), "placeLocation")
    except ValueError as exc:
        yield Rejection(where, str(exc), place)
        return
    label = place.get("label")
    yield EventDraft(
        locator=where,
        kind="location_visit",
        timestamp_utc=None,
        timestamp_source=None,
        tz_basis="none",
        tz_flag="no_time",
        direction="none",
        channel=CHANNEL,
        text=label if isinstance(label, str) and label else None,
        status="frequent_place",
        latitude=lat,
        longitude=lng,
        location_method="fused",
        extra={k: v for k, v in place.items() if k != "placeLocation"},
    )
