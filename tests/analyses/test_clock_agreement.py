"""clock_agreement: offsets from the network records, pairing that does not assume the offset,
too few pairs, the reference choice, and the planted fast clock of the synthetic case."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analyses import _clock_agreement_ends as ce
from analyses._clock_agreement_findings import seconds_text
from analyses.clock_agreement import ANALYSIS, LIMITATIONS, Params, estimate, run
from atlas.analysis import run_analyses, templates
from atlas.case import Analyst, Attribution, Case, Person
from atlas.errors import ParamError
from atlas.store import load_events
from tests.analyses.helpers import events, synthetic_case

S_TEL, V_TEL, F_TEL = "tel:+447700900001", "tel:+447700900002", "tel:+447700900003"
T0 = dt.datetime(2024, 5, 1, 19, 0, tzinfo=dt.UTC)


def _case() -> Case:
    persons = (
        Person(
            "S", "S", "suspect", (Attribution(S_TEL, "test"), Attribution("device:HS/1", "test"))
        ),
        Person(
            "V", "V", "victim", (Attribution(V_TEL, "test"), Attribution("device:VP/1", "test"))
        ),
        Person("F", "F", "other", (Attribution(F_TEL, "test"),)),
    )
    return Case(
        root=Path("."), urn="01AB2345678", analyst=Analyst("A", "B", "", "AB"), persons=persons
    )


def _cdr(when: dt.datetime, to: str = V_TEL, kind: str = "call", **kw) -> dict:
    return {
        "exhibit_ref": "CD/1",
        "parser": "cdr_csv",
        "timestamp_utc": when,
        "kind": kind,
        "channel": "phone" if kind == "call" else "sms",
        "direction": "outgoing",
        "sender": S_TEL,
        "recipients": [to],
        **kw,
    }


def _handset(
    when: dt.datetime, to: str = V_TEL, exhibit: str = "HS/1", kind: str = "call", **kw
) -> dict:
    # A handset names only the other party: its own number is implicit.
    return {
        "exhibit_ref": exhibit,
        "parser": "android_calllog_db",
        "timestamp_utc": when,
        "kind": kind,
        "channel": "phone" if kind == "call" else "sms",
        "direction": "outgoing",
        "sender": None,
        "recipients": [to],
        **kw,
    }


def _burst(n: int, spacing_s: int, offset_s: float, exhibit: str = "HS/1") -> list[dict]:
    """Return n calls 60 s apart in the CDR and on a handset whose clock is offset_s ahead."""
    rows = []
    for k in range(n):
        t = T0 + dt.timedelta(seconds=spacing_s * k)
        rows.append(_cdr(t, locator=f"line:{k + 1}"))
        rows.append(
            _handset(
                t + dt.timedelta(seconds=offset_s),
                exhibit=exhibit,
                locator=f"sqlite:calls/rowid={k + 1}",
            )
        )
    return rows


def _texts(result) -> None:  # noqa: ANN001
    words = templates("clock_agreement")
    for f in result.findings:
        assert f.key in words["findings"], f.key
    assert set(LIMITATIONS) <= set(words["limitations"])


# ---------------------------------------------------------------- small frames


def test_burst_closer_than_the_offset_pairs_each_call_with_its_own_record():
    # Calls 60 s apart, clock 187.25 s fast: each handset call lies nearest in time to the
    # network record of the call three later. Nearest pairing would give about 7 s.
    frame = events(_burst(12, 60, 187.25) + [_cdr(T0 + dt.timedelta(hours=5), to=F_TEL)])
    est = estimate(frame, _case(), Params())
    row = est.offsets.set_index("exhibit").loc["HS/1"]
    assert row["status"] == "estimated" and row["pairs"] == 12
    assert row["offset_s"] == pytest.approx(187.25, abs=0.01)
    assert est.offsets.set_index("exhibit").loc["CD/1", "status"] == "reference"
    rowids = est.pairs["locator"].str.rsplit("=", n=1).str[1]
    lines = est.pairs["reference_locator"].str.split(":").str[1]
    assert (rowids == lines).all()
    result = run(frame, _case(), Params())
    (f,) = result.findings
    assert f.key == "clock_agreement.offset" and f.values["offset_text"] == "3 min 7.2 s"
    assert f.values["relation"] == "later than" and len(f.event_ids) == 24
    assert result.counts["offset_ms.HS/1"] == 187250 and result.counts["pairs.HS/1"] == 12
    _texts(result)


def test_a_slow_clock_and_a_clock_that_agrees():
    rows = _burst(6, 600, -42.0) + [
        _handset(T0 + dt.timedelta(seconds=600 * k, milliseconds=300), exhibit="VP/1")
        for k in range(6)
    ]
    result = run(events(rows), _case(), Params())
    by = {f.values["exhibit"]: f for f in result.findings}
    assert (
        by["HS/1"].key == "clock_agreement.offset"
        and by["HS/1"].values["relation"] == "earlier than"
    )
    assert by["HS/1"].values["offset_signed"] == "-42.0 s"
    assert (
        by["VP/1"].key == "clock_agreement.agrees"
        and by["VP/1"].values["offset_signed"] == "+0.3 s"
    )


def test_too_few_pairs_is_not_estimated_and_other_numbers_never_pair():
    rows = _burst(3, 600, 30.0) + [
        # Same times, but to another number: never a pair with the calls to V.
        _handset(T0 + dt.timedelta(seconds=600 * k + 30), to=F_TEL, exhibit="HS/1")
        for k in range(4)
    ]
    result = run(events(rows), _case(), Params())
    (f,) = result.findings
    assert f.key == "clock_agreement.not_estimated"
    assert (f.values["pairs"], f.values["records"], f.values["min_pairs"]) == (3, 7, 5)
    assert len(f.event_ids) == 6
    est = estimate(events(rows), _case(), Params(min_pairs=3))
    assert est.offset_s() == {"HS/1": pytest.approx(30.0)}
    assert set(est.pairs["receiver"]) == {V_TEL}


def test_no_reference_and_a_reference_named_in_the_parameters():
    rows = [r for r in _burst(6, 600, 90.0) if r["exhibit_ref"] != "CD/1"]
    rows += [_handset(T0 + dt.timedelta(seconds=600 * k), exhibit="VP/1") for k in range(6)]
    result = run(events(rows), _case(), Params())
    assert [f.key for f in result.findings] == ["clock_agreement.no_reference"]
    assert result.counts["reference_exhibits"] == 0
    est = estimate(events(rows), _case(), Params(reference_exhibits=("VP/1",)))
    assert est.references == ("VP/1",) and est.offset_s() == {"HS/1": pytest.approx(90.0)}
    with pytest.raises(ParamError):
        estimate(events(rows), _case(), Params(reference_exhibits=("ZZ/9",)))


def test_a_clock_reset_during_the_period_is_reported():
    # The first ten calls 5 s fast, the next ten 65 s fast: a reset by a minute.
    rows = []
    for k in range(20):
        t = T0 + dt.timedelta(hours=k)
        rows += [_cdr(t), _handset(t + dt.timedelta(seconds=5 if k < 10 else 65))]
    result = run(events(rows), _case(), Params())
    keys = [f.key for f in result.findings]
    assert keys == ["clock_agreement.offset", "clock_agreement.second_offset"]
    first, second = result.findings
    assert (first.values["offset_signed"], first.values["pairs"], first.values["unpaired"]) == (
        "+5.0 s",
        10,
        10,
    )
    assert (second.values["second_offset_signed"], second.values["second_pairs"]) == (
        "+1 min 5.0 s",
        10,
    )
    assert second.values["second_first_utc"] == T0 + dt.timedelta(hours=10, seconds=65)
    # A drift of 6 s within the pairing tolerance shows in the halves instead.
    drift = []
    for k in range(20):
        t = T0 + dt.timedelta(hours=k)
        drift += [_cdr(t), _handset(t + dt.timedelta(seconds=5 if k < 10 else 11))]
    keys = [f.key for f in run(events(drift), _case(), Params()).findings]
    assert keys == ["clock_agreement.offset", "clock_agreement.offset_drifts"]
    # A steady clock, and a burst with calls closer together than the offset: neither.
    for rows in (_burst(20, 3600, 5.0), _burst(30, 60, 187.25)):
        assert [f.key for f in run(events(rows), _case(), Params()).findings] == [
            "clock_agreement.offset"
        ]


def test_receiver_dialled_with_141_is_the_number_itself_and_only_that_shape_is_rewritten():
    values = pd.Series(
        [
            "tel:14107700900002",
            "tel:147007700900002",
            "tel:141",
            "tel:+447700900002",
            "tel:1410770",
            None,
        ]
    )
    ident, prefix = ce.strip_prefix(values, "GB")
    assert ident.tolist() == [V_TEL, V_TEL, "tel:141", V_TEL, "tel:1410770", None]
    assert prefix.tolist() == ["141", "1470", "", "", "", ""]


def test_window_pairs_agrees_with_brute_force():
    rng = np.random.default_rng(5)
    for _ in range(200):
        lk, rk = rng.integers(0, 3, 30), rng.integers(0, 3, 40)
        lt, rt = rng.integers(0, 10_000, 30), rng.integers(0, 10_000, 40)
        order = np.lexsort((rt, rk))
        i, j = ce.window_pairs(lk, lt, rk[order], rt[order], 700, 300)
        got = sorted(zip(i.tolist(), order[j].tolist(), strict=True))
        want = sorted(
            (a, b)
            for a in range(30)
            for b in range(40)
            if lk[a] == rk[b] and lt[a] - 700 <= rt[b] <= lt[a] + 300
        )
        assert got == want


def test_seconds_text_and_bad_params():
    assert seconds_text(187.25) == "3 min 7.2 s" and seconds_text(-0.04, signed=True) == "0.0 s"
    assert seconds_text(3725.0, signed=True) == "+1 h 2 min 5.0 s"
    for field, value in (
        ("window_s", 10),
        ("pair_tolerance_s", 0),
        ("min_pairs", 0),
        ("reference_exhibits", ("",)),
    ):
        with pytest.raises(ParamError):
            Params(**{field: value})


# ---------------------------------------------------------------- the synthetic case


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("clock") / "case"
    case, truth = synthetic_case(root, extended=True)
    doc = run_analyses(case, specs=(ANALYSIS,))[0]
    return case, truth, doc


def test_synthetic_fast_handset_clock_is_found(synthetic):
    case, truth, doc = synthetic
    planted = truth["clock_offset"]["offset_s"]
    offsets = pd.read_csv(case.root / doc["tables"]["offsets"]["path"], encoding="utf-8-sig")
    by = offsets.set_index("exhibit")
    for exhibit in truth["clock_offset"]["exhibits"]:  # DI/6 and DI/7, the same handset
        assert by.loc[exhibit, "status"] == "estimated"
        # Whole-second CDR times against millisecond handset times: about +0.5 s on top.
        assert abs(by.loc[exhibit, "offset_s"] - planted) < 1.5
        assert doc["counts"][f"offset_ms.{exhibit}"] == round(by.loc[exhibit, "offset_s"] * 1000)
    for exhibit in ("DI/2", "DI/5"):  # her phone keeps network time
        assert abs(by.loc[exhibit, "offset_s"]) < 1.0
    assert set(by.loc[by["status"] == "reference"].index) == {"DI/14", "DI/15"}
    assert set(by.loc[by["status"] == "not_estimated"].index) == {"DI/12", "DI/13"}  # before CDRs
    assert sorted(f["key"] for f in doc["findings"]) == sorted(
        ["clock_agreement.agrees"] * 2
        + ["clock_agreement.offset"] * 2
        + ["clock_agreement.not_estimated"] * 2
    )  # no drift, no second offset
    found = {f["values"]["exhibit"]: f for f in doc["findings"]}
    assert found["DI/7"]["key"] == "clock_agreement.offset"
    assert "3 min 7" in found["DI/7"]["text"] and "later than" in found["DI/7"]["text"]
    assert found["DI/2"]["key"] == "clock_agreement.agrees"


def test_synthetic_pairs_are_the_same_contacts(synthetic):
    case, truth, doc = synthetic
    pairs = pd.read_csv(case.root / doc["tables"]["pairs"]["path"], encoding="utf-8-sig")
    cdr = truth["telecoms"]["cdr"]
    handset = pairs.loc[pairs["exhibit"].isin(["DI/6", "DI/7"])]
    # Every handset record pairs with its own CDR row, and every one is paired.
    assert len(handset) == len(cdr["handset_pairs"])
    assert (
        dict(zip(handset["locator"], handset["reference_locator"], strict=True))
        == cdr["handset_pairs"]
    )
    log = pairs.loc[pairs["exhibit"] == "DI/2"]
    want = {loc: ref["locator"] for loc, ref in cdr["victim_log_pairs"].items()}
    assert dict(zip(log["locator"], log["reference_locator"], strict=True)) == want


def test_synthetic_findings_cite_the_paired_records(synthetic):
    case, _, doc = synthetic
    ev = load_events(case.root, columns=["event_id", "exhibit_ref"])
    exhibit = dict(zip(ev["event_id"], ev["exhibit_ref"], strict=True))
    (f,) = [f for f in doc["findings"] if f["values"].get("exhibit") == "DI/7"]
    assert {exhibit[e] for e in f["event_ids"]} == {"DI/7", "DI/14", "DI/15"}
    assert len(f["event_ids"]) == 2 * f["values"]["pairs"]
    assert json.loads(json.dumps(doc["counts"]))["exhibits_estimated"] == 4
