"""Old identifiers, their anchors, and the evidence numbers for ``identifier_changes``.

An *anchor* is a dated point after which a new identifier is looked for: the block of an
identifier (a ``blocked`` key date with an identifier, or a block record in an exhibit),
or, for an identifier attributed to (or listed as suspected of being used by) a suspect
that was never blocked, its last recorded contact with the complainant. Every number
here is computed from the records in the store; nothing is inferred about who used what.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.attribution import role_ids
from atlas.case import Case

CONTACT_KINDS = ("call", "sms", "mms", "chat_message", "email", "social_interaction")
BLOCK_KINDS = ("social_interaction", "app_event", "system", "contact")
BLOCK_STATUSES = ("block", "blocked")
ORDER = ["timestamp_utc", "exhibit_ref", "source_sha256", "seq"]
"""The store's total order: time, then the record's place in its source."""

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
STOP_WORDS = frozenset(
    (
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "do",
        "for",
        "from",
        "have",
        "i",
        "i'm",
        "if",
        "in",
        "is",
        "it",
        "it's",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "that",
        "the",
        "this",
        "to",
        "was",
        "we",
        "with",
        "you",
        "you're",
        "your",
        "just",
        "not",
        "all",
        "what",
        "me",
        "im",
        "x",
    )
)
"""Function words left out of the word counts, so that two texts do not look alike merely
because both are English. Kept short and fixed so the numbers can be recomputed by hand."""


@dataclass(frozen=True)
class Anchor:
    """A dated point for one old identifier after which new identifiers are looked for."""

    old: str
    at: pd.Timestamp
    kind: str  # "key_date_block" | "block_record" | "last_contact"
    source: str  # "key_dates[2]", or "<exhibit> <locator>" of the record
    event_id: str  # the block record or last contact; "" for a key date


def to_victim(events: pd.DataFrame, case: Case, att: pd.DataFrame) -> pd.DataFrame:
    """Return timed contact records received by a victim with a sender given, in store order."""
    victims = role_ids(case, "victim")
    received = att["recipient_persons"].map(lambda ps: any(p in victims for p in ps)).astype(bool)
    mask = (
        events["timestamp_utc"].notna()
        & events["kind"].isin(CONTACT_KINDS)
        & received
        & events["sender"].notna()
    )
    out = events.loc[mask].copy()
    out["channel"] = out["channel"].fillna(out["kind"])
    return out.sort_values(ORDER, kind="stable").reset_index(drop=True)


def summary(contacts: pd.DataFrame) -> pd.DataFrame:
    """Return one row per sender identifier: first and last contact, count, channels, exhibits."""
    g = contacts.groupby("sender", sort=True)
    out = pd.DataFrame(
        {
            "first_utc": g["timestamp_utc"].first(),
            "first_event_id": g["event_id"].first(),
            "first_exhibit": g["exhibit_ref"].first(),
            "first_locator": g["locator"].first(),
            "first_channel": g["channel"].first(),
            "last_utc": g["timestamp_utc"].last(),
            "records": g.size(),
            "channels": g["channel"].agg(lambda s: tuple(sorted(s.unique().tolist()))),
            "exhibits": g["exhibit_ref"].agg(lambda s: tuple(sorted(s.unique().tolist()))),
        }
    )
    return out


def anchors(
    events: pd.DataFrame,
    case: Case,
    att: pd.DataFrame,
    contacts: pd.DataFrame,
    suspected: tuple[str, ...],
    tz: str,
) -> list[Anchor]:
    """Return the anchors, sorted by time then old identifier.

    A blocked identifier is an old identifier unless case.toml attributes it to a person who
    is not a suspect; an identifier attributed to a suspect, or listed in ``suspected``, that
    was not blocked is anchored at its last recorded contact with the complainant.
    """
    owner = case.identifier_owner()
    suspects = role_ids(case, "suspect")

    def eligible(ident: str) -> bool:
        return ident not in owner or owner[ident] in suspects

    out: list[Anchor] = []
    for i, k in enumerate(case.key_dates):
        if k.kind == "blocked" and k.identifier and eligible(k.identifier):
            out.append(
                Anchor(
                    k.identifier, key_date_utc(k.at, tz), "key_date_block", f"key_dates[{i}]", ""
                )
            )
    blocks = events.loc[
        events["kind"].isin(BLOCK_KINDS)
        & events["status"].isin(BLOCK_STATUSES)
        & events["timestamp_utc"].notna()
        & ~att["sender_person"].isin(suspects)
    ]
    blocks = blocks.sort_values(ORDER, kind="stable")
    for rec in blocks.itertuples(index=False):  # block records are few: one per block
        for ident in sorted(set(rec.recipients if rec.recipients is not None else ())):
            if eligible(ident):
                out.append(
                    Anchor(
                        ident,
                        rec.timestamp_utc,
                        "block_record",
                        f"{rec.exhibit_ref} {rec.locator}",
                        rec.event_id,
                    )
                )
    blocked = {a.old for a in out}
    olds = sorted(
        {i for i, p in owner.items() if p in suspects and not i.startswith("device:")}
        | set(suspected)
    )
    last = contacts.groupby("sender", sort=True).agg(
        last_utc=("timestamp_utc", "last"), last_id=("event_id", "last")
    )
    for ident in olds:
        if ident not in blocked and ident in last.index:
            out.append(
                Anchor(
                    ident,
                    last.loc[ident, "last_utc"],
                    "last_contact",
                    "",
                    last.loc[ident, "last_id"],
                )
            )
    return sorted(out, key=lambda a: (a.at, a.old, a.kind, a.source))


def key_date_utc(at: dt.datetime | dt.date, tz: str) -> pd.Timestamp:
    """Return a key date as UTC; a day without a time takes effect at the end of that UK day."""
    if isinstance(at, dt.datetime):
        return pd.Timestamp(at).tz_convert("UTC")
    return (pd.Timestamp(at) + pd.Timedelta(days=1)).tz_localize(tz).tz_convert("UTC")


def parties(events: pd.DataFrame) -> pd.DataFrame:
    """Return ``(identifier, party)`` pairs for every contact record, both ways, de-duplicated."""
    rec = events.loc[
        events["kind"].isin(CONTACT_KINDS) & events["sender"].notna(), ["sender", "recipients"]
    ]
    rec = rec.explode("recipients").dropna()
    pairs = pd.concat(
        [
            rec.rename(columns={"sender": "identifier", "recipients": "party"}),
            rec.rename(columns={"recipients": "identifier", "sender": "party"}),
        ]
    )
    pairs = pairs.loc[pairs["identifier"] != pairs["party"]].drop_duplicates()
    return pairs.sort_values(["identifier", "party"], kind="stable").reset_index(drop=True)


def hour_profile(times: pd.Series, tz: str) -> np.ndarray:
    """Return the 24 counts of records per UK local hour of the day."""
    return np.bincount(times.dt.tz_convert(tz).dt.hour.to_numpy(), minlength=24).astype(float)


def cosine(a: np.ndarray, b: np.ndarray) -> float | None:
    """Return the cosine similarity of two count vectors, or None if either is all zero."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    if na == 0 or nb == 0:
        return None
    return round(float(a @ b) / (na * nb), 4)


