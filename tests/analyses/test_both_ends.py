"""both_ends: anonymous contact received matched to the suspect's outgoing records; decoys that
must not match (another number, just outside the tolerance), ambiguity, clock offsets, and the
planted withheld calls of the synthetic case."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from analyses.both_ends import ANALYSIS, LIMITATIONS, Params, run
from atlas.analysis import run_analyses, templates
from atlas.case import Analyst, Attribution, Case, Person
from atlas.errors import ParamError
from atlas.store import load_events
from tests.analyses.helpers import event_ids_at, events, synthetic_case

S_TEL, V_TEL, F_TEL, X_TEL = (
    "tel:+447700900001",
    "tel:+447700900002",
    "tel:+447700900003",
    "tel:+447700900009",
)
T0 = dt.datetime(2024, 5, 1, 1, 30, tzinfo=dt.UTC)


def _case() -> Case:
    persons = (
        Person(
            "S", "Sam", "suspect", (Attribution(S_TEL, "test"), Attribution("device:HS/1", "test"))
        ),
        Person(
            "V", "Vic", "victim", (Attribution(V_TEL, "test"), Attribution("device:VP/1", "test"))
        ),
        Person("F", "Fay", "other", (Attribution(F_TEL, "test"),)),
    )
    return Case(
        root=Path("."), urn="01AB2345678", analyst=Analyst("A", "B", "", "AB"), persons=persons
    )


def _at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def _received(seconds: float, sender: str | None = None, kind: str = "call", **kw) -> dict:
    """A record on the victim's phone (its own number implicit, as a handset keeps it)."""
    return {
        "exhibit_ref": "VP/1",
        "parser": "android_calllog_db",
        "timestamp_utc": _at(seconds),
        "kind": kind,
        "channel": "phone" if kind == "call" else "sms",
        "direction": "incoming",
        "sender": sender,
        "recipients": [],
        "duration_s": 0.0 if kind == "call" else None,
        **kw,
    }


def _sent(
    seconds: float,
    to: str = "tel:14107700900002",
    kind: str = "call",
    exhibit: str = "HS/1",
    sender: str | None = "tel:+447700900055",
    **kw,
) -> dict:
    """A record on the suspect's handset: by default a 141-withheld call from its SIM's number."""
    return {
        "exhibit_ref": exhibit,
        "parser": "android_calllog_db",
        "timestamp_utc": _at(seconds),
        "kind": kind,
        "channel": "phone" if kind == "call" else "sms",
        "direction": "outgoing",
        "sender": sender,
        "recipients": [to],
        "duration_s": 0.0 if kind == "call" else None,
        **kw,
    }


def _run(rows: list[dict], **kw) -> tuple:
    frame = events(rows)
    result = run(frame, _case(), Params(**kw))
    words = templates("both_ends")
    assert all(f.key in words["findings"] for f in result.findings)
    assert set(LIMITATIONS) <= set(words["limitations"])
    ids = dict(zip(frame["locator"], frame["event_id"], strict=True))
    return result, ids


def _keys(result) -> list[str]:  # noqa: ANN001
    return [f.key for f in result.findings]


def test_withheld_call_matches_the_141_call_to_her_number():
    result, ids = _run([_received(0), _sent(2.5)])
    assert _keys(result) == ["both_ends.withheld_match"]
    (f,) = result.findings
    assert f.event_ids == (ids["line:1"], ids["line:2"])
    assert "141" in f.values["prefix_text"] and f.values["differences"] == "-2.5 s on VP/1"
    assert "device attributed in case.toml to S (Sam)" in f.values["basis"]
    pairs = result.tables["pairs"]
    assert pairs[["status", "sent_prefix", "victim_number"]].values.tolist() == [
        ["matched", "141", V_TEL]
    ]
    assert result.counts["received_matched"] == 1 and result.counts["received_unmatched"] == 0


def test_a_call_to_another_number_is_never_a_match_and_is_listed_as_set_aside():
    result, ids = _run([_received(0), _sent(4, to=F_TEL), _sent(5000)])
    assert _keys(result) == ["both_ends.unmatched"]
    assert result.findings[0].event_ids == (ids["line:1"],)
    assert result.findings[0].values["other_number"] == 1
    row = result.tables["unmatched"].iloc[0]
    assert row["other_number_event_ids"] == [ids["line:2"]] and pd.isna(
        row["nearest_same_number_s"]
    )
    assert result.tables["pairs"].empty


def test_a_call_to_her_just_outside_the_tolerance_is_not_a_match():
    result, ids = _run([_received(0), _sent(-16)])
    assert _keys(result) == ["both_ends.unmatched"]
    row = result.tables["unmatched"].iloc[0]
    assert (
        row["nearest_same_number_event_id"] == ids["line:2"] and row["nearest_same_number_s"] == 16
    )
    wider, _ = _run([_received(0), _sent(-16)], tolerance_s=20)
    assert _keys(wider) == ["both_ends.withheld_match"]


