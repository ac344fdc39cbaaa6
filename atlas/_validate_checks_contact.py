"""Known-answer checks of the contact analyses (frequency, contact_graph, both_ends, occasions).

Same contract as ``atlas._validate_checks`` (read its docstring): each function takes the
``Scenario`` and returns a list of ``Check``; ``CHECKS`` maps analysis name to function and is
merged into ``atlas._validate_checks.CHECKS``.

Expected values come from the ground truth, or from a recount over ``sc.store`` written here
with pandas and the identifiers ``case.toml`` attributes (``_who``), never from the analyses'
own functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from atlas._validate_record import DETECTION, Check
from atlas._validate_scenario import Scenario

CONTACT_KINDS = ("call", "sms", "mms", "chat_message", "email", "social_interaction")
SAME_RECORD_S = 1.0
"""The victim's call log (DI/2) and her phone's UFED report (DI/5) stamp the same contact up to a
second apart (the report keeps milliseconds); a first or last record is compared within this."""


# ---------------------------------------------------------------- independent recounts

def _roles(sc: Scenario) -> tuple[dict[str, str], set[str], set[str]]:
    """Return identifier -> person id (case.toml), and the suspect and victim person ids."""
    owners = sc.case.identifier_owner()
    suspects = {p.id for p in sc.case.persons if p.role == "suspect"}
    victims = {p.id for p in sc.case.persons if p.role == "victim"}
    return owners, suspects, victims


def _recipients(value: object) -> list[str]:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return []
    return sorted({str(v) for v in value})


def _suspect_to_victim(sc: Scenario) -> pd.DataFrame:
    """Return the dated contact records sent by a suspect's identifier or device to a victim's.

    The sender is the record's sender identifier, or, when none is given on an outgoing record,
    the device the exhibit came from; the recipients are the record's recipients, or, when none
    are given on a record that is not outgoing, the device the exhibit came from. Persons come
    from ``case.toml``; an identifier nobody is attributed is nobody's.
    """
    owners, suspects, victims = _roles(sc)
    s = sc.store
    rec = s.loc[s["kind"].isin(CONTACT_KINDS) & s["timestamp_utc"].notna()].copy()
    device = ("device:" + rec["exhibit_ref"].astype(str)).map(owners)
    sender = rec["sender"].map(owners).where(rec["sender"].notna(),
                                             device.where(rec["direction"] == "outgoing"))
    recips = rec["recipients"].map(_recipients)
    to_persons = [({owners.get(r) for r in rs} if rs else ({d} if dirn != "outgoing" else set()))
                  for rs, d, dirn in zip(recips, device, rec["direction"], strict=True)]
    to_victim = pd.Series([bool(ps & victims) for ps in to_persons], index=rec.index)
    out = rec.loc[sender.isin(suspects) & to_victim]
    return out.sort_values(["timestamp_utc", "event_id"], kind="stable")


def _max_in_window(times: pd.Series, window: pd.Timedelta) -> tuple[int, int]:
    """Return the most records within ``window`` (end included) and the position where that run starts."""
    t = np.sort(times.to_numpy(dtype="datetime64[ns]"))
    if not len(t):
        return 0, 0
    stop = np.searchsorted(t, t + window.to_timedelta64(), side="right")
    n = stop - np.arange(len(t))
    return int(n.max()), int(n.argmax())


def _single_exhibit_runs(contacts: pd.DataFrame, k: int, window: pd.Timedelta) -> list[tuple[str, Any, Any, int]]:
    """Return runs of at least ``k`` records of one exhibit within ``window``: (exhibit, first, last, records).

    Overlapping windows of one exhibit are merged. Records of one exhibit are separate records of
    that exhibit, so each run is at least ``k`` contacts however the exhibits are combined.
    """
    out = []
    for ex, part in contacts.groupby("exhibit_ref", sort=True):
        t = part["timestamp_utc"].sort_values().reset_index(drop=True)
        stop = np.searchsorted(t.to_numpy(dtype="datetime64[ns]"),
                               (t + window).to_numpy(dtype="datetime64[ns]"), side="right")
        spans = [(i, int(stop[i])) for i in range(len(t)) if stop[i] - i >= k]
        merged: list[list[int]] = []
        for a, b in spans:
            if merged and a < merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], b)
            else:
                merged.append([a, b])
        out += [(str(ex), t.iloc[a], t.iloc[b - 1], b - a) for a, b in merged]
    return sorted(out, key=lambda r: (r[1], r[0]))


def _ts(value: object) -> pd.Timestamp:
    return pd.Timestamp(value).tz_convert("UTC") if pd.Timestamp(value).tzinfo else pd.Timestamp(value, tz="UTC")


# ---------------------------------------------------------------- frequency

def frequency(sc: Scenario) -> list[Check]:
    """Planted bursts found; bursts backed by a recount; the stop request a candidate; the blocked number's contacts."""
    doc = sc.docs["frequency"]
    k, minutes = int(doc["params"]["burst_min_contacts"]), int(doc["params"]["burst_window_minutes"])
    window = pd.Timedelta(minutes=minutes)
    bursts = sc.table("frequency", "bursts")
    spans = [(_ts(b.start_utc), _ts(b.end_utc)) for b in bursts.itertuples(index=False)]
    return [_planted_bursts(sc, spans, k, window), _bursts_recount(sc, spans, k, window),
            _stop_request(sc), _blocked(sc)]


