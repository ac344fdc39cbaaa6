"""Google location history JSON: Takeout Records, Semantic Location History, on-device Timeline.

Format:
    Three layouts, told apart by the first key of the document.

    * ``Records.json`` (also the older single ``Location History.json``):
      ``{"locations": [...]}``, one raw fix per element: ``latitudeE7`` /
      ``longitudeE7`` (degrees x 1e7; values above 1800000000 are unsigned
      32-bit wraps of negative numbers and get 2**32 subtracted, flagged
      ``e7_unsigned_wrap_corrected`` with the integers kept in extra),
      ``accuracy`` (metres -> ``accuracy_m``), ``source`` (GPS/WIFI/CELL ->
      ``location_method``; UNKNOWN, VISIT_ARRIVAL ... -> ``unknown``, kept
      verbatim), ``deviceTag``, ``activity`` and every other key in extra.
      Kind ``location_fix``.
    * Semantic Location History (``Semantic Location History/2023/2023_JANUARY.json``):
      ``{"timelineObjects": [{"placeVisit": ...} | {"activitySegment": ...}]}``.
      A ``placeVisit`` is an interval: kind ``location_visit``, start and
      ``end_utc`` from ``duration``, coordinates from ``location``, the place
      name as ``text``; place/visit confidence, address, placeId and the rest
      in extra. An ``activitySegment`` (a journey) is kind ``location_fix`` at
      ``startLocation`` with ``end_utc`` and ``duration_s``; ``endLocation``
      (as ``end_latitude``/``end_longitude``), ``activityType``,
      ``confidence``, ``activities``, ``distance`` and ``waypointPath`` stay in
      extra. We chose ``location_fix`` because the segment's only located
      instant is its start; it is not a stay. ``editConfirmationStatus`` is
      the ``status`` (Timeline entries can be edited by the user, so these are
      inferences, not raw sensor data; ``location_method`` is ``fused``).
    * On-device Timeline export (2024 on, ``Timeline.json``/``location-history.json``).
      Android: ``{"semanticSegments": [...], "rawSignals": [...],
      "userLocationProfile": {...}}``. A segment with ``visit`` becomes a
      ``location_visit`` interval at ``topCandidate.placeLocation.latLng``
      ("48.8566°, 2.3522°"); with ``activity`` a ``location_fix`` at
      ``activity.start`` with ``end_utc``; with ``timelineMemory`` (a trip
      summary, no coordinates) an ``app_event`` with status ``timeline_memory``;
      each ``timelinePath`` point is its own ``location_fix``. A ``rawSignals``
      element is a ``position`` fix (``LatLng``, ``accuracyMeters``, ``source``),
      or an ``activityRecord``/``wifiScan`` ``app_event``. Each
      ``userLocationProfile.frequentPlaces`` entry (HOME, WORK ...) becomes an
      undated ``location_visit`` (status ``frequent_place``, label as text).
      iOS: a top-level array of segments with ``"geo:lat,lng"`` strings,
      ``placeID`` and numbers as strings; handled by the same rules.
Time:
    Records ``timestamp`` is ISO 8601 with ``Z`` (``utc-declared``);
    ``timestampMs``/``startTimestampMs``/``endTimestampMs`` are epoch
    milliseconds (``epoch``). A bare epoch number under a key without ``Ms``
    (seen in converted files) is read as milliseconds from 1e11 up and seconds
    below, flagged ``epoch_unit_inferred``. On-device times carry their own
    local offset (``offset-in-source``; each value's own offset, which changes
    with travel and DST). An iOS ``timelinePath`` point has only
    ``durationMinutesOffsetFromStartTime``: its time is the segment start plus
    those minutes, ``timestamp_source`` is the segment start and the event is
    flagged ``time_from_segment_offset``. An ISO time without an offset is
    rejected, never assumed. A missing end is flagged ``end_time_missing``, an
    end before the start ``end_before_start`` (duration left empty).
Locator:
    JSON pointer of the record: ``json:/locations/123``,
    ``json:/timelineObjects/4/placeVisit``, ``json:/semanticSegments/7``,
    ``json:/semanticSegments/7/timelinePath/2``, ``json:/rawSignals/3``,
    ``json:/userLocationProfile/frequentPlaces/0``; iOS ``json:/7`` and
    ``json:/7/timelinePath/2``.
Limitations:
    The document is streamed with a standard-library walker, one record (or
    one segment) at a time, so a multi-gigabyte Records.json stays in flat
    memory. ``Timeline Edits.json`` and ``Settings.json`` are not read (their
    sniff does not match). Other ``userLocationProfile`` keys (persona) and
    unknown top-level keys are skipped. Coordinates missing from a visit or
    segment are left empty and flagged (``place_location_missing``,
    ``start_location_missing``), never filled from candidate locations or
    waypoints, which stay in extra. Semantic and on-device entries are
    Google's inferences and may have been edited by the user.
References:
    docs formats.md sections 3.1-3.3; locationhistoryformat.com reference
    (CarlosBergillos/LocationHistoryFormat schemas/Records.schema.json,
    Semantic.schema.json); Freika/dawarich spec/fixtures/files/google/*;
    hossain-khan/kgeo-device-timeline model classes; nabedroid/google-timeline-viewer README.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import pointer
from parsers import _google_device as device
from parsers._google_records import records
from parsers._google_semantic import timeline_objects
from parsers._json_stream import JsonStream, JsonStreamError

_FIRST_KEY = re.compile(
    rb'^\{\s*"(locations|timelineObjects|semanticSegments|rawSignals|userLocationProfile)"'
    rb"\s*:\s*([\[{])"
)
_RECORDS_HINT = re.compile(rb'"(?:latitudeE7|timestampMs)"\s*:|^\{\s*"locations"\s*:\s*\[\s*\]')
_IOS = re.compile(rb'^\[\s*\{\s*"(?:startTime|endTime)"\s*:\s*"\d{4}-\d\d-\d\dT')
_IOS_HINT = re.compile(rb'"(?:visit|timelinePath|activity|timelineMemory)"\s*:|"geo:-?\d')


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a Google location-history JSON document (any of the three layouts)."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    match = _FIRST_KEY.match(text)
    if match:
        return match.group(1) != b"locations" or bool(_RECORDS_HINT.search(text))
    return bool(_IOS.match(text) and _IOS_HINT.search(text))


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per record, visit, segment or path point, in file order."""
    if not sniff(source.head(), source.display_path):
        raise NotThisFormat("no Google location-history keys at the start of the file")
    where = pointer("/")
    try:
        with source.open_text(encoding="utf-8-sig") as fh:
            stream = JsonStream(fh)
            if stream.peek() == "[":
                yield from device.array(stream, "", device.segment)
            else:
                for key in stream.iter_object():
                    where = pointer(f"/{key}")
                    if key == "locations":
                        yield from records(stream)
                    elif key == "timelineObjects":
                        yield from timeline_objects(stream)
                    elif key == "semanticSegments":
                        yield from device.array(stream, "/semanticSegments", device.segment)
                    elif key == "rawSignals":
                        yield from device.array(stream, "/rawSignals", device.raw_signal)
                    elif key == "userLocationProfile":
                        yield from device.profile(stream)
                    else:
                        stream.skip()
            stream.end()
    except JsonStreamError as exc:
        raise SourceError(source.display_path, where, f"not well-formed JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(source.display_path, where, f"not UTF-8 text: {exc}") from exc


PARSER = ParserSpec(
    name="google_takeout_json",
    version="1.0",
    family="location",
    summary="Google location history JSON (Takeout Records, Semantic history, on-device Timeline)",
    sniff=sniff,
    parse=parse,
    extensions=(".json",),
)
