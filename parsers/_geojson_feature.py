"""One GeoJSON Feature to events and rejections (``geojson``)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.osgrid import HELMERT_ACCURACY_M, grid_to_wgs84
from atlas.parsing import ParseOptions
from atlas.provenance import pointer
from atlas.timeparse import TimeReading, from_unix, parse_iso

TIME_KEYS = ("time", "timestamp", "datetime", "date_time", "dateTime", "when", "recorded_at",
             "recordedAt", "startTime", "start_time", "start", "begin")
END_KEYS = ("endTime", "end_time", "end")
VERTEX_TIME_KEYS = ("coordTimes", "times")
ACCURACY_KEYS = ("accuracy", "accuracy_m", "horizontal_accuracy", "horizontalAccuracy")
NAME_KEYS = ("name", "title")
TRANSFORM = (f"OSGB36 National Grid (EPSG:27700) to WGS84 by Helmert transformation "
             f"(about {HELMERT_ACCURACY_M:g} m), atlas.osgrid")
_DATE_ONLY = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_NO_TIME = TimeReading(None, "none", "no_time")


class BadValue(Exception):  # noqa: N818 - a record-level signal turned into a Rejection
    """A value that cannot be read; the message is the rejection reason."""


def feature_items(feature: Any, where: str, grid: bool,
                  options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield the items of one feature: one per Point, one per vertex of a path or MultiPoint."""
    locator = pointer(where)
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        yield Rejection(locator, "element of 'features' is not a GeoJSON Feature object "
                        "(\"type\": \"Feature\")", raw=_raw(feature))
        return
    props = feature.get("properties")
    geometry = feature.get("geometry")
    if props is not None and not isinstance(props, dict):
        yield Rejection(locator, "'properties' is not an object", raw=_raw(feature))
        return
    props = dict(props or {})
    if not isinstance(geometry, dict):
        yield Rejection(locator, "Feature has no geometry (null or not an object): nothing "
                        "to place", raw=_raw(feature))
        return
    gtype, coords = geometry.get("type"), geometry.get("coordinates")
    common: dict[str, Any] = {"channel": "geojson", "location_method": "unknown",
                              "direction": "none"}
    name = next((props[k] for k in NAME_KEYS if isinstance(props.get(k), str)), None)
    common["text"] = name
    base: dict[str, Any] = {"geometry": gtype}
    if "id" in feature:
        base["feature_id"] = feature["id"]
    try:
        if gtype == "Point":
            yield _point(locator, coords, props, base, common, grid, options)
            return
        if gtype in ("LineString", "MultiPoint"):
            vertices = [((i,), c) for i, c in enumerate(_list(coords, gtype))]
        elif gtype == "MultiLineString":
            vertices = [((i, j), c) for i, line in enumerate(_list(coords, gtype))
                        for j, c in enumerate(_list(line, f"{gtype} line {i}"))]
        elif gtype in ("Polygon", "MultiPolygon"):
            raise BadValue(f"{gtype} is an area drawn on a map, not a position or a path; "
                           "not imported")
        else:
            raise BadValue(f"geometry type {gtype!r} is not Point, MultiPoint, LineString or "
                           "MultiLineString; not imported")
        per_vertex = _per_vertex(props, [idx for idx, _ in vertices])
    except BadValue as exc:
        yield Rejection(locator, str(exc), raw=_raw(feature))
        return
    times = per_vertex.pop("__times__", None)
    base["properties"] = props  # a feature-level time stays here: never spread over vertices
    for n, (idx, coord) in enumerate(vertices):
        vertex = pointer(f"{where}/geometry/coordinates/" + "/".join(map(str, idx)))
        try:
            lat, lon, extra = _position(coord, grid)
            reading, source, flags = read_time(times[n] if times else None, options)
        except BadValue as exc:
            yield Rejection(vertex, str(exc), raw=_raw(coord))
            continue
        values = {k: v[n] for k, v in per_vertex.items()}
        accuracy = next((_accuracy(values[k]) for k in ACCURACY_KEYS if k in values), None)
        yield EventDraft(
            locator=vertex, kind="location_fix", timestamp_utc=reading.utc,
            timestamp_source=source, tz_basis=reading.basis, tz_flag=reading.flag,
            latitude=lat, longitude=lon, accuracy_m=accuracy, flags=tuple(flags),
            extra={**base, **extra, **({"vertex_values": values} if values else {})},
            **common)