def _planted_bursts(sc: Scenario, spans: list, k: int, window: pd.Timedelta) -> Check:
    rule = sc.truth["bursts"]["rule"]
    planted = sc.truth["bursts"]["episodes"]
    owners, suspects, _ = _roles(sc)
    found, detail, below, unattributed = 0, [], 0, 0
    for p in planted:
        start, end = _ts(p["start_utc"]), _ts(p["end_utc"])
        sender = sc.store.set_index("event_id").loc[sc.ids_at([p["first"]])[0], "sender"]
        if owners.get(sender) not in suspects:  # e.g. his new number: frequency counts attributed identifiers only
            unattributed += 1
            detail.append(f"planted {p['source']} episode {start}–{end}: sent from {sender}, which case.toml "
                          "attributes to no suspect; not expected")
            continue
        ids = sc.ids_between(sc.exhibit(p["first"]["file"]), p["start_utc"], p["end_utc"])
        times = sc.store.set_index("event_id").loc[ids, "timestamp_utc"]
        most, _ = _max_in_window(times, window)
        if most < k:  # the planted rule does not imply the analysis' rule: say so, never count it missed
            below += 1
            detail.append(f"planted {p['source']} episode {start}–{end}: at most {most} records within "
                          f"{window}, below the analysis' {k}; not expected")
            continue
        if any(s <= start and e >= end for s, e in spans):
            found += 1
        else:
            detail.append(f"planted {p['source']} episode {start}–{end} ({p['count']} records): no reported "
                          "burst covers it")
    n = len(planted) - below - unattributed
    return sc.check(
        "frequency", "planted_bursts",
        f"each planted burst (generator's rule: at least {rule['min_records']} contacts of one exhibit, "
        f"at most {rule['max_gap_minutes']} min apart) holds at least burst_min_contacts={k} records within "
        f"burst_window_minutes={int(window / pd.Timedelta(minutes=1))} (the analysis' rule), and a reported "
        "burst covers its first to last record (episodes sent from an identifier case.toml attributes to no "
        "suspect are out of the analysis' scope and counted apart)",
        {"planted": n, "found": n}, {"planted": n, "found": found}, bool(n) and found == n,
        {"planted": n, "found": found, "missed": n - found, "below_rule": below, "unattributed": unattributed},
        DETECTION, detail)


