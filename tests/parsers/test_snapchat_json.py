"""Tests for the Snapchat My Data JSON parser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.snapchat_json import PARSER, sniff
from tests.parsing_helpers import run_parser


def _data(data_dir, name):
    path = data_dir / "parsers" / "snapchat_json" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


# file, read, accepted, rejected
COUNTS = [
    ("chat_history_old.json", 5, 4, 1),
    ("chat_history_new.json", 5, 4, 1),
    ("snap_history.json", 3, 2, 1),
    ("friends.json", 6, 4, 2),
    ("location_history.json", 10, 8, 2),
]


@pytest.mark.parametrize(
    ("name", "read", "accepted", "rejected"), COUNTS, ids=[c[0] for c in COUNTS]
)
def test_counts(data_dir, name, read, accepted, rejected):
    events, rejections = run_parser(PARSER, _data(data_dir, name))
    assert (len(events) + len(rejections), len(events), len(rejections)) == (
        read,
        accepted,
        rejected,
    )


def test_representative_location_fix(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "location_history.json"))
    fix = events[6]
    assert fix.locator == "json:/Location History/0"
    assert fix.kind == "location_fix"
    assert fix.timestamp_utc == datetime(2021, 9, 2, 20, 37, 47, tzinfo=UTC)
    assert fix.timestamp_source == "2021/09/02 20:37:47 UTC"
    assert fix.tz_basis == "utc-declared"
    assert fix.tz_flag == "ok"
    assert fix.direction == "none"
    assert fix.channel == "snapchat"
    assert (fix.latitude, fix.longitude, fix.accuracy_m) == (37.332, -121.884, 39.66)
    assert fix.location_method == "unknown"
    assert fix.sender is None and fix.recipients == ()
    assert fix.flags == ()
    assert fix.extra == {
        "coordinates_as_written": "37.332 \u00b1 39.66 meters, -121.884 \u00b1 39.66 meters"
    }


def test_representative_new_shape_message(data_dir):
    events, _ = run_parser(PARSER, _data(data_dir, "chat_history_new.json"))
    msg = events[0]
    assert msg.locator == "json:/victim.one/0"
    assert msg.kind == "chat_message"
    assert msg.timestamp_utc == datetime(2024, 2, 3, 21, 9, 9, 123000, tzinfo=UTC)
    assert msg.timestamp_source == "1706994549123"
    assert msg.tz_basis == "epoch"
    assert msg.tz_flag == "ok"
    assert msg.direction == "outgoing"
    assert msg.sender == "snapchat:alex_ex"
    assert msg.recipients == ("snapchat:victim.one",)
    assert msg.thread == "victim.one"
    assert msg.text == "Why did you block me & my friends?"
    assert msg.attachments == ()
    assert msg.flags == ("html_entities_decoded",)
    assert msg.extra["created_precise_unit"] == "ms"
    assert msg.extra["text_as_written"] == "Why did you block me &amp; my friends?"


@pytest.mark.parametrize(
    ("name", "locator", "reason"),
    [
        (
            "chat_history_old.json",
            "json:/Sent Saved Chat History/1",
            "time '22/07/2022 19:31' is not written as '<date> <time> UTC'",
        ),
        (
            "chat_history_new.json",
            "json:/victim.one/3",
            "Created(microseconds) 17069949600 is not a 10, 13 or 16 digit epoch",
        ),
        (
            "snap_history.json",
            "json:/Sent Snap History/1",
            "time None is not written as '<date> <time> UTC'",
        ),
        ("friends.json", "json:/Pending Requests/1", "entry has no Username"),
        ("friends.json", "json:/Shortcuts/0", "section 'Shortcuts' is not read by this parser"),
        (
            "location_history.json",
            "json:/Location History/2",
            "coordinates 97.332, -121.884 are out of range",
        ),
        (
            "location_history.json",
            "json:/Location History/3",
            "time '2024-01-01 02:00:00' is not written as '<date> <time> UTC'",
        ),
    ],
)
def test_rejections(data_dir, name, locator, reason):
    _, rejections = run_parser(PARSER, _data(data_dir, name))
    assert (locator, reason) in [(r.locator, r.reason) for r in rejections]


@pytest.mark.parametrize(
    ("name", "index", "expected"),
    [
        pytest.param(
            "chat_history_old.json",
            0,
            {
                "direction": "incoming",
                "sender": "snapchat:victim.one",
                "text": "I don't want to talk",
                "extra": {
                    "Media Type": "TEXT",
                    "saved": True,
                    "text_as_written": "I don&#39;t want to talk",
                },
            },
            id="old-received-entity",
        ),
        pytest.param(
            "chat_history_old.json",
            2,
            {"direction": "outgoing", "sender": None, "recipients": ("snapchat:victim.one",)},
            id="old-sent",
        ),
        pytest.param(
            "chat_history_new.json",
            1,
            {
                "direction": "incoming",
                "recipients": (),
                "text": None,
                "attachments": ("b~EigSFWFYRmhrc1dlY2ZLeVhSZU9aNkRnMTICBH1IAlAfWgUIwNu4AWAB",),
            },
            id="new-media",
        ),
        pytest.param(
            "chat_history_new.json",
            2,
            {
                "flags": ("created_fields_disagree",),
                "timestamp_utc": datetime(2024, 2, 3, 21, 16, tzinfo=UTC),
            },
            id="new-created-disagree",
        ),
        pytest.param(
            "chat_history_new.json",
            3,
            {
                "thread": "Uni lot",
                "tz_basis": "utc-declared",
                "locator": "json:/d6e2c0a4-1f3b-4c7e-9a51-5b1f0e7c2d11/0",
            },
            id="new-group-no-precise",
        ),
        pytest.param(
            "snap_history.json",
            1,
            {"status": "snap", "direction": "outgoing", "text": None},
            id="snap-sent",
        ),
        pytest.param(
            "friends.json",
            1,
            {
                "status": "friend_removed",
                "recipients": ("snapchat:victim.one",),
                "direction": "outgoing",
            },
            id="friend-deleted",
        ),
        pytest.param(
            "friends.json",
            3,
            {
                "status": "friend_request",
                "direction": "incoming",
                "sender": "snapchat:stranger_77",
                "tz_flag": "no_time",
                "timestamp_utc": None,
                "flags": ("no_timestamp",),
            },
            id="pending-no-time",
        ),
        pytest.param(
            "location_history.json",
            0,
            {
                "kind": "location_visit",
                "text": "van nuys, ca, usa",
                "status": "frequent",
                "tz_flag": "no_time",
            },
            id="frequent",
        ),
        pytest.param(
            "location_history.json",
            2,
            {
                "locator": "json:/Home & Work/Home",
                "status": "home",
                "latitude": 34.206,
                "accuracy_m": 19.47,
            },
            id="home",
        ),
        pytest.param(
            "location_history.json",
            4,
            {
                "locator": "json:/Daily Top Locations/0/1",
                "accuracy_m": 38.93,
                "flags": ("date_only",),
                "timestamp_utc": datetime(2022, 2, 14, tzinfo=UTC),
                "end_utc": datetime(2022, 2, 15, tzinfo=UTC),
            },
            id="daily-top-uneven-accuracy",
        ),
        pytest.param(
            "location_history.json",
            5,
            {"end_utc": datetime(2022, 1, 28, tzinfo=UTC), "status": "six_day_top"},
            id="six-day",
        ),
        pytest.param(
            "location_history.json",
            7,
            {
                "timestamp_source": "2024-01-01 01:00:00 UTC",
                "latitude": 41.5,
                "longitude": -82.5,
                "accuracy_m": None,
            },
            id="newer-pair",
        ),
    ],
)
def test_awkward_records(data_dir, name, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, name))
    for field, value in expected.items():
        assert getattr(events[index], field) == value, field


def test_truncated_file_is_a_source_error(tmp_path, data_dir):
    text = _data(data_dir, "location_history.json").read_text("utf-8")
    cut = tmp_path / "location_history.json"
    cut.write_text(text[:700], "utf-8")
    with pytest.raises(SourceError, match="not well-formed JSON"):
        run_parser(PARSER, cut)


def test_other_json_is_not_this_format(tmp_path):
    other = tmp_path / "x.json"
    other.write_text('{"locations": [{"latitudeE7": 1, "longitudeE7": 2}]}')
    with pytest.raises(NotThisFormat):
        list(PARSER.parse(Source.from_path(str(other)), ParseOptions()))


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(b"", False, id="empty"),
        pytest.param(b'{"Received Saved Chat History": [', True, id="old-chat"),
        pytest.param(b'{"Friends": [{"Username": "a"}]}', True, id="friends"),
        pytest.param(
            b'{"Location History": [["2024-01-01 01:00:00 UTC", "41.5, -82.5"]]}',
            True,
            id="loc-pairs",
        ),
        pytest.param(b'{"u": [{"From": "a", "IsSender": true}]}', True, id="new-chat"),
        pytest.param(b'{"Location History": {"locations": []}}', False, id="google-like"),
        pytest.param(b'{"relationships_following": []}', False, id="instagram"),
        pytest.param(b'{"chats": {"list": []}}', False, id="telegram"),
    ],
)
def test_sniff(head, expected):
    assert sniff(head, "x.json") is expected