def test_two_candidates_are_ambiguous_and_neither_is_chosen():
    result, ids = _run([_received(0), _sent(-3), _sent(5)])
    assert _keys(result) == ["both_ends.ambiguous"]
    (f,) = result.findings
    assert f.values["candidates"] == 2 and f.event_ids == (
        ids["line:2"],
        ids["line:1"],
        ids["line:3"],
    )
    assert set(result.tables["pairs"]["status"]) == {"ambiguous"}
    # One outgoing record within reach of two received records of one exhibit: ambiguous too.
    shared, _ = _run([_received(0), _received(6), _sent(3)])
    assert _keys(shared) == ["both_ends.ambiguous", "both_ends.ambiguous"]
    assert shared.counts["received_matched"] == 0


def test_the_same_contact_in_two_exhibits_on_each_side_is_not_ambiguity():
    rows = [
        _received(0),
        _received(0.4, exhibit_ref="VP/2", recipients=[V_TEL]),
        _sent(1),
        _sent(1, exhibit="CD/1", sender=S_TEL, to=V_TEL, parser="cdr_csv"),
    ]
    result, _ = _run(rows)
    assert set(result.tables["pairs"]["status"]) == {"matched"} and len(result.tables["pairs"]) == 4
    assert _keys(result) == ["both_ends.withheld_match", "both_ends.withheld_match"]


def test_sender_and_duration_conflicts_are_rejected():
    rows = [
        _received(0, sender=X_TEL),
        _sent(1, sender=S_TEL, to=V_TEL, exhibit="CD/1", parser="cdr_csv"),
        _received(600, duration_s=60.0, status="answered"),
        _sent(601, duration_s=200.0),
    ]
    result, _ = _run(rows)
    assert sorted(result.tables["rejected"]["status"]) == ["duration_differs", "sender_differs"]
    assert result.counts["received_matched"] == 0
    close, _ = _run(rows[2:3] + [_sent(601, duration_s=64.0)])
    assert _keys(close) == ["both_ends.withheld_match"]
    assert (
        "Call durations: 64 s on HS/1; 60 s on VP/1." in close.findings[0].values["duration_text"]
    )


def test_attributed_senders_are_out_of_scope_and_unknown_numbers_are_summarised():
    rows = [
        _received(0, sender=F_TEL),
        _received(100, sender=X_TEL, kind="sms"),
        _sent(70, to=V_TEL, kind="sms", sender=None),
        _received(900, sender=X_TEL),
    ]
    result, ids = _run(rows)
    assert result.counts["received_records"] == 2  # the friend's call is attributed: not anonymous
    assert _keys(result) == ["both_ends.identifier_matches", "both_ends.unmatched"]
    f = result.findings[0]
    assert (f.values["identifier"], f.values["matched"], f.values["unmatched"]) == (X_TEL, 1, 1)
    assert f.event_ids == (ids["line:3"], ids["line:2"])


def test_sms_may_arrive_after_it_was_sent_never_before():
    late, _ = _run([_received(45, kind="sms"), _sent(0, to=V_TEL, kind="sms", sender=None)])
    early, _ = _run([_received(0, kind="sms"), _sent(45, to=V_TEL, kind="sms", sender=None)])
    assert _keys(late) == ["both_ends.withheld_match"] and _keys(early) == ["both_ends.unmatched"]
    call, _ = _run([_received(45), _sent(0)])
    assert _keys(call) == ["both_ends.unmatched"]


def test_clock_offsets_are_taken_off_before_matching():
    # The suspect's handset runs 3 min 7 s fast; his CDR (network time) shows it on 8 calls.
    rows = []
    for k in range(8):
        t = 3600.0 * k
        rows += [
            _sent(t, to=V_TEL, exhibit="CD/1", sender=S_TEL, parser="cdr_csv"),
            _sent(t + 187, to=V_TEL, sender=None),
        ]
    rows += [
        _received(40000),
        _sent(40000 + 187.5),
        _sent(40000, to=V_TEL, sender=F_TEL, exhibit="OT/1"),
    ]
    result, ids = _run(rows)
    assert result.counts["offset_ms.HS/1"] == 187000
    matches = [f for f in result.findings if f.key == "both_ends.withheld_match"]
    assert [f.event_ids for f in matches] == [(ids["line:17"], ids["line:18"])]
    assert "HS/1 +3 min 7.0 s taken off" in matches[0].values["offsets_text"]
    plain, _ = _run(rows, apply_clock_offsets=False)
    assert not [f for f in plain.findings if f.key == "both_ends.withheld_match"]


def test_nothing_to_compare_and_bad_params():
    result, _ = _run([_sent(0)])
    assert _keys(result) == ["both_ends.no_received_records"]
    result, _ = _run([_received(0)])
    assert _keys(result) == ["both_ends.no_sent_records"]
    for field, value in (
        ("tolerance_s", -1),
        ("sms_delay_s", 10**6),
        ("duration_tolerance_s", "x"),
    ):
        with pytest.raises(ParamError):
            Params(**{field: value})