def _bursts_recount(sc: Scenario, spans: list, k: int, window: pd.Timedelta) -> Check:
    runs = _single_exhibit_runs(_suspect_to_victim(sc), k, window)
    planted = [(_ts(p["start_utc"]), _ts(p["end_utc"])) for p in sc.truth["bursts"]["episodes"]]

    def overlaps(a: pd.Timestamp, b: pd.Timestamp, c: pd.Timestamp, d: pd.Timestamp) -> bool:
        return a <= d and c <= b

    found = [r for r in runs if any(overlaps(r[1], r[2], s, e) for s, e in spans)]
    detail = [f"{ex}: {n} records {a}–{b} within {window}: no reported burst overlaps it"
              for ex, a, b, n in runs if (ex, a, b, n) not in found]
    spurious = [(s, e) for s, e in spans
                if not any(overlaps(s, e, a, b) for _, a, b, _ in runs)
                and not any(overlaps(s, e, a, b) for a, b in planted)]
    detail += [f"reported burst {s}–{e}: no exhibit holds {k} contacts within {window} there, and no "
               "planted burst" for s, e in spurious]
    n = len(runs)
    return sc.check(
        "frequency", "bursts_recount",
        f"recounted from the store: every run of at least {k} records of one exhibit from the suspect's "
        f"identifiers or devices to the victim's within {window} overlaps a reported burst; every reported "
        "burst overlaps such a run or a planted burst",
        {"runs": n, "found": n, "spurious": 0},
        {"runs": n, "found": len(found), "spurious": len(spurious)},
        bool(n) and len(found) == n and not spurious,
        {"planted": n, "found": len(found), "missed": n - len(found), "spurious": len(spurious),
         "bursts": len(spans)},
        (*DETECTION, ("spurious per burst reported", "spurious", "bursts")), detail)


def _stop_request(sc: Scenario) -> Check:
    stop = sc.truth["stop_request"]
    (planted,) = sc.ids_at([stop])
    candidates = set(sc.table("frequency", "stop_candidates")["event_id"])
    hit = planted in candidates
    return sc.check(
        "frequency", "stop_request",
        f"the planted stop request ({stop['file']} {stop['locator']}, {stop['utc']}) is among the stop-request "
        "candidates",
        {"planted": 1, "listed": 1}, {"planted": 1, "listed": int(hit), "candidates": len(candidates)}, hit,
        {"planted": 1, "found": int(hit), "missed": int(not hit)}, DETECTION,
        [] if hit else [f"{stop['locator']}: {stop['text']!r} not listed"])


def _blocked(sc: Scenario) -> Check:
    block = sc.truth["block"]
    attempts = [r for r in sc.truth["suspect_handset"]["blocked_attempts"]["records"]
                if r["own_number"] == block["identifier"] and _ts(r["network_utc"]) > _ts(block["utc"])]
    want = len(attempts) + int(block["original_contacts_after_block"])
    marks = sc.table("frequency", "after_marks")
    row = marks.loc[(marks["kind"] == "blocked") & (marks["identifier"] == block["identifier"])]
    got = int(row["from_identifier"].iloc[0]) if len(row) and pd.notna(row["from_identifier"].iloc[0]) else None
    at = str(_ts(row["at_utc"].iloc[0])) if len(row) else None
    ok = got == want and at == str(_ts(block["utc"]))
    return sc.check(
        "frequency", "after_block",
        f"contacts counted from the blocked number ({block['identifier']}) after the block equal those planted: "
        "the attempts his handset recorded (her phone dropped them) plus any on her log",
        {"block_utc": str(_ts(block["utc"])), "from_blocked_number": want},
        {"block_utc": at, "from_blocked_number": got}, ok,
        {"planted": want, "counted": got or 0}, (("counted of planted", "counted", "planted"),),
        [] if ok else [f"blocked mark at {at}, {got} contacts from the number after it; planted {want}"])


# ---------------------------------------------------------------- both_ends

