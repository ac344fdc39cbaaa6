"""Known-answer checks of frequency, contact_graph, both_ends and occasions: pass on the synthetic case,
fail when the method is broken (one re-run of the broken analysis in a copy of the case)."""

from __future__ import annotations

import pandas as pd
import pytest

from analyses import _both_ends_match, _frequency_counts, occasions
from analyses import contact_graph as contact_graph_module
from atlas._validate_checks import CHECKS
from atlas._validate_checks_contact import both_ends, contact_graph, frequency
from atlas._validate_checks_contact import occasions as occasions_check


def _by_test(checks) -> dict:  # noqa: ANN001 - a list of Check
    return {c.id.split(".")[2]: c for c in checks}


def test_the_four_checks_are_registered():
    for name in ("frequency", "contact_graph", "both_ends", "occasions"):
        assert name in CHECKS


# ---------------------------------------------------------------- frequency

def test_frequency_passes_on_the_synthetic_case(validation_scenario):
    got = _by_test(frequency(validation_scenario))
    assert all(c.status == "pass" for c in got.values()), [c.detail for c in got.values()]
    bursts = got["planted_bursts"]
    truth = validation_scenario.truth["bursts"]["episodes"]
    # every planted episode is either found or out of scope (sent from the unattributed new number)
    assert bursts.measures["found"] + bursts.measures["unattributed"] + bursts.measures["below_rule"] == len(truth)
    assert bursts.measures["found"] >= 5 and bursts.measures["missed"] == 0
    assert got["bursts_recount"].measures["spurious"] == 0 and got["bursts_recount"].measures["planted"] > 5
    assert got["stop_request"].observed["listed"] == 1
    attempts = validation_scenario.truth["suspect_handset"]["blocked_attempts"]["records"]
    assert got["after_block"].observed["from_blocked_number"] == len(attempts) > 0


def test_frequency_fails_when_bursts_stop_candidates_and_counts_after_a_mark_are_wrong(
        validation_scenario, rerun_analysis, monkeypatch, tmp_path):
    real_episodes, real_candidates, real_after = (_frequency_counts.episodes, _frequency_counts.stop_candidates,
                                                  _frequency_counts.after)
    monkeypatch.setattr(_frequency_counts, "episodes", lambda *a: real_episodes(*a)[:-1])  # the last burst lost
    monkeypatch.setattr(_frequency_counts, "stop_candidates", lambda *a: real_candidates(*a).iloc[:-1])

    def one_short(*a):  # noqa: ANN002, ANN202 - one contact from the blocked number lost after each mark
        out = real_after(*a)
        return {**out, "from_identifier": None if out["from_identifier"] is None else out["from_identifier"] - 1}
    monkeypatch.setattr(_frequency_counts, "after", one_short)
    good = _by_test(frequency(validation_scenario))
    sc2 = rerun_analysis(validation_scenario, "frequency", tmp_path)
    got = _by_test(frequency(sc2))
    assert got["planted_bursts"].status == "fail"
    assert got["planted_bursts"].observed == {"planted": good["planted_bursts"].observed["planted"],
                                              "found": good["planted_bursts"].observed["found"] - 1}
    assert got["bursts_recount"].status == "fail" and got["bursts_recount"].measures["missed"] >= 1
    assert got["stop_request"].status == "fail" and got["stop_request"].observed["listed"] == 0
    want = good["after_block"].observed["from_blocked_number"]
    assert got["after_block"].status == "fail" and got["after_block"].observed["from_blocked_number"] == want - 1


# ---------------------------------------------------------------- both_ends

def test_both_ends_passes_on_the_synthetic_case(validation_scenario):
    got = _by_test(both_ends(validation_scenario))
    assert all(c.status == "pass" for c in got.values()), [c.detail for c in got.values()]
    pairs = got["planted_pairs"]
    # his withheld call, and every new-number contact on her log that his handset holds
    assert pairs.observed["found"] == pairs.observed["planted"] > 200 and pairs.observed["spurious"] == 0
    assert got["decoys"].observed == {"decoys": 6, "paired": 0}


