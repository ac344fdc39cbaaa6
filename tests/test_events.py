"""The event model is declared once; the dataclass, Arrow schema and docs agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from atlas import schema_doc
from atlas.events import (
    CORE_FIELDS,
    FIELD_NAMES,
    PARSER_FIELDS,
    EventDraft,
    Rejection,
    arrow_schema,
    draft_field_names,
    escape_raw,
)

ROOT = Path(__file__).resolve().parents[1]


def test_dataclass_has_exactly_the_parser_fields():
    assert set(draft_field_names()) == set(PARSER_FIELDS)
    assert not set(draft_field_names()) & set(CORE_FIELDS)


def test_arrow_schema_has_every_field_in_order():
    assert tuple(arrow_schema().names) == FIELD_NAMES


def test_schema_doc_is_current():
    assert (ROOT / "docs" / "event-schema.md").read_text(encoding="utf-8") == schema_doc.render(), (
        "docs/event-schema.md is stale: run python -m atlas.schema_doc > docs/event-schema.md")


def _draft(**kw):
    base = dict(locator="line:1", kind="sms", timestamp_utc=datetime(2024, 1, 1, tzinfo=UTC),
                timestamp_source="01/01/2024 00:00", tz_basis="assumed:Europe/London")
    base.update(kw)
    return EventDraft(**base)


def test_valid_draft():
    d = _draft(extra={"b": 1, "a": "x"})
    assert d.extra_json() == '{"a": "x", "b": 1}'


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"locator": ""}, "locator"),
        ({"kind": "telepathy"}, "kind"),
        ({"direction": "sideways"}, "direction"),
        ({"timestamp_utc": datetime(2024, 1, 1)}, "timezone-aware UTC"),  # noqa: DTZ001
        ({"timestamp_utc": datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1)))}, "UTC"),
        ({"timestamp_utc": None}, "no_time"),
        ({"latitude": 51.5}, "together"),
        ({"latitude": 91.0, "longitude": 0.0}, "out of range"),
        ({"recipients": ["tel:+447700900123"]}, "tuple"),
        ({"deleted": "maybe"}, "deleted"),
    ],
    ids=["no-locator", "bad-kind", "bad-direction", "naive-time", "non-utc", "null-time-ok-flag",
         "lat-only", "lat-range", "list-not-tuple", "bad-deleted"],
)
def test_invalid_drafts_are_refused(kw, message):
    with pytest.raises((ValueError, TypeError), match=message):
        _draft(**kw)


def test_no_time_event_is_allowed_with_flag():
    d = _draft(timestamp_utc=None, tz_flag="no_time", tz_basis="none", timestamp_source=None)
    assert d.timestamp_utc is None


def test_rejection_needs_locator_and_reason():
    with pytest.raises(ValueError):
        Rejection("", "bad")
    with pytest.raises(ValueError):
        Rejection("line:3", "")


def test_escape_raw_neutralises_controls_and_bidi_and_truncates():
    out = escape_raw("a\x1b[31mred\u202eevil" + "x" * 600)
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\u001b" in out and "\\u202e" in out
    assert out.endswith("…") and len(out) < 560