def both_ends(sc: Scenario) -> list[Check]:
    """His withheld call and the new number's contacts paired with his records; the decoys never matched."""
    hs = sc.truth["suspect_handset"]
    new = sc.truth["new_number"]["identifier"]
    log_file = sc.truth["new_number"]["first_contact"]["file"]
    not_his = hs["decoys"]["victim_withheld_not_his"]["locator"]
    handset = sc.store.loc[sc.store["source_path"].isin(hs["files"])]
    planted: dict[str, tuple[str, str]] = {}  # received id -> (sent id, what)
    for w in hs["withheld_calls"]:
        (rid,) = sc.ids_at([{"file": log_file, "locator": w["table_locator"]}])
        (sid,) = sc.ids_at([w])
        planted[rid] = (sid, f"withheld call {w['table_locator']}")
    log = sc.store.loc[sc.store["source_path"] == log_file].set_index("locator")
    for line, ref in sorted(hs["victim_log_pairs"].items()):
        if log.loc[line, "sender"] != new:
            continue  # his original number is attributed: not anonymous, out of both_ends' scope
        (sid,) = handset.loc[handset["locator"] == ref["locator"], "event_id"]  # calls and sms tables differ
        planted[log.loc[line, "event_id"]] = (sid, f"new number {line}")
    planted_withheld = [w for w in sc.truth["withheld_calls"] if w["locator"] != not_his]
    pairs = sc.table("both_ends", "pairs")
    matched = pairs.loc[pairs["status"] == "matched"]
    got = set(zip(matched["received_event_id"], matched["sent_event_id"], strict=True))
    found = [r for r, (s, _) in planted.items() if (r, s) in got]
    detail = [f"{what}: not matched to {s}" for r, (s, what) in planted.items() if (r, s) not in got]
    on_log = pairs.loc[pairs["received_exhibit"] == sc.exhibit(log_file)]
    spurious = [(r, s) for r, s in zip(on_log["received_event_id"], on_log["sent_event_id"], strict=True)
                if planted.get(r, (None,))[0] != s]
    detail += [f"pair {r} ↔ {s} on her log: not a planted pair" for r, s in spurious]
    n = len(planted)
    out = [sc.check(
        "both_ends", "planted_pairs",
        f"each contact on her log ({log_file}) from a withheld number ({len(planted_withheld)} of "
        f"{len(sc.truth['withheld_calls'])} planted are his) or from the new number ({new}) that his handset "
        "recorded is matched to his handset's record of it; no other pair is reported for her log",
        {"planted": n, "found": n, "spurious": 0}, {"planted": n, "found": len(found), "spurious": len(spurious)},
        bool(n) and len(found) == n and not spurious,
        {"planted": n, "found": len(found), "missed": n - len(found), "spurious": len(spurious),
         "withheld_planted": len(hs["withheld_calls"])},
        DETECTION, detail)]
    d = hs["decoys"]
    cdr = sc.truth["telecoms"]["cdr"]["decoys"]
    not_his_ref = d["victim_withheld_not_his"]
    owners, _, victims = _roles(sc)
    s = sc.store
    hers = ("device:" + s["exhibit_ref"].astype(str)).map(owners).isin(victims)
    # The same call in her other exhibits (her phone's UFED report): no number, within a second.
    twin = s.loc[hers & (s["source_path"] != not_his_ref["file"]) & s["sender"].isna() & (s["kind"] == "call")
                 & ((s["timestamp_utc"] - _ts(not_his_ref["utc"])).abs() <= pd.Timedelta(seconds=SAME_RECORD_S)),
                 "event_id"]
    received_decoys = sc.ids_at([not_his_ref]) + twin.tolist()
    sent_decoys = sc.ids_at([d["coincident"], d["near_miss"], cdr["coincident"], cdr["near_miss"]])
    in_pairs = ((set(pairs["received_event_id"]) & set(received_decoys))
                | (set(pairs["sent_event_id"]) & set(sent_decoys)))
    names = dict(zip(received_decoys + sent_decoys,
                     ["withheld call not his"] * len(received_decoys)
                     + ["his call to a friend 4 s after (handset)", "his withheld call to her 16 s before (handset)",
                        "his call to a friend (CDR)", "his withheld call to her 16 s before (CDR)"], strict=True))
    m = len(names)
    out.append(sc.check(
        "both_ends", "decoys",
        "the planted decoys appear in no matched or ambiguous pair: the withheld call on her log that is not his "
        "(and its copy in her UFED report), his call to a friend 4 s after it and his withheld call to her 16 s "
        "before it (outside the 10 s tolerance), on his handset and in the CDR",
        {"decoys": m, "paired": 0}, {"decoys": m, "paired": len(in_pairs)}, m >= 5 and not in_pairs,
        {"decoys": m, "spurious": len(in_pairs)}, (("decoys paired", "spurious", "decoys"),),
        [f"{names[e]} ({e}) is in a pair" for e in sorted(in_pairs)]))
    return out


