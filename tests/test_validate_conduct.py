"""Known-answer checks of schedule, corroboration and coverage, and the report in the determinism check.

Each check passes on the shared seed-7 scenario, and fails with the expected figures when a
planted defect breaks the method (re-run in a copy of the case, never in the shared folder).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from analyses import _corroboration_findings, _schedule_tags
from analyses import coverage as coverage_module
from atlas import _report_docx
from atlas._validate_checks_conduct import corroboration, coverage, schedule
from atlas.validate import run


def _by_test(checks):
    return {c.id.split(".")[2]: c for c in checks}


# ---------------------------------------------------------------- corroboration

def test_corroboration_checks_pass_on_the_synthetic_case(validation_scenario):
    checks = _by_test(corroboration(validation_scenario))
    assert set(checks) == {"entry_status", "evidence_cited", "pointing_away_disclosed"}
    assert all(c.status == "pass" for c in checks.values()), [c.detail for c in checks.values()]
    status = checks["entry_status"]
    assert status.measures["planted"] == status.measures["agreed"] == 11
    assert status.measures["contradicted_agreed"] == 1 and status.measures["no_data_agreed"] == 1
    assert checks["evidence_cited"].observed == {"planted": 13, "cited": 13}
    assert checks["pointing_away_disclosed"].observed["marked"] == 1


def test_corroboration_without_location_findings_fails(validation_scenario, rerun_analysis, tmp_path, monkeypatch):
    # Planted defect: the suspect's location records are never reported for an entry.
    monkeypatch.setattr(_corroboration_findings, "location_findings", lambda *a, **k: ([], []))
    checks = _by_test(corroboration(rerun_analysis(validation_scenario, "corroboration", tmp_path)))
    assert all(c.status == "fail" for c in checks.values())
    # the visit entry of 7 September becomes no_data, and so does the contradicted one
    status = checks["entry_status"]
    assert status.measures["disagreed"] == 2 and status.measures["contradicted_agreed"] == 0
    assert any("line:15" in d and "reported no_data" in d for d in status.detail)
    # the four GPX fixes planted as evidence (visits 1, 3, 4 and the near miss) are not cited
    assert checks["evidence_cited"].observed == {"planted": 13, "cited": 9}
    assert checks["pointing_away_disclosed"].observed["marked"] == 0


def test_corroboration_pointing_away_not_marked_for_disclosure_fails(validation_scenario, rerun_analysis, tmp_path,
                                                                     monkeypatch):
    # Planted defect: the pointing-away finding loses its may_undermine mark.
    real = _corroboration_findings.location_findings

    def unmarked(*args, **kwargs):
        got, rows = real(*args, **kwargs)
        return [dataclasses.replace(f, values={k: v for k, v in f.values.items() if k != "disclosure"})
                for f in got], rows

    monkeypatch.setattr(_corroboration_findings, "location_findings", unmarked)
    checks = _by_test(corroboration(rerun_analysis(validation_scenario, "corroboration", tmp_path)))
    away = checks["pointing_away_disclosed"]
    assert away.status == "fail"
    assert away.observed == {"contradicted": 1, "marked": 0, "spurious": 0, "unmarked": 1}
    assert checks["entry_status"].status == checks["evidence_cited"].status == "pass"


# ---------------------------------------------------------------- schedule

def test_schedule_checks_pass_on_the_synthetic_case(validation_scenario):
    checks = _by_test(schedule(validation_scenario))
    assert set(checks) == {"visits_at_place", "near_miss", "planted_contacts"}
    assert all(c.status == "pass" for c in checks.values()), [c.detail for c in checks.values()]
    visits = checks["visits_at_place"]
    assert visits.measures["planted"] == visits.measures["found"] == 7
    assert visits.measures["fixes_expected"] == visits.measures["fixes_tagged"] > 50
    assert visits.measures["place_occasions"] >= 7 and visits.measures["spurious"] == 0
    assert checks["near_miss"].observed == {"near_miss_fixes": 13, "tagged_at_place": 0, "at_place_occasions": 0}
    contacts = checks["planted_contacts"]
    assert contacts.observed["tagged"] == contacts.observed["attributed"] > 100
    assert contacts.observed["unattributed"] > 50 and contacts.observed["unattributed_tagged"] == 0


def test_schedule_with_short_distances_and_unattributed_senders_fails(validation_scenario, rerun_analysis, tmp_path,
                                                                      monkeypatch):
    # Planted defects: distances a tenth of the truth (the near miss, ~775 m, looks 78 m away), and
    # contact records whose sender is attributed to no one counted as the suspect's.
    real_distance, real_contacts = _schedule_tags.terms.haversine_m, _schedule_tags.terms.contacts
    monkeypatch.setattr(_schedule_tags.terms, "haversine_m", lambda *a, **k: real_distance(*a, **k) / 10)

    def as_suspect(events, case):
        frame = real_contacts(events, case)
        return frame.assign(sender_person=frame["sender_person"].fillna("P1"))

    monkeypatch.setattr(_schedule_tags.terms, "contacts", as_suspect)
    checks = _by_test(schedule(rerun_analysis(validation_scenario, "schedule", tmp_path)))
    assert all(c.status == "fail" for c in checks.values())
    near = checks["near_miss"]
    assert near.observed["tagged_at_place"] == near.observed["near_miss_fixes"] == 13
    assert near.observed["at_place_occasions"] >= 1
    visits = checks["visits_at_place"]
    assert visits.observed["spurious_occasions"] > 0 and visits.observed["records_outside_visits"] > 0
    contacts = checks["planted_contacts"]
    assert contacts.observed["unattributed_tagged"] == contacts.observed["unattributed"] - 1  # all but her own


# ---------------------------------------------------------------- coverage

def test_coverage_checks_pass_on_the_synthetic_case(validation_scenario):
    checks = _by_test(coverage(validation_scenario))
    assert set(checks) == {"periods_and_gaps", "key_dates_in_gaps", "planted_periods"}
    assert all(c.status == "pass" for c in checks.values()), [c.detail for c in checks.values()]
    periods = checks["periods_and_gaps"]
    assert periods.measures["sources"] == periods.measures["sources_agreed"] > 15
    assert periods.measures["planted"] == periods.measures["found"] > 20
    assert checks["key_dates_in_gaps"].measures["found"] == checks["key_dates_in_gaps"].measures["planted"] > 5
    assert checks["planted_periods"].measures == {"planted": 2, "found": 2, "missed": 0}


def test_coverage_off_by_one_fails(validation_scenario, rerun_analysis, tmp_path, monkeypatch):
    # Planted defects: each source's last record is dropped, and a gap must be one day longer than asked.
    real = coverage_module._source

    def off_by_one(part, params):
        shorter = part.iloc[:-1] if len(part) > 1 else part
        return real(shorter, dataclasses.replace(params, gap_days=params.gap_days + 1))

    monkeypatch.setattr(coverage_module, "_source", off_by_one)
    checks = _by_test(coverage(rerun_analysis(validation_scenario, "coverage", tmp_path)))
    assert all(c.status == "fail" for c in checks.values())
    periods = checks["periods_and_gaps"]
    assert periods.observed["sources_agreed"] < periods.expected["sources"]
    assert periods.measures["missed"] > 0
    assert any("last_utc" in d for d in periods.detail)
    assert checks["key_dates_in_gaps"].measures["missed"] > 0
    assert checks["planted_periods"].measures["found"] < 2


# ---------------------------------------------------------------- determinism covers the report

def test_a_report_date_from_the_clock_fails_the_determinism_check(monkeypatch):
    # Planted nondeterminism: the statement DOCX's core-properties dates taken from a clock.
    ticks = iter(range(1000))

    class Clock(dt.datetime):
        @classmethod
        def combine(cls, *args, **kwargs):
            return dt.datetime.combine(*args, **kwargs) + dt.timedelta(seconds=next(ticks))

    monkeypatch.setattr(_report_docx, "dt", type("dt", (), {"datetime": Clock, "time": dt.time, "UTC": dt.UTC}))
    outcome = run(None, seeds=(7,), only=("coverage", "determinism"))
    (t,) = [t for t in outcome.document["tests"] if t["id"] == "pipeline.determinism.seed7"]
    assert t["status"] == "fail"
    assert t["detail"] and all(d.startswith("report/statement.docx") for d in t["detail"]), t["detail"]
    assert t["observed"]["identical"] == t["observed"]["files"] - 1
    assert t["measures"]["report_files"] >= 3
