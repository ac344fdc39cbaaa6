"""Known-answer checks of the analyses against the synthetic case's ground truth.

``CHECKS`` maps an analysis name to a function ``check(sc: Scenario) -> list[Check]``. An
analysis with no entry is recorded as "not validated" in every validation record.

To validate a new analysis:

1. make the generator plant what the analysis should find, and write it to
   ``ground_truth.json`` (``fixtures/synthetic.py`` or a ``fixtures/_*.py`` helper);
2. write a function here that reads ``sc.docs[name]`` (its results document) or
   ``sc.table(name, table)``, compares with ``sc.truth``, and returns one or more
   ``sc.check(...)``: expected and observed as plain values, ``measures`` as counts
   (planted, found, missed, spurious, ...) and ``ratios`` naming the rates to report
   over all seeds;
3. add it to ``CHECKS``, and add a planted-defect test in ``tests/test_validate.py``
   that breaks the method and asserts the check fails.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from atlas import _validate_checks_conduct, _validate_checks_contact
from atlas._validate_record import DETECTION, Check
from atlas._validate_scenario import Scenario



def colocation(sc: Scenario) -> list[Check]:
    """Planted visits to the victim's home (and the order's zone) found, missed, spurious; near miss silent."""
    from fixtures import synthetic

    doc, truth = sc.docs["colocation"], sc.truth
    gpx = sc.exhibit(synthetic.SUSPECT_GPX)
    order = truth["order"]
    out = []
    for test, area, span in (
            ("zone_visits", f"{order['id']} zone: {order['zone']['place']}",
             lambda v: (v["start_utc"], v["end_utc"])),
            ("home_visits", order["zone"]["place"],
             lambda v: (v["at_home_radius"]["start_utc"], v["at_home_radius"]["end_utc"]))):
        episodes = [f for f in doc["findings"]
                    if f["key"].startswith("colocation.place_episode") and f["values"]["area"] == area]
        used: set[int] = set()
        found, detail = 0, []
        for v in truth["visits"]:
            planted = set(sc.ids_between(gpx, *span(v)))
            hits = [i for i, f in enumerate(episodes) if planted & set(f["event_ids"])]
            cited = set().union(*(set(episodes[i]["event_ids"]) for i in hits)) if hits else set()
            used.update(hits)
            if planted and planted <= cited:
                found += 1
            else:
                detail.append(f"visit {v['index']} ({v['night_of']}): {len(planted - cited)} of "
                              f"{len(planted)} planted fixes not in any '{area}' episode")
        spurious = [i for i in range(len(episodes)) if i not in used]
        detail += [f"episode {episodes[i]['values']['start_utc']}–{episodes[i]['values']['end_utc']}: "
                   "matches no planted visit" for i in spurious]
        n = len(truth["visits"])
        out.append(sc.check(
            "colocation", test,
            f"every planted visit's fixes (suspect GPX {gpx}) fall in a reported '{area}' episode; "
            "no episode outside a planted visit",
            {"planted": n, "found": n, "missed": 0, "spurious": 0},
            {"planted": n, "found": found, "missed": n - found, "spurious": len(spurious)},
            found == n and not spurious,
            {"planted": n, "found": found, "missed": n - found, "spurious": len(spurious),
             "episodes": len(episodes)},
            (*DETECTION, ("spurious per episode reported", "spurious", "episodes")), detail))
    near = truth["near_miss"]
    near_ids = set(sc.ids_between(gpx, near["start_utc"], near["end_utc"]))
    cited = {e for f in doc["findings"] if f["key"] != "colocation.coverage" for e in f["event_ids"]}
    leaked = len(near_ids & cited)
    out.append(sc.check(
        "colocation", "near_miss",
        f"the planted near miss ({near['min_distance_m']:.0f}–{near['max_distance_m']:.0f} m from the home, "
        f"outside the {order['zone']['radius_m']:.0f} m zone) is reported in no finding",
        {"near_miss_fixes": len(near_ids), "reported": 0}, {"near_miss_fixes": len(near_ids), "reported": leaked},
        bool(near_ids) and leaked == 0, {"near_miss_fixes": len(near_ids), "reported": leaked},
        (("near-miss fixes reported", "reported", "near_miss_fixes"),)))
    return out


def threat_screen(sc: Scenario) -> list[Check]:
    """Planted threats tagged; ordinary messages not tagged."""
    from fixtures import _texts as T

    tagged = set(sc.table("threat_screen", "tagged")["event_id"])
    planted = sc.ids_at(sc.truth["threats"])
    hit = [e for e in planted if e in tagged]
    missed = [f"{r['file']} {r['locator']}: {r['text']!r} not tagged"
              for r, e in zip(sc.truth["threats"], planted, strict=True) if e not in tagged]
    ordinary_texts = _ordinary(T)
    ordinary = sc.store.loc[sc.store["text"].isin(ordinary_texts), ["event_id", "text", "locator"]]
    false = ordinary[ordinary["event_id"].isin(tagged)]
    bound = 0.01
    rate = len(false) / len(ordinary) if len(ordinary) else 1.0
    return [
        sc.check("threat_screen", "planted_threats", "every planted threatening message is tagged for review",
                 {"planted": len(planted), "tagged": len(planted)}, {"planted": len(planted), "tagged": len(hit)},
                 len(hit) == len(planted) and bool(planted),
                 {"planted": len(planted), "found": len(hit), "missed": len(planted) - len(hit)},
                 DETECTION, missed),
        sc.check("threat_screen", "ordinary_messages",
                 f"ordinary messages of the story (pleading, everyday, friend) are tagged at a rate of at most "
                 f"{bound:.0%}",
                 {"ordinary": len(ordinary), "tagged_at_most": int(bound * len(ordinary))},
                 {"ordinary": len(ordinary), "tagged": len(false)}, bool(len(ordinary)) and rate <= bound,
                 {"ordinary": len(ordinary), "false_tags": len(false)},
                 (("false tags", "false_tags", "ordinary"),),
                 [f"{r.locator}: {r.text!r}" for r in false.itertuples(index=False)]),
    ]


def _ordinary(T) -> set[str]:  # noqa: ANN001, N803 - the fixtures' text module
    texts = {text for ex in T.NORMAL_EXCHANGES for _who, text in ex}
    texts |= {text for _who, text, _m in T.BREAKUP}
    texts |= set(T.PLEADING_SUSPECT + T.PLEADING_VICTIM + T.SMS_ORIGINAL + T.SMS_VICTIM_TO_SUSPECT
                 + T.SMS_FRIEND_IN_BEFORE + T.SMS_FRIEND_OUT_BEFORE + T.SMS_FRIEND_IN + T.SMS_FRIEND_OUT)
    return texts - {T.MEDIA}


def identifier_changes(sc: Scenario) -> list[Check]:
    """The planted new number is the first-ranked lead; the Instagram alias is a lead; nothing else is."""
    leads = [f for f in sc.docs["identifier_changes"]["findings"] if "rank" in f["values"]]
    by_id = {f["values"]["identifier"]: f["values"] for f in leads}
    new = sc.truth["new_number"]["identifier"]
    alias = sc.truth["instagram"]["alias"]["handle"]
    planted = [new, alias]
    found = [p for p in planted if p in by_id]
    spurious = sorted(set(by_id) - set(planted))
    rank = by_id.get(new, {}).get("rank")
    detail = [f"{p}: not listed as a lead" for p in planted if p not in by_id]
    detail += [f"{s}: listed as a lead but not planted" for s in spurious]
    if rank != 1:
        detail.append(f"{new}: rank {rank}, expected 1")
    return [sc.check(
        "identifier_changes", "planted_leads",
        "the number first used after the block is the rank-1 lead and the Instagram alias is a lead; no other "
        "identifier is listed",
        {"planted": 2, "found": 2, "new_number_rank": 1, "spurious": 0},
        {"planted": 2, "found": len(found), "new_number_rank": rank, "spurious": len(spurious)},
        not detail,
        {"planted": 2, "found": len(found), "missed": 2 - len(found), "spurious": len(spurious),
         "rank1": int(rank == 1), "new_numbers": 1},
        (*DETECTION, ("new number ranked first", "rank1", "new_numbers")), detail)]


def orders(sc: Scenario) -> list[Check]:
    """Contacts after the order was served: the planted set, split attributed/unattributed."""
    findings = sc.docs["orders"]["findings"]
    listed = [e for f in findings if f["key"] in ("orders.channel_after_service",
                                                   "orders.unattributed_after_service") for e in f["event_ids"]]
    records = sc.truth["contacts_after_service"]["records"]
    planted = sc.ids_at(records)
    # The planted set is written for the exhibits that carry it (the chat and the call log);
    # the same contacts seen again in other exhibits (extraction, handset, CDR) are not spurious.
    files = {r["file"] for r in records}
    in_files = set(sc.store.loc[sc.store["source_path"].isin(files), "event_id"])
    found = set(listed) & set(planted)
    spurious = (set(listed) & in_files) - set(planted)
    n = len(planted)
    detail = [f"{len(set(planted) - found)} planted contact(s) after service not listed"] if len(found) < n else []
    if spurious:
        detail.append(f"{len(spurious)} listed record(s) are not planted contacts after service")
    return [sc.check(
        "orders", "contacts_after_service",
        "every planted contact from the suspect's identifiers after the order was served is listed (attributed "
        "or not), and no other record of the exhibits that carry them",
        {"planted": n, "found": n, "spurious": 0}, {"planted": n, "found": len(found), "spurious": len(spurious)},
        not detail, {"planted": n, "found": len(found), "missed": n - len(found), "spurious": len(spurious)},
        DETECTION, detail)]


def clock_agreement(sc: Scenario) -> list[Check]:
    """The planted handset clock offset is estimated within 1.5 s for each of its exhibits."""
    planted = sc.truth["clock_offset"]
    offsets = sc.table("clock_agreement", "offsets").set_index("exhibit")
    tolerance = 1.5
    observed, detail = {}, []
    for ex in sorted(planted["exhibits"]):
        if ex not in offsets.index or offsets.loc[ex, "status"] != "estimated":
            observed[ex] = None
            detail.append(f"{ex}: no offset estimated")
            continue
        observed[ex] = float(offsets.loc[ex, "offset_s"])
        if abs(observed[ex] - planted["offset_s"]) >= tolerance:
            detail.append(f"{ex}: {observed[ex]} s, planted {planted['offset_s']} s")
    n = len(planted["exhibits"])
    return [sc.check(
        "clock_agreement", "planted_offset",
        f"the planted offset of the suspect handset's clock ({planted['offset_s']:+.0f} s) is estimated within "
        f"{tolerance} s for each of its exhibits (CDR times are whole seconds)",
        {ex: planted["offset_s"] for ex in sorted(planted["exhibits"])}, observed, not detail,
        {"planted": n, "found": n - len(detail), "missed": len(detail)}, DETECTION, detail)]


def presence(sc: Scenario) -> list[Check]:
    """Planted visits while the victim's phone was at work are reported as 'elsewhere', covering their span."""
    planted = sc.truth["presence_without_victim"]
    found_f = [f for f in sc.docs["presence"]["findings"] if f["key"].startswith("presence.elsewhere")]
    spans = [(pd.Timestamp(f["values"]["start_utc"]), pd.Timestamp(f["values"]["end_utc"])) for f in found_f]
    want = [(pd.Timestamp(p["suspect_start_utc"]), pd.Timestamp(p["suspect_end_utc"])) for p in planted]
    # The planted span is the suspect GPX's run inside the home radius; another exhibit of the same
    # device (the Google location history) may add a record just before or after it, so a reported
    # episode must cover the planted span, not equal it.
    found = [w for w in want if any(s <= w[0] and e >= w[1] for s, e in spans)]
    spurious = [(s, e) for s, e in spans if not any(s <= w[1] and e >= w[0] for w in want)]
    detail = [f"planted {s}–{e}: no 'elsewhere' episode covers it" for s, e in want if (s, e) not in found]
    detail += [f"reported {s}–{e}: overlaps no planted night" for s, e in spurious]
    n = len(want)
    return [sc.check(
        "presence", "victim_elsewhere",
        "each planted night when the suspect's device was at the victim's home while her phone was at work "
        "is reported 'elsewhere' by an episode covering the planted span; no other 'elsewhere' episode",
        {"planted": n, "found": n, "spurious": 0}, {"planted": n, "found": len(found), "spurious": len(spurious)},
        bool(n) and not detail,
        {"planted": n, "found": len(found), "missed": n - len(found), "spurious": len(spurious)},
        DETECTION, detail)]


CHECKS: dict[str, Callable[[Scenario], list[Check]]] = {
    "clock_agreement": clock_agreement,
    "colocation": colocation,
    "identifier_changes": identifier_changes,
    "orders": orders,
    "presence": presence,
    "threat_screen": threat_screen,
    **_validate_checks_contact.CHECKS,
    **_validate_checks_conduct.CHECKS,
}
"""Analysis name -> known-answer check on the synthetic case; see the module docstring to add one."""
