"""Identifier changes: new numbers or accounts first contacting the complainant after another stops.

Method:
    Contacts are communication records (calls, SMS, MMS, chat messages, e-mails, social
    interactions such as follows) received by an identifier attributed to a victim, with
    the sender given. *Old identifiers* and their *anchors* (``_identifier_changes_evidence``):
    each ``blocked`` key date with an identifier, and each block record in an exhibit not
    sent by a suspect (e.g. an Instagram ``blocked_accounts`` entry), anchors the blocked
    identifier at the block unless case.toml attributes it to a person who is not a suspect;
    an identifier attributed to a suspect, or named in ``suspected_identifiers``, that was
    not blocked is anchored at its last recorded contact with the complainant. A key date
    without a time takes effect at the end of that UK day.

    A *candidate* is a sender that case.toml attributes to no one, is not an old identifier,
    and whose first recorded contact with the complainant in the whole store falls after an
    anchor and within ``window_days`` of it. For every candidate and anchor the evidence is
    measured, all as numbers: the gap from the anchor, and from the old identifier's last
    contact before the candidate's first; how many contacts the old identifier made after
    the candidate's first (overlap); the other parties (neither the complainant's
    identifiers nor the two compared) recorded in contact with both, anywhere in the store;
    the cosine similarity of their 24 UK-local hour-of-day counts of contacts with the
    complainant; the cosine similarity of their word counts (lower-cased words, a short
    fixed stop list left out) and their mean message lengths (each similarity only when both
    identifiers have at least ``min_profile_records`` contacts or messages); the words of persons'
    names from case.toml (and ``terms``) found in both identifiers' messages, and in the
    candidate's; and their channels.

    Score (0 to 100), used only to order the leads:
    ``35 x (1 - gap_days / window_days) + 20 x min(shared parties, 3) / 3
    + 15 x hour cosine + 15 x word cosine + 10 x (a name word in both) + 5 x (a channel in
    common)``; a measure that cannot be computed (no messages) adds 0. Each candidate is
    reported once, against the anchor giving its highest score (then the shortest gap);
    every candidate-anchor pair is in the ``candidates`` table. Ranks: score descending,
    then gap, then identifier.
Limitations:
    Wording lives in report_templates/analyses/identifier_changes.toml under the keys in
    ``LIMITATIONS``. In short: every candidate is a lead for the officer to confirm, never an
    attribution; the score is an ordering aid, not a probability; only the sources in the
    store are searched; display names and handles on one platform are different identifiers.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analyses import _identifier_changes_evidence as ev
from analyses import _identifier_changes_tables as tb
from analyses._identifier_changes_findings import findings_for
from analyses._identifier_changes_render import render
from atlas.analysis import AnalysisResult, AnalysisSpec
from atlas.attribution import attribute, role_ids
from atlas.case import Case
from atlas.errors import ParamError

REQUIRES = (
    "event_id",
    "timestamp_utc",
    "kind",
    "channel",
    "direction",
    "sender",
    "recipients",
    "exhibit_ref",
    "source_sha256",
    "seq",
    "locator",
    "text",
    "status",
)
LIMITATIONS = (
    "identifier_changes.lead_not_attribution",
    "identifier_changes.score_orders_only",
    "identifier_changes.device_not_person",
    "identifier_changes.store_only",
    "identifier_changes.names_and_handles",
    "identifier_changes.old_identifiers_basis",
    "identifier_changes.similarity_measures",
    "identifier_changes.uk_local_time",
)
WEIGHTS = {
    "timing": 35.0,
    "shared": 20.0,
    "hours": 15.0,
    "words": 15.0,
    "names": 10.0,
    "channel": 5.0,
}


@dataclass(frozen=True, kw_only=True)
class Params:
    """Choices for this analysis; every value is written to the analysis log."""

    window_days: int = 30
    """How many days after an anchor a new identifier's first contact may fall."""
    suspected_identifiers: tuple[str, ...] = ()
    """Identifiers the officer suspects a suspect used but case.toml does not attribute
    (scheme-prefixed, e.g. ``instagram:d.marsh.88``); treated as old identifiers, never as
    candidates."""
    terms: tuple[str, ...] = ()
    """Extra words (nicknames, pet names, shared places) counted with the persons' names."""
    min_profile_records: int = 5
    """Fewest contacts (for the hour profile) or messages (for the word counts) each identifier
    needs before its similarity is computed; below it the measure is "not computed"."""

    def __post_init__(self) -> None:
        if not 1 <= self.window_days <= 366:
            raise ParamError("window_days", self.window_days, "must be 1 to 366")
        bad = [i for i in self.suspected_identifiers if ":" not in i or i.startswith("device:")]
        if bad:
            raise ParamError(
                "suspected_identifiers",
                self.suspected_identifiers,
                f"{bad[0]!r} must be a scheme-prefixed identifier such as tel:+447700900123",
            )
        if not 1 <= self.min_profile_records <= 1000:
            raise ParamError("min_profile_records", self.min_profile_records, "must be 1 to 1000")
        if any(not t.strip() for t in self.terms):
            raise ParamError("terms", self.terms, "terms must not be empty")


