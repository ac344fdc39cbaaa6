"""Tests for the signal-export text parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.signal_txt import PARSER, sniff
from tests.parsing_helpers import run_parser


def _data(data_dir, name):
    path = data_dir / "parsers" / "signal_txt" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


def test_sample_matches_target(samples_dir):
    folder = samples_dir / "signal_txt"
    events, rejections = run_parser(
        PARSER, folder / "chatminer_signal_test_export.txt", ParseOptions(source_tz="UTC")
    )
    assert (len(events), len(rejections)) == (2, 0)
    target = json.loads((folder / "chatminer_signal_target.json").read_text("utf-8"))
    got = sorted(
        (e.timestamp_utc.replace(tzinfo=None).isoformat(), e.sender_name, e.text.replace("\n", " "))
        for e in events
    )
    assert got == sorted((t["timestamp"], t["author"], t["message"]) for t in target)
    assert events[1].locator == "line:2-3"
    assert events[1].text == "Hello\nJane!"


def test_awkward_counts_and_representative_event(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "awkward.txt"))
    assert (len(events) + len(rejections), len(events), len(rejections)) == (6, 5, 1)
    event = events[1]
    assert event.locator == "line:2-5"
    assert event.kind == "chat_message"
    assert event.timestamp_utc == datetime(2021, 10, 31, 0, 45, tzinfo=UTC)
    assert event.timestamp_source == "2021-10-31, 01:45"
    assert event.tz_basis == "assumed:Europe/London"
    assert event.tz_flag == "ambiguous"
    assert event.direction == "unknown"
    assert event.sender == "name:signal:Alex Example"
    assert event.sender_name == "Alex Example"
    assert event.recipients == ()
    assert event.channel == "signal"
    assert event.thread is None
    assert event.text == "Not until you answer\nline two\n\nline four after a blank"
    assert event.flags == ()
    assert rejections[0].locator == "line:8"
    assert rejections[0].reason.startswith(
        "time '2021-13-01 10:00' does not match '%Y-%m-%d %H:%M'"
    )


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(
            0,
            {"locator": "line:1", "tz_flag": "ambiguous", "text": "Please stop"},
            id="bom-ambiguous",
        ),
        pytest.param(
            2,
            {"tz_flag": "nonexistent", "timestamp_utc": datetime(2021, 3, 28, 1, 15, tzinfo=UTC)},
            id="nonexistent",
        ),
        pytest.param(
            3,
            {"kind": "system", "sender": None, "text": "Sam Victim blocked a contact"},
            id="no-sender",
        ),
        pytest.param(4, {"locator": "line:10", "text": "last"}, id="trailing-blank-excluded"),
    ],
)
def test_awkward_records(data_dir, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, "awkward.txt"))
    for field, value in expected.items():
        assert getattr(events[index], field) == value, field


def test_preamble_line_is_rejected(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "preamble.txt"))
    assert (len(events), len(rejections)) == (1, 1)
    assert (rejections[0].locator, rejections[0].reason) == (
        "line:1",
        "text before the first message header",
    )


def test_other_text_is_not_this_format(tmp_path):
    other = tmp_path / "chat.txt"
    other.write_text("24/12/2019, 12:23 - Jane: hi\n", "utf-8")
    with pytest.raises(NotThisFormat):
        list(PARSER.parse(Source.from_path(str(other)), ParseOptions()))


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(b"", False, id="empty"),
        pytest.param(b"[2019-12-24, 12:23] Jane Doe: Hello\n", True, id="signal"),
        pytest.param(b"[24/12/2019, 12:23:45] Jane Doe: Hello\n", False, id="whatsapp-ios"),
        pytest.param(b"2019/01/01, 11:25 - John Doe: Lorem\n", False, id="whatsapp-android"),
        pytest.param(b"[2019-12-24, 12:23] Jane Doe joined\n", False, id="no-sender-only"),
    ],
)
def test_sniff(head, expected):
    assert sniff(head, "x.txt") is expected
