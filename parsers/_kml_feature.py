"""One KML feature (Placemark or PhotoOverlay) to events and rejections (``kml``).

The stream in ``parsers/kml.py`` hands over each finished feature element with
its positional path; ``gx:Track`` ``when``/``gx:coord`` texts arrive already
buffered (their elements were freed while streaming).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from lxml import etree

from atlas.events import EventDraft, Rejection
from atlas.parsing import ParseOptions
from atlas.timeparse import parse_iso
from parsers._xml_safe import local, text_of

GEOMETRIES = ("Point", "LineString", "LinearRing", "Polygon", "MultiGeometry", "Track",
              "MultiTrack", "Model")
ACCURACY_NAMES = ("accuracy", "accuracy_m", "horizontal_accuracy", "horizontalaccuracy")
_DATETIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
_DATE_ONLY = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")

Locate = Callable[[str], str]
Tracks = dict[str, tuple[list[str], list[str]]]


class BadValue(Exception):  # noqa: N818 - a record-level signal turned into a Rejection
    """A value that cannot be read; the message is the rejection reason."""


@dataclass
class _When:
    """The time of a feature: start reading (or none), end, and what to record."""

    utc: datetime | None = None
    basis: str = "none"
    flag: str = "no_time"
    source: str | None = None
    end_utc: datetime | None = None
    span: bool = False
    flags: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _child(elem: etree._Element, name: str) -> etree._Element | None:
    return next((c for c in elem if local(c.tag) == name), None)


def feature_items(elem: etree._Element, path: str, thread: str | None, tracks: Tracks,
                  options: ParseOptions, locate: Locate) -> Iterator[EventDraft | Rejection]:
    """Yield the items of one feature: one per Point, per path vertex, per track point."""
    kind_name = local(elem.tag)
    raw = etree.tostring(elem, encoding="unicode", with_tail=False)[:2000]
    try:
        when = _feature_time(elem, options)
    except BadValue as exc:
        yield Rejection(locate(path), str(exc), raw=raw)
        return
    base: dict[str, Any] = {}
    for key in ("name", "description", "address", "Snippet"):
        value = text_of(_child(elem, key))
        if value:
            base[key.lower()] = value
    data = _extended_data(_child(elem, "ExtendedData"))
    if data:
        base["data"] = data
    flags = list(when.flags)
    if next(elem.iter(etree.Entity), None) is not None:
        flags.append("unresolved_entity")
    common = {"thread": thread, "text": base.pop("name", None), "channel": "kml",
              "location_method": "unknown", "attachments": _icons(elem)}
    geometries = list(_geometries(elem, path))
    if not geometries:
        yield Rejection(locate(path), f"{kind_name} has no Point, LineString or gx:Track "
                        "geometry: nothing to place", raw=raw)
        return
    for name, geom, where in geometries:
        extra = {**base, **when.extra, "geometry": name}
        if name == "Point":
            yield _point(geom, where, when, flags, extra, data, common, locate, raw)
        elif name in ("LineString", "LinearRing"):
            yield from _path(geom, where, when, flags, extra, common, locate)
        elif name == "Track":
            yield from _track(geom, where, tracks.get(where, ([], [])), flags, extra, common,
                              options, locate)
        else:
            reason = ("Polygon is an area drawn on a map, not a position or a path"
                      if name == "Polygon" else f"geometry {name} is not a position or a path")
            yield Rejection(locate(where), reason + "; not imported", raw=raw)


def _geometries(elem: etree._Element, path: str) -> Iterator[tuple[str, Any, str]]:
    counts: dict[str, int] = {}
    for child in elem:
        name = local(child.tag)
        if name not in GEOMETRIES:
            continue
        counts[name] = counts.get(name, 0) + 1
        where = f"{path}/{name}[{counts[name]}]"
        if name in ("MultiGeometry", "MultiTrack"):
            yield from _geometries(child, where)
        else:
            yield name, child, where


def _point(geom: Any, where: str, when: _When, flags: list[str], extra: dict[str, Any],
           data: dict[str, str], common: dict[str, Any], locate: Locate,
           raw: str) -> EventDraft | Rejection:
    tuples = coordinate_tuples(text_of(_child(geom, "coordinates")))
    if len(tuples) != 1:
        return Rejection(locate(where), f"Point has {len(tuples)} coordinate tuples, "
                         "not one", raw=raw)
    try:
        lon, lat, alt = lon_lat(tuples[0], ",")
    except BadValue as exc:
        return Rejection(locate(where), f"Point: {exc}", raw=raw)
    if alt is not None:
        extra["altitude_m"] = alt
    accuracy = next((_number(v) for k, v in data.items() if k.casefold() in ACCURACY_NAMES), None)
    duration = ((when.end_utc - when.utc).total_seconds()
                if when.utc is not None and when.end_utc is not None else None)
    return EventDraft(
        locator=locate(where), kind="location_visit" if when.span else "location_fix",
        timestamp_utc=when.utc, timestamp_source=when.source, tz_basis=when.basis,
        tz_flag=when.flag, end_utc=when.end_utc, duration_s=duration, direction="none",
        latitude=lat, longitude=lon, accuracy_m=accuracy, flags=tuple(flags), extra=extra,
        **common)


def _path(geom: Any, where: str, when: _When, flags: list[str], extra: dict[str, Any],
          common: dict[str, Any], locate: Locate) -> Iterator[EventDraft | Rejection]:
    # A path's vertices carry no times of their own: the feature's time (if any) is
    # kept in extra, never spread over the vertices.
    if when.source is not None:
        extra["feature_time"] = when.source
    tuples = coordinate_tuples(text_of(_child(geom, "coordinates")))
    if not tuples:
        yield Rejection(locate(where), f"{local(geom.tag)} has no coordinates")
    for index, token in enumerate(tuples):
        try:
            lon, lat, alt = lon_lat(token, ",")
        except BadValue as exc:
            yield Rejection(locate(where), f"vertex {index + 1} of {len(tuples)}: {exc}",
                            raw=token)
            continue
        yield EventDraft(
            locator=locate(where), part=index, kind="location_fix", timestamp_utc=None,
            timestamp_source=None, tz_basis="none", tz_flag="no_time", direction="none",
            latitude=lat, longitude=lon, flags=tuple(flags),
            extra={**extra, "vertex": index + 1,
                   **({"altitude_m": alt} if alt is not None else {})},
            **common)


def _track(geom: Any, where: str, buffered: tuple[list[str], list[str]], flags: list[str],
           extra: dict[str, Any], common: dict[str, Any], options: ParseOptions,
           locate: Locate) -> Iterator[EventDraft | Rejection]:
    whens, coords = buffered
    if whens and len(whens) != len(coords):
        yield Rejection(locate(where), f"gx:Track has {len(whens)} <when> but {len(coords)} "
                        "<gx:coord> elements; they must pair one to one")
        return
    arrays = _arrays(_child(geom, "ExtendedData"), len(coords))
    for index, coord in enumerate(coords):
        label = f"track point {index + 1} of {len(coords)}"
        try:
            lon, lat, alt = lon_lat(coord, None)
            when = read_when(whens[index], options) if whens else _When()
        except BadValue as exc:
            yield Rejection(locate(where), f"{label}: {exc}",
                            raw=f"{whens[index] if whens else ''} | {coord}")
            continue
        point_extra = {**extra, **when.extra, "point": index + 1,
                       **({"altitude_m": alt} if alt is not None else {}),
                       **{k: v[index] for k, v in arrays.items()}}
        accuracy = next((_number(v[index]) for k, v in arrays.items()
                         if k.casefold() in ACCURACY_NAMES), None)
        yield EventDraft(
            locator=locate(where), part=index, kind="location_fix", timestamp_utc=when.utc,
            timestamp_source=when.source, tz_basis=when.basis, tz_flag=when.flag,
            direction="none", latitude=lat, longitude=lon, accuracy_m=accuracy,
            flags=tuple(flags + when.flags), extra=point_extra, **common)


def _feature_time(elem: etree._Element, options: ParseOptions) -> _When:
    stamp, span = _child(elem, "TimeStamp"), _child(elem, "TimeSpan")
    if stamp is not None:
        return read_when(text_of(_child(stamp, "when")), options)
    if span is None:
        return _When()
    begin_text, end_text = text_of(_child(span, "begin")), text_of(_child(span, "end"))
    begin = read_when(begin_text, options)
    end = read_when(end_text, options)
    begin.span = True
    begin.end_utc = end.utc
    if end_text:
        begin.extra["timespan_end"] = end_text
    if end.flag in ("ambiguous", "nonexistent"):
        begin.flags.append(f"end_{end.flag}")
    if "date_only" in end.flags and "date_only" not in begin.flags:
        begin.flags.append("end_date_only")
    if begin.utc is not None and end.utc is not None and end.utc < begin.utc:
        raise BadValue(f"TimeSpan end {end_text!r} is before begin {begin_text!r}")
    return begin


def read_when(text: str, options: ParseOptions) -> _When:
    """Read a KML ``when``/``begin``/``end``: dateTime, or a date (flagged, kept in extra)."""
    if not text:
        return _When()
    if _DATE_ONLY.fullmatch(text):
        return _When(source=text, flags=["date_only"])
    if not _DATETIME.fullmatch(text):
        raise BadValue(f"time {text!r} is not an xsd:dateTime, date, year-month or year")
    reading = parse_iso(text, default_zone=options.source_tz)
    if reading.error:
        raise BadValue(reading.error)
    return _When(reading.utc, reading.basis, reading.flag, text)


def coordinate_tuples(text: str) -> list[str]:
    """Split a ``<coordinates>`` text into tuples (spaces around commas tolerated)."""
    return re.sub(r"\s*,\s*", ",", text.strip()).split()


def lon_lat(token: str, sep: str | None) -> tuple[float, float, float | None]:
    """Return (lon, lat, alt) from ``lon,lat[,alt]`` (or ``lon lat alt`` for gx:coord)."""
    parts = token.split(sep)
    shape = "lon,lat[,alt]" if sep else "lon lat [alt]"
    if len(parts) not in (2, 3) or not all(_DECIMAL.fullmatch(p) for p in parts):
        raise BadValue(f"{token!r} is not {shape}")
    lon, lat = float(parts[0]), float(parts[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise BadValue(f"{token!r}: longitude {lon:g} or latitude {lat:g} out of range "
                       "(KML writes longitude first)")
    alt = float(parts[2]) if len(parts) == 3 else None
    return lon, lat, alt


def _extended_data(elem: etree._Element | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if elem is None:
        return out
    for node in elem.iter():
        name = local(node.tag)
        if name == "Data" and node.get("name"):
            out[node.get("name")] = text_of(_child(node, "value"))
        elif name == "SimpleData" and node.get("name"):
            out[node.get("name")] = text_of(node)
    return out


def _arrays(elem: etree._Element | None, length: int) -> dict[str, list[str]]:
    """Return gx:SimpleArrayData lists that have one value per track point."""
    out: dict[str, list[str]] = {}
    if elem is None:
        return out
    for node in elem.iter():
        if local(node.tag) == "SimpleArrayData" and node.get("name"):
            values = [text_of(v) for v in node if local(v.tag) == "value"]
            if len(values) == length:
                out[node.get("name")] = values
    return out


def _icons(elem: etree._Element) -> tuple[str, ...]:
    if local(elem.tag) != "PhotoOverlay":
        return ()
    icon = _child(elem, "Icon")
    href = text_of(_child(icon, "href")) if icon is not None else ""
    return (href,) if href else ()


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None
