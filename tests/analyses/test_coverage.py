"""Coverage: periods, daily presence in UK local dates, gaps with exact dates, synthetic case."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tomllib
from pathlib import Path

import pytest

from analyses import coverage
from atlas.analysis import TEMPLATES, run_analyses
from atlas.case import Analyst, Case, KeyDate
from atlas.errors import ParamError
from atlas.ingest import ingest_file
from atlas.store import load_events
from tests.analyses.helpers import events, synthetic_case

FORBIDDEN = ("stalking", "course of conduct", "breach", "harassment", "was at", "proves", "visited")


def _case(root: Path, key_dates: tuple[KeyDate, ...] = ()) -> Case:
    return Case(root=root, urn="01AB2345678", analyst=Analyst("Dana Irving", "Analyst", "", "DI"),
                key_dates=key_dates)


def _gap_fixture():
    """AB/1 messages daily 1-10 June and 21-25 June 2024 (a planted 10-day gap); AB/2 fixes every day.

    The first record after the gap is at 23:30 UTC on 20 June, which is 00:30 BST on 21 June: in UK
    local dates the gap is 11-20 June (10 days); read as UTC dates it would wrongly end on 19 June.
    """
    rows = [{"kind": "sms", "timestamp_utc": f"2024-06-{d:02d} 09:00"} for d in range(1, 11)]
    rows.append({"kind": "sms", "timestamp_utc": "2024-06-20 23:30"})
    rows += [{"kind": "sms", "timestamp_utc": f"2024-06-{d:02d} 09:00"} for d in range(22, 26)]
    rows += [{"kind": "location_fix", "timestamp_utc": f"2024-06-{d:02d} 12:00", "exhibit_ref": "AB/2",
              "source_path": "exhibits/fixes.gpx", "latitude": 53.8, "longitude": -1.5} for d in range(1, 26)]
    rows.append({"kind": "contact", "timestamp_utc": None, "exhibit_ref": "AB/1"})
    return events(rows)


def test_planted_ten_day_gap_found_with_exact_dates(tmp_path):
    frame = _gap_fixture()
    mid = KeyDate(kind="warned", at=dt.datetime(2024, 6, 15, 18, 0, tzinfo=dt.UTC), note="Warning")
    result = coverage.run(frame, _case(tmp_path, (mid,)), coverage.Params())
    gaps = result.tables["gaps"]
    assert list(gaps.columns) == list(coverage.GAP_COLUMNS)
    assert len(gaps) == 1
    gap = gaps.iloc[0]
    assert (gap["source"], gap["gap_start"], gap["gap_end"], gap["days"]) == (
        "AB/1 communications", "2024-06-11", "2024-06-20", 10)
    assert (gap["last_before_event"], gap["first_after_event"]) == tuple(frame["event_id"].iloc[[9, 10]])
    assert gap["first_after_utc"].isoformat() == "2024-06-20T23:30:00+00:00"
    found = [f for f in result.findings if f.key == "coverage.gap"]
    assert len(found) == 1 and found[0].event_ids == tuple(frame["event_id"].iloc[[9, 10]])
    assert (found[0].values["gap_start_text"], found[0].values["gap_end_text"]) == (
        "Tuesday 11 June 2024", "Thursday 20 June 2024")
    in_gap = [f for f in result.findings if f.key == "coverage.key_date_in_gap"]
    assert [(f.values["source"], f.values["date"]) for f in in_gap] == [("AB/1 communications", "2024-06-15")]
    keys = result.tables["key_dates"].set_index("source")["status"].to_dict()
    assert keys == {"AB/1 communications": "in_gap", "AB/2 location": "records_on_date"}
    sources = result.tables["sources"].set_index("source")
    assert sources.loc["AB/1 communications", ["events", "first_date", "last_date", "days_in_period",
                                               "days_with_records", "gaps", "days_in_gaps"]].tolist() == [
        15, "2024-06-01", "2024-06-25", 25, 15, 1, 10]
    assert sources.loc["AB/2 location", "gaps"] == 0
    periods = [f for f in result.findings if f.key == "coverage.period"]
    assert periods[0].event_ids == tuple(frame["event_id"].iloc[[0, 14]])
    assert result.counts == {"events_considered": 40, "undated_excluded": 1, "sources": 2, "gaps": 1}


def test_threshold_is_inclusive(tmp_path):
    frame = _gap_fixture()
    assert len(coverage.run(frame, _case(tmp_path), coverage.Params(gap_days=10)).tables["gaps"]) == 1
    assert len(coverage.run(frame, _case(tmp_path), coverage.Params(gap_days=11)).tables["gaps"]) == 0


def test_daily_presence_uses_uk_local_dates_across_clock_changes(tmp_path):
    frame = events([
        {"kind": "call", "timestamp_utc": "2024-03-30 12:00"},   # Sat 30 Mar, GMT
        {"kind": "call", "timestamp_utc": "2024-03-31 23:30"},   # 00:30 BST on Mon 1 Apr
        {"kind": "call", "timestamp_utc": "2024-10-26 23:30"},   # 00:30 BST on Sun 27 Oct
        {"kind": "call", "timestamp_utc": "2024-10-27 23:30"},   # 23:30 GMT on Sun 27 Oct
        {"kind": "call", "timestamp_utc": "2024-10-28 00:30"},   # 00:30 GMT on Mon 28 Oct
    ])
    result = coverage.run(frame, _case(tmp_path), coverage.Params(gap_days=1))
    daily = result.tables["daily"].set_index("date")["AB/1 communications"]
    assert daily[["2024-03-30", "2024-03-31", "2024-04-01"]].tolist() == [1, 0, 1]
    assert daily[["2024-10-26", "2024-10-27", "2024-10-28"]].tolist() == [0, 2, 1]
    assert len(daily) == (dt.date(2024, 10, 28) - dt.date(2024, 3, 30)).days + 1
    gaps = result.tables["gaps"][["gap_start", "gap_end", "days"]].values.tolist()
    assert gaps == [["2024-03-31", "2024-03-31", 1], ["2024-04-02", "2024-10-26", 208]]


def test_sources_split_by_file_and_kind_group(tmp_path):
    frame = events([
        {"kind": "sms", "timestamp_utc": "2024-05-01 10:00", "source_path": "exhibits/a.csv"},
        {"kind": "sms", "timestamp_utc": "2024-05-02 10:00", "source_path": "exhibits/b.csv"},
        {"kind": "location_fix", "timestamp_utc": "2024-05-02 11:00", "source_path": "exhibits/b.csv"},
    ])
    result = coverage.run(frame, _case(tmp_path), coverage.Params())
    assert result.tables["sources"]["source"].tolist() == [
        "AB/1 communications (a.csv)", "AB/1 communications (b.csv)", "AB/1 location (b.csv)"]
    assert list(result.tables["daily"].columns) == ["date", *result.tables["sources"]["source"]]


def test_empty_store_gives_empty_tables(tmp_path):
    result = coverage.run(events([]), _case(tmp_path), coverage.Params())
    assert result.findings == () and result.tables["sources"].empty and result.tables["gaps"].empty


def test_params_and_wording():
    with pytest.raises(ParamError):
        coverage.Params(gap_days=0)
    words = tomllib.loads((TEMPLATES / "coverage.toml").read_text(encoding="utf-8"))
    assert {"coverage.period", "coverage.gap", "coverage.key_date_in_gap"} <= set(words["findings"])
    assert set(coverage.LIMITATIONS) <= set(words["limitations"])
    assert "not evidence of an absence of contact" in words["findings"]["coverage.gap"]
    assert not [w for w in FORBIDDEN if w in json.dumps(words).lower()]


GAP_CHAT = "exhibits/gap_chat.txt"


def _planted_chat(root: Path) -> None:
    """Write a WhatsApp export with messages daily 1-9 Oct 2024 and 20-24 Oct: no records 10-19 Oct."""
    days = [*range(1, 10), *range(20, 25)]
    lines = [f"{d:02d}/10/2024, 20:15 - Dan: Message {n}" for n, d in enumerate(days, start=1)]
    (root / GAP_CHAT).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("synthetic") / "case"
    case, truth = synthetic_case(root)
    _planted_chat(root)
    ingest_file(case, root / GAP_CHAT, "DI/5", fmt="whatsapp_txt")
    return case, truth


def test_synthetic_case_end_to_end(synthetic):
    case, truth = synthetic
    (doc,) = run_analyses(case, specs=(coverage.ANALYSIS,))
    stored = load_events(case.root)
    periods = {f["values"]["source"]: f for f in doc["findings"] if f["key"] == "coverage.period"}
    counts = truth["counts"]
    assert periods["DI/1 communications"]["values"]["events"] == counts["whatsapp_messages"]
    assert periods["DI/2 communications"]["values"]["events"] == counts["table_rows"]
    assert periods["DI/3 location"]["values"]["events"] == counts["suspect_gps_points"]
    assert periods["DI/4 location"]["values"]["events"] == counts["victim_gps_points"]
    for ref, group in (("DI/1", "communications"), ("DI/2", "communications"), ("DI/3", "location"),
                       ("DI/4", "location")):
        part = stored[(stored["exhibit_ref"] == ref) & stored["kind"].isin(coverage.KIND_GROUPS[group])]
        values = periods[f"{ref} {group}"]["values"]
        assert (values["first_utc"], values["last_utc"]) == (part["timestamp_utc"].min().isoformat(),
                                                             part["timestamp_utc"].max().isoformat())
    gaps = [f for f in doc["findings"] if f["key"] == "coverage.gap"]
    planted = [g for g in gaps if g["values"]["exhibit_ref"] == "DI/5"]
    assert [(g["values"]["gap_start"], g["values"]["gap_end"], g["values"]["days"]) for g in planted] == [
        ("2024-10-10", "2024-10-19", 10)]
    chat = stored[stored["exhibit_ref"] == "DI/5"].reset_index(drop=True)
    assert planted[0]["event_ids"] == chat["event_id"].iloc[[8, 9]].tolist()
    # The daily GPS tracks have no gap; every other gap reported is a true run of empty local dates.
    assert not [g for g in gaps if g["values"]["exhibit_ref"] in ("DI/3", "DI/4")]
    import csv

    with open(case.root / "results" / "coverage" / "daily.csv", encoding="utf-8-sig", newline="") as fh:
        daily = {r["date"]: r for r in csv.DictReader(fh)}
    for g in gaps:
        start = dt.date.fromisoformat(g["values"]["gap_start"])
        span = [(start + dt.timedelta(days=i)).isoformat() for i in range(-1, g["values"]["days"] + 1)]
        column = [int(daily[d][g["values"]["source"]]) for d in span]
        assert column[0] > 0 and column[-1] > 0 and not any(column[1:-1])
        assert g["values"]["days"] >= 3
    for f in doc["findings"]:
        assert f["text"] and not [w for w in FORBIDDEN if w in f["text"].lower()]


def test_synthetic_results_byte_identical(synthetic):
    case, _truth = synthetic
    digests = []
    for _ in range(2):
        run_analyses(case, specs=(coverage.ANALYSIS,))
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                        for p in sorted((case.root / "results").rglob("*")) if p.is_file()})
    assert digests[0] == digests[1] and "coverage.png" in digests[0]
