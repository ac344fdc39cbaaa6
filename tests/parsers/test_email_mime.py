"""Tests for the e-mail parser (.eml messages and .mbox mailboxes)."""

from __future__ import annotations

import hashlib
import tracemalloc
from datetime import UTC, datetime

import pytest

from atlas.parsing import NotThisFormat, ParseOptions, Source
from parsers._email_mime_parts import html_to_text
from parsers.email_mime import PARSER, sniff
from tests.parsing_helpers import run_parser

PDF_SHA256 = "56c2ac043c28d3543275a6f50b593a6beb0b6888ed8159ac02e3e7f4a32ccb26"
PNG_SHA256 = "71fde3856a298a052c6edb5155638d8422114e55bf0e28374d90dea8be99ef6c"
NONAME_SHA256 = hashlib.sha256(b"no name here").hexdigest()


def _data(data_dir, name):
    path = data_dir / "parsers" / "email_mime" / name
    assert path.is_file(), f"committed test input missing: {path}"
    return path


def _run(data_dir, name, options=None):
    events, rejections = run_parser(PARSER, _data(data_dir, name), options)
    return events, rejections, (len(events) + len(rejections), len(events), len(rejections))


def test_rfc2047_message_field_by_field(data_dir):
    events, rejections, counts = _run(data_dir, "rfc2047_subject.eml")
    assert counts == (1, 1, 0)
    mail = events[0]
    assert mail.locator == "line:1"
    assert mail.kind == "email"
    assert mail.timestamp_utc == datetime(2023, 7, 2, 21, 15, 3, tzinfo=UTC)
    assert mail.timestamp_source == "Sun, 2 Jul 2023 22:15:03 +0100"
    assert mail.tz_basis == "offset-in-source"
    assert mail.tz_flag == "ok"
    assert mail.direction == "unknown"
    assert mail.sender == "email:renee@example.org"
    assert mail.sender_name == "Renée Example"
    assert mail.recipients == (
        "email:sam@example.net",
        "email:jo@example.com",
        "email:kit@example.co.uk",
    )
    assert mail.channel == "email"
    assert mail.thread == "<20230702211503.1111@mail.example.org>"
    assert (
        mail.text == "Wo bist du? Café ☕\n\nI saw you at the café on Queen Street.\n\nAnswer me."
    )
    assert mail.attachments == ()
    assert mail.status is None
    assert mail.flags == ()
    assert mail.extra == {
        "from": ["Renée Example <Renee@Example.ORG>"],
        "to": ["Sam Example <sam@example.net>", '"Jo, Other" <jo@example.com>'],
        "cc": ["sam@example.net", "kit@example.co.uk"],
        "subject": "Wo bist du? Café ☕",
        "message_id": "<20230702211503.1111@mail.example.org>",
        "thread_from": "message_id",
    }


def test_multipart_with_attachments(data_dir):
    events, _, counts = _run(data_dir, "multipart_attachment.eml")
    assert counts == (1, 1, 0)
    mail = events[0]
    assert mail.timestamp_utc == datetime(2023, 7, 3, 12, 30, tzinfo=UTC)
    assert mail.timestamp_source == "Mon, 3 Jul 2023 07:30:00 -0500 (EST)"
    assert mail.recipients == ("email:renee@example.org", "email:archive@example.net")
    assert mail.thread == "<20230702211503.1111@mail.example.org>"
    assert mail.text == "Re: Wo bist du? Café ☕\n\nLeave me alone. The order is attached."
    assert mail.attachments == ("order.pdf", "café photo.png")
    assert mail.flags == ("attachment_without_filename",)
    assert mail.extra["attachment_sha256"] == [
        {
            "filename": "order.pdf",
            "content_type": "application/pdf",
            "size": 77,
            "sha256": PDF_SHA256,
        },
        {
            "filename": "café photo.png",
            "content_type": "image/png",
            "size": 29,
            "sha256": PNG_SHA256,
        },
        {
            "filename": None,
            "content_type": "application/octet-stream",
            "size": 12,
            "sha256": NONAME_SHA256,
        },
    ]
    assert mail.extra["to"] == ["Renée Example <renee@example.org>"]
    assert mail.extra["bcc"] == ["archive@example.net"]
    assert mail.extra["thread_from"] == "references"


def test_missing_date_is_rejected(data_dir):
    events, rejections, counts = _run(data_dir, "missing_date.eml")
    assert counts == (1, 0, 1)
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:1", "message has no Date header (or it is empty)")
    ]


def test_html_only_body_and_minus_zero_offset(data_dir):
    events, _, counts = _run(data_dir, "html_only.eml")
    assert counts == (1, 1, 0)
    mail = events[0]
    assert mail.timestamp_utc == datetime(2023, 12, 1, 10, 0, tzinfo=UTC)
    assert mail.tz_basis == "utc-declared"
    assert mail.flags == ("date_zone_unknown", "body_from_html")
    assert (
        mail.text
        == "Your parcel\n\nYour parcel was delivered to 12 Example Road.\n\nTracking: AB123"
    )
    assert "never run" not in mail.text and "Hidden title" not in mail.text
    assert mail.thread == "subject:Your parcel"
    assert mail.sender_name == "Alerts"