def word_counts(texts: pd.Series) -> pd.Series:
    """Return counts of lower-cased words (stop words left out), indexed by word, sorted."""
    words = (
        texts.dropna()
        .str.lower()
        .str.replace("\u2019", "'", regex=False)
        .str.findall(WORD)
        .explode()
    )
    words = words.dropna()
    words = words.loc[~words.isin(STOP_WORDS)]
    return words.value_counts().sort_index()


def lexical_cosine(a: pd.Series, b: pd.Series) -> float | None:
    """Return the cosine similarity of two word-count series (None if either is empty)."""
    if a.empty or b.empty:
        return None
    index = a.index.union(b.index)
    return cosine(
        a.reindex(index, fill_value=0).to_numpy(float),
        b.reindex(index, fill_value=0).to_numpy(float),
    )


def mean_chars(texts: pd.Series) -> float | None:
    """Return the mean length in characters of the non-empty texts (None if there are none)."""
    t = texts.dropna()
    t = t.loc[t.str.len() > 0]
    return None if t.empty else round(float(t.str.len().mean()), 1)


def name_terms(case: Case, extra: tuple[str, ...]) -> tuple[str, ...]:
    """Return the lower-cased words of persons' names, ``name:`` identifiers and ``extra`` terms."""
    words: set[str] = set()
    for p in case.persons:
        words.update(WORD.findall(p.name.lower()))
        for a in p.identifiers:
            if a.value.startswith("name:"):
                words.update(WORD.findall(a.value.split(":", 2)[-1].lower()))
    for t in extra:
        words.update(WORD.findall(t.lower()))
    return tuple(sorted(w for w in words if len(w) >= 2))
