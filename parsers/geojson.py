"""GeoJSON FeatureCollections: points, paths and multipoints with times in properties.

Format:
    A JSON object ``{"type": "FeatureCollection", "features": [...]}``
    (RFC 7946; UTF-8, BOM accepted). Each Feature has a ``geometry`` and
    ``properties``. Positions are ``[lon, lat(, alt)]`` (**longitude
    first**), WGS84; a legacy 2008 ``crs`` member naming EPSG:27700 (British
    National Grid) makes positions ``[easting, northing]``, converted with
    ``atlas.osgrid`` (extra ``source_easting``/``source_northing`` and
    ``coordinate_transform``); any other non-WGS84 ``crs`` is a SourceError.

    * ``Point``: one event. Time from the first of the properties ``time``,
      ``timestamp``, ``datetime``, ``date_time``, ``dateTime``, ``when``,
      ``recorded_at``, ``recordedAt``, ``startTime``, ``start_time``,
      ``start``, ``begin``; an end (``endTime``, ``end_time``, ``end``)
      makes it a ``location_visit`` with end_utc and duration_s, otherwise
      ``location_fix``. accuracy_m from ``accuracy``, ``accuracy_m``,
      ``horizontal_accuracy`` or ``horizontalAccuracy`` (metres).
    * ``LineString``, ``MultiPoint``, ``MultiLineString``: one
      ``location_fix`` per position. Per-position times come from a
      properties array with one entry per position: ``coordTimes`` or
      ``times`` (togeojson/GPX-converter convention; nested per line for a
      MultiLineString) or ``coordinateProperties.times``. Any other property
      array with one value per position (e.g. per-point ``accuracy``, heart
      rate) is split the same way into extra ``vertex_values``. Without such
      an array the positions have **no time** (tz_flag ``no_time``); a
      feature-level time stays in extra ``properties`` and is never spread
      over the positions.
    * ``Polygon``/``MultiPolygon`` (areas), ``GeometryCollection``, a null
      geometry, or an element that is not a Feature: a Rejection.

    text = the ``name`` (or ``title``) property; extra holds ``geometry``,
    ``feature_id`` and the remaining ``properties`` verbatim (per-position
    arrays removed), ``altitude_m``. channel ``geojson``, location_method
    ``unknown`` (GeoJSON does not say how a position was found).
Time:
    ISO 8601 strings: ``Z`` -> ``utc-declared``, an offset ->
    ``offset-in-source``, no offset -> wall-clock time in
    ``options.source_tz`` (``assumed:<zone>``, flagged ambiguous or
    nonexistent at clock changes). A date alone is not made midnight: no
    time, flag ``date_only``. Numbers are Unix epoch: milliseconds when
    ``>= 1e11`` (13 digits for current dates), else seconds (tz_basis
    ``epoch``). ``null``/absent: tz_flag ``no_time``. Anything else rejects
    the Point or position.
Locator:
    ``json:/features/12`` for a Point (or a rejected feature);
    ``json:/features/12/geometry/coordinates/3`` for a position of a path or
    MultiPoint (``.../coordinates/1/3`` in a MultiLineString).
Limitations:
    The ``features`` array is streamed one feature at a time
    (``parsers._json_stream``), so memory is bounded by the largest single
    feature: one huge LineString is held whole. Top-level keys other than
    ``type``, ``crs`` and ``features`` (``bbox``, foreign members) are
    skipped. A bare Feature or Geometry document and newline-delimited
    GeoJSON (RFC 8142) are not read. A times array whose length differs
    from the number of positions rejects the feature (times cannot be
    paired). JSON that is not well formed raises SourceError naming the
    feature being read; earlier items are rolled back by the ingest core.
    EPSG:27700 conversion is Helmert (within about 5 m), not OSTN15.
References:
    RFC 7946 (GeoJSON); the 2008 GeoJSON specification (``crs``);
    mapbox/togeojson (``coordTimes``, ``coordinateProperties.times``);
    docs/formats.md section 0 (coordinates).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import pointer
from parsers._geojson_feature import feature_items
from parsers._json_stream import JsonStream, JsonStreamError

_COLLECTION = re.compile(rb'"type"\s*:\s*"FeatureCollection"')
_WGS84 = re.compile(r"crs84|epsg:{1,2}4326\b|epsg:{1,2}4979\b", re.IGNORECASE)
_OSGB = re.compile(r"epsg:{1,2}27700\b", re.IGNORECASE)


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a JSON object that declares ``"type": "FeatureCollection"``."""
    body = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return body.startswith(b"{") and _COLLECTION.search(body) is not None


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield the items of every feature, in array order."""
    where = "/"
    started = False
    try:
        with source.open_text(encoding="utf-8-sig") as fh:
            stream = JsonStream(fh)
            if stream.peek() != "{":
                raise NotThisFormat("not a JSON object")
            grid = False
            for key in stream.iter_object():
                where = f"/{key}"
                if key == "type":
                    kind = stream.value()
                    if kind != "FeatureCollection":
                        if not started:
                            raise NotThisFormat(f"type is {kind!r}, not 'FeatureCollection'")
                        raise SourceError(source.display_path, pointer(where),
                                          f"type is {kind!r}, not 'FeatureCollection'")
                elif key == "crs":
                    grid = _crs(stream.value(), started, source)
                elif key == "features":
                    if stream.peek() != "[":
                        raise SourceError(source.display_path, pointer(where),
                                          "'features' is not an array")
                    for index in stream.iter_array():
                        where = f"/features/{index}"
                        feature = stream.value()
                        started = True
                        yield from feature_items(feature, where, grid, options)
                    where = "/features"
                else:
                    stream.skip()
            stream.end()
    except JsonStreamError as exc:
        if not started:
            raise NotThisFormat(f"not JSON: {exc}") from exc
        raise SourceError(source.display_path, pointer(where),
                          f"JSON is not well formed (truncated or corrupt): {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(source.display_path, pointer(where),
                          f"not UTF-8 text: {exc.reason}") from exc


def _crs(value: Any, started: bool, source: Source) -> bool:
    """Return True for British National Grid, False for WGS84; SourceError otherwise."""
    name = ""
    if isinstance(value, dict) and isinstance(value.get("properties"), dict):
        name = str(value["properties"].get("name", ""))
    if _WGS84.search(name) or value is None:
        return False
    if _OSGB.search(name) and not started:
        return True
    problem = ("appears after features already read as WGS84" if started and _OSGB.search(name)
               else "is not supported (WGS84 or EPSG:27700 only)")
    raise SourceError(source.display_path, pointer("/crs"),
                      f"coordinate reference system {name or value!r} {problem}")


PARSER = ParserSpec(
    name="geojson",
    version="1.0",
    family="location",
    summary="GeoJSON FeatureCollection points, paths and multipoints with property times",
    sniff=sniff,
    parse=parse,
    extensions=(".geojson", ".json"),
)
