"""Known-answer checks of schedule, corroboration and coverage against the synthetic case's ground truth.

Same contract as ``atlas._validate_checks`` (read its docstring): each function takes the
``Scenario`` and returns a list of ``Check``; ``CHECKS`` maps analysis name to function and is
merged into ``atlas._validate_checks.CHECKS``.

Expected values come from ``ground_truth.json`` or from a plain pandas recomputation over the
stored events (``sc.store``), never from the analysis' own functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from atlas._validate_record import DETECTION, Check
from atlas._validate_scenario import Scenario

UK = "Europe/London"
EARTH_M = 6_371_008.8
"""Mean Earth radius for the haversine distance of the independent recomputation."""


def _uk_date(t: Any) -> str:
    """Return the UK local calendar date (ISO) of a UTC time."""
    return pd.Timestamp(t).tz_convert(UK).date().isoformat()


def _haversine_m(lat: pd.Series, lon: pd.Series, lat0: float, lon0: float) -> pd.Series:
    """Return the great-circle distance in metres from each point to (lat0, lon0)."""
    p1, p2 = np.radians(lat.astype(float)), np.radians(lat0)
    dlat, dlon = p2 - p1, np.radians(lon0 - lon.astype(float))
    a = np.sin(dlat / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dlon / 2) ** 2
    return pd.Series(2 * EARTH_M * np.arcsin(np.sqrt(a)), index=lat.index)


# ---------------------------------------------------------------- corroboration

STATUS_OF = {"corroborated": "data_in_window", "no_data": "no_data", "contradicted": "data_pointing_away"}
"""Ground truth's expected status of a diary entry -> the status the analysis reports."""


def corroboration(sc: Scenario) -> list[Check]:
    """Per diary entry: status as planted, planted evidence cited, the pointing-away entry marked for disclosure."""
    from atlas.store import load_rejections

    diary = sc.truth["diary"]
    exhibit = sc.exhibit(diary["file"])
    findings = sc.docs["corroboration"]["findings"]
    entries = {f["values"]["locator"]: f for f in findings
               if f["key"] == "corroboration.entry" and f["values"].get("exhibit_ref") == exhibit}
    planted = diary["entries"]
    out = [_entry_status(sc, planted, entries, exhibit, len(load_rejections(sc.root, [exhibit])))]
    out.append(_evidence_cited(sc, planted, entries, findings))
    out.append(_pointing_away(sc, planted, entries, findings))
    return out


def _entry_status(sc: Scenario, planted: list[dict[str, Any]], entries: dict[str, dict[str, Any]], exhibit: str,
                  rejected: int) -> Check:
    """Each planted entry's reported status equals its expected status; no entry invented; none rejected."""
    measures: dict[str, int] = {"planted": len(planted), "agreed": 0, "disagreed": 0, "missing": 0}
    for status in STATUS_OF:
        measures[status] = sum(e["expected_status"] == status for e in planted)
        measures[f"{status}_agreed"] = 0
    expected, observed, detail = {}, {}, []
    for e in planted:
        want = STATUS_OF[e["expected_status"]]
        got = entries.get(e["locator"], {}).get("values", {}).get("status")
        expected[e["locator"]], observed[e["locator"]] = want, got
        if got is None:
            measures["missing"] += 1
            detail.append(f"{e['locator']} ({e['lead']}): no entry reported")
        elif got == want:
            measures["agreed"] += 1
            measures[f"{e['expected_status']}_agreed"] += 1
        else:
            measures["disagreed"] += 1
            detail.append(f"{e['locator']} ({e['lead']}): reported {got}, planted {want}")
    invented = sorted(set(entries) - {e["locator"] for e in planted})
    detail += [f"{loc}: entry reported but not planted in the diary" for loc in invented]
    if rejected:
        detail.append(f"{exhibit}: {rejected} diary record(s) rejected at ingest; the generator planted none")
    measures |= {"invented": len(invented), "rejected": rejected}
    ratios = (("status agreed", "agreed", "planted"), ("status disagreed", "disagreed", "planted"),
              *((f"{s} entries agreed", f"{s}_agreed", s) for s in STATUS_OF))
    return sc.check(
        "corroboration", "entry_status",
        f"each planted diary entry ({exhibit}) is reported with the status the generator planted for it "
        "(corroborated = data_in_window, no data = no_data, contradicted = data_pointing_away); no entry is "
        "reported that the diary does not hold, and no diary record is rejected at ingest",
        expected, observed, not detail and bool(planted), measures, ratios, detail)