# ---------------------------------------------------------------- contact_graph

def contact_graph(sc: Scenario) -> list[Check]:
    """Edge counts recounted from the store; the new number an unattributed node; planted first/last records."""
    edges = sc.table("contact_graph", "edges")
    nodes = sc.table("contact_graph", "nodes").set_index("node")
    return [_edge_recount(sc, edges), _new_number_node(sc, edges, nodes), _edge_first_last(sc, edges)]


def _party_ids(sc: Scenario) -> set[str]:
    owners, suspects, victims = _roles(sc)
    ids = {i for i, p in owners.items() if p in suspects | victims and not i.startswith("device:")}
    return ids | {sc.truth["new_number"]["identifier"]}


def _edge_recount(sc: Scenario, edges: pd.DataFrame) -> Check:
    ids = _party_ids(sc)
    s = sc.store
    recips = s["recipients"].map(_recipients)
    contact = s["kind"].isin(CONTACT_KINDS) | ((s["kind"] == "social_post") & (recips.map(len) > 0))
    rec = s.loc[contact & s["timestamp_utc"].notna() & s["sender"].isin(ids)].assign(target=recips)
    rec = rec.explode("target")
    rec = rec.loc[rec["target"].isin(ids)].drop_duplicates(["event_id", "target"])
    rec = rec.assign(channel=rec["channel"].fillna(rec["kind"]).astype(str))
    want = rec.groupby(["sender", "target", "channel", "direction"]).agg(
        events=("event_id", "size"), first_utc=("timestamp_utc", "min"), last_utc=("timestamp_utc", "max"))
    mine = edges.loc[edges["source"].isin(ids) & edges["target"].isin(ids)]
    got = {(r.source, r.target, r.channel, r.direction): (int(r.events), _ts(r.first_utc), _ts(r.last_utc))
           for r in mine.itertuples(index=False)}
    found, detail = 0, []
    for key, w in want.iterrows():
        exp = (int(w["events"]), w["first_utc"], w["last_utc"])
        if got.get(key) == exp:
            found += 1
        else:
            detail.append(f"{' → '.join(key[:2])} {key[2]} {key[3]}: recount {exp[0]} records "
                          f"{exp[1]}–{exp[2]}, edge {got.get(key)}")
    spurious = sorted(set(got) - set(want.index))
    detail += [f"{' → '.join(k[:2])} {k[2]} {k[3]}: edge not in the recount" for k in spurious]
    n = len(want)
    return sc.check(
        "contact_graph", "edge_recount",
        "each edge between identifiers of the suspect, the victim and the new number carries the number of store "
        "records naming that sender and recipient on that channel and direction, and their first and last times "
        "(recounted from the store); no other edge between them",
        {"edges": n, "equal": n, "spurious": 0}, {"edges": n, "equal": found, "spurious": len(spurious)},
        bool(n) and found == n and not spurious,
        {"planted": n, "found": found, "missed": n - found, "spurious": len(spurious),
         "records": int(want["events"].sum())}, DETECTION, detail)


def _victim_ids(sc: Scenario) -> set[str]:
    owners, _, victims = _roles(sc)
    return {i for i, p in owners.items() if p in victims}