def run(events: pd.DataFrame, case: Case, params: Params) -> AnalysisResult:
    """Find new identifiers first contacting the complainant after an anchor; events unchanged."""
    tz = case.display_timezone
    att = attribute(events, case)
    contacts = ev.to_victim(events, case, att)
    anchors = ev.anchors(events, case, att, contacts, params.suspected_identifiers, tz)
    owner = case.identifier_owner()
    olds = {a.old for a in anchors} | set(params.suspected_identifiers)
    per = ev.summary(contacts)
    loose = per.loc[[i not in owner and i not in olds for i in per.index]]
    window = pd.Timedelta(days=params.window_days)

    rows: list[dict] = []
    by_sender = {k: g for k, g in contacts.groupby("sender", sort=True)}
    party = ev.parties(events).groupby("identifier", sort=True)["party"].agg(lambda s: tuple(s))
    victim_ids = {i for pid in sorted(role_ids(case, "victim")) for i in case.identifiers_of(pid)}
    terms = ev.name_terms(case, params.terms)
    names = {p.id: p.name for p in case.persons}
    for a in anchors:  # anchors are few: one per block or per old identifier
        inside = loose.loc[(loose["first_utc"] > a.at) & (loose["first_utc"] <= a.at + window)]
        for ident, new in inside.iterrows():
            rows.append(
                _pair(a, ident, new, by_sender, party, victim_ids, terms, tz, params, owner, names)
            )
    table = tb.ranked(
        pd.DataFrame(rows, columns=[c for c in tb.CANDIDATE_COLUMNS if c != "rank"] + ["rank"])
    )
    tables = {
        "candidates": table,
        "anchors": tb.anchor_table(anchors, per, table, owner, names, params),
        "daily": tb.daily(contacts, anchors, table, tz),
    }
    findings = findings_for(table, tables["anchors"], params)
    counts = {
        "contacts_to_complainant": len(contacts),
        "senders": len(per),
        "unattributed_senders": len(loose),
        "anchors": len(anchors),
        "candidate_pairs": len(table),
        "candidates": int(table["best"].sum()) if len(table) else 0,
    }
    return AnalysisResult(
        analysis=ANALYSIS,
        params=params,
        tables=tables,
        findings=findings,
        limitations=LIMITATIONS,
        counts=counts,
    )


