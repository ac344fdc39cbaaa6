"""Shared readers for Google location exports: coordinates, times and location sources.

Used by ``parsers.google_takeout_json`` and its layout helpers
(``_google_records``, ``_google_semantic``, ``_google_device``). Every reader
returns a value or raises ``ValueError`` with a reason a person can act on;
the caller turns that into a ``Rejection``. ``known_kinds``/``no_known_kind``
and ``interval_event`` build what the timeline layouts share: the kinds a
record holds, and a Timeline entry with a start and an optional end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.provenance import pointer
from atlas.timeparse import from_unix, parse_iso

CHANNEL = "google_location"

# Google's ``source`` values; anything else (UNKNOWN, VISIT_ARRIVAL, ...) is kept
# verbatim in extra and mapped to "unknown" rather than guessed.
LOCATION_METHOD = {"GPS": "gps", "WIFI": "wifi", "CELL": "cell"}

E7 = 10_000_000
# Older Takeouts wrote some negative E7 values as unsigned 32-bit integers; the
# community converters (e.g. Scarygami's location-history-json-converter)
# subtract 2**32 from anything above 1800000000, for latitude and longitude alike.
E7_WRAP_ABOVE = 1_800_000_000
E7_WRAP = 2**32
# Epoch numbers written without a unit: at or above this they are milliseconds
# (1e11 s is the year 5138; 1e11 ms is 1973).
MS_THRESHOLD = 100_000_000_000

_LATLNG = re.compile(
    r"^\s*(?:geo:)?\s*([-+]?\d+(?:\.\d+)?)\s*°?\s*,\s*([-+]?\d+(?:\.\d+)?)\s*°?\s*$"
)


def method(source: Any) -> str:
    """Map a Google ``source`` value (any case) to a LOCATION_METHODS value."""
    if isinstance(source, str):
        return LOCATION_METHOD.get(source.strip().upper(), "unknown")
    return "unknown"


def check_range(lat: float, lng: float) -> tuple[float, float]:
    """Return ``(lat, lng)`` or raise when outside WGS84 ranges."""
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ValueError(f"coordinates out of range: {lat}, {lng}")
    return lat, lng


def _whole(value: Any, name: str) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError(
            f"{name} is missing" if value is None else f"{name} is not a number: {value!r}"
        )
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d+\s*", value):
        return int(value)
    raise ValueError(f"{name} is not a whole number: {value!r}")


def e7_pair(
    lat_raw: Any, lng_raw: Any, names: tuple[str, str] = ("latitudeE7", "longitudeE7")
) -> tuple[float, float, bool]:
    """Return degrees from E7 integers and whether an unsigned 32-bit value was unwrapped."""
    lat_e7 = _whole(lat_raw, names[0])
    lng_e7 = _whole(lng_raw, names[1])
    wrapped = False
    if lat_e7 > E7_WRAP_ABOVE:
        lat_e7 -= E7_WRAP
        wrapped = True
    if lng_e7 > E7_WRAP_ABOVE:
        lng_e7 -= E7_WRAP
        wrapped = True
    lat, lng = check_range(lat_e7 / E7, lng_e7 / E7)
    return lat, lng, wrapped


def latlng_text(value: Any, name: str) -> tuple[float, float]:
    """Return degrees from ``"48.85°, 2.35°"``, ``"48.85, 2.35"`` or ``"geo:48.85,2.35"``."""
    if not isinstance(value, str):
        raise ValueError(
            f"{name} is missing" if value is None else f"{name} is not text: {value!r}"
        )
    match = _LATLNG.match(value)
    if not match:
        raise ValueError(f"{name} {value!r} is not 'lat, lng' in degrees")
    return check_range(float(match.group(1)), float(match.group(2)))


def latlng_of(value: Any, name: str) -> tuple[float, float]:
    """Read a point written as a string or as ``{"latLng": "..."}`` (on-device exports)."""
    if isinstance(value, dict):
        return latlng_text(value.get("latLng", value.get("LatLng")), f"{name}.latLng")
    return latlng_text(value, name)


@dataclass(frozen=True, slots=True)
class Stamp:
    """One timestamp read from the source."""

    utc: datetime
    text: str
    basis: str
    flag: str
    flags: tuple[str, ...] = ()


def stamp(value: Any, name: str, unit: str | None = None) -> Stamp:
    """Read an ISO 8601 string or an epoch number (``unit`` "ms" when the key says so).

    A bare epoch number without a unit in its key is taken as milliseconds at or
    above ``MS_THRESHOLD`` and seconds below it, and flagged ``epoch_unit_inferred``.
    An ISO time without an offset is an error: Google writes ``Z`` or an offset.
    """
    if value is None:
        raise ValueError(f"{name} is missing")
    if isinstance(value, bool):
        raise ValueError(f"{name} is not a time: {value!r}")
    text = str(value).strip()
    flags: tuple[str, ...] = ()
    if isinstance(value, (int, float)) or re.fullmatch(r"[-+]?\d+(?:\.\d+)?", text):
        number = float(text)
        if unit is None:
            unit = "ms" if abs(number) >= MS_THRESHOLD else "s"
            flags = ("epoch_unit_inferred",)
        reading = from_unix(number, unit)
    else:
        reading = parse_iso(text)
    if reading.error or reading.utc is None:
        raise ValueError(f"{name}: {reading.error}")
    return Stamp(reading.utc, text, reading.basis, reading.flag, flags)


def first_time(
    record: dict[str, Any], spellings: tuple[tuple[str, str | None], ...], name: str
) -> Stamp:
    """Read the first present key of ``spellings`` (key, unit) from ``record``."""
    for key, unit in spellings:
        if record.get(key) is not None:
            return stamp(record[key], key, unit)
    raise ValueError(f"{name} is missing (looked for {', '.join(k for k, _ in spellings)})")


def number_or_none(value: Any, name: str) -> float | None:
    """Return a non-negative float from a number or numeric string, None when absent."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{name} is not a number: {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} is not a number: {value!r}") from None
    if number < 0:
        raise ValueError(f"{name} is negative: {value!r}")
    return number


def interval(start: Stamp, end: Stamp | None) -> tuple[float | None, tuple[str, ...]]:
    """Return the duration in seconds and flags for a start/end pair (end may be absent)."""
    if end is None:
        return None, ("end_time_missing",)
    seconds = (end.utc - start.utc).total_seconds()
    if seconds < 0:
        return None, ("end_before_start",)
    return seconds, ()


def known_kinds(record: Any, kinds: tuple[str, ...]) -> list[str]:
    """Return which of ``kinds`` are keys of ``record`` (none when it is not a JSON object)."""
    return [k for k in kinds if isinstance(record, dict) and k in record]


def no_known_kind(record: Any, path: str, reason: str) -> Rejection:
    """Return the rejection of a record holding none of the known kinds, naming what it holds."""
    keys = sorted(record) if isinstance(record, dict) else type(record).__name__
    return Rejection(pointer(path), f"{reason} (found {keys})", record)


def interval_event(where: str, kind: str, start: Stamp, end: Stamp | None,
                   duration_s: float | None, **fields: Any) -> EventDraft:
    """Return a Timeline entry from ``start`` (to ``end`` when known); ``fields`` add the rest."""
    return EventDraft(
        locator=where,
        kind=kind,
        timestamp_utc=start.utc,
        timestamp_source=start.text,
        tz_basis=start.basis,
        tz_flag=start.flag,
        end_utc=end.utc if end else None,
        duration_s=duration_s,
        direction="none",
        channel=CHANNEL,
        **fields,
    )