def _by_entry(findings: list[dict[str, Any]], entry_id: str) -> list[dict[str, Any]]:
    return [f for f in findings if f["key"] != "corroboration.entry"
            and f["values"].get("entry_event_id") == entry_id]


def _evidence_cited(sc: Scenario, planted: list[dict[str, Any]], entries: dict[str, dict[str, Any]],
                    findings: list[dict[str, Any]]) -> Check:
    """The planted evidence records of each entry are cited by that entry's findings of the expected status."""
    n = found = 0
    detail = []
    for e in planted:
        if not e["evidence"]:
            continue
        want = STATUS_OF[e["expected_status"]]
        entry = entries.get(e["locator"])
        cited = set()
        if entry is not None:
            cited = {i for f in _by_entry(findings, entry["event_ids"][0]) if f["values"].get("status") == want
                     for i in f["event_ids"]}
        for ref, eid in zip(e["evidence"], sc.ids_at(e["evidence"]), strict=True):
            n += 1
            if eid in cited:
                found += 1
            else:
                detail.append(f"{e['locator']} ({e['lead']}): {ref['file']} {ref['locator']} not cited by a "
                              f"'{want}' finding of the entry")
    return sc.check(
        "corroboration", "evidence_cited",
        "every record the generator planted as an entry's evidence (the break-up, stop request, blocks, first "
        "call from the new number, visit fixes, alias follow, threats, e-mail; the near-miss fix for the "
        "contradicted entry) is cited by that entry's findings of the planted status",
        {"planted": n, "cited": n}, {"planted": n, "cited": found}, bool(n) and found == n,
        {"planted": n, "found": found, "missed": n - found}, DETECTION, detail)


def _pointing_away(sc: Scenario, planted: list[dict[str, Any]], entries: dict[str, dict[str, Any]],
                   findings: list[dict[str, Any]]) -> Check:
    """The contradicted entry has a pointing-away finding marked may_undermine; no other entry has one."""
    away = [f for f in findings if f["values"].get("status") == "data_pointing_away"
            and f["key"] != "corroboration.entry"]
    want = {entries[e["locator"]]["event_ids"][0]: e for e in planted
            if e["expected_status"] == "contradicted" and e["locator"] in entries}
    n = sum(e["expected_status"] == "contradicted" for e in planted)
    marked, detail = 0, []
    for entry_id, e in want.items():
        mine = [f for f in away if f["values"].get("entry_event_id") == entry_id]
        if mine and all(f["values"].get("disclosure") == "may_undermine" for f in mine):
            marked += 1
        else:
            detail.append(f"{e['locator']} ({e['lead']}): {len(mine)} pointing-away finding(s), disclosure "
                          f"{[f['values'].get('disclosure') for f in mine]}")
    spurious = [f for f in away if f["values"].get("entry_event_id") not in want]
    unmarked = [f for f in away if f["values"].get("disclosure") != "may_undermine"]
    detail += [f"entry {f['values'].get('entry')}: pointing-away finding on an entry planted as not contradicted"
               for f in spurious]
    return sc.check(
        "corroboration", "pointing_away_disclosed",
        "the entry the data contradicts (the near miss: his device about 770 m or more from her home) has a "
        "pointing-away finding with values.disclosure = 'may_undermine'; no other entry has a pointing-away "
        "finding, and every pointing-away finding is so marked",
        {"contradicted": n, "marked": n, "spurious": 0, "unmarked": 0},
        {"contradicted": n, "marked": marked, "spurious": len(spurious), "unmarked": len(unmarked)},
        bool(n) and marked == n and not spurious and not unmarked,
        {"planted": n, "found": marked, "missed": n - marked, "spurious": len(spurious),
         "away_findings": len(away)},
        (*DETECTION, ("spurious per pointing-away finding", "spurious", "away_findings")), detail)