def _point(locator: str, coords: Any, props: dict[str, Any], base: dict[str, Any],
           common: dict[str, Any], grid: bool, options: ParseOptions) -> EventDraft:
    lat, lon, extra = _position(coords, grid)
    start_key = next((k for k in TIME_KEYS if k in props), None)
    end_key = next((k for k in END_KEYS if k in props), None)
    reading, source, flags = read_time(props.get(start_key) if start_key else None, options)
    end_utc = None
    if end_key is not None:
        end, _, end_flags = read_time(props[end_key], options)
        end_utc = end.utc
        flags += [f"end_{f}" for f in end_flags] + (
            [f"end_{end.flag}"] if end.flag in ("ambiguous", "nonexistent") else [])
        if reading.utc is not None and end_utc is not None and end_utc < reading.utc:
            raise BadValue(f"end {props[end_key]!r} is before start {props[start_key]!r}")
    accuracy_key = next((k for k in ACCURACY_KEYS if k in props), None)
    accuracy = _accuracy(props[accuracy_key]) if accuracy_key else None
    if accuracy_key and accuracy is None:
        flags.append("accuracy_not_numeric")
    duration = ((end_utc - reading.utc).total_seconds()
                if reading.utc is not None and end_utc is not None else None)
    return EventDraft(
        locator=locator, kind="location_visit" if end_utc is not None else "location_fix",
        timestamp_utc=reading.utc, timestamp_source=source, tz_basis=reading.basis,
        tz_flag=reading.flag, end_utc=end_utc, duration_s=duration, latitude=lat,
        longitude=lon, accuracy_m=accuracy, flags=tuple(flags),
        extra={**base, **extra, "properties": props}, **common)


def read_time(value: Any, options: ParseOptions) -> tuple[TimeReading, str | None, list[str]]:
    """Return (reading, verbatim source, flags) for an ISO string or epoch s/ms number."""
    if value is None or value == "":
        return _NO_TIME, None, []
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadValue(f"time {value!r} is neither an ISO 8601 string nor an epoch number")
    if isinstance(value, str):
        text = value.strip()
        if _DATE_ONLY.fullmatch(text):
            return _NO_TIME, text, ["date_only"]
        reading = parse_iso(text, default_zone=options.source_tz)
        if reading.error:
            raise BadValue(reading.error)
        return reading, value, []
    if not math.isfinite(value):
        raise BadValue(f"time {value!r} is not a finite number")
    # Epoch milliseconds have 13 digits for current dates; seconds have 10.
    reading = from_unix(value, "ms" if abs(value) >= 1e11 else "s")
    if reading.error:
        raise BadValue(reading.error)
    return reading, str(value), []


def _position(coord: Any, grid: bool) -> tuple[float, float, dict[str, Any]]:
    ok = (isinstance(coord, list) and len(coord) >= 2
          and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                  for v in coord))
    if not ok:
        raise BadValue(f"position {coord!r} is not [lon, lat(, alt)] numbers")
    extra: dict[str, Any] = {}
    if len(coord) >= 3:
        extra["altitude_m"] = coord[2]
    if grid:
        try:
            lat, lon = grid_to_wgs84(float(coord[0]), float(coord[1]))
        except ValueError as exc:
            raise BadValue(f"position {coord!r}: {exc}") from None
        extra.update(source_easting=coord[0], source_northing=coord[1],
                     coordinate_transform=TRANSFORM)
        return lat, lon, extra
    lon, lat = float(coord[0]), float(coord[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadValue(f"position {coord!r}: longitude {lon:g} or latitude {lat:g} out of "
                       "range (GeoJSON writes [lon, lat])")
    return lat, lon, extra


def _per_vertex(props: dict[str, Any], shape: list[tuple[int, ...]]) -> dict[str, list[Any]]:
    """Take out of ``props`` every array with one value per vertex (times under ``__times__``)."""
    out: dict[str, list[Any]] = {}
    nested = props.get("coordinateProperties")
    sources = [(props, k) for k in list(props)]
    if isinstance(nested, dict):
        sources += [(nested, k) for k in list(nested)]
    for holder, key in sources:
        flat = _flatten(holder[key], shape)
        if flat is None:
            if key in VERTEX_TIME_KEYS and isinstance(holder[key], list):
                raise BadValue(f"{key!r} has {len(holder[key])} entries for {len(shape)} "
                               "positions; times cannot be paired with positions")
            continue
        del holder[key]
        out["__times__" if key in VERTEX_TIME_KEYS and "__times__" not in out else key] = flat
    if isinstance(nested, dict) and not nested:
        del props["coordinateProperties"]
    return out


def _flatten(value: Any, shape: list[tuple[int, ...]]) -> list[Any] | None:
    if not isinstance(value, list):
        return None
    if all(len(idx) == 1 for idx in shape):
        return value if len(value) == len(shape) else None
    try:
        flat = [value[i][j] for i, j in shape]
    except (IndexError, TypeError, KeyError):
        return None
    lengths = [len(v) if isinstance(v, list) else -1 for v in value]
    expected = [sum(1 for idx in shape if idx[0] == i) for i in range(len(lengths))]
    return flat if lengths == expected else None


def _list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise BadValue(f"{what} coordinates are not an array")
    return value


def _accuracy(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) and value >= 0 else None


def _raw(value: Any) -> str:
    text = repr(value)
    return text[:2000]
