"""Counting a contact once when several exhibits hold it (analyses._same_contact)."""

from __future__ import annotations

from analyses._same_contact import clusters_table, collapse, family
from tests.analyses.helpers import events


def _rec(t: str, exhibit: str, kind: str = "call", channel: str = "phone") -> dict:
    return {"timestamp_utc": t, "exhibit_ref": exhibit, "kind": kind, "channel": channel,
            "source_sha256": exhibit.replace("/", "") * 4}


def test_family_keeps_applications_apart_and_joins_telephony():
    frame = events([_rec("2024-01-01 10:00", "A/1", "call", "phone"),
                    _rec("2024-01-01 10:00", "A/1", "call", "call"),
                    _rec("2024-01-01 10:00", "A/1", "call", "whatsapp"),
                    _rec("2024-01-01 10:00", "A/1", "sms", "sms"),
                    _rec("2024-01-01 10:00", "A/1", "chat_message", "whatsapp"),
                    _rec("2024-01-01 10:00", "A/1", "chat_message", "imessage")])
    assert family(frame["kind"], frame["channel"]).tolist() == [
        "call:tel", "call:tel", "call:whatsapp", "text:tel", "text:whatsapp", "text:imessage"]


def test_one_call_in_three_exhibits_counts_once_and_is_listed():
    frame = events([_rec("2024-01-01 10:00:00", "DI/2"), _rec("2024-01-01 10:00:40", "DI/15"),
                    _rec("2024-01-01 10:01:30", "DI/7"),
                    _rec("2024-01-01 10:30:00", "DI/2")])  # a second call, half an hour later
    reps, counts = collapse(frame, 120)
    assert counts == {"records": 4, "contacts": 2, "records_in_several_exhibits": 3}
    # the tie (one record each) goes to the exhibit first in natural order: DI/2 before DI/7 and DI/15
    assert reps["exhibit_ref"].tolist() == ["DI/2", "DI/2"]
    assert reps["also_recorded"].tolist() == [2, 0]
    table = clusters_table(frame, 120)
    assert len(table) == 1 and table["exhibits"].iloc[0] == "DI/2, DI/7, DI/15"
    assert table["event_ids"].iloc[0].split() == frame["event_id"].iloc[:3].tolist()


def test_records_of_one_exhibit_are_never_merged_and_bursts_count_the_fuller_exhibit():
    # A burst of five messages in one exhibit; the other holds three of them: five contacts.
    burst = [_rec(f"2024-01-01 22:0{m}:00", "DI/1", "chat_message", "whatsapp") for m in range(5)]
    other = [_rec(f"2024-01-01 22:0{m}:05", "DI/5", "chat_message", "whatsapp") for m in (0, 2, 4)]
    reps, counts = collapse(events(burst + other), 120)
    assert counts["contacts"] == 5 and counts["records"] == 8
    assert set(reps["exhibit_ref"]) == {"DI/1"}


def test_different_kinds_and_distant_times_stay_separate_and_zero_tolerance_counts_every_record():
    frame = events([_rec("2024-01-01 10:00:00", "DI/2", "call", "phone"),
                    _rec("2024-01-01 10:00:10", "DI/5", "sms", "sms"),
                    _rec("2024-01-01 10:00:20", "DI/6", "chat_message", "whatsapp"),
                    _rec("2024-01-01 10:02:01", "DI/7", "call", "phone")])  # 121 s after the first
    assert collapse(frame, 120)[1]["contacts"] == 4
    assert collapse(frame, 0)[1] == {"records": 4, "contacts": 4, "records_in_several_exhibits": 0}
    assert clusters_table(frame, 120).empty


def test_a_fast_handset_clock_is_taken_off_before_matching():
    # The handset (DI/7) runs 187 s fast: its record of the network's (DI/14) call matches only
    # once the offset is taken off, and the times shown stay as the exhibits recorded them.
    frame = events([_rec("2024-01-01 10:00:00", "DI/14"), _rec("2024-01-01 10:03:07", "DI/7")])
    assert collapse(frame, 120)[1]["contacts"] == 2
    reps, counts = collapse(frame, 120, {"DI/7": 187.0})
    assert counts["contacts"] == 1 and counts["records_in_several_exhibits"] == 2
    assert str(reps["timestamp_utc"].iloc[0]).startswith("2024-01-01 10:00:00")
    assert len(clusters_table(frame, 120, {"DI/7": 187.0})) == 1