def test_both_ends_fails_when_the_tolerance_is_widened_and_sms_pairs_are_dropped(
        validation_scenario, rerun_analysis, monkeypatch, tmp_path):
    real_candidates, real_classify = _both_ends_match.candidates, _both_ends_match.classify
    # 30 s instead of 10 s: his abandoned withheld call to her 16 s before the one that is not his becomes a candidate
    monkeypatch.setattr(_both_ends_match, "candidates",
                        lambda recv, sent, tol, delay, dur: real_candidates(recv, sent, tol + 20, delay, dur))

    def without_handset_sms(cand, recv, sent):  # noqa: ANN001, ANN202 - the pairs with his SMS database lost
        kept = real_classify(cand, recv, sent)
        return kept.loc[kept["s_ex"] != "DI/6"]

    monkeypatch.setattr(_both_ends_match, "classify", without_handset_sms)
    sc2 = rerun_analysis(validation_scenario, "both_ends", tmp_path)
    got = _by_test(both_ends(sc2))
    sms = sum(ref["locator"].startswith("sqlite:sms")
              for line, ref in validation_scenario.truth["suspect_handset"]["victim_log_pairs"].items()
              if _sender(validation_scenario, line) == validation_scenario.truth["new_number"]["identifier"])
    planted = got["planted_pairs"]
    assert planted.status == "fail" and sms > 0
    assert planted.measures["missed"] >= sms and planted.observed["found"] <= planted.observed["planted"] - sms
    assert got["decoys"].status == "fail" and got["decoys"].observed["paired"] >= 1
    assert any("16 s before" in d for d in got["decoys"].detail)


def _sender(sc, line: str) -> str:  # noqa: ANN001 - a Scenario
    log = sc.truth["new_number"]["first_contact"]["file"]
    s = sc.store
    return s.loc[(s["source_path"] == log) & (s["locator"] == line), "sender"].iloc[0]


# ---------------------------------------------------------------- contact_graph

def test_contact_graph_passes_on_the_synthetic_case(validation_scenario):
    got = _by_test(contact_graph(validation_scenario))
    assert all(c.status == "pass" for c in got.values()), [c.detail for c in got.values()]
    assert got["edge_recount"].observed["equal"] == got["edge_recount"].observed["edges"] >= 10
    new = got["new_number"].observed
    assert new["node_unattributed"] and new["records_on_her_log"] == validation_scenario.truth["new_number"]["records"]
    assert got["planted_first_last"].measures["found"] == 2


def test_contact_graph_fails_when_her_call_log_is_left_out(validation_scenario, rerun_analysis, monkeypatch,
                                                            tmp_path):
    log = validation_scenario.exhibit(validation_scenario.truth["new_number"]["first_contact"]["file"])
    real = contact_graph_module._links
    monkeypatch.setattr(contact_graph_module, "_links",
                        lambda contacts, case: (lambda f: f.loc[f["exhibit_ref"] != log])(real(contacts, case)))
    sc2 = rerun_analysis(validation_scenario, "contact_graph", tmp_path)
    got = _by_test(contact_graph(sc2))
    s = validation_scenario.store
    log_edges = s.loc[(s["exhibit_ref"] == log) & s["kind"].isin(["call", "sms"])].groupby(
        ["sender", "channel", "direction"]).ngroups
    recount = got["edge_recount"]
    assert recount.status == "fail" and recount.measures["missed"] >= 1
    assert recount.observed["equal"] <= recount.observed["edges"] - min(log_edges, 2)
    assert got["new_number"].status == "fail" and got["new_number"].observed["records_on_her_log"] == 0
    first_last = got["planted_first_last"]
    assert first_last.status == "fail" and set(first_last.observed.values()) == {None}


# ---------------------------------------------------------------- occasions

def test_occasions_passes_on_the_synthetic_case(validation_scenario):
    (check,) = occasions_check(validation_scenario)
    assert check.status == "pass", check.detail
    assert check.observed["records"] > 1000 and check.observed["days"] > 100
    assert check.observed["first_is_planted_first"] and check.observed["last_date_is_planted_last_date"]


def test_occasions_fails_when_the_first_relevant_record_is_lost(validation_scenario, rerun_analysis,
                                                                 monkeypatch, tmp_path):
    real = occasions.relevant_records
    monkeypatch.setattr(occasions, "relevant_records", lambda *a: real(*a).iloc[1:].reset_index(drop=True))
    (good,) = occasions_check(validation_scenario)
    sc2 = rerun_analysis(validation_scenario, "occasions", tmp_path)
    (check,) = occasions_check(sc2)
    assert check.status == "fail"
    assert check.observed["records"] == good.observed["records"] - 1
    assert check.observed["first_is_planted_first"] is False
    assert pd.Timestamp(check.observed["first_utc"]) > pd.Timestamp(good.observed["first_utc"])


@pytest.mark.parametrize("name", ["frequency", "contact_graph", "both_ends", "occasions"])
def test_each_check_names_its_rates(validation_scenario, name):
    for c in CHECKS[name](validation_scenario):
        assert c.ratios and all(num in c.measures and den in c.measures for _, num, den in c.ratios), c.id