def _new_number_node(sc: Scenario, edges: pd.DataFrame, nodes: pd.DataFrame) -> Check:
    nn = sc.truth["new_number"]
    new, first = nn["identifier"], nn["first_contact"]
    victim = _victim_ids(sc)
    node = nodes.loc[new] if new in nodes.index else None
    unattributed = node is not None and node["type"] == "identifier" and pd.isna(node["attributed_to"])
    linked = edges.loc[((edges["source"] == new) & edges["target"].isin(victim))
                       | ((edges["target"] == new) & edges["source"].isin(victim))]
    finding = [f for f in sc.docs["contact_graph"]["findings"]
               if f["key"] == "contact_graph.unattributed_to" and f["values"]["identifier"] == new]
    log = set(sc.store.loc[sc.store["source_path"] == first["file"], "event_id"])
    on_log = len(set(finding[0]["event_ids"]) & log) if finding else 0
    f_first = str(_ts(finding[0]["values"]["first_utc"])) if finding else None
    observed = {"node_unattributed": unattributed, "edges_with_victim": len(linked),
                "listed_unattributed": bool(finding), "records_on_her_log": on_log, "first_utc": f_first}
    expected = {"node_unattributed": True, "edges_with_victim": ">= 1", "listed_unattributed": True,
                "records_on_her_log": nn["records"], "first_utc": str(_ts(first["utc"]))}
    detail = [f"{k}: expected {expected[k]}, got {observed[k]}" for k in expected
              if k != "edges_with_victim" and expected[k] != observed[k]]
    if linked.empty:
        detail.append("no edge between the new number and a victim identifier")
    found = int(not detail)
    return sc.check(
        "contact_graph", "new_number",
        f"the new number ({new}) is an identifier node attributed to nobody, linked to the victim's identifiers, "
        f"listed as an unattributed identifier contacting her with the {nn['records']} records of her log and its "
        "planted first contact",
        expected, observed, not detail, {"planted": 1, "found": found, "missed": 1 - found}, DETECTION, detail)


def _edge_first_last(sc: Scenario, edges: pd.DataFrame) -> Check:
    """The planted first contact from the new number and last from the blocked number open and close their edges."""
    nn, block = sc.truth["new_number"]["first_contact"], sc.truth["block"]["last_contact_original"]
    victim = sc.truth["identifiers"]["victim"]
    planted = (("first", "first contact from the new number", nn), ("last", "last contact from the blocked number "
                                                                              "on her phone", block))
    found, detail, observed = 0, [], {}
    tol = pd.Timedelta(seconds=SAME_RECORD_S)
    for end, what, ref in planted:
        (eid,) = sc.ids_at([ref])
        row = edges.loc[(edges["source"] == ref["identifier"]) & (edges["target"] == victim)
                        & edges["event_ids"].str.contains(eid, regex=False)]
        if row.empty:
            observed[what] = None
            detail.append(f"{what} ({ref['locator']}): on no edge {ref['identifier']} → {victim}")
            continue
        at = _ts(row[f"{end}_utc"].iloc[0])
        observed[what] = str(at)
        if abs(at - _ts(ref["utc"])) <= tol:
            found += 1
        else:
            detail.append(f"{what} ({ref['locator']}, {ref['utc']}): its edge's {end} record is at {at}")
    return sc.check(
        "contact_graph", "planted_first_last",
        f"the edge carrying the planted first contact from the new number starts with it, and the edge carrying "
        f"the last contact from the blocked number on her phone ends with it (within {SAME_RECORD_S:.0f} s: her "
        "UFED report holds the same records with milliseconds)",
        {what: ref["utc"] for _, what, ref in planted}, observed, found == len(planted),
        {"planted": len(planted), "found": found, "missed": len(planted) - found}, DETECTION, detail)


# ---------------------------------------------------------------- occasions

