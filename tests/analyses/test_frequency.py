"""The frequency analysis: exact statistics, change points, bursts, stop requests, after-counts,
and the planted facts of the synthetic case."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses import _frequency_counts as fc
from analyses import _frequency_stats as st
from analyses.frequency import ANALYSIS, LIMITATIONS, Params, run
from atlas.analysis import run_analyses, templates
from atlas.case import Analyst, Attribution, Case, KeyDate, Person
from atlas.errors import ParamError
from atlas.store import load_events
from fixtures._texts import AFTER_WARNING
from tests.analyses.helpers import event_ids_at, events, synthetic_case, utc

S_TEL, V_TEL, F_TEL = "tel:+447700900001", "tel:+447700900002", "tel:+447700900003"
S_WA, V_WA = "name:whatsapp:Dan", "name:whatsapp:Sarah"


def _case(key_dates: tuple[KeyDate, ...] = (), device: bool = False) -> Case:
    v_ids = [Attribution(V_TEL, "test"), Attribution(V_WA, "test")]
    if device:
        v_ids.append(Attribution("device:AB/1", "test"))
    persons = (Person("S", "S", "suspect", (Attribution(S_TEL, "test"), Attribution(S_WA, "test"))),
               Person("V", "V", "victim", tuple(v_ids)),
               Person("F", "F", "other", (Attribution(F_TEL, "test"),)))
    return Case(root=Path("."), urn="01AB2345678", analyst=Analyst("A", "B", "", "AB"), persons=persons,
                key_dates=key_dates)


def _sms(when: str, sender: str = S_TEL, to: str = V_TEL, text: str = "x", **kw) -> dict:
    return {"timestamp_utc": when, "kind": "sms", "channel": "sms", "sender": sender, "recipients": [to],
            "text": text, **kw}


def _texts(result) -> None:  # noqa: ANN001
    words = templates("frequency")
    for f in result.findings:
        assert f.key in words["findings"], f.key
    for key in result.limitations:
        assert key in words["limitations"], key


# ---------------------------------------------------------------- exact statistics, known answers

def test_exact_binomial_test_matches_hand_sum():
    # 10 of 12 under p = 1/2: P(X >= 10) + P(X <= 2) = 2 (1 + 12 + 66) / 4096 (R: binom.test).
    assert st.binom_two_sided_p(10, 12, 0.5) == pytest.approx(158 / 4096, rel=1e-12)


def test_poisson_and_clopper_pearson_intervals_match_published_values():
    assert st.poisson_ci(10, 0.95) == pytest.approx((4.795389, 18.390356), abs=1e-5)
    assert st.poisson_ci(0, 0.95) == pytest.approx((0.0, -math.log(0.025)), abs=1e-9)
    assert st.clopper_pearson(0, 20, 0.95)[1] == pytest.approx(1 - 0.025 ** (1 / 20), abs=1e-9)
    assert st.clopper_pearson(10, 12, 0.95) == pytest.approx((0.515862, 0.979137), abs=1e-5)
    assert st.normal_quantile(0.975) == pytest.approx(1.959964, abs=1e-6)
    assert st.chi2_sf_1(3.841459) == pytest.approx(0.05, abs=1e-6)


def test_rate_ratio_of_two_poisson_counts():
    r = st.rate_ratio(2, 1.0, 10, 1.0, 0.95)
    assert r["ratio"] == 5.0
    assert r["p_exact"] == pytest.approx(158 / 4096, rel=1e-12)
    # Clopper-Pearson for 10 of 12, as odds: p / (1 - p).
    assert r["ci_low"] == pytest.approx(0.515862 / 0.484138, rel=1e-4)
    assert r["ci_high"] == pytest.approx(0.979137 / 0.020863, rel=1e-3)


def test_rate_test_on_a_hand_built_frame_gives_the_known_answer():
    # 20 contacts over the 10 days before the block, 5 over the 10 days after; two notes on
    # the same exhibit fix the span at exactly 20 days.
    start = dt.datetime(2024, 3, 1, tzinfo=dt.UTC)
    rows = [{"timestamp_utc": start, "kind": "note"}, {"timestamp_utc": start + dt.timedelta(days=20),
                                                        "kind": "note"}]
    rows += [_sms(start + dt.timedelta(hours=11 + 12 * i)) for i in range(20)]
    rows += [_sms(start + dt.timedelta(days=10, hours=30 * i + 5)) for i in range(5)]
    block = KeyDate("blocked", start + dt.timedelta(days=10), identifier=S_TEL)
    result = run(events(rows), _case((block,)), Params())
    periods = result.tables["periods"]
    assert periods[["days", "contacts", "rate_per_day"]].to_numpy().tolist() == [[10, 20, 2], [10, 5, 0.5]]
    change = result.tables["rate_changes"].iloc[0]
    hand = 2 * sum(math.comb(25, k) for k in range(6)) / 2 ** 25
    assert change["ratio"] == 0.25
    assert change["p_exact"] == pytest.approx(hand, rel=1e-3)
    lo, hi = st.clopper_pearson(5, 25, 0.95)
    assert change["ci_low"] == pytest.approx(lo / (1 - lo), abs=1e-4)
    assert change["ci_high"] == pytest.approx(hi / (1 - hi), abs=1e-4)
    low, high = st.poisson_ci(20, 0.95)
    assert periods.loc[0, "ci_low"] == pytest.approx(low / 10, abs=1e-4)
    assert periods.loc[0, "ci_high"] == pytest.approx(high / 10, abs=1e-4)
    _texts(result)


def test_dispersion_is_one_for_even_counts_and_large_for_bursty_ones():
    group = np.zeros(10, dtype=int)
    assert st.dispersion(np.full(10, 3.0), np.ones(10), group) == 1.0
    assert st.dispersion(np.array([30.0] + [0.0] * 9), np.ones(10), group) == pytest.approx(30.0)


# ---------------------------------------------------------------- change points

def test_change_point_found_at_a_planted_step():
    y = np.r_[np.tile([1, 3], 20), np.tile([7, 9], 15)]  # 2 a day for 40 days, then 8 a day
    found = st.binary_segmentation(y, min_segment=7, alpha=0.01, permutations=499, max_changes=3, seed=1)
    assert [c["index"] for c in found] == [40]
    assert found[0]["p_value"] == pytest.approx(1 / 500)


def test_change_point_near_a_planted_step_in_poisson_noise():
    rng = np.random.default_rng(3)
    y = np.r_[rng.poisson(2, 40), rng.poisson(8, 30)]
    found = st.binary_segmentation(y, min_segment=7, alpha=0.01, permutations=499, max_changes=3, seed=1)
    assert len(found) == 1 and abs(found[0]["index"] - 40) <= 3


def test_no_change_point_in_a_flat_series_and_same_seed_same_answer():
    y = np.random.default_rng(5).poisson(4, 80)
    kwargs = {"min_segment": 7, "alpha": 0.01, "permutations": 199, "max_changes": 3, "seed": 9}
    assert st.binary_segmentation(y, **kwargs) == []
    step = np.r_[y, y + 6]
    assert st.binary_segmentation(step, **kwargs) == st.binary_segmentation(step, **kwargs)


def test_split_gain_matches_direct_log_likelihood():
    y = np.array([1, 0, 2, 1, 6, 7, 5, 8], dtype=float)
    k, g = st.split_gain(y, 2)

    def ll(s):
        return sum(v * math.log(s.mean()) - s.mean() for v in s) if s.sum() else 0.0

    gains = {j: 2 * (ll(y[:j]) + ll(y[j:]) - ll(y)) for j in range(2, 7)}
    assert k[0] == max(gains, key=gains.get)
    assert g[0] == pytest.approx(max(gains.values()))


# ---------------------------------------------------------------- bursts

def _brute_episodes(ts: np.ndarray, k: int, minutes: int) -> list[tuple[int, int]]:
    width = np.timedelta64(minutes, "m")
    ranges = []
    for i in range(len(ts)):
        inside = [j for j in range(len(ts)) if ts[i] <= ts[j] <= ts[i] + width]
        if len(inside) >= k:
            ranges.append((i, max(inside) + 1))
    merged: list[list[int]] = []
    for a, b in ranges:
        if merged and a < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def test_bursts_agree_with_brute_force_on_random_cases():
    rng = np.random.default_rng(11)
    for _ in range(400):
        n = int(rng.integers(0, 40))
        ts = np.sort(np.datetime64("2024-01-01T00:00") + rng.integers(0, 600, n).astype("timedelta64[m]"))
        k, minutes = int(rng.integers(2, 7)), int(rng.integers(1, 30))
        assert fc.episodes(ts, k, minutes) == _brute_episodes(ts, k, minutes)


def test_burst_window_includes_its_end_point():
    ts = np.array(["2024-01-01T00:00", "2024-01-01T00:05", "2024-01-01T00:10"], dtype="datetime64[m]")
    assert fc.episodes(ts, 3, 10) == [(0, 3)]
    assert fc.episodes(ts, 3, 9) == []


# ---------------------------------------------------------------- stop phrases and after-counts

def test_stop_phrases_match_whole_words_any_case_and_apostrophe():
    phrases = fc.load_phrases()
    assert "stop contacting me" in phrases and "do not message me" in phrases
    replies = events([
        _sms("2024-03-01 10:00", V_TEL, S_TEL, "Please STOP   contacting me."),
        _sms("2024-03-01 10:01", V_TEL, S_TEL, "Don\u2019t contact me again"),
        _sms("2024-03-01 10:02", V_TEL, S_TEL, "stop calling meg about the car"),
        _sms("2024-03-01 10:03", V_TEL, S_TEL, "see you later"),
        _sms("2024-03-01 10:04", V_TEL, S_TEL, "never contact me again"),
    ])
    found = fc.stop_candidates(replies, phrases)
    assert found["phrase"].tolist() == ["stop contacting me", "don't contact me", "never contact me again"]
    assert found["event_id"].tolist() == replies["event_id"].iloc[[0, 1, 4]].tolist()


def test_stop_candidates_only_from_complainant_to_suspect_and_counts_after_them():
    rows = [
        _sms("2024-03-01 09:00"),
        _sms("2024-03-01 10:00", V_TEL, F_TEL, "he won't leave me alone"),   # to a friend: not a candidate
        _sms("2024-03-01 11:00", S_TEL, V_TEL, "leave me alone? no"),         # the suspect's words
        _sms("2024-03-01 12:00", V_TEL, S_TEL, "Leave me alone."),
        _sms("2024-03-01 13:00"), _sms("2024-03-02 13:00"),
    ]
    ev = events(rows)
    result = run(ev, _case(), Params())
    assert result.tables["stop_candidates"]["event_id"].tolist() == [ev["event_id"][3]]
    after = next(f for f in result.findings if f.key == "frequency.after_stop_candidate")
    assert after.event_ids == tuple(ev["event_id"][[3, 4, 5]])
    assert after.values["count"] == 2
    _texts(result)


def test_counts_after_block_warning_and_day_only_stop_request():
    rows = [
        _sms("2024-03-01 08:00"),
        _sms("2024-03-01 20:00"),                                         # on the stop-request day
        _sms("2024-03-02 09:00"),
        {"timestamp_utc": "2024-03-03 09:00", "kind": "chat_message", "channel": "whatsapp",
         "sender": S_WA, "recipients": [V_WA], "text": "y"},
        _sms("2024-03-04 09:00"),
        {"timestamp_utc": "2024-03-05 09:00", "kind": "chat_message", "channel": "whatsapp",
         "sender": S_WA, "recipients": [V_WA], "text": "z"},
    ]
    ev = events(rows)
    kds = (KeyDate("stop_requested", dt.date(2024, 3, 1)),
           KeyDate("blocked", utc("2024-03-02 12:00"), identifier=S_TEL),
           KeyDate("warned", utc("2024-03-04 12:00")))
    before = ev.copy()
    result = run(ev, _case(kds), Params())
    pd.testing.assert_frame_equal(ev, before)  # the analysis never modifies its input
    by_key = {f.key: f for f in result.findings if f.key.startswith("frequency.after_")}
    ids = ev["event_id"]
    # A day-only key date takes effect at the end of that UK day, so the record at 20:00 on
    # 1 March (GMT) is not counted as after it.
    assert by_key["frequency.after_stop_request"].event_ids == tuple(ids[[2, 3, 4, 5]])
    block = by_key["frequency.after_block_identifier"]
    assert block.event_ids == tuple(ids[[3, 4, 5]])
    assert (block.values["count"], block.values["from_identifier"]) == (3, 1)
    assert block.values["channels"] == ["sms: 1", "whatsapp: 2"]
    assert by_key["frequency.after_warning"].event_ids == (ids[5],)
    _texts(result)
    other = run(ev, _case((KeyDate("reported", utc("2024-03-04 12:00")),)),
                Params(after_key_dates=("reported",)))
    (reported,) = [f for f in other.findings if f.key == "frequency.after_key_date"]
    assert reported.event_ids == (ids[5],) and reported.values["kind"] == "reported"
    _texts(other)


def test_replies_by_thread_only_in_a_chat_with_the_suspect_alone():
    chat = {"kind": "chat_message", "channel": "whatsapp", "exhibit_ref": "AB/1", "recipients": [],
            "direction": "unknown"}
    rows = [
        {**chat, "timestamp_utc": "2024-03-01 09:00", "sender": S_WA, "thread": "Dan"},
        {**chat, "timestamp_utc": "2024-03-01 09:01", "sender": V_WA, "thread": "Dan"},
        {**chat, "timestamp_utc": "2024-03-01 09:02", "sender": "name:whatsapp:Pat", "thread": "Group"},
        {**chat, "timestamp_utc": "2024-03-01 09:03", "sender": S_WA, "thread": "Group"},
        {**chat, "timestamp_utc": "2024-03-01 09:04", "sender": V_WA, "thread": "Group"},
    ]
    result = run(events(rows), _case(device=True), Params())
    assert result.counts["replies"] == 1 and result.counts["replies_by_thread"] == 1
    assert result.counts["contacts"] == 2  # the device attribution makes the suspect's messages received


def test_no_contacts_gives_one_finding_and_the_limitations():
    result = run(events([_sms("2024-03-01 09:00", F_TEL, V_TEL)]), _case(), Params())
    assert [f.key for f in result.findings] == ["frequency.no_contacts"]
    assert result.limitations == LIMITATIONS
    _texts(result)


@pytest.mark.parametrize(("field", "value"), [
    ("burst_min_contacts", 1), ("burst_window_minutes", 0), ("confidence", 1.0),
    ("changepoint_alpha", 0.0), ("changepoint_permutations", 10), ("changepoint_min_days", 1),
    ("period_key_dates", ("breakup",)), ("stop_phrases", ("  ",)),
])
def test_bad_params_are_refused(field, value):
    with pytest.raises(ParamError):
        Params(**{field: value})


# ---------------------------------------------------------------- the synthetic case

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("frequency") / "case"
    case, truth = synthetic_case(root, device_owners={"DI/1": "P2"})
    pairs = ("frequency.burst_min_contacts=8", "frequency.burst_window_minutes=25")
    doc = run_analyses(case, specs=(ANALYSIS,), param_pairs=pairs)[0]
    first = _digests(root)
    run_analyses(case, specs=(ANALYSIS,), param_pairs=pairs)
    return case, truth, doc, load_events(case.root), first, _digests(root)


def _digests(root: Path) -> dict[str, str]:
    files = [root / "results" / "frequency.json", *sorted((root / "results" / "frequency").iterdir())]
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def _found(doc, key):  # noqa: ANN001, ANN202
    return [f for f in doc["findings"] if f["key"] == key]


def test_synthetic_outputs_are_byte_identical_across_runs(synthetic):
    *_, first, second = synthetic
    assert first == second
    charts = {"daily_by_channel.png", "weekly_contacts_and_replies.png", "heatmap_weekday_hour.png"}
    assert charts <= set(first)


def test_synthetic_planted_bursts_found_and_nothing_else(synthetic):
    _, truth, doc, ev, *_ = synthetic
    bursts = _found(doc, "frequency.burst")
    attributed = [e for e in truth["bursts"]["episodes"]
                  if e["first"].get("identifier") != truth["identifiers"]["suspect_new"]]
    assert len(attributed) == len(truth["bursts"]["episodes"]) - 1  # one is from the unattributed number
    assert len(bursts) == len(attributed)  # no unplanted burst at K=8 within 25 minutes
    time = ev.set_index("event_id")["timestamp_utc"]
    for planted in attributed:
        first, last = event_ids_at(ev, [planted["first"], planted["last"]])
        exhibit = ev.loc[ev["event_id"] == first, "exhibit_ref"].iloc[0]
        sender = ev.loc[ev["event_id"] == first, "sender"].iloc[0]
        span = ev[(ev["exhibit_ref"] == exhibit) & (ev["sender"] == sender)
                  & ev["timestamp_utc"].between(time[first], time[last])]
        assert len(span) == planted["count"]
        match = [b for b in bursts if first in b["event_ids"]]
        assert len(match) == 1 and set(span["event_id"]) <= set(match[0]["event_ids"])
        # Episodes cross channels: any extra record is a contact within the window of the planted run.
        extra = set(match[0]["event_ids"]) - set(span["event_id"])
        assert all(abs(time[e] - time[last]) <= pd.Timedelta(minutes=25) for e in extra)


def test_synthetic_stop_request_is_a_candidate_and_contacts_after_it_are_counted(synthetic):
    _, truth, doc, ev, *_ = synthetic
    (stop_id,) = event_ids_at(ev, [truth["stop_request"]])
    candidates = _found(doc, "frequency.stop_request_candidate")
    assert stop_id in [c["event_ids"][0] for c in candidates]
    # The other candidates are the complainant's own earlier requests ("Please stop messaging me
    # so much", "Stop calling me, I'm at work"): each quotes a listed phrase, for confirmation.
    assert all(c["values"]["phrase"] in fc.normalise_text(c["values"]["text"]) for c in candidates)
    (after,) = _found(doc, "frequency.after_stop_request")
    stop_time = ev.loc[ev["event_id"] == stop_id, "timestamp_utc"].iloc[0]
    assert after["values"]["count"] == len(after["event_ids"]) > 0
    assert ev.set_index("event_id").loc[after["event_ids"], "timestamp_utc"].min() > stop_time
    (cand,) = [f for f in _found(doc, "frequency.after_stop_candidate") if f["event_ids"][0] == stop_id]
    assert cand["event_ids"][1:] == after["event_ids"]


def test_synthetic_contacts_after_block_warning_and_service(synthetic):
    _, truth, doc, ev, *_ = synthetic
    (block,) = _found(doc, "frequency.after_block_identifier")
    assert block["values"]["identifier"] == truth["identifiers"]["suspect_original"]
    assert block["values"]["from_identifier"] == truth["block"]["original_contacts_after_block"] == 0
    assert block["values"]["count"] > 0
    (warned,) = _found(doc, "frequency.after_warning")
    planted = ev.loc[ev["text"].isin(AFTER_WARNING), "event_id"]
    assert len(planted) == len(AFTER_WARNING) and set(planted) <= set(warned["event_ids"])
    (served,) = _found(doc, "frequency.after_order_served")
    wa = [r for r in truth["contacts_after_service"]["records"] if r["file"].endswith(".txt")]
    # The call-log records after service come from the new number, which case.toml does not attribute.
    assert served["values"]["count"] == truth["contacts_after_service"]["whatsapp"] == len(wa)
    assert list(served["event_ids"]) == event_ids_at(ev, wa)


def test_synthetic_escalation_after_the_relationship_ended(synthetic):
    _, truth, doc, *_ = synthetic
    first = _found(doc, "frequency.rate_change")[0]
    assert first["values"]["boundary"] == "the end of the relationship (key date)"
    assert first["values"]["ratio"] > 2 and first["values"]["p_adjusted"] < 0.001
    assert first["values"]["ci_low_adjusted"] > 1
    ended = dt.date.fromisoformat(truth["key_dates"]["relationship_ended_utc"][:10])
    found = _found(doc, "frequency.change_point")
    changes = [dt.date.fromisoformat(c["values"]["date_local"]) for c in found]
    assert any(abs((c - ended).days) <= 3 for c in changes)
    for c in _found(doc, "frequency.change_point"):
        assert c["values"]["p_value"] <= 0.01
    assert all(f["text"] for f in doc["findings"]) and all(lim["text"] for lim in doc["limitations"])
