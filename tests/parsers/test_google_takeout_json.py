"""Tests for the Google location-history JSON parser (Records, Semantic, on-device Timeline)."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.google_takeout_json import PARSER, sniff
from tests.parsing_helpers import run_parser


def _data(data_dir, name):
    path = data_dir / "parsers" / "google_takeout_json" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


def _counts(events, rejections):
    return len(events) + len(rejections), len(events), len(rejections)


# --- Records.json -------------------------------------------------------------------------


def test_records_counts_and_representative_event(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "Records.json"))
    assert _counts(events, rejections) == (10, 5, 5)

    fix = events[0]
    assert fix.locator == "json:/locations/0"
    assert fix.kind == "location_fix"
    assert fix.timestamp_utc == datetime(2022, 1, 12, 17, 18, 24, 190000, tzinfo=UTC)
    assert fix.timestamp_source == "2022-01-12T17:18:24.190Z"
    assert fix.tz_basis == "utc-declared"
    assert fix.tz_flag == "ok"
    assert fix.end_utc is None
    assert fix.direction == "none"
    assert fix.channel == "google_location"
    assert (fix.latitude, fix.longitude) == (51.5007292, -0.1246254)
    assert fix.accuracy_m == 12.0
    assert fix.location_method == "gps"
    assert fix.flags == ()
    assert fix.extra == {
        "velocity": 1,
        "altitude": 31,
        "verticalAccuracy": 3,
        "source": "GPS",
        "deviceTag": 1234567890,
        "platformType": "ANDROID",
        "activity": [
            {
                "activity": [
                    {"type": "ON_FOOT", "confidence": 89},
                    {"type": "STILL", "confidence": 11},
                ],
                "timestamp": "2022-01-12T17:18:30.001Z",
            }
        ],
    }


def test_records_rejections(data_dir):
    _, rejections = run_parser(PARSER, _data(data_dir, "Records.json"))
    assert [(r.locator, r.reason) for r in rejections] == [
        ("json:/locations/4", "timestamp is missing (looked for timestamp, timestampMs)"),
        ("json:/locations/5", "coordinates out of range: 95.0, -0.1246254"),
        ("json:/locations/6", "latitudeE7 is not a whole number: 'north'"),
        ("json:/locations/7", "location record is not a JSON object"),
        (
            "json:/locations/8",
            "timestamp: time '2022-01-12T17:22:00' has no offset and no zone was given",
        ),
    ]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(
            1,
            {
                "timestamp_utc": datetime(2022, 1, 1, 18, 21, 2, tzinfo=UTC),
                "tz_basis": "epoch",
                "timestamp_source": "1641061262000",
                "latitude": 53.480793,
                "longitude": -2.242632,
                "location_method": "wifi",
            },
            id="timestampMs-string-negative-longitude",
        ),
        pytest.param(
            2,
            {
                "latitude": -33.8688,
                "longitude": 151.2093,
                "flags": ("e7_unsigned_wrap_corrected",),
                "extra": {"source": "WIFI", "latitudeE7": 3956279296, "longitudeE7": 1512093000},
            },
            id="wrapped-negative-latitude",
        ),
        pytest.param(
            3,
            {
                "latitude": 51.5007292,
                "longitude": -0.1246254,
                "accuracy_m": 1800.0,
                "location_method": "cell",
                "flags": ("e7_unsigned_wrap_corrected",),
            },
            id="wrapped-negative-longitude-lowercase-cell",
        ),
        pytest.param(
            4,
            {
                "timestamp_utc": datetime(2022, 1, 1, 18, 24, 2, 123000, tzinfo=UTC),
                "timestamp_source": "1641061442123",
                "location_method": "unknown",
                "extra": {"source": "VISIT_ARRIVAL", "deviceTag": -5876432},
            },
            id="timestampMs-number-visit-arrival-source",
        ),
    ],
)
def test_records_awkward(data_dir, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, "Records.json"))
    for name, value in expected.items():
        assert getattr(events[index], name) == value, name


# --- Semantic Location History --------------------------------------------------------------


def test_semantic_counts_and_place_visit_interval(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "2023_JANUARY.json"))
    assert _counts(events, rejections) == (8, 5, 3)

    visit = events[0]
    assert visit.locator == "json:/timelineObjects/0/placeVisit"
    assert visit.kind == "location_visit"
    assert visit.timestamp_utc == datetime(2023, 1, 14, 9, 2, 11, 352000, tzinfo=UTC)
    assert visit.end_utc == datetime(2023, 1, 14, 9, 47, 40, 1000, tzinfo=UTC)
    assert visit.duration_s == pytest.approx(2728.649)
    assert visit.timestamp_source == "2023-01-14T09:02:11.352Z"
    assert visit.tz_basis == "utc-declared"
    assert visit.tz_flag == "ok"
    assert (visit.latitude, visit.longitude) == (51.481689, -3.179143)
    assert visit.accuracy_m is None
    assert visit.location_method == "fused"
    assert visit.text == "Example Coffee"
    assert visit.status == "NOT_CONFIRMED"
    assert visit.flags == ()
    assert visit.extra["placeConfidence"] == "HIGH_CONFIDENCE"
    assert visit.extra["visitConfidence"] == 95
    assert visit.extra["end_timestamp"] == "2023-01-14T09:47:40.001Z"
    assert visit.extra["location"] == {
        "placeId": "ChIJexamplePlaceId000001",
        "address": "1 Example Street, Cardiff CF10 1AA, UK",
        "name": "Example Coffee",
        "semanticType": "TYPE_SEARCHED_ADDRESS",
        "sourceInfo": {"deviceTag": 1234567890},
        "locationConfidence": 87.5,
    }
    assert visit.extra["otherCandidateLocations"][0]["placeId"] == "ChIJexamplePlaceId000002"


def test_semantic_rejections(data_dir):
    _, rejections = run_parser(PARSER, _data(data_dir, "2023_JANUARY.json"))
    assert [(r.locator, r.reason) for r in rejections] == [
        ("json:/timelineObjects/4/placeVisit", "duration is missing"),
        (
            "json:/timelineObjects/5",
            "timeline object has neither placeVisit nor activitySegment (found ['tripSummary'])",
        ),
        ("json:/timelineObjects/7/placeVisit", "endTimestamp: time 'last Tuesday' is not ISO 8601"),
    ]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(
            1,
            {
                "locator": "json:/timelineObjects/1/activitySegment",
                "kind": "location_fix",
                "timestamp_utc": datetime(2023, 1, 14, 9, 47, 40, 1000, tzinfo=UTC),
                "end_utc": datetime(2023, 1, 14, 10, 5, 2, 500000, tzinfo=UTC),
                "latitude": 51.481689,
                "longitude": -3.179143,
                "text": None,
            },
            id="activity-segment-interval-at-start",
        ),
        pytest.param(
            2,
            {
                "timestamp_utc": datetime(2023, 1, 14, 10, 5, 2, 500000, tzinfo=UTC),
                "end_utc": datetime(2023, 1, 14, 11, 5, 2, 500000, tzinfo=UTC),
                "duration_s": 3600.0,
                "tz_basis": "epoch",
                "timestamp_source": "1673690702500",
                "status": "CONFIRMED",
            },
            id="old-timestampMs-durations",
        ),
        pytest.param(
            3,
            {"latitude": None, "longitude": None, "flags": ("start_location_missing",)},
            id="activity-without-start-location",
        ),
        pytest.param(
            4,
            {
                "end_utc": datetime(2023, 1, 14, 12, 30, tzinfo=UTC),
                "duration_s": None,
                "flags": ("end_before_start",),
                "status": "EDITED",
            },
            id="user-edited-end-before-start",
        ),
    ],
)
def test_semantic_awkward(data_dir, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, "2023_JANUARY.json"))
    for name, value in expected.items():
        assert getattr(events[index], name) == value, name


def test_semantic_activity_keeps_end_point_and_activity(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "2023_JANUARY.json"))
    extra = events[1].extra
    assert (extra["end_latitude"], extra["end_longitude"]) == (51.464873, -3.182511)
    assert extra["activityType"] == "IN_PASSENGER_VEHICLE"
    assert extra["confidence"] == "HIGH"
    assert extra["waypointPath"]["travelMode"] == "DRIVE"


# --- On-device Timeline (Android) -----------------------------------------------------------


def test_device_android_counts_and_representative_event(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "Timeline.json"))
    assert _counts(events, rejections) == (16, 11, 5)

    point = events[2]
    assert point.locator == "json:/semanticSegments/2/timelinePath/0"
    assert point.kind == "location_fix"
    assert point.timestamp_utc == datetime(2024, 6, 15, 9, 14, tzinfo=UTC)
    assert point.timestamp_source == "2024-06-15T10:14:00.000+01:00"
    assert point.tz_basis == "offset-in-source"
    assert point.tz_flag == "ok"
    assert (point.latitude, point.longitude) == (51.48, -3.18)
    assert point.location_method == "fused"
    assert point.flags == ()
    assert point.extra == {
        "segment_startTime": "2024-06-15T10:00:00.000+01:00",
        "segment_endTime": "2024-06-15T12:00:00.000+01:00",
    }


def test_device_android_rejections(data_dir):
    _, rejections = run_parser(PARSER, _data(data_dir, "Timeline.json"))
    assert [(r.locator, r.reason) for r in rejections] == [
        ("json:/semanticSegments/2/timelinePath/1", "point 'nowhere' is not 'lat, lng' in degrees"),
        (
            "json:/semanticSegments/4",
            "segment has no visit, activity, timelineMemory or timelinePath "
            "(found ['endTime', 'startTime'])",
        ),
        ("json:/semanticSegments/5", "startTime is missing"),
        ("json:/rawSignals/4", "position.timestamp: time '15/06/2024 09:07' is not ISO 8601"),
        (
            "json:/rawSignals/5",
            "raw signal has no position, activityRecord or wifiScan (found ['barometer'])",
        ),
    ]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(
            0,
            {
                "locator": "json:/semanticSegments/0",
                "kind": "location_visit",
                "timestamp_utc": datetime(2024, 6, 15, 8, 0, tzinfo=UTC),
                "end_utc": datetime(2024, 6, 15, 9, 12, 30, tzinfo=UTC),
                "duration_s": 4350.0,
                "latitude": 51.481689,
                "longitude": -3.179143,
                "tz_basis": "offset-in-source",
            },
            id="visit-interval-bst-offset",
        ),
        pytest.param(
            1,
            {
                "kind": "location_fix",
                "latitude": 51.481689,
                "end_utc": datetime(2024, 6, 15, 9, 40, tzinfo=UTC),
            },
            id="activity-at-start",
        ),
        pytest.param(
            4,
            {
                "kind": "app_event",
                "status": "timeline_memory",
                "latitude": None,
                "end_utc": datetime(2024, 6, 16, 19, 0, tzinfo=UTC),
            },
            id="timeline-memory",
        ),
        pytest.param(
            5,
            {
                "locator": "json:/rawSignals/0",
                "kind": "location_fix",
                "accuracy_m": 13.0,
                "location_method": "gps",
                "latitude": 51.4816912,
                "longitude": -3.1791388,
                "tz_basis": "utc-declared",
            },
            id="raw-position-gps-degrees",
        ),
        pytest.param(
            6,
            {
                "accuracy_m": 45.0,
                "location_method": "wifi",
                "latitude": 51.4817,
                "timestamp_utc": datetime(2024, 6, 15, 8, 6, tzinfo=UTC),
                "extra": {"source": "WIFI"},
            },
            id="raw-position-wifi-no-degree-sign",
        ),
        pytest.param(
            7,
            {"kind": "app_event", "status": "activity_record", "location_method": None},
            id="raw-activity-record",
        ),
        pytest.param(
            8,
            {
                "kind": "app_event",
                "status": "wifi_scan",
                "timestamp_utc": datetime(2024, 6, 15, 8, 5, 10, tzinfo=UTC),
            },
            id="raw-wifi-scan",
        ),
        pytest.param(
            9,
            {
                "locator": "json:/userLocationProfile/frequentPlaces/0",
                "kind": "location_visit",
                "timestamp_utc": None,
                "tz_flag": "no_time",
                "text": "HOME",
                "status": "frequent_place",
            },
            id="frequent-place-undated",
        ),
    ],
)
def test_device_android_awkward(data_dir, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, "Timeline.json"))
    for name, value in expected.items():
        assert getattr(events[index], name) == value, name


def test_device_activity_keeps_end_point(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "Timeline.json"))
    assert (events[1].extra["end_latitude"], events[1].extra["end_longitude"]) == (
        51.464873,
        -3.182511,
    )
    assert events[1].extra["activity"]["topCandidate"]["type"] == "IN_PASSENGER_VEHICLE"


# --- On-device Timeline (iOS array) ---------------------------------------------------------


def test_device_ios_counts_events_and_rejection(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "location-history.json"))
    assert _counts(events, rejections) == (5, 4, 1)

    visit = events[0]
    assert visit.locator == "json:/0"
    assert visit.kind == "location_visit"
    assert visit.timestamp_utc == datetime(2023, 8, 27, 20, 48, 56, tzinfo=UTC)
    assert visit.end_utc == datetime(2023, 8, 27, 22, 4, 26, 999000, tzinfo=UTC)
    assert visit.tz_basis == "offset-in-source"
    assert (visit.latitude, visit.longitude) == (27.720022, -97.347951)

    point = events[1]
    assert point.locator == "json:/1/timelinePath/0"
    assert point.timestamp_utc == datetime(2023, 8, 27, 20, 49, tzinfo=UTC)
    assert point.timestamp_source == "2023-08-27T20:00:00.000Z"
    assert point.flags == ("time_from_segment_offset",)
    assert point.extra["durationMinutesOffsetFromStartTime"] == "49"

    trip = events[3]
    assert trip.locator == "json:/3"
    assert (trip.latitude, trip.longitude) == (27.701123, -97.362988)
    assert (trip.extra["end_latitude"], trip.extra["end_longitude"]) == (27.686129, -97.381865)

    assert [(r.locator, r.reason) for r in rejections] == [
        (
            "json:/1/timelinePath/1",
            "timelinePath point has neither time nor durationMinutesOffsetFromStartTime",
        ),
    ]


# --- Sniffing and file-level failures -------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(b"", False, id="empty"),
        pytest.param(
            b'{\n  "locations" : [ {\n    "timestampMs" : "1", "latitudeE7" : 1',
            True,
            id="records-old",
        ),
        pytest.param(b'{"locations": []}', True, id="records-empty"),
        pytest.param(
            b'{"locations": [{"name": "Shop", "lat": 1}]}', False, id="other-locations-list"
        ),
        pytest.param(b'\xef\xbb\xbf{"timelineObjects": [', True, id="semantic-bom"),
        pytest.param(b'{"rawSignals": [{"position": {}}]}', True, id="device-raw-first"),
        pytest.param(b'{"timelineEdits": [{"deviceId": "0"}]}', False, id="timeline-edits"),
        pytest.param(b'{"deviceSettings": []}', False, id="settings"),
        pytest.param(
            b'[{"startTime": "2023-08-27T15:48:56.000-05:00", "visit": {}}]', True, id="ios-array"
        ),
        pytest.param(b'[["2024-01-01 01:00:00 UTC", "41.5, -82.5"]]', False, id="snapchat-pairs"),
        pytest.param(
            b'{"name": "Sam", "type": "personal_chat", "messages": []}', False, id="telegram"
        ),
    ],
)
def test_sniff(head, expected):
    assert sniff(head, "x.json") is expected


def test_not_this_format_raised_before_any_item(tmp_path):
    path = tmp_path / "other.json"
    path.write_text('{"messages": []}', encoding="utf-8")
    with pytest.raises(NotThisFormat):
        next(iter(PARSER.parse(Source.from_path(str(path)), ParseOptions())))


def test_truncated_file_is_a_source_error_after_good_records(tmp_path):
    path = tmp_path / "Records.json"
    path.write_text(
        '{"locations": [{"timestamp": "2022-01-12T17:18:24Z", "latitudeE7": 1, '
        '"longitudeE7": 2}, {"timestamp": "2022-01-12T17:19',
        encoding="utf-8",
    )
    items = PARSER.parse(Source.from_path(str(path)), ParseOptions())
    assert next(items).locator == "json:/locations/0"
    with pytest.raises(SourceError) as info:
        list(items)
    assert info.value.locator == "json:/locations"
    assert "not well-formed JSON" in info.value.reason


@pytest.mark.slow
def test_large_records_stream_in_flat_memory(tmp_path):
    path = tmp_path / "Records.json"
    record = (
        '{"timestampMs": "1641061262000", "latitudeE7": 515007292, '
        '"longitudeE7": -1246254, "accuracy": 9}'
    )
    with path.open("w", encoding="utf-8") as fh:
        fh.write('{"locations": [')
        fh.write(",\n".join([record] * 15000))
        fh.write("]}")
    assert path.stat().st_size > 1_000_000
    tracemalloc.start()
    count = sum(1 for _ in PARSER.parse(Source.from_path(str(path)), ParseOptions()))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 15000
    assert peak < 500_000, f"peak {peak} bytes: the file was not streamed"
