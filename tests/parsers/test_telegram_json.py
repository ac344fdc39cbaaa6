"""Tests for the Telegram Desktop JSON export parser."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers.telegram_json import PARSER, sniff
from tests.parsing_helpers import run_parser


def _data(data_dir, name):
    path = data_dir / "parsers" / "telegram_json" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


def test_account_export_counts_and_representative_event(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "account_export.json"))
    assert (len(events) + len(rejections), len(events), len(rejections)) == (10, 7, 3)

    edited = events[1]
    assert edited.locator == "json:/chats/list/0/messages/1"
    assert edited.kind == "chat_message"
    assert edited.timestamp_utc == datetime(2023, 6, 1, 8, 16, 40, tzinfo=UTC)
    assert edited.timestamp_source == "1685607400"
    assert edited.tz_basis == "epoch"
    assert edited.tz_flag == "ok"
    assert edited.direction == "outgoing"
    assert edited.sender == "telegram:user5550001"
    assert edited.sender_name == "Alex Example"
    assert edited.recipients == ()
    assert edited.channel == "telegram"
    assert edited.thread == "Sam"
    assert edited.text == "At work, see https://example.org/map "
    assert edited.attachments == ()
    assert edited.status == "edited"
    assert edited.flags == ()
    assert edited.extra == {
        "id": 102,
        "date": "2023-06-01T09:16:40",
        "edited": "2023-06-01T09:17:05",
        "edited_unixtime": "1685607425",
        "reply_to_message_id": 101,
        "chat_type": "personal_chat",
        "chat_id": 5550002,
    }


def test_account_export_rejections(data_dir):
    _, rejections = run_parser(PARSER, _data(data_dir, "account_export.json"))
    assert [(r.locator, r.reason) for r in rejections] == [
        (
            "json:/chats/list/0/messages/4",
            "unknown message type 'sticker_pack' (expected 'message' or 'service')",
        ),
        ("json:/chats/list/0/messages/5", "date_unixtime 'yesterday' is not whole epoch seconds"),
        ("json:/chats/list/0/messages/6", "message has neither date_unixtime nor date"),
    ]


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(
            0,
            {"kind": "chat_message", "direction": "incoming", "text": "Where are you?"},
            id="plain-incoming",
        ),
        pytest.param(
            2,
            {
                "kind": "chat_message",
                "text": None,
                "attachments": (
                    "(File not included. Change data exporting settings to download.)",
                ),
                "flags": ("attachment_not_included",),
            },
            id="photo-not-included",
        ),
        pytest.param(
            3,
            {
                "kind": "call",
                "duration_s": 37.0,
                "status": "hangup",
                "sender": "telegram:user5550002",
                "sender_name": "Sam",
                "direction": "incoming",
            },
            id="service-phone-call",
        ),
        pytest.param(
            4,
            {
                "kind": "system",
                "locator": "json:/chats/list/1/messages/0",
                "thread": "Five a side",
                "direction": "outgoing",
            },
            id="service-invite",
        ),
        pytest.param(
            5,
            {
                "sender_name": None,
                "sender": "telegram:user5550009",
                "attachments": ("files/route.pdf",),
                "text": "route attached",
            },
            id="deleted-account-file",
        ),
        pytest.param(
            6,
            {
                "locator": "json:/left_chats/list/0/messages/0",
                "sender": "telegram:channel3330001",
                "thread": "Old channel",
            },
            id="left-chat-channel",
        ),
    ],
)
def test_account_export_awkward_records(data_dir, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, "account_export.json"))
    event = events[index]
    for name, value in expected.items():
        assert getattr(event, name) == value, name


def test_old_export_assumes_source_zone_and_flags_clock_changes(data_dir):
    events, rejections = run_parser(PARSER, _data(data_dir, "old_single_chat.json"))
    assert (len(events), len(rejections)) == (3, 1)
    summer, back, forward = events
    assert summer.locator == "json:/messages/0"
    assert summer.timestamp_utc == datetime(2019, 7, 14, 11, 0, 5, tzinfo=UTC)
    assert summer.timestamp_source == "2019-07-14T12:00:05"
    assert summer.tz_basis == "assumed:Europe/London"
    assert summer.tz_flag == "ok"
    assert summer.flags == ("local_time_assumed",)
    assert summer.sender == "telegram:5550002"
    assert summer.direction == "unknown"
    assert back.tz_flag == "ambiguous"
    assert back.timestamp_utc == datetime(2019, 10, 27, 0, 30, tzinfo=UTC)
    assert forward.tz_flag == "nonexistent"
    assert rejections[0].locator == "json:/messages/3"
    assert rejections[0].reason == "time '31/03/2019 02:30' is not ISO 8601"


def test_old_export_uses_declared_zone(data_dir):
    events, _ = run_parser(
        PARSER, _data(data_dir, "old_single_chat.json"), ParseOptions(source_tz="Europe/Berlin")
    )
    assert events[0].tz_basis == "assumed:Europe/Berlin"
    assert events[0].timestamp_utc == datetime(2019, 7, 14, 10, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "name", ["chatminer_test_single_export.json", "chatminer_test_batch_export.json"]
)
def test_chatminer_samples_match_target(samples_dir, name):
    target = json.loads(
        (samples_dir / "telegram_json" / "chatminer_telegram_target.json").read_text("utf-8")
    )
    events, rejections = run_parser(PARSER, samples_dir / "telegram_json" / name)
    assert (len(events), len(rejections)) == (2, 0)
    for event, want in zip(events, target, strict=True):
        assert event.timestamp_utc == datetime.fromisoformat(want["timestamp"]).replace(tzinfo=UTC)
        assert event.sender_name == want["author"]
    assert events[0].text == target[0]["message"]
    # The fixture's entity list has no " " piece between its two entities; Telegram writes
    # whitespace as its own piece, so the pieces are joined as they stand.
    assert events[1].text == "Link:https://telegram.org/"
    prefix = "json:/chats/list/0" if "batch" in name else "json:"
    assert events[1].locator == f"{prefix}/messages/1"


def test_truncated_file_is_a_source_error(tmp_path, data_dir):
    whole = _data(data_dir, "account_export.json").read_text("utf-8")
    cut = tmp_path / "result.json"
    cut.write_text(whole[: len(whole) // 2], "utf-8")
    with pytest.raises(SourceError, match="not well-formed JSON"):
        run_parser(PARSER, cut)


def test_other_json_is_not_this_format(tmp_path):
    other = tmp_path / "message_1.json"
    other.write_text(
        '{"participants": [{"name": "A"}], "messages": [{"sender_name": "A", "timestamp_ms": 1}]}'
    )
    with pytest.raises(NotThisFormat):
        list(PARSER.parse(Source.from_path(str(other)), ParseOptions()))


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(b"", False, id="empty"),
        pytest.param(b'{"chats": {"about": "x", "list": []}}', True, id="account"),
        pytest.param(
            b'{\n "name": "Sam",\n "type": "personal_chat",\n "id": 1,\n "messages": []}',
            True,
            id="chat",
        ),
        pytest.param(
            b'{"participants": [], "messages": [{"sender_name": "a", "type": "message"}]}',
            False,
            id="meta-dyi",
        ),
        pytest.param(b'{"locations": [{"timestamp": "2020-01-01T00:00:00Z"}]}', False, id="google"),
        pytest.param(b'[{"type": "message"}]', False, id="array"),
    ],
)
def test_sniff(head, expected):
    assert sniff(head, "result.json") is expected
