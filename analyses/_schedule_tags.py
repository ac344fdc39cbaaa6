"""The schedule's tags: which records are of the kind each listed behaviour describes.

A tag is a neutral label for a kind of record, never a finding about conduct. Each
tag names the examples in s.2A(3) Protection from Harassment Act 1997 (letters a-g)
and the online behaviours in the College of Policing advice (``domain.md`` §2) that
describe records of that kind. The table ``TAGS`` is the whole scheme, kept as data
so a reviewer can check it; its selectors are the functions below. Records are tied
to persons only through ``case.toml`` (``atlas.attribution``; location records
through ``device:<exhibit>`` attributions). A tag whose records cannot be in the
store (no record type, or no source of that kind in the store) is "not assessable",
never a silent zero.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analyses import _orders_terms as terms
from analyses._colocation_records import location_records
from analyses._colocation_sweep import Track, sweep_pairs
from analyses._identifier_changes_evidence import key_date_utc
from atlas.attribution import attribute, role_ids
from atlas.case import Case, Person

# The examples in s.2A(3) of the Protection from Harassment Act 1997, as the Act lists them.
S2A3 = {
    "a": "following a person",
    "b": "contacting, or attempting to contact, a person by any means",
    "c": "publishing any statement or other material relating or purporting to relate to a person, "
    "or purporting to originate from a person",
    "d": "monitoring the use by a person of the internet, email or any other form of electronic communication",
    "e": "loitering in any place (whether public or private)",
    "f": "interfering with any property in the possession of a person",
    "g": "watching or spying on a person",
}


@dataclass(frozen=True)
class Tag:
    """One tag: its key, the s.2A(3) letters and online behaviour it maps to, and the records it selects."""

    key: str
    refs: tuple[str, ...]
    online: str
    records: str


TAGS: tuple[Tag, ...] = (
    Tag(
        "contact",
        ("b",),
        "",
        "call (answered, missed, rejected, blocked or with no answer recorded), sms, mms, chat_message, email "
        "or social_interaction records sent from identifiers attributed to a suspect to identifiers attributed "
        "to a victim",
    ),
    Tag(
        "new_identifier",
        ("b", "d"),
        "alias accounts; new numbers or accounts after a block",
        "contact-tagged records whose sender identifier has no dated record in the store before the first "
        "'blocked' key date in case.toml",
    ),
    Tag(
        "profile_interaction",
        ("b", "d"),
        "visiting or following the person's social media profiles",
        "social_interaction records (follow, follow or friend request, like, comment, reaction) from "
        "accounts attributed to a suspect to accounts attributed to a victim",
    ),
    Tag(
        "search",
        (),
        "searching for the person online",
        "search records (app_event, status search) of accounts or devices attributed to a suspect whose text "
        "or target names a victim (name, name identifiers, handles, aliases)",
    ),
    Tag(
        "publishing",
        ("c",),
        "sharing material about the person",
        "social_post records of accounts or devices attributed to a suspect whose text names a victim",
    ),
    Tag(
        "at_place",
        ("e", "g"),
        "",
        "location records (GPS, Wi-Fi or provider fixes and visits; not cell-based, not ANPR) of devices "
        "attributed to a suspect within the radius of a place linked to a victim, allowing for each record's "
        "uncertainty (d + r <= R)",
    ),
    Tag(
        "near_victim_device",
        ("a", "g"),
        "",
        "location records of devices attributed to a suspect within D metres (d + r1 + r2 <= D) and T "
        "minutes of a location record of a device attributed to a victim",
    ),
    Tag(
        "tracking",
        ("d", "g"),
        "monitoring or tracking through location sharing, trackers, connected devices "
        "or access to the person's accounts",
        "no record type in the event model describes location sharing, tracker alerts or account access",
    ),
    Tag(
        "property",
        ("f",),
        "",
        "no record type in the event model describes interference with property",
    ),
)
TAG_KEYS = tuple(t.key for t in TAGS)
LOCATION_TAGS = ("at_place", "near_victim_device")
# social_interaction statuses that are not an approach to the other account.
NOT_APPROACH = (
    "block",
    "unfollow",
    "restrict",
    "hide_story",
    "dismiss_suggestion",
    "unfriend",
    "reject_friend_request",
    "friend_removed",
    "hide_suggestion",
    "ignore",
)
PROFILE_STATUSES = (
    "follow",
    "follow_request",
    "friend_request",
    "friend",
    "like",
    "comment",
    "comment_like",
    "reaction",
    "close_friend",
)
DEVICE_KINDS = ("location_fix", "location_visit")
HIT_COLUMNS = ("event_id", "tag", "detail", "group")
"""``group`` is ``place|person`` for at_place, ``suspect|victim`` for near_victim_device, else empty."""


@dataclass(frozen=True)
class Selection:
    """What the selectors found: hits (one row per record and tag), third-party records, assessability."""

    hits: pd.DataFrame
    third_party: pd.DataFrame
    assessable: dict[str, bool]
    places: tuple[
        tuple[str, str, float], ...
    ]  # (place, person linked, radius) of the victims' places


def name_terms(person: Person, aliases: tuple[str, ...]) -> tuple[str, ...]:
    """Return the words that name a person: full name, its words of 3+ letters, name identifiers, handles, aliases."""
    found = {person.name.strip()} | {w for w in re.split(r"\s+", person.name) if len(w) >= 3}
    for att in person.identifiers:
        scheme, _, rest = att.value.partition(":")
        if scheme == "name":
            found.add(rest.partition(":")[2].strip())
        elif scheme in (
            "instagram",
            "facebook",
            "snapchat",
            "tiktok",
            "x",
            "twitter",
            "telegram",
            "email",
        ):
            found.add(rest.strip())
    found |= {a.strip() for a in aliases}
    return tuple(sorted((t for t in found if t), key=lambda t: (-len(t), t)))


def mentions(text: pd.Series, words: tuple[str, ...]) -> pd.Series:
    """Return True where ``text`` contains one of ``words`` as a whole word (case-insensitive)."""
    if not words or text.empty:
        return pd.Series(False, index=text.index)
    pattern = r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)"
    return text.fillna("").astype(str).str.contains(pattern, flags=re.IGNORECASE, regex=True)


def select(events: pd.DataFrame, case: Case, params: object) -> Selection:
    """Run every selector; return the hits, the third-party records and which tags are assessable."""
    suspects, victims, others = (
        role_ids(case, "suspect"),
        role_ids(case, "victim"),
        role_ids(case, "other"),
    )
    hits: list[pd.DataFrame] = []
    assessable = dict.fromkeys(TAG_KEYS, False)

    contacts = terms.contacts(events, case)
    from_suspect = contacts["sender_person"].isin(suspects)
    to_victim = (
        contacts["recipient_persons"].map(lambda ps: any(p in victims for p in ps)).astype(bool)
    )
    approach = ~((contacts["kind"] == "social_interaction") & contacts["status"].isin(NOT_APPROACH))
    direct = contacts[from_suspect & to_victim & approach]
    assessable["contact"] = len(contacts) > 0
    hits.append(_hits(direct, "contact", direct["channel"].fillna(direct["kind"]).astype(str)))

    blocks = [
        key_date_utc(k.at, case.display_timezone) for k in case.key_dates if k.kind == "blocked"
    ]
    if blocks and len(contacts):
        assessable["new_identifier"] = True
        block = min(blocks)
        first = _first_seen(events)
        seen = direct["sender"].map(first)
        new = direct[direct["sender"].notna() & (seen > block)]
        hits.append(
            _hits(
                new,
                "new_identifier",
                new["sender"].astype(str)
                + " first recorded "
                + new["sender"].map(first).dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
        )

    social = direct[
        (direct["kind"] == "social_interaction") & direct["status"].isin(PROFILE_STATUSES)
    ]
    assessable["profile_interaction"] = bool((events["kind"] == "social_interaction").any())
    hits.append(_hits(social, "profile_interaction", social["status"].astype(str)))

    victim_words = tuple(
        sorted(
            {
                w
                for p in case.persons
                if p.id in victims
                for w in name_terms(p, params.victim_aliases)
            },
            key=lambda t: (-len(t), t),
        )
    )
    own = _own_records(events, case, suspects)
    searches = own[(own["kind"] == "app_event") & (own["status"] == "search")]
    assessable["search"] = len(searches) > 0
    named = mentions(searches["text"], victim_words) | searches["recipient_persons"].map(
        lambda ps: any(p in victims for p in ps)
    ).astype(bool)
    hits.append(_hits(searches[named], "search", pd.Series("search", index=searches[named].index)))

    posts = own[own["kind"] == "social_post"]
    assessable["publishing"] = len(posts) > 0
    named = posts[mentions(posts["text"], victim_words)]
    hits.append(_hits(named, "publishing", named["channel"].fillna("post").astype(str)))

    located = location_records(events, case, params.assumed_accuracy_m)
    located = located[located["kind"].isin(DEVICE_KINDS) & (located["basis"] != "cell")]
    sus = located[located["person"].isin(suspects)].reset_index(drop=True)
    vic = located[located["person"].isin(victims)].reset_index(drop=True)
    places = tuple((p.name, p.person or "", p.radius_m) for p in case.places if p.person in victims)
    assessable["at_place"] = bool(places) and len(sus) > 0
    for name, _who, radius in places:
        place = next(p for p in case.places if p.name == name)
        d = terms.haversine_m(
            place.lat, place.lon, sus["latitude"].to_numpy(), sus["longitude"].to_numpy()
        )
        inside = d + sus["radius_m"].to_numpy() <= radius
        detail = [
            f"{name}: {x:.0f} m from centre (radius {radius:g} m, uncertainty {r:g} m)"
            for x, r in zip(d[inside], sus["radius_m"].to_numpy()[inside], strict=True)
        ]
        hits.append(
            pd.DataFrame(
                {
                    "event_id": sus["event_id"][inside].to_numpy(),
                    "tag": "at_place",
                    "detail": detail,
                    "group": name + "|" + sus["person"][inside],
                },
                columns=list(HIT_COLUMNS),
            )
        )
    assessable["near_victim_device"] = len(sus) > 0 and len(vic) > 0
    hits.append(_near(sus, vic, params))

    hit = (
        pd.concat([h for h in hits if len(h)], ignore_index=True)
        if any(len(h) for h in hits)
        else pd.DataFrame({c: pd.Series(dtype=object) for c in HIT_COLUMNS})
    )
    third = _third_party(contacts, case, suspects, victims, others, params)
    return Selection(hit, third, assessable, places)


def _hits(frame: pd.DataFrame, tag: str, detail: pd.Series) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "event_id": frame["event_id"].to_numpy(),
            "tag": tag,
            "detail": detail.to_numpy(dtype=object),
            "group": "",
        },
        columns=list(HIT_COLUMNS),
    )


def _first_seen(events: pd.DataFrame) -> pd.Series:
    """Return identifier -> earliest time it appears as sender or recipient in a dated record."""
    dated = events.loc[events["timestamp_utc"].notna(), ["timestamp_utc", "sender", "recipients"]]
    senders = dated[["sender", "timestamp_utc"]].rename(columns={"sender": "identifier"})
    recips = (
        dated[["recipients", "timestamp_utc"]]
        .explode("recipients")
        .rename(columns={"recipients": "identifier"})
    )
    both = pd.concat([senders, recips], ignore_index=True).dropna(subset=["identifier"])
    return both.groupby("identifier")["timestamp_utc"].min()


def _own_records(events: pd.DataFrame, case: Case, suspects: frozenset[str]) -> pd.DataFrame:
    """Return search and post records whose account or device is attributed to a suspect."""
    rec = events.loc[
        events["kind"].isin(("app_event", "social_post")) & events["timestamp_utc"].notna()
    ]
    rec = rec.join(attribute(rec, case))
    rec = rec[rec["sender_person"].isin(suspects)]
    return rec.sort_values(["timestamp_utc", "event_id"], kind="stable")


def _near(sus: pd.DataFrame, vic: pd.DataFrame, params: object) -> pd.DataFrame:
    """Return suspect records within D metres (both uncertainties allowed for) and T minutes of a victim record."""
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in HIT_COLUMNS})
    if len(sus) == 0 or len(vic) == 0:
        return empty
    ta, tb = _track(sus), _track(vic)
    i, j = sweep_pairs(ta, tb, params.device_distance_m, params.device_window_minutes * 60_000_000)
    if i.size == 0:
        return empty
    d = terms.haversine_m(ta.lat[i], ta.lon[i], tb.lat[j], tb.lon[j])
    ok = d + ta.radius[i] + tb.radius[j] <= params.device_distance_m
    i, j, d = i[ok], j[ok], d[ok]
    if i.size == 0:
        return empty
    gap = np.abs(ta.start[i] - tb.start[j])
    # One row per suspect record: its closest partner (distance, then time, then id).
    pairs = pd.DataFrame({"i": i, "d": d, "gap": gap, "partner": vic["event_id"].to_numpy()[j]})
    best = pairs.sort_values(["i", "d", "gap", "partner"], kind="stable").drop_duplicates("i")
    detail = [
        f"{x:.0f} m and {g / 60e6:.1f} min from {who}'s device record {pid}"
        for x, g, who, pid in zip(
            best["d"], best["gap"], _partner_person(best, vic), best["partner"], strict=True
        )
    ]
    rows = best["i"].to_numpy()
    group = (
        sus["person"].to_numpy()[rows] + "|" + np.asarray(_partner_person(best, vic), dtype=object)
    )
    return pd.DataFrame(
        {
            "event_id": sus["event_id"].to_numpy()[rows],
            "tag": "near_victim_device",
            "detail": detail,
            "group": group,
        },
        columns=list(HIT_COLUMNS),
    )


def _partner_person(best: pd.DataFrame, vic: pd.DataFrame) -> list[str]:
    who = dict(zip(vic["event_id"], vic["person"], strict=True))
    return [who[p] for p in best["partner"]]


def _track(frame: pd.DataFrame) -> Track:
    def us(values: pd.Series) -> np.ndarray:
        return (
            values.dt.tz_convert("UTC")
            .dt.tz_localize(None)
            .to_numpy("datetime64[us]")
            .astype("int64")
        )

    return Track(
        us(frame["start"]),
        us(frame["end"]),
        frame["latitude"].to_numpy("float64"),
        frame["longitude"].to_numpy("float64"),
        frame["radius_m"].to_numpy("float64"),
    )


def _third_party(
    contacts: pd.DataFrame,
    case: Case,
    suspects: frozenset[str],
    victims: frozenset[str],
    others: frozenset[str],
    params: object,
) -> pd.DataFrame:
    """Return contact records that involve a third party and name the other principal.

    ``suspect_to_other``: sent from a suspect's identifier to a person with role other (and to no
    victim), whose text names a victim. ``other_to_victim``: sent from a person with role other to a
    victim, whose text names a suspect.
    """
    columns = ["event_id", "route", "sender_person", "recipient_persons"]

    def words(ids: frozenset[str], aliases: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            sorted(
                {w for p in case.persons if p.id in ids for w in name_terms(p, aliases)},
                key=lambda t: (-len(t), t),
            )
        )

    to_victim = (
        contacts["recipient_persons"].map(lambda ps: any(p in victims for p in ps)).astype(bool)
    )
    to_other = (
        contacts["recipient_persons"].map(lambda ps: any(p in others for p in ps)).astype(bool)
    )
    a = contacts[contacts["sender_person"].isin(suspects) & to_other & ~to_victim]
    a = a[mentions(a["text"], words(victims, params.victim_aliases))].assign(
        route="suspect_to_other"
    )
    b = contacts[contacts["sender_person"].isin(others) & to_victim]
    b = b[mentions(b["text"], words(suspects, params.suspect_aliases))].assign(
        route="other_to_victim"
    )
    out = (
        pd.concat([a, b], ignore_index=True)
        if len(a) or len(b)
        else contacts.iloc[0:0].assign(route="")
    )
    out = out.assign(recipient_persons=out["recipient_persons"].map(lambda ps: ", ".join(ps)))
    return out[columns].reset_index(drop=True)