# ---------------------------------------------------------------- schedule

VISIT_MARGIN = pd.Timedelta(minutes=10)
"""A location record tagged at a victim's place within this of a planted visit belongs to it (the Google
location history adds records a minute or so either side of the GPX run)."""
EDGE_M = 1.0
"""Fixes within this of the place radius (d + r = R) are left out of the independent comparison."""


def schedule(sc: Scenario) -> list[Check]:
    """Visits tagged at the victim's place, nothing else so tagged (the near miss neither); planted contacts tagged."""
    doc = sc.docs["schedule"]
    records = sc.table("schedule", "records")
    records["tag_list"] = records["tags"].map(_tags)
    occasions = sc.table("schedule", "schedule")
    occasions["tag_list"] = occasions["tags"].map(_tags)
    at_place = records[records["tag_list"].map(lambda t: "at_place" in t)]
    return [_visits_at_place(sc, doc, at_place, occasions), _near_miss(sc, at_place, occasions),
            _planted_contacts(sc, records, occasions)]


def _tags(cell: Any) -> list[str]:
    """Return the tags of a schedule table cell ("contact; at_place")."""
    return [t.strip() for t in str(cell).split(";")] if isinstance(cell, str) else []


def _visits_at_place(sc: Scenario, doc: dict[str, Any], at_place: pd.DataFrame, occasions: pd.DataFrame) -> Check:
    """Every planted visit's qualifying fixes are tagged at_place on occasions so tagged; no at_place elsewhere."""
    from fixtures import synthetic

    truth = sc.truth
    gpx = sc.exhibit(synthetic.SUSPECT_GPX)
    home = truth["places"]["victim_home"]
    assumed = float(doc["params"]["assumed_accuracy_m"])
    tagged_ids = set(at_place["event_id"])
    place_occ = occasions[occasions["tag_list"].map(lambda t: "at_place" in t)]
    place_dates = set(place_occ["date_uk"])
    s = sc.store
    found, detail, windows, visit_dates = 0, [], [], set()
    fixes_expected = fixes_tagged = 0
    for v in truth["visits"]:
        start, end = pd.Timestamp(v["start_utc"]), pd.Timestamp(v["end_utc"])
        windows.append((start - VISIT_MARGIN, end + VISIT_MARGIN))
        radius = float(v["at_home_radius"]["radius_m"])
        fx = s[(s["exhibit_ref"] == gpx) & (s["timestamp_utc"] >= start) & (s["timestamp_utc"] <= end)]
        reach = _haversine_m(fx["latitude"], fx["longitude"], home["lat"], home["lon"]) \
            + fx["accuracy_m"].astype(float).fillna(assumed)
        inside = fx[reach <= radius - EDGE_M]
        dates = {_uk_date(t) for t in inside["timestamp_utc"]}
        visit_dates |= {_uk_date(start - VISIT_MARGIN), _uk_date(end + VISIT_MARGIN)}
        hit = inside["event_id"].isin(tagged_ids)
        fixes_expected += len(inside)
        fixes_tagged += int(hit.sum())
        problems = []
        if inside.empty:
            problems.append("no GPX fix within the home radius (d + r <= R) to test")
        if not hit.all():
            problems.append(f"{int((~hit).sum())} of {len(inside)} fixes within the radius not tagged at_place")
        if dates - place_dates:
            problems.append(f"no occasion tagged at_place on {', '.join(sorted(dates - place_dates))}")
        if problems:
            detail.append(f"visit {v['index']} (night of {v['night_of']}): " + "; ".join(problems))
        else:
            found += 1
    outside = at_place[~pd.to_datetime(at_place["timestamp_utc"], utc=True, format="ISO8601").map(
        lambda t: any(a <= t <= b for a, b in windows))]
    spurious_occ = place_occ[~place_occ["date_uk"].isin(visit_dates)]
    detail += [f"occasion {r.occasion} ({r.date_uk}) tagged at_place: no planted visit that night"
               for r in spurious_occ.itertuples(index=False)]
    detail += [f"{r.exhibit_ref} {r.locator} ({r.timestamp_utc}) tagged at_place outside every planted visit"
               for r in outside.itertuples(index=False)]
    n = len(truth["visits"])
    return sc.check(
        "schedule", "visits_at_place",
        f"each planted visit to the victim's home: every suspect GPX fix ({gpx}) of the visit within the home "
        f"radius allowing for its uncertainty (d + r <= R, recomputed by haversine; {EDGE_M:.0f} m edge left out) "
        "is tagged at_place and its UK dates are occasions tagged at_place; no at_place occasion or record "
        "outside a planted visit",
        {"planted": n, "found": n, "spurious_occasions": 0, "records_outside_visits": 0},
        {"planted": n, "found": found, "spurious_occasions": len(spurious_occ), "records_outside_visits": len(outside)},
        found == n and bool(n) and spurious_occ.empty and outside.empty,
        {"planted": n, "found": found, "missed": n - found, "spurious": len(spurious_occ),
         "place_occasions": len(place_occ), "fixes_expected": fixes_expected, "fixes_tagged": fixes_tagged,
         "records_outside_visits": len(outside)},
        (*DETECTION, ("spurious per at_place occasion", "spurious", "place_occasions"),
         ("visit fixes tagged", "fixes_tagged", "fixes_expected")), detail)