# ---------------------------------------------------------------- the synthetic case


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("both_ends") / "case"
    case, truth = synthetic_case(root, extended=True)
    doc = run_analyses(case, specs=(ANALYSIS,))[0]
    plain = run(load_events(case.root), case, Params(apply_clock_offsets=False))
    return case, truth, doc, load_events(case.root), plain


def test_synthetic_withheld_call_matches_his_handset_after_the_clock_offset(synthetic):
    _, truth, doc, ev, plain = synthetic
    decoys = truth["suspect_handset"]["decoys"]
    not_his = decoys["victim_withheld_not_his"]["locator"]
    his = [w for w in truth["withheld_calls"] if w["locator"] != not_his]
    (handset,) = truth["suspect_handset"]["withheld_calls"]
    (match,) = [f for f in doc["findings"] if f["key"] == "both_ends.withheld_match"]
    (log_id,) = event_ids_at(ev, his)
    (handset_id,) = event_ids_at(ev, [handset])
    assert log_id in match["event_ids"] and handset_id in match["event_ids"]
    exhibits = ev.set_index("event_id").loc[match["event_ids"], "exhibit_ref"].tolist()
    assert sorted(exhibits) == ["DI/2", "DI/5", "DI/7"]  # her log, her UFED report, his call log
    assert "141" in match["text"] and "DI/7 +3 min 7" in match["text"]
    # Without the clock offset the handset record is three minutes away: no match.
    assert not [f for f in plain.findings if f.key == "both_ends.withheld_match"]


def test_synthetic_decoys_are_not_reported(synthetic):
    case, truth, doc, ev, _ = synthetic
    d = truth["suspect_handset"]["decoys"]
    (not_his,) = event_ids_at(ev, [d["victim_withheld_not_his"]])
    coincident, near_miss = event_ids_at(ev, [d["coincident"], d["near_miss"]])
    for f in doc["findings"]:
        if f["key"] != "both_ends.unmatched":
            assert not {not_his, coincident, near_miss} & set(f["event_ids"]), f["key"]
    (unmatched,) = [
        f
        for f in doc["findings"]
        if f["key"] == "both_ends.unmatched"
        and f["values"]["category_text"].startswith("with no calling number")
    ]
    assert not_his in unmatched["event_ids"] and unmatched["values"]["other_number"] >= 1
    table = pd.read_csv(case.root / doc["tables"]["unmatched"]["path"], encoding="utf-8-sig")
    row = table.set_index("received_event_id").loc[not_his]
    assert coincident in row["other_number_event_ids"]
    assert row["nearest_same_number_event_id"] == near_miss
    assert abs(row["nearest_same_number_s"] - 16) < 1.5  # outside the 10 s tolerance
    pairs = pd.read_csv(case.root / doc["tables"]["pairs"]["path"], encoding="utf-8-sig")
    assert not {coincident, near_miss} & set(pairs["sent_event_id"])


def test_synthetic_new_number_contacts_pair_with_his_handset_records(synthetic):
    case, truth, doc, ev, _ = synthetic
    pairs = pd.read_csv(case.root / doc["tables"]["pairs"]["path"], encoding="utf-8-sig")
    assert set(pairs["status"]) == {"matched"}
    new = truth["new_number"]["identifier"]
    log = pairs.loc[(pairs["received_exhibit"] == "DI/2") & (pairs["received_sender"] == new)]
    # Every pair is the planted one: her log row and his handset record of the same contact.
    want = {
        loc: ref["locator"] for loc, ref in truth["suspect_handset"]["victim_log_pairs"].items()
    }
    got = dict(zip(log["received_locator"], log["sent_locator"], strict=True))
    assert got and all(want[k] == v for k, v in got.items())
    mine = {
        loc
        for loc, ref in want.items()
        if ev.loc[
            (ev["source_path"] == "exhibits/victim_sms_calls.csv") & (ev["locator"] == loc),
            "sender",
        ]
        .eq(new)
        .any()
    }
    assert set(got) == mine  # every new-number record held on his handset is paired
    (summary,) = [f for f in doc["findings"] if f["key"] == "both_ends.identifier_matches"]
    assert summary["values"]["identifier"] == new and summary["values"]["ambiguous"] == 0
    # The deleted threat SMS (in her log, gone from his handset) is left unmatched.
    (deleted,) = truth["suspect_handset"]["deleted_sms"]
    (deleted_id,) = event_ids_at(
        ev, [{"file": "exhibits/victim_sms_calls.csv", "locator": deleted["table_locator"]}]
    )
    unmatched = pd.read_csv(case.root / doc["tables"]["unmatched"]["path"], encoding="utf-8-sig")
    assert deleted_id in set(unmatched["received_event_id"])
    assert doc["counts"]["received_ambiguous"] == 0 and doc["counts"]["offset_ms.DI/7"] > 186000
