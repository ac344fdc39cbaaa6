"""Tests for the Meta (Instagram / Facebook) DYI JSON parser."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import UTC, datetime

import pytest

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers._meta_dyi_json_records import repair
from parsers.meta_dyi_json import PARSER, sniff
from tests.parsing_helpers import run_parser

SAMPLE = "meta_dyi_json/chatminer_instagram_testlog_mojibake.json"
TARGET = "meta_dyi_json/chatminer_instagram_testlog_target.jsonl"


def _data(data_dir, name):
    path = data_dir / "parsers" / "meta_dyi_json" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


def test_sample_thread_repairs_mojibake_like_the_target(samples_dir):
    events, rejections = run_parser(PARSER, samples_dir / SAMPLE)
    assert (len(events), len(rejections)) == (13, 0)
    target = [
        json.loads(line) for line in (samples_dir / TARGET).read_text("utf-8").splitlines() if line
    ]
    # The target keeps only messages with their own text (it writes "sentphoto" etc. for media);
    # compare names and text for those, not times (the target's times are shifted).
    got = {(e.sender_name, e.text) for e in events if e.text}
    wanted = {
        (t["author"], t["message"])
        for t in target
        if not t["message"].startswith(("sent", "disappearing"))
    }
    assert wanted <= got
    assert {e.sender_name for e in events} == {t["author"] for t in target}


def test_sample_thread_representative_event(samples_dir):
    events, _ = run_parser(PARSER, samples_dir / SAMPLE)
    event = events[10]
    assert event.locator == "json:/messages/10"
    assert event.kind == "chat_message"
    assert event.timestamp_utc == datetime(2020, 1, 18, 14, 53, tzinfo=UTC)
    assert event.timestamp_source == "1579359180000"
    assert event.tz_basis == "epoch"
    assert event.tz_flag == "ok"
    assert event.direction == "unknown"
    assert event.sender == "name:instagram:J\u2764\ufe0fhn Doe"
    assert event.sender_name == "J\u2764\ufe0fhn Doe"
    assert event.recipients == (
        "name:instagram:John Doe",
        "name:instagram:Jane Doe",
        "name:instagram:Lionel Messi",
    )
    assert event.channel == "instagram"
    assert event.thread == "Test Log"
    assert event.text == "Testing username with emoji: J\u2764\ufe0fhn Doe"
    assert event.attachments == ()
    assert event.status is None
    assert event.flags == ("mojibake_repaired",)
    assert event.extra == {
        "thread_path": "inbox/testlog_2765720812686121",
        "thread_type": "RegularGroup",
    }
    share = events[5]
    assert share.flags == ()  # real Unicode that does not round-trip is left as written
    assert share.extra["share"]["share_text"].startswith("CAMPEONES DEL MUNDO!!!!!!! \U0001f30e")
    assert events[0].extra["reactions"] == [
        {"reaction": "\u2764\ufe0f", "actor": "J\u2764\ufe0fhn Doe"},
        {"reaction": "\U0001f496", "actor": "Jane Doe"},
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("Caf\u00c3\u00a9", "Caf\u00e9", id="latin1-mojibake"),
        pytest.param("\u00f0\u009f\u0098\u0082", "\U0001f602", id="emoji-mojibake"),
        pytest.param("tambi\u00e9n", "tambi\u00e9n", id="real-latin1-left"),
        pytest.param("\U0001f30e ok", "\U0001f30e ok", id="real-emoji-left"),
        pytest.param("plain", "plain", id="ascii"),
    ],
)
def test_repair(raw, expected):
    assert repair(raw)[0] == expected


# file, read, accepted, rejected
COUNTS = [
    ("following.json", 5, 3, 2),
    ("followers_1.json", 2, 2, 0),
    ("post_comments_1.json", 2, 1, 1),
    ("liked_posts.json", 1, 1, 0),
    ("account_searches.json", 1, 1, 0),
    ("your_posts_1.json", 3, 2, 1),
    ("comments.json", 2, 1, 1),
    ("facebook_message_1.json", 6, 4, 2),
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


@pytest.mark.parametrize(
    ("name", "locator", "reason"),
    [
        (
            "following.json",
            "json:/relationships_following/3",
            "entry has no string_list_data values",
        ),
        (
            "following.json",
            "json:/relationships_following/4/string_list_data/0",
            "timestamp 'yesterday' is not a positive epoch number",
        ),
        ("post_comments_1.json", "json:/1", "timestamp -5 is not a positive epoch number"),
        ("your_posts_1.json", "json:/2", "entry is not a JSON object"),
        (
            "comments.json",
            "json:/comments_archive_v9",
            "section 'comments_archive_v9' is not read by this parser",
        ),
        ("facebook_message_1.json", "json:/messages/3", "message has no timestamp_ms"),
        ("facebook_message_1.json", "json:/messages/4", "message is not a JSON object"),
    ],
)
def test_rejections(data_dir, name, locator, reason):
    _, rejections = run_parser(PARSER, _data(data_dir, name))
    assert (locator, reason) in [(r.locator, r.reason) for r in rejections]


@pytest.mark.parametrize(
    ("name", "index", "expected"),
    [
        pytest.param(
            "following.json",
            0,
            {
                "locator": "json:/relationships_following/0/string_list_data/0",
                "kind": "social_interaction",
                "direction": "outgoing",
                "status": "follow",
                "recipients": ("instagram:victim.one",),
                "timestamp_utc": datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC),
                "tz_basis": "epoch",
                "timestamp_source": "1700000000",
                "channel": "instagram",
            },
            id="ig-following",
        ),
        pytest.param(
            "following.json",
            1,
            {"recipients": ("instagram:other_user",)},
            id="ig-following-title-only",
        ),
        pytest.param(
            "following.json",
            2,
            {
                "timestamp_utc": None,
                "tz_flag": "no_time",
                "tz_basis": "none",
                "flags": ("timestamp_zero",),
            },
            id="ig-following-zero-time",
        ),
        pytest.param(
            "followers_1.json",
            1,
            {"direction": "incoming", "sender": "instagram:burner_acc_2", "recipients": ()},
            id="ig-follower",
        ),
        pytest.param(
            "post_comments_1.json",
            0,
            {
                "text": "Nice caf\u00e9 \U0001f602 see you there",
                "recipients": ("instagram:victim.one",),
                "status": "comment",
                "flags": ("mojibake_repaired",),
            },
            id="ig-comment",
        ),
        pytest.param(
            "liked_posts.json",
            0,
            {"status": "like", "recipients": ("instagram:victim.one",)},
            id="ig-like",
        ),
        pytest.param(
            "account_searches.json",
            0,
            {
                "kind": "app_event",
                "status": "search",
                "text": "victim.one",
                "recipients": ("instagram:victim.one",),
            },
            id="ig-search",
        ),
        pytest.param(
            "your_posts_1.json",
            0,
            {
                "kind": "social_post",
                "channel": "facebook",
                "text": "Caf\u00e9 night \u2014 everyone welcome",
                "attachments": ("posts/media/YourPosts_abc/12345_n.jpg",),
            },
            id="fb-post",
        ),
        pytest.param(
            "your_posts_1.json", 1, {"kind": "social_post", "text": None}, id="fb-post-no-text"
        ),
        pytest.param(
            "comments.json",
            0,
            {
                "status": "comment",
                "text": "I know where you live",
                "sender": "name:facebook:Alex Example",
            },
            id="fb-comment",
        ),
        pytest.param(
            "facebook_message_1.json",
            0,
            {
                "kind": "call",
                "duration_s": 95.0,
                "channel": "messenger",
                "sender_name": "Alex Ex\u00e1mple",
                "recipients": ("name:facebook:Sam Victim",),
            },
            id="fb-call",
        ),
        pytest.param(
            "facebook_message_1.json",
            1,
            {"status": "unsent", "text": None, "flags": ("mojibake_repaired", "no_content")},
            id="fb-unsent",
        ),
        pytest.param(
            "facebook_message_1.json",
            2,
            {"attachments": ("messages/stickers_used/39178562_1505197616293642_n.png",)},
            id="fb-sticker",
        ),
        pytest.param(
            "facebook_message_1.json",
            3,
            {"kind": "system", "locator": "json:/messages/5"},
            id="fb-subscribe",
        ),
    ],
)
def test_awkward_records(data_dir, name, index, expected):
    events, _ = run_parser(PARSER, _data(data_dir, name))
    for field, value in expected.items():
        assert getattr(events[index], field) == value, field


def test_undetermined_platform_is_flagged(tmp_path, data_dir):
    plain = tmp_path / "message_1.json"
    shutil.copy(_data(data_dir, "facebook_message_1.json"), plain)
    events, _ = run_parser(PARSER, plain)
    assert events[2].channel == "meta"
    assert events[2].sender == "name:meta:Sam Victim"
    assert "platform_undetermined" in events[2].flags


def test_zip_export(tmp_path, data_dir):
    archive = tmp_path / "instagram-alex-2024-01-01.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(
            _data(data_dir, "following.json"), "connections/followers_and_following/following.json"
        )
        zf.write(
            _data(data_dir, "facebook_message_1.json"),
            "your_instagram_activity/messages/inbox/sam_1/message_1.json",
        )
        zf.writestr("personal_information/personal_information.json", '{"profile_user": []}')
        zf.writestr("../escape.json", "{}")
        zf.writestr("your_instagram_activity/messages/inbox/sam_1/photos/1.jpg", b"\xff\xd8")
    assert sniff(archive.read_bytes()[:65536], archive.name)
    events, rejections = run_parser(PARSER, archive)
    assert (len(events) + len(rejections), len(events), len(rejections)) == (13, 7, 6)
    found = [(r.locator, r.reason) for r in rejections]
    assert found[0] == (
        "zip:../escape.json#json:",
        "unsafe member path (absolute or '..'); member not read",
    )
    assert (
        "zip:personal_information/personal_information.json#json:",
        "JSON file not in a DYI layout this parser reads (top level: ['profile_user'])",
    ) in found
    first = events[0]
    assert (
        first.locator == "zip:connections/followers_and_following/following.json"
        "#json:/relationships_following/0/string_list_data/0"
    )
    message = events[3]
    assert (
        message.locator
        == "zip:your_instagram_activity/messages/inbox/sam_1/message_1.json#json:/messages/0"
    )
    assert message.channel == "instagram"
    assert message.sender == "name:instagram:Alex Ex\u00e1mple"


def test_damaged_zip_is_a_source_error(tmp_path, data_dir):
    archive = tmp_path / "facebook-alex.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("messages/inbox/sam_1/message_1.json", '{"participants": [], "messages": [')
    with pytest.raises(SourceError, match="not well-formed UTF-8 JSON"):
        run_parser(PARSER, archive)


def test_truncated_json_is_a_source_error(tmp_path, data_dir):
    cut = tmp_path / "message_1.json"
    cut.write_text(_data(data_dir, "facebook_message_1.json").read_text("utf-8")[:400], "utf-8")
    with pytest.raises(SourceError):
        run_parser(PARSER, cut)


def test_unknown_json_is_not_this_format(tmp_path):
    other = tmp_path / "x.json"
    other.write_text(
        '{"participants": [{"name": "a"}], "sender_name": "x", "title": "not a thread"}'
    )
    with pytest.raises(NotThisFormat):
        list(PARSER.parse(Source.from_path(str(other)), ParseOptions()))


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(b"", False, id="empty"),
        pytest.param(b'{"relationships_following": [', True, id="ig-following"),
        pytest.param(
            b'[{"title": "", "media_list_data": [], "string_list_data": []}]', True, id="ig-array"
        ),
        pytest.param(b'[{"timestamp": 1702000000, "data": [{"post": "x"}]}]', True, id="fb-posts"),
        pytest.param(
            b'{"chats": {"list": [{"messages": [{"type": "message"}]}]}}', False, id="telegram"
        ),
        pytest.param(b'{"Received Saved Chat History": []}', False, id="snapchat"),
        pytest.param(b"PK\x03\x04" + b"\x00" * 26 + b"WhatsApp Chat.txt", False, id="other-zip"),
    ],
)
def test_sniff(head, expected):
    assert sniff(head, "x") is expected