def test_mbox_three_messages(data_dir):
    events, rejections, counts = _run(data_dir, "mailbox.mbox")
    assert counts == (3, 3, 0)
    assert [e.locator for e in events] == ["line:1", "line:12", "line:22"]
    assert [e.thread for e in events] == ["<m1@example.org>"] * 3

    first = events[0]
    assert first.text == (
        "First\n\nFirst message.\nFrom the station I could see your window.\n"
        ">From here on, quoted twice."
    )
    assert first.extra["mbox_from_line"] == "From renee@example.org Sun Jul  2 21:15:03 2023"
    assert first.tz_flag == "ok"


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        pytest.param(
            1,
            {
                "timestamp_utc": datetime(2023, 10, 29, 0, 30, tzinfo=UTC),
                "tz_basis": "assumed:Europe/London",
                "tz_flag": "ambiguous",
                "flags": ("date_without_zone",),
                "timestamp_source": "Sun, 29 Oct 2023 01:30:00",
            },
            id="date-without-zone-in-clock-change-hour",
        ),
        pytest.param(
            2,
            {
                "attachments": ("window.jpg",),
                "text": "Re: Re: First\n\nSee the photo.",
                "sender": "email:renee@example.org",
            },
            id="inline-image-with-filename",
        ),
    ],
)
def test_mbox_awkward(data_dir, index, expected):
    events, _, _ = _run(data_dir, "mailbox.mbox")
    for name, value in expected.items():
        assert getattr(events[index], name) == value, name


def test_invalid_date_and_unparsed_sender(tmp_path):
    path = tmp_path / "box.mbox"
    path.write_bytes(
        b"From x Mon Jan  1 00:00:00 2024\nFrom: someone\nTo: a@example.org\n"
        b"Date: yesterday-ish\nSubject: bad\n\nbody\n\n"
        b"From y Mon Jan  1 00:00:00 2024\nFrom: not an address\nTo: a@example.org\n"
        b"Date: Mon, 1 Jan 2024 12:00:00 +0000\n\nbody\n"
    )
    events, rejections = run_parser(PARSER, path)
    assert [(r.locator, r.reason) for r in rejections] == [
        ("line:1", "Date header 'yesterday-ish' is not an RFC 5322 date")
    ]
    assert events[0].locator == "line:9"
    assert "sender_unparsed_address" in events[0].flags


def test_raw_utf8_headers_and_hostile_address(tmp_path):
    path = tmp_path / "raw.eml"
    path.write_bytes(
        'From: "Zoë Example" <zoe@example.org>\nTo: "unterminated, @@@ nobody\n'
        "Subject: Café ☕\nDate: Mon, 1 Jan 2024 12:00:00 +0000\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        "Café body\n".encode()
    )
    events, rejections = run_parser(PARSER, path)
    assert (len(events), len(rejections)) == (1, 0)
    mail = events[0]
    assert mail.sender_name == "Zoë Example"
    assert mail.extra["from"] == ["Zoë Example <zoe@example.org>"]
    assert mail.text == "Café ☕\n\nCafé body"
    assert mail.flags == ("recipient_unparsed_address",)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        pytest.param(b"", False, id="empty"),
        pytest.param(b"From a@b Mon Jan  1 00:00:00 2024\nFrom: a@b.c\n", True, id="mbox"),
        pytest.param(b"From here to there\nwe walked\n", False, id="prose-from"),
        pytest.param(
            b"Received: from x\n\tby y\nFrom: a@b.c\nDate: Mon, 1 Jan 2024\n\nhi",
            True,
            id="eml-folded",
        ),
        pytest.param(b"Subject: hi\nX-Note: only\n\nbody", False, id="no-from-or-date"),
        pytest.param(b"12/01/2023, 10:00 - Sam: hi\n", False, id="whatsapp-line"),
        pytest.param(b'{"from": "a", "date": "b"}', False, id="json"),
    ],
)
def test_sniff(head, expected):
    assert sniff(head, "x") is expected


def test_not_this_format(tmp_path):
    path = tmp_path / "note.txt"
    path.write_text("Dear diary\n", encoding="utf-8")
    with pytest.raises(NotThisFormat):
        next(iter(PARSER.parse(Source.from_path(str(path)), ParseOptions())))


def test_html_to_text_never_keeps_script():
    assert html_to_text("<p>a<script>b()</script>c</p><style>x</style>d&amp;e") == "ac\nd&e"


@pytest.mark.slow
def test_large_mbox_streams_in_flat_memory(tmp_path, data_dir):
    path = tmp_path / "big.mbox"
    message = (
        b"From a@example.org Mon Jan  1 00:00:00 2024\nFrom: a@example.org\nTo: b@example.org\n"
        b"Date: Mon, 1 Jan 2024 12:00:00 +0000\nSubject: s\n\n"
        + b"line of body text\n" * 40
        + b"\n"
    )
    with path.open("wb") as fh:
        for _ in range(2000):
            fh.write(message)
    assert path.stat().st_size > 1_500_000
    list(
        PARSER.parse(Source.from_path(str(_data(data_dir, "mailbox.mbox"))), ParseOptions())
    )  # load lazy imports first
    tracemalloc.start()
    count = sum(1 for _ in PARSER.parse(Source.from_path(str(path)), ParseOptions()))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert count == 2000
    assert peak < 1_000_000, f"peak {peak} bytes: the mailbox was not streamed"