def _haversine_m(lat: float, lon: float, lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat), np.radians(lats)
    dp, dl = p2 - p1, np.radians(lons - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * np.arcsin(np.sqrt(a))


def _relevant(sc: Scenario, assumed_m: float) -> pd.DataFrame:
    """Recount the relevant records: suspect-to-victim contacts, his located records inside her places
    (and inside an order's zones after its service)."""
    owners, suspects, victims = _roles(sc)
    s = sc.store
    loc = s.loc[s["latitude"].notna() & s["timestamp_utc"].notna() & (s["location_method"] != "cell")
                & (s["kind"] != "cell_site")]
    person = ("device:" + loc["exhibit_ref"].astype(str)).map(owners)
    person = person.where(loc["kind"] != "anpr_read", loc["sender"].map(owners))
    loc = loc.loc[person.isin(suspects)]
    radius = loc["accuracy_m"].astype(float).fillna(assumed_m).to_numpy()
    zones = [(p.lat, p.lon, p.radius_m, None) for p in sc.case.places if p.person in victims]
    places = {p.name: p for p in sc.case.places}
    for o in sc.case.orders:
        if o.served is not None:
            zones += [(places[z.place].lat, places[z.place].lon, z.radius_m, _ts(o.served)) for z in o.zones]
    inside = np.zeros(len(loc), dtype=bool)
    for lat, lon, r, after in zones:
        d = _haversine_m(lat, lon, loc["latitude"].to_numpy(float), loc["longitude"].to_numpy(float))
        ok = d + radius <= r
        if after is not None:
            ok &= (loc["timestamp_utc"] > after).to_numpy()
        inside |= ok
    both = pd.concat([_suspect_to_victim(sc)[["event_id", "timestamp_utc"]],
                      loc.loc[inside, ["event_id", "timestamp_utc"]]]).drop_duplicates("event_id")
    return both.sort_values(["timestamp_utc", "event_id"], kind="stable")


def occasions(sc: Scenario) -> list[Check]:
    """First and last relevant record and the distinct UK dates, recounted; the first and last against truth."""
    doc = sc.docs["occasions"]
    (summary,) = [f for f in doc["findings"] if f["key"] == "occasions.summary"]
    v = summary["values"]
    rel = _relevant(sc, float(doc["params"]["assumed_accuracy_m"]))
    tz = sc.case.display_timezone
    dates = rel["timestamp_utc"].dt.tz_convert(tz).dt.strftime("%Y-%m-%d")
    expected = {"records": len(rel), "first_utc": str(rel["timestamp_utc"].iloc[0]),
                "last_utc": str(rel["timestamp_utc"].iloc[-1]), "days": int(dates.nunique())}
    observed = {"records": v["records"], "first_utc": str(_ts(v["first_utc"])), "last_utc": str(_ts(v["last_utc"])),
                "days": v["days"]}
    # Against the ground truth: the story's first record from him to her (on her previous iPhone) and its last
    # contact (the last planted contact after service, on her WhatsApp export, held also by her UFED report).
    first = sc.truth["victim_iphone"]["first_from_suspect"]
    last = sc.truth["contacts_after_service"]["records"][-1]
    truth_last = _ts(last["utc"])
    expected |= {"first_is_planted_first": True, "last_date_is_planted_last_date": True}
    got_last = _ts(v["last_utc"])
    (first_f,) = [f for f in doc["findings"] if f["key"] == "occasions.first"]
    observed |= {"first_is_planted_first": list(first_f["event_ids"]) == sc.ids_at([first]),
                 "last_date_is_planted_last_date": got_last >= truth_last
                 and got_last.tz_convert(tz).date() == truth_last.tz_convert(tz).date()}
    detail = [f"{k}: expected {expected[k]}, got {observed[k]}" for k in expected if expected[k] != observed[k]]
    if not observed["last_date_is_planted_last_date"]:
        detail.append(f"planted last contact {last['file']} {last['locator']} at {last['utc']}")
    same = sum(expected[k] == observed[k] for k in expected)
    return [sc.check(
        "occasions", "first_last_days",
        "the relevant records recounted from the store (suspect-to-victim contacts; his located records inside "
        "her places, or inside the order's zone after service) give the reported count, first and last record "
        "and number of distinct UK dates; the first is the story's planted first record from his number to her, "
        "the last on the UK date of the planted last contact and not before it",
        expected, observed, not detail, {"facts": len(expected), "equal": same},
        (("facts equal", "equal", "facts"),), detail)]


CHECKS: dict[str, Callable[[Scenario], list[Check]]] = {
    "both_ends": both_ends,
    "contact_graph": contact_graph,
    "frequency": frequency,
    "occasions": occasions,
}
"""Analysis name -> known-answer check; merged into ``atlas._validate_checks.CHECKS``."""

__all__ = ["CHECKS", "DETECTION"]
