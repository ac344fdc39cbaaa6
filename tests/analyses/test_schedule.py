"""Schedule: each tag picks exactly its records, third parties apart, occasions by UK date or episode."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from pathlib import Path

import pandas as pd
import pytest

from analyses import schedule
from analyses._schedule_tags import TAG_KEYS, name_terms
from atlas.analysis import render_text, run_analyses, templates
from atlas.case import Analyst, Attribution, Case, KeyDate, Person, Place
from atlas.errors import ParamError
from atlas.store import load_events
from tests.analyses.helpers import event_ids_at, events, synthetic_case, utc

S, V, F = "tel:+447700900001", "tel:+447700900002", "tel:+447700900003"
S_IG, S_NEW_IG, V_IG = "instagram:sam.s", "instagram:always.here", "instagram:vic.v"
LAT, LON = 53.8, -1.5
M_LAT = 1 / 111_195  # degrees of latitude per metre
FORBIDDEN = re.compile(r"\b(stalk(ed|ing)?|breach(ed|es)?|course of conduct|harass(ed|ment)?|proves?|"
                       r"was at|visited|guilty|loitered|followed her|spied|offence (is|was) (met|made out))\b",
                       re.IGNORECASE)


def _case(root: Path, blocked: bool = True) -> Case:
    return Case(
        root=root, urn="01AB2345678", analyst=Analyst("Dana Irving", "Analyst", "", "DI"),
        persons=(Person("P1", "Sam Suspect", "suspect", (
                     Attribution(S, "Statement"), Attribution("device:AB/3", "His handset"),
                     Attribution(S_IG, "Subscriber return"), Attribution(S_NEW_IG, "Subscriber return"))),
                 Person("P2", "Vic Victim", "victim", (
                     Attribution(V, "Her number"), Attribution("device:AB/4", "Her handset"),
                     Attribution(V_IG, "Her account"))),
                 Person("P3", "Fay Friend", "other", (Attribution(F, "Her number"),))),
        places=(Place("Vic home", LAT, LON, 150.0, "P2"), Place("Sam home", LAT + 0.05, LON, 150.0, "P1")),
        key_dates=(KeyDate("blocked", utc("2025-01-05 12:00")),) if blocked else ())


def _msg(when: str, sender: str, recipient: str, kind: str = "sms", **more: object) -> dict:
    return {"kind": kind, "timestamp_utc": when, "direction": "unknown", "sender": sender,
            "recipients": [recipient], "channel": more.pop("channel", kind), **more}


def _fix(when: str, north_m: float, exhibit: str = "AB/3", accuracy: float | None = 10.0,
         east_deg: float = 0.0) -> dict:
    return {"kind": "location_fix", "timestamp_utc": when, "exhibit_ref": exhibit, "latitude": LAT + north_m * M_LAT,
            "longitude": LON + east_deg, "accuracy_m": accuracy, "location_method": "gps", "channel": "gpx",
            "direction": "unknown"}


# Row number (1-based, as ``events`` numbers them) -> the tags the row must carry.
ROWS = [
    (_msg("2025-01-02 10:00", S, V, text="hello"), {"contact"}),
    (_msg("2025-01-02 10:05", S, V, kind="call", status="missed", channel="phone"), {"contact"}),
    (_msg("2025-01-02 10:06", S, V, kind="call", status="blocked", channel="phone"), {"contact"}),
    (_msg("2025-01-02 11:00", V, S, text="stop"), set()),                      # victim to suspect
    (_msg("2025-01-02 11:05", "tel:+447700900999", V, kind="call", channel="phone"), set()),  # unattributed
    (_fix("2025-01-03 22:00", 50), {"at_place"}),                               # 50 + 10 <= 150
    (_fix("2025-01-03 22:05", 400), set()),                                     # outside the radius
    (_fix("2025-01-03 22:10", 120, accuracy=None), set()),                      # 120 + 50 assumed > 150
    (_fix("2025-01-03 22:15", 145, accuracy=10), set()),                        # centre inside, circle not
    ({"kind": "social_interaction", "timestamp_utc": "2025-01-06 20:00", "direction": "incoming",
      "sender": S_NEW_IG, "recipients": [V_IG], "status": "follow", "channel": "instagram"},
     {"contact", "profile_interaction", "new_identifier"}),
    ({"kind": "social_interaction", "timestamp_utc": "2025-01-06 20:05", "direction": "outgoing",
      "sender": V_IG, "recipients": [S_NEW_IG], "status": "block", "channel": "instagram"}, set()),
    ({"kind": "app_event", "timestamp_utc": "2025-01-07 09:00", "direction": "outgoing", "sender": S_IG,
      "status": "search", "text": "vic victim", "channel": "instagram"}, {"search"}),
    ({"kind": "app_event", "timestamp_utc": "2025-01-07 09:01", "direction": "outgoing", "sender": S_IG,
      "status": "search", "text": "victoria sponge", "channel": "instagram"}, set()),  # "Vic" inside a word
    ({"kind": "social_post", "timestamp_utc": "2025-01-07 10:00", "direction": "outgoing", "sender": S_IG,
      "text": "Look at Vic now", "channel": "instagram"}, {"publishing"}),
    ({"kind": "social_post", "timestamp_utc": "2025-01-07 10:05", "direction": "outgoing", "sender": S_IG,
      "text": "Nice day", "channel": "instagram"}, set()),
    (_msg("2025-01-08 12:00", S, F, text="Tell Vic I said she can't hide"), set()),   # third party
    (_msg("2025-01-08 12:30", F, V, text="Sam asked me to give you a message"), set()),  # third party
    (_msg("2025-01-08 13:00", S, F, text="hello Fay"), set()),
    (_msg("2025-01-08 13:10", F, V, text="Are you ok?"), set()),
    (_fix("2025-01-09 08:00", 5000, exhibit="AB/4"), set()),                    # victim's own device
    (_fix("2025-01-09 08:02", 5030), {"near_victim_device"}),                   # 30 m, 2 min
    (_fix("2025-01-09 08:30", 5000), set()),                                    # same spot, 30 min later
    (_fix("2025-01-09 09:00", 5000, exhibit="AB/4"), set()),
    (_fix("2025-01-09 09:01", 5000, east_deg=0.01), set()),                     # ~660 m east, 1 min
]


def _run(rows: list[dict], root: Path, case: Case | None = None, **params: object):
    frame = events(rows)
    return frame, schedule.run(frame, case or _case(root), schedule.Params(**params))


@pytest.fixture()
def planted(tmp_path):
    frame, result = _run([r for r, _ in ROWS], tmp_path)
    return frame, result


def _tagged(result, tag: str) -> set[str]:
    rec = result.tables["records"]
    return set(rec.loc[rec["tags"].str.split("; ").map(lambda t: tag in t), "event_id"])


@pytest.mark.parametrize("tag", [t for t in TAG_KEYS if t not in ("tracking", "property")])
def test_each_tag_picks_exactly_the_planted_records(planted, tag):
    frame, result = planted
    expected = {frame["event_id"].iloc[n] for n, (_, tags) in enumerate(ROWS) if tag in tags}
    assert expected, tag
    assert _tagged(result, tag) == expected


def test_records_outside_the_radius_and_unattributed_are_not_tagged(planted):
    frame, result = planted
    ids = set(result.tables["records"]["event_id"])
    for n in (4, 6, 7, 8):  # unattributed caller; 400 m; assumed accuracy; circle crosses the edge
        assert frame["event_id"].iloc[n] not in ids
    place = next(f for f in result.findings if f.key == "schedule.tag.at_place")
    assert place.values["place"] == "Vic home" and place.values["person"] == "P1"
    assert place.event_ids == (frame["event_id"].iloc[5],)


def test_third_party_counted_separately_not_in_direct_contact(planted):
    frame, result = planted
    third = result.tables["third_party"]
    assert list(third["event_id"]) == [frame["event_id"].iloc[15], frame["event_id"].iloc[16]]
    assert list(third["route"]) == ["suspect_to_other", "other_to_victim"]
    assert not set(third["event_id"]) & set(result.tables["records"]["event_id"])
    contact = next(f for f in result.findings if f.key == "schedule.tag.contact")
    assert contact.values["records"] == 4 and not set(third["event_id"]) & set(contact.event_ids)
    keys = [f.key for f in result.findings]
    assert "schedule.third_party.suspect_to_other" in keys and "schedule.third_party.other_to_victim" in keys
    assert result.counts["third_party_records"] == 2 and result.counts["records_contact"] == 4


def test_aliases_extend_the_names_matched(tmp_path):
    rows = [_msg("2025-01-08 12:00", S, F, text="Tell Bunny I know"),
            _msg("2025-01-08 12:30", F, V, text="Spoke to Dazza today")]
    _, plain = _run(rows, tmp_path)
    assert plain.tables["third_party"].empty
    _, named = _run(rows, tmp_path, victim_aliases=("Bunny",), suspect_aliases=("Dazza",))
    assert list(named.tables["third_party"]["route"]) == ["suspect_to_other", "other_to_victim"]


def test_name_terms_come_from_case_toml():
    person = Person("P2", "Sarah Collins", "victim", (Attribution("name:whatsapp:Sarah C", "x"),
                                                      Attribution("instagram:sarah.c.leeds", "x"),
                                                      Attribution("tel:+447700900002", "x")))
    assert set(name_terms(person, ("Saz",))) == {"Sarah Collins", "Sarah", "Collins", "Sarah C",
                                                 "sarah.c.leeds", "Saz"}


def test_not_assessable_tags_are_listed_not_zero(tmp_path):
    _, result = _run([_msg("2025-01-02 10:00", S, V)], tmp_path, case=_case(tmp_path, blocked=False))
    tags = result.tables["tags"].set_index("tag")
    for tag in ("new_identifier", "search", "publishing", "at_place", "near_victim_device", "tracking",
                "property", "profile_interaction"):
        assert tags.loc[tag, "assessable"] == "not assessable from these records", tag
        assert pd.isna(tags.loc[tag, "records"]), tag
        finding = next(f for f in result.findings if f.key == f"schedule.not_assessable.{tag}")
        assert finding.event_ids == ()
    assert tags.loc["contact", "assessable"] == "yes" and tags.loc["contact", "records"] == 1


def test_assessable_but_none_found_says_so(tmp_path):
    rows = [_msg("2025-01-02 10:00", S, V), _fix("2025-01-03 22:05", 400)]
    _, result = _run(rows, tmp_path)
    keys = {f.key for f in result.findings}
    assert "schedule.none.at_place" in keys and "schedule.not_assessable.at_place" not in keys
    assert result.tables["tags"].set_index("tag").loc["at_place", "records"] == 0


def test_uk_local_dates_and_episode_grouping(tmp_path):
    # 22:30 UTC on 30 June is 23:30 BST; 23:30 UTC is 00:30 BST on 1 July: two UK dates, one run.
    rows = [_fix("2025-06-30 22:00", 0), _fix("2025-06-30 22:30", 0), _fix("2025-06-30 23:30", 0),
            _msg("2025-07-01 12:00", S, V), _fix("2025-07-01 21:00", 0)]
    case = _case(tmp_path, blocked=False)
    frame, by_date = _run(rows, tmp_path, case=case)
    table = by_date.tables["schedule"]
    assert list(table["date_uk"]) == ["2025-06-30", "2025-07-01"]
    assert list(table["records"]) == [2, 3] and list(table["grouping"]) == ["date", "date"]
    assert table["first_time_uk"].iloc[1] == "2025-07-01 00:30:00 BST"
    _, by_run = _run(rows, tmp_path, case=case, grouping="episode", episode_gap_minutes=60)
    table = by_run.tables["schedule"]
    assert list(table["grouping"]) == ["episode", "date", "episode"]
    assert list(table["records"]) == [3, 1, 1]
    assert table["event_ids"].iloc[0] == list(frame["event_id"].iloc[:3])
    assert list(table["tags"]) == ["at_place", "contact", "at_place"]


def test_schedule_counts_per_tag_and_channel(planted):
    _, result = planted
    table = result.tables["schedule"]
    first = table.iloc[0]
    assert first["date_uk"] == "2025-01-02" and first["tag_contact"] == 3
    assert first["channel_phone"] == 2 and first["channel_sms"] == 1
    assert first["first_time_uk"].endswith("GMT")
    assert table["records"].sum() == len(result.tables["records"])
    assert list(table["occasion"]) == list(range(1, len(table) + 1))


def test_from_date_leaves_earlier_records_out_and_says_so(planted, tmp_path):
    frame, _ = planted
    _, result = _run([r for r, _ in ROWS], tmp_path, from_date="2025-01-06")
    assert result.tables["records"]["date_uk"].min() >= "2025-01-06"
    note = next(f for f in result.findings if f.key == "schedule.from_date")
    assert note.values["records"] == 4 and note.event_ids[0] == frame["event_id"].iloc[0]


def test_params_are_checked():
    with pytest.raises(ParamError):
        schedule.Params(grouping="week")
    with pytest.raises(ParamError):
        schedule.Params(from_date="06/01/2025")
    with pytest.raises(ParamError):
        schedule.Params(device_distance_m=0)


def test_wording_exists_and_states_no_conclusion(planted):
    _, result = planted
    words = templates("schedule")
    for f in result.findings:
        assert f.key in words["findings"], f.key
        text = render_text(words["findings"][f.key], f.values, "Europe/London")
        assert "{" not in text, text
        unquoted = re.sub(r"'[^']*'", "", text.replace("Protection from Harassment Act", ""))
        assert not FORBIDDEN.search(unquoted), text
    for key in schedule.LIMITATIONS:
        assert words["limitations"][key]
    place = next(f for f in result.findings if f.key == "schedule.tag.at_place")
    text = render_text(words["findings"][place.key], place.values, "Europe/London")
    assert "location records of the device attributed to P1 within 150 m of Vic home" in text


def test_event_ids_in_time_order_in_every_finding(planted):
    frame, result = planted
    when = dict(zip(frame["event_id"], frame["timestamp_utc"], strict=True))
    for f in result.findings:
        times = [when[e] for e in f.event_ids]
        assert times == sorted(times), f.key


# ---------------------------------------------------------------- the synthetic case

@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    root = tmp_path_factory.mktemp("schedule") / "case"
    case, truth = synthetic_case(root, extended=True)
    ext, ig = truth["identifiers_extended"], truth["instagram"]
    more = [Attribution(v, "Officer's enquiry (test)") for v in (
        truth["identifiers"]["suspect_new"], ext["suspect_email"], ext["suspect_instagram"],
        ext["suspect_instagram_alias"], "name:instagram:" + ig["suspect"]["display_name"],
        "name:instagram:" + ig["alias"]["display_name"])]
    hers = {"P1": more, "P2": [Attribution(ext["victim_email"], "Her statement (test)"),
                               Attribution(ext["victim_instagram"], "Her statement (test)")]}
    case = dataclasses.replace(case, persons=tuple(
        dataclasses.replace(p, identifiers=(*p.identifiers, *hers.get(p.id, ()))) for p in case.persons))
    (doc,) = run_analyses(case, specs=(schedule.ANALYSIS,))
    records = pd.read_csv(case.root / "results" / "schedule" / "records.csv", encoding="utf-8-sig")
    return case, truth, doc, records, load_events(case.root)


def _with(records: pd.DataFrame, tag: str) -> set[str]:
    return set(records.loc[records["tags"].str.split("; ").map(lambda t: tag in t), "event_id"])


def test_synthetic_contacts_include_blocked_attempts_and_email(synthetic):
    _case_, truth, _doc, records, stored = synthetic
    contact = _with(records, "contact")
    assert set(event_ids_at(stored, truth["suspect_handset"]["blocked_attempts"]["records"])) <= contact
    assert set(event_ids_at(stored, truth["contacts_after_service"]["records"])) <= contact
    email = event_ids_at(stored, [truth["email"]])[0]
    assert email in contact and email in _with(records, "new_identifier")
    withheld = event_ids_at(stored, truth["withheld_calls"])
    assert not set(withheld) & set(records["event_id"])  # no attribution, so not counted


def test_synthetic_alias_follow_and_new_identifiers(synthetic):
    _case_, truth, _doc, records, stored = synthetic
    ig, ext = truth["instagram"], truth["identifiers_extended"]
    follow = event_ids_at(stored, [{"file": ig["file"], "locator": ig["alias"]["first_contact"]["locator"]}])[0]
    assert follow in _with(records, "profile_interaction") and follow in _with(records, "new_identifier")
    # Exactly the follows from the two suspect accounts: the old one's (2021) and the alias's.
    suspect_accounts = {ext["suspect_instagram"], ext["suspect_instagram_alias"]}
    follows = stored[(stored["kind"] == "social_interaction") & stored["sender"].isin(suspect_accounts)
                     & (stored["status"] == "follow")]
    assert _with(records, "profile_interaction") == set(follows["event_id"]) and len(follows) == 2
    # Every new-identifier record comes from an identifier first seen after the block.
    new_ids = {truth["identifiers"]["suspect_new"], ext["suspect_email"], ext["suspect_instagram_alias"],
               "name:instagram:" + ig["alias"]["display_name"]}
    tagged = stored[stored["event_id"].isin(_with(records, "new_identifier"))]
    assert set(tagged["sender"]) <= new_ids
    first_new = event_ids_at(stored, [truth["new_number"]["first_contact"]])[0]
    assert first_new in _with(records, "new_identifier")


def _haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(a))


def test_synthetic_at_place_is_exactly_the_records_inside(synthetic):
    case, truth, _doc, records, stored = synthetic
    home = next(p for p in case.places if p.name == "Victim home")
    fixes = stored[stored["exhibit_ref"].isin(["DI/3", "DI/9"]) & (stored["kind"] == "location_fix")
                   & (stored["location_method"] != "cell")]
    inside = {e for e, la, lo, acc in zip(fixes["event_id"], fixes["latitude"], fixes["longitude"],
                                          fixes["accuracy_m"], strict=True)
              if _haversine(home.lat, home.lon, la, lo) + (50.0 if pd.isna(acc) else acc) <= home.radius_m}
    assert inside and _with(records, "at_place") == inside
    places = records[records["tags"].str.contains("at_place")]
    for visit in truth["visits"]:
        span = pd.to_datetime(places["timestamp_utc"], format="ISO8601").between(pd.Timestamp(visit["start_utc"]),
                                                               pd.Timestamp(visit["end_utc"]))
        assert span.any(), visit["index"]
    near_miss = event_ids_at(stored, [truth["near_miss"]["first"], truth["near_miss"]["last"]])
    assert not set(near_miss) & set(records["event_id"])


def test_synthetic_schedule_table_and_wording(synthetic):
    case, _truth, doc, records, _stored = synthetic
    table = pd.read_csv(case.root / "results" / "schedule" / "schedule.csv", encoding="utf-8-sig")
    assert table["records"].sum() == len(records) and len(table) == doc["counts"]["occasions"]
    first_local = pd.to_datetime(table["first_utc"], utc=True, format="ISO8601").dt.tz_convert("Europe/London")
    assert list(first_local.dt.strftime("%Y-%m-%d")) == list(table["date_uk"])
    assert table["first_time_uk"].str.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d (GMT|BST)$").all()
    tags = pd.read_csv(case.root / "results" / "schedule" / "tags.csv", encoding="utf-8-sig").set_index("tag")
    assert tags.loc["property", "assessable"] == "not assessable from these records"
    assert tags.loc["tracking", "assessable"] == "not assessable from these records"
    for finding in doc["findings"]:
        assert finding["text"], finding["key"]
        unquoted = re.sub(r"'[^']*'", "", finding["text"].replace("Protection from Harassment Act", ""))
        assert not FORBIDDEN.search(unquoted), finding["text"]


def test_synthetic_byte_identical(synthetic):
    case = synthetic[0]
    digests = []
    for _ in range(2):
        run_analyses(case, specs=(schedule.ANALYSIS,), param_pairs=("schedule.grouping=episode",))
        files = [case.root / "results" / "schedule.json", *sorted((case.root / "results" / "schedule").glob("*"))]
        digests.append({p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
    assert digests[0] == digests[1] and len(digests[0]) == 5