def _near_miss(sc: Scenario, at_place: pd.DataFrame, occasions: pd.DataFrame) -> Check:
    """The near miss (~775 m away) makes no at_place record and no at_place occasion."""
    near, google = sc.truth["near_miss"], sc.truth["google_records"]
    start, end = pd.Timestamp(near["start_utc"]), pd.Timestamp(near["end_utc"])
    # The near miss is planted in the suspect's GPX track and, inside its period, in his Google
    # location history.
    ids = {e for file in (near["first"]["file"], google["file"])
           for e in sc.ids_between(sc.exhibit(file), near["start_utc"], near["end_utc"])}
    leaked = int(at_place["event_id"].isin(ids).sum())
    dates = {_uk_date(start), _uk_date(end)}
    tagged_days = occasions[occasions["date_uk"].isin(dates) & occasions["tag_list"].map(lambda t: "at_place" in t)]
    n_fixes = len(ids)
    detail = [f"{leaked} record(s) of the near miss tagged at_place"] if leaked else []
    detail += [f"occasion {r.occasion} ({r.date_uk}) tagged at_place" for r in tagged_days.itertuples(index=False)]
    return sc.check(
        "schedule", "near_miss",
        f"the planted near miss ({near['min_distance_m']:.0f}-{near['max_distance_m']:.0f} m from the victim's "
        f"home on the night of {near['night_of']}; suspect GPX and Google location history) gives no record "
        "tagged at_place and no occasion on its UK date(s) tagged at_place",
        {"near_miss_fixes": n_fixes, "tagged_at_place": 0, "at_place_occasions": 0},
        {"near_miss_fixes": n_fixes, "tagged_at_place": leaked, "at_place_occasions": len(tagged_days)},
        bool(n_fixes) and not detail,
        {"near_miss_fixes": n_fixes, "reported": leaked, "nights": 1, "nights_tagged": int(bool(len(tagged_days)))},
        (("near-miss fixes tagged at_place", "reported", "near_miss_fixes"),
         ("near-miss nights tagged at_place", "nights_tagged", "nights")), detail)


def _sender(r: dict[str, Any]) -> str | None:
    """Return a planted record's sender identifier (WhatsApp display name, or the number; None if withheld)."""
    if "identifier" in r or "number" in r:
        return r.get("identifier")
    return f"name:whatsapp:{r['sender']}" if r.get("sender") else None