def _pair(
    a: ev.Anchor,
    ident: str,
    new: pd.Series,
    by_sender: dict,
    party: pd.Series,
    victim_ids: set[str],
    terms: tuple[str, ...],
    tz: str,
    params: Params,
    owner: dict,
    names: dict,
) -> dict:
    """Return the evidence numbers for one candidate against one anchor."""
    old = by_sender.get(
        a.old, pd.DataFrame(columns=["timestamp_utc", "event_id", "channel", "text"])
    )
    mine = by_sender[ident]
    before = old.loc[old["timestamp_utc"] < new["first_utc"]]
    skip = victim_ids | {a.old, ident}
    old_p = sorted(p for p in party.get(a.old, ()) if p not in skip)
    new_p = sorted(p for p in party.get(ident, ()) if p not in skip)
    shared = sorted(set(old_p) & set(new_p))
    enough = params.min_profile_records
    hours = (
        ev.cosine(
            ev.hour_profile(old["timestamp_utc"], tz), ev.hour_profile(mine["timestamp_utc"], tz)
        )
        if min(len(old), len(mine)) >= enough
        else None
    )
    old_words, new_words = ev.word_counts(old["text"]), ev.word_counts(mine["text"])
    in_old = [t for t in terms if t in old_words.index]
    in_new = [t for t in terms if t in new_words.index]
    both = [t for t in in_new if t in in_old]
    lowered = (
        mine["text"]
        .fillna("")
        .str.lower()
        .str.replace("\u2019", "'", regex=False)
        .str.findall(ev.WORD)
    )
    with_term = mine.loc[
        lowered.map(lambda ws: any(w in both for w in ws)).astype(bool), "event_id"
    ]
    old_channels = tuple(sorted(old["channel"].unique().tolist())) if len(old) else ()
    gap = (new["first_utc"] - a.at) / pd.Timedelta(days=1)
    last = before.iloc[-1] if len(before) else None
    texts = min(int(old["text"].notna().sum()), int(mine["text"].notna().sum()))
    lex = ev.lexical_cosine(old_words, new_words) if texts >= enough else None
    same = bool(set(old_channels) & set(new["channels"]))
    score = (
        WEIGHTS["timing"] * max(0.0, 1 - gap / params.window_days)
        + WEIGHTS["shared"] * min(len(shared), 3) / 3
        + WEIGHTS["hours"] * (hours or 0.0)
        + WEIGHTS["words"] * (lex or 0.0)
        + WEIGHTS["names"] * bool(both)
        + WEIGHTS["channel"] * same
    )
    person = owner.get(a.old)
    return {
        "best": False,
        "identifier": ident,
        "old_identifier": a.old,
        "old_person": f"{person} ({names[person]})" if person else "",
        "old_suspected": a.old in params.suspected_identifiers,
        "anchor_kind": a.kind,
        "anchor_source": a.source,
        "anchor_utc": a.at,
        "anchor_event_id": a.event_id,
        "first_utc": new["first_utc"],
        "first_event_id": new["first_event_id"],
        "first_exhibit": new["first_exhibit"],
        "first_locator": new["first_locator"],
        "first_channel": new["first_channel"],
        "new_records": int(new["records"]),
        "new_channels": list(new["channels"]),
        "gap_days": round(gap, 2),
        "old_last_before_utc": None if last is None else last["timestamp_utc"],
        "old_last_before_event_id": "" if last is None else last["event_id"],
        "gap_from_old_last_days": None
        if last is None
        else round((new["first_utc"] - last["timestamp_utc"]) / pd.Timedelta(days=1), 2),
        "old_contacts_after_new_first": int((old["timestamp_utc"] > new["first_utc"]).sum()),
        "shared_parties": len(shared),
        "shared_party_list": shared,
        "old_parties": len(old_p),
        "new_parties": len(new_p),
        "hour_cosine": hours,
        "lexical_cosine": lex,
        "old_mean_chars": ev.mean_chars(old["text"]),
        "new_mean_chars": ev.mean_chars(mine["text"]),
        "old_messages": int(old["text"].notna().sum()),
        "new_messages": int(mine["text"].notna().sum()),
        "terms_in_both": both,
        "terms_in_new": in_new,
        "term_event_ids": with_term.tolist(),
        "old_channels": list(old_channels),
        "same_channel": same,
        "score": round(score, 1),
    }


ANALYSIS = AnalysisSpec(
    name="identifier_changes",
    version="1.0",
    summary="Leads: new numbers or accounts first contacting the complainant soon after a "
    "suspect's identifier was blocked or stopped, with timing, shared-contact and similarity "
    "numbers",
    requires=REQUIRES,
    params=Params,
    run=run,
    render=render,
    statement_role="leads",
)
