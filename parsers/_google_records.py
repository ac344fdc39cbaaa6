"""Google Takeout ``Records.json`` (and the older ``Location History.json``): one fix per record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.provenance import pointer
from parsers._google_common import CHANNEL, e7_pair, first_time, method, number_or_none
from parsers._json_stream import JsonStream

# ``timestamp`` (ISO, Z) from about 2022; ``timestampMs`` (epoch ms, a string) before.
TIME_KEYS = (("timestamp", None), ("timestampMs", "ms"))
_MAPPED = {"latitudeE7", "longitudeE7", "accuracy"}


def records(stream: JsonStream) -> Iterator[EventDraft | Rejection]:
    """Yield one item per element of the ``locations`` array at the cursor."""
    if stream.peek() != "[":
        yield Rejection(pointer("/locations"), "locations is not a JSON array", stream.value())
        return
    for index in stream.iter_array():
        yield location(stream.value(), pointer(f"/locations/{index}"))


def location(rec: Any, where: str) -> EventDraft | Rejection:
    """Turn one ``locations[]`` element into a location fix."""
    if not isinstance(rec, dict):
        return Rejection(where, "location record is not a JSON object", rec)
    try:
        when = first_time(rec, TIME_KEYS, "timestamp")
        lat, lng, wrapped = e7_pair(rec.get("latitudeE7"), rec.get("longitudeE7"))
        accuracy = number_or_none(rec.get("accuracy"), "accuracy")
    except ValueError as exc:
        return Rejection(where, str(exc), rec)
    time_key = next(k for k, _ in TIME_KEYS if rec.get(k) is not None)
    extra: dict[str, Any] = {k: v for k, v in rec.items() if k not in _MAPPED and k != time_key}
    flags = list(when.flags)
    if wrapped:
        # Keep the integers as written so the correction can be checked.
        extra["latitudeE7"] = rec["latitudeE7"]
        extra["longitudeE7"] = rec["longitudeE7"]
        flags.append("e7_unsigned_wrap_corrected")
    return EventDraft(
        locator=where,
        kind="location_fix",
        timestamp_utc=when.utc,
        timestamp_source=when.text,
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction="none",
        channel=CHANNEL,
        latitude=lat,
        longitude=lng,
        accuracy_m=accuracy,
        location_method=method(rec.get("source")),
        flags=tuple(flags),
        extra=extra,
    )