def _planted_contacts(sc: Scenario, records: pd.DataFrame, occasions: pd.DataFrame) -> Check:
    """Planted contacts from attributed identifiers tagged contact on their UK date; unattributed ones not."""
    t = sc.truth
    ids = t["identifiers"]
    attributed = {ids["suspect_original"], ids["suspect_whatsapp_name"]}
    if t["new_number"]["attributed_in_case"]:
        attributed.add(t["new_number"]["identifier"])
    refs = [*t["threats"], *t["contacts_after_service"]["records"], t["new_number"]["first_contact"],
            *(c for v in t["visits"] for c in v["contacts_during"]), *t["withheld_calls"], t["stop_request"]]
    seen, planted = set(), []
    for r in refs:
        if (r["file"], r["locator"]) not in seen:
            seen.add((r["file"], r["locator"]))
            planted.append(r)
    contact = records[records["tag_list"].map(lambda x: "contact" in x)].set_index("event_id")
    occ_tags = dict(zip(occasions["occasion"], occasions["tag_list"], strict=True))
    occ_date = dict(zip(occasions["occasion"], occasions["date_uk"], strict=True))
    want_n = found = spurious = unattributed = 0
    detail = []
    for r, eid in zip(planted, sc.ids_at(planted), strict=True):
        sender = _sender(r)
        if sender in attributed:
            want_n += 1
            if eid not in contact.index:
                detail.append(f"{r['file']} {r['locator']} from {sender}: not tagged contact")
                continue
            occ = contact.loc[eid, "occasion"]
            occ = occ.iloc[0] if isinstance(occ, pd.Series) else occ
            if "contact" in occ_tags.get(occ, []) and occ_date.get(occ) == _uk_date(r["utc"]):
                found += 1
            else:
                detail.append(f"{r['file']} {r['locator']}: on occasion {occ} ({occ_date.get(occ)}), expected an "
                              f"occasion tagged contact on {_uk_date(r['utc'])}")
        else:
            unattributed += 1
            if eid in contact.index:
                spurious += 1
                detail.append(f"{r['file']} {r['locator']} from {sender or 'a withheld number'}"
                              f"{' (the complainant)' if sender == ids['victim_whatsapp_name'] else ''}: tagged "
                              "contact, but its sender is not attributed to the suspect in case.toml")
    return sc.check(
        "schedule", "planted_contacts",
        "each planted contact (threats, contacts after service, the new number's first call, messages during "
        "visits) sent from an identifier case.toml attributes to the suspect is tagged contact, on an occasion "
        "tagged contact on its UK date; those from the unattributed new number, withheld calls and the "
        "complainant's own stop request are not tagged contact",
        {"attributed": want_n, "tagged": want_n, "unattributed": unattributed, "unattributed_tagged": 0},
        {"attributed": want_n, "tagged": found, "unattributed": unattributed, "unattributed_tagged": spurious},
        bool(want_n) and found == want_n and not spurious,
        {"planted": want_n, "found": found, "missed": want_n - found, "not_attributed": unattributed,
         "spurious": spurious},
        (*DETECTION, ("unattributed tagged contact", "spurious", "not_attributed")), detail)


# ---------------------------------------------------------------- coverage

KIND_GROUPS = {
    "communications": {"call", "sms", "mms", "chat_message", "email", "social_post", "social_interaction"},
    "location": {"location_fix", "location_visit", "cell_event", "anpr_read"},
}
"""The kind groups docs/analyses/coverage.md states (any other kind is 'other')."""


