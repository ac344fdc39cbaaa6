"""Time conversion: DST gaps and overlaps are flagged, never shifted silently (UKP-TZ-05)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from atlas.timeparse import display, from_apple, from_unix, parse_iso, parse_local

FMT = "%Y-%m-%d %H:%M"


@pytest.mark.parametrize(
    "text, utc, flag",
    [
        ("2024-03-31 01:30", datetime(2024, 3, 31, 1, 30, tzinfo=UTC), "nonexistent"),
        ("2024-10-27 01:30", datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "ambiguous"),
        ("2024-10-27 02:30", datetime(2024, 10, 27, 2, 30, tzinfo=UTC), "ok"),
        ("2024-07-01 00:30", datetime(2024, 6, 30, 23, 30, tzinfo=UTC), "ok"),
        ("2024-01-15 12:00", datetime(2024, 1, 15, 12, 0, tzinfo=UTC), "ok"),
    ],
    ids=["spring-gap", "autumn-overlap", "after-overlap", "bst-midnight-crosses-utc-date", "gmt"],
)
def test_parse_local_london(text, utc, flag):
    got = parse_local(text, FMT, "Europe/London")
    assert (got.utc, got.flag, got.basis) == (utc, flag, "assumed:Europe/London")


def test_parse_local_error_is_reported_not_substituted():
    got = parse_local("2024-02-30 10:00", FMT, "Europe/London")
    assert got.utc is None and "does not match" in got.error


@pytest.mark.parametrize(
    "text, utc, basis",
    [
        ("2024-06-15T09:00:00.000+02:00", datetime(2024, 6, 15, 7, 0, tzinfo=UTC), "offset-in-source"),
        ("2024-06-15T09:00:00Z", datetime(2024, 6, 15, 9, 0, tzinfo=UTC), "utc-declared"),
        ("2024-06-15T09:00:00", datetime(2024, 6, 15, 8, 0, tzinfo=UTC), "assumed:Europe/London"),
    ],
    ids=["offset", "zulu", "naive-assumed"],
)
def test_parse_iso(text, utc, basis):
    got = parse_iso(text, "Europe/London")
    assert (got.utc, got.basis) == (utc, basis)


def test_parse_iso_without_zone_and_no_default_is_an_error():
    assert parse_iso("2024-06-15T09:00:00").error


def test_epochs():
    assert from_unix(1383065788038, "ms").utc == datetime(2013, 10, 29, 16, 56, 28, 38000, tzinfo=UTC)
    assert from_apple(469908586).utc == datetime(2015, 11, 22, 18, 9, 46, tzinfo=UTC)
    assert from_apple(588813210539788032).utc.replace(microsecond=0) == datetime(2019, 8, 29, 23, 13, 30, tzinfo=UTC)


def test_display_marks_gmt_and_bst():
    assert display(datetime(2024, 7, 1, 12, 0, tzinfo=UTC)) == "2024-07-01 13:00:00 BST"
    assert display(datetime(2024, 1, 1, 12, 0, tzinfo=UTC)) == "2024-01-01 12:00:00 GMT"