def _recompute(store: pd.DataFrame, gap_days: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return each source's events, first and last record, and its gaps, recomputed with plain pandas."""
    s = store[store["timestamp_utc"].notna()]
    group = pd.Series("other", index=s.index)
    for name, kinds in KIND_GROUPS.items():
        group[s["kind"].isin(kinds)] = name
    s = s.assign(kind_group=group, day=s["timestamp_utc"].dt.tz_convert(UK).dt.date)
    rows, gaps = [], []
    for (ex, path, kg), part in s.groupby(["exhibit_ref", "source_path", "kind_group"]):
        rows.append({"exhibit_ref": ex, "source_path": path, "kind_group": kg, "events": len(part),
                     "first_utc": part["timestamp_utc"].min(), "last_utc": part["timestamp_utc"].max()})
        days = sorted(set(part["day"]))
        for a, b in zip(days, days[1:], strict=False):
            empty = (b - a).days - 1
            if empty >= gap_days:
                gaps.append({"exhibit_ref": ex, "source_path": path, "kind_group": kg,
                             "gap_start": (a + pd.Timedelta(days=1)).isoformat(),
                             "gap_end": (b - pd.Timedelta(days=1)).isoformat(), "days": empty})
    return pd.DataFrame(rows), pd.DataFrame(gaps, columns=["exhibit_ref", "source_path", "kind_group", "gap_start",
                                                          "gap_end", "days"])


def coverage(sc: Scenario) -> list[Check]:
    """Sources' periods and gaps, key dates in gaps, and the periods the generator planted."""
    doc = sc.docs["coverage"]
    gap_days = int(doc["params"]["gap_days"])
    want_src, want_gaps = _recompute(sc.store, gap_days)
    got_src, got_gaps = sc.table("coverage", "sources"), sc.table("coverage", "gaps")
    return [_periods_and_gaps(sc, gap_days, want_src, want_gaps, got_src, got_gaps),
            _key_dates_in_gaps(sc, want_src, want_gaps),
            _planted_periods(sc, got_src)]


KEY = ["exhibit_ref", "source_path", "kind_group"]


def _periods_and_gaps(sc: Scenario, gap_days: int, want_src: pd.DataFrame, want_gaps: pd.DataFrame,
                      got_src: pd.DataFrame, got_gaps: pd.DataFrame) -> Check:
    """Each source's record count, first and last record, and each gap equal the recomputation."""
    got = {tuple(r[k] for k in KEY): r for r in got_src.to_dict("records")}
    detail, agreed = [], 0
    for w in want_src.to_dict("records"):
        key = tuple(w[k] for k in KEY)
        g = got.get(key)
        if g is None:
            detail.append(f"{' '.join(key)}: source not reported")
            continue
        diffs = [f"{k} {g[k]} (recomputed {w[k]})" for k in ("events", "first_utc", "last_utc")
                 if (pd.Timestamp(g[k]) != w[k] if k != "events" else int(g[k]) != w[k])]
        if diffs:
            detail.append(f"{key[0]} {key[2]} ({key[1]}): " + "; ".join(diffs))
        else:
            agreed += 1
    extra = set(got) - {tuple(w[k] for k in KEY) for w in want_src.to_dict("records")}
    detail += [f"{' '.join(k)}: reported source not in the store" for k in sorted(extra)]
    cols = [*KEY, "gap_start", "gap_end", "days"]

    def as_set(frame: pd.DataFrame) -> set[tuple]:
        return {(*r[:-1], int(r[-1])) for r in frame[cols].itertuples(index=False, name=None)}

    wg, gg = as_set(want_gaps), as_set(got_gaps)
    detail += [f"gap {g[0]} {g[2]} {g[3]} to {g[4]} ({g[5]} days): not reported" for g in sorted(wg - gg)]
    detail += [f"gap {g[0]} {g[2]} {g[3]} to {g[4]} ({g[5]} days): reported, not in the recomputation"
               for g in sorted(gg - wg)]
    n, m = len(want_src), len(wg)
    return sc.check(
        "coverage", "periods_and_gaps",
        f"each source's (exhibit, file, kind group) record count and first and last record, and every run of at "
        f"least {gap_days} UK local days without records between two days with records, equal a plain pandas "
        "recomputation over the stored events",
        {"sources": n, "sources_agreed": n, "gaps": m, "gaps_reported": m, "gaps_spurious": 0},
        {"sources": len(got), "sources_agreed": agreed, "gaps": m, "gaps_reported": len(wg & gg),
         "gaps_spurious": len(gg - wg)},
        agreed == n and not extra and wg == gg and bool(n),
        {"sources": n, "sources_agreed": agreed, "planted": m, "found": len(wg & gg), "missed": len(wg - gg),
         "spurious": len(gg - wg)},
        (("sources agreed", "sources_agreed", "sources"), ("gaps found", "found", "planted"),
         ("gaps missed", "missed", "planted")), detail)


def _key_dates_in_gaps(sc: Scenario, want_src: pd.DataFrame, want_gaps: pd.DataFrame) -> Check:
    """Key and order dates (ground truth) falling in a recomputed gap are reported 'in_gap', and only those."""
    t = sc.truth
    dates = {_uk_date(v) for v in t["key_dates"].values()}
    dates |= {_uk_date(t["order"]["made_utc"]), _uk_date(t["order"]["served_utc"])}
    want = {(d, g["exhibit_ref"], g["source_path"], g["kind_group"]) for d in dates
            for g in want_gaps.to_dict("records") if g["gap_start"] <= d <= g["gap_end"]}
    table = sc.table("coverage", "key_dates")
    sources = sc.table("coverage", "sources").set_index("source")
    got = {(r.date, *(sources.loc[r.source, k] for k in KEY)) for r in table.itertuples(index=False)
           if r.status == "in_gap"}
    detail = [f"{d} {ex} {kg}: in a gap, not reported in_gap" for d, ex, _p, kg in sorted(want - got)]
    detail += [f"{d} {ex} {kg}: reported in_gap, not in a recomputed gap" for d, ex, _p, kg in sorted(got - want)]
    n = len(want)
    return sc.check(
        "coverage", "key_dates_in_gaps",
        "each key date and order date of the ground truth (UK local date) that falls inside a recomputed gap of a "
        "source is reported 'in_gap' for that source, and no other",
        {"in_gap": n, "reported": n, "spurious": 0},
        {"in_gap": n, "reported": len(want & got), "spurious": len(got - want)},
        want == got and bool(dates),
        {"planted": n, "found": len(want & got), "missed": n - len(want & got), "spurious": len(got - want)},
        DETECTION, detail)


def _planted_periods(sc: Scenario, got_src: pd.DataFrame) -> Check:
    """The iPhone backup's first and last record equal the planted period; Google records lie in theirs."""
    t = sc.truth
    iph, google = t["victim_iphone"], t["google_records"]
    iph_ex = {sc.exhibit(f) for f in iph["files"]}
    g_ex = sc.exhibit(google["file"])
    src = got_src.assign(first=pd.to_datetime(got_src["first_utc"], utc=True, format="ISO8601"),
                         last=pd.to_datetime(got_src["last_utc"], utc=True, format="ISO8601"))
    mine = src[src["exhibit_ref"].isin(iph_ex)]
    first = mine["first"].min().floor("s") if len(mine) else None
    last = mine["last"].max().floor("s") if len(mine) else None
    lo, hi = (pd.Timestamp(x) for x in iph["period_utc"])
    detail = []
    if first != lo or last != hi:
        detail.append(f"{'/'.join(sorted(iph_ex))}: reported {first} to {last}, planted {lo} to {hi}")
    gs = src[src["exhibit_ref"] == g_ex]
    glo, ghi = (pd.Timestamp(x) for x in google["period_utc"])
    g_first = gs["first"].min() if len(gs) else None
    g_last = gs["last"].max() if len(gs) else None
    g_events = int(gs["events"].sum())
    g_ok = len(gs) > 0 and glo <= g_first and g_last <= ghi and g_events == google["records"]
    if not g_ok:
        detail.append(f"{g_ex}: reported {g_events} records {g_first} to {g_last}; planted {google['records']} "
                      f"records within {glo} to {ghi}")
    ok = int(not any(d.startswith("/".join(sorted(iph_ex))) for d in detail)) + int(g_ok)
    return sc.check(
        "coverage", "planted_periods",
        "the victim's iPhone backup (Messages and call history together) is reported from and to the first and last "
        "record the generator wrote (to the second), and the suspect's Google location history holds all its "
        "planted records within the planted period",
        {"iphone": [str(lo), str(hi)], "google_records": google["records"],
         "google_period": [str(glo), str(ghi)]},
        {"iphone": [str(first), str(last)], "google_records": g_events,
         "google_period": [str(g_first), str(g_last)]},
        not detail, {"planted": 2, "found": ok, "missed": 2 - ok}, DETECTION, detail)


CHECKS: dict[str, Callable[[Scenario], list[Check]]] = {
    "corroboration": corroboration,
    "coverage": coverage,
    "schedule": schedule,
}
"""Analysis name -> known-answer check; merged into ``atlas._validate_checks.CHECKS``."""

__all__ = ["CHECKS", "DETECTION"]
