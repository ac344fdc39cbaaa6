"""Diary entries and the time window each one is tested over (helpers of ``corroboration``).

A diary entry is a ``note`` event on channel ``diary`` (``parsers.diary``): its
``timestamp_utc`` is the start of the window the written words allow, its
``end_utc`` the end, and ``extra["time_precision"]`` says how precise the words
were. The window tested here widens the written one by a stated margin:

* ``minute`` ("21:40"): the minute (to the end of a written range) +/-
  ``minute_margin_minutes``;
* ``hour`` ("about 9pm"): the stated hour +/- ``hour_margin_minutes`` (a written
  range "9-10pm" from its start minus, to its end plus, the margin);
* ``part_of_day`` ("late night"): the parser's local-time range (``PART_WINDOWS``
  in ``parsers._diary_resolve``, e.g. night 22:00-06:00), +/- ``part_margin_minutes``;
* ``day`` (a date alone): the whole UK local day, local midnight to local
  midnight, each converted on its own, so a clock-change day lasts 23 or 25 hours.

An entry whose written time fell in a clock change (``tz_flag`` ambiguous or
nonexistent) is widened by one hour at each end, so both readings are inside.
Windows are closed: a record at either end is inside.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from atlas.case import Case

ENTRY_COLUMNS = ("entry", "event_id", "exhibit_ref", "locator", "precision", "written_start_utc",
                 "written_end_utc", "window_start_utc", "window_end_utc", "tz_flag", "lead", "text")
LEAD_WORDS = 6
"""Words of the entry quoted as its lead: the statement's wording check treats a value of at most
six words as data, and more of the victim's account does not belong in a finding."""
PLACE_STOP_WORDS = frozenset({"victim", "suspect", "the", "of", "and", "a", "an", "s", "place", "his",
                              "her", "their", "my"})


def diary_entries(events: pd.DataFrame) -> pd.DataFrame:
    """Return the dated diary entries, sorted by (time, event id), numbered from 1."""
    mask = (events["kind"] == "note") & (events["channel"] == "diary") & events["timestamp_utc"].notna()
    rec = events.loc[mask].sort_values(["timestamp_utc", "event_id"], kind="stable").reset_index(drop=True)
    rec["entry"] = np.arange(1, len(rec) + 1)
    return rec


def _extra(text: object) -> dict:
    if not isinstance(text, str) or not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def lead(text: object) -> str:
    """Return the first ``LEAD_WORDS`` words of an entry, straight quotes made typographic."""
    words = str(text or "").replace("'", "\u2019").replace('"', "\u201d").split()
    short = " ".join(words[:LEAD_WORDS])
    return short + ("\u2026" if len(words) > LEAD_WORDS else "")


def local_day(at: pd.Timestamp, tz: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Return the UTC start and end of the UK local day holding ``at`` (23 or 25 h at a change)."""
    zone = ZoneInfo(tz)
    day = at.tz_convert(tz).date()
    start = dt.datetime.combine(day, dt.time(), tzinfo=zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=zone)
    return pd.Timestamp(start).tz_convert("UTC"), pd.Timestamp(end).tz_convert("UTC")


def windows(entries: pd.DataFrame, tz: str, params: object) -> pd.DataFrame:
    """Return one row per entry with its precision, written and tested windows (``ENTRY_COLUMNS``)."""
    rows = []
    for rec in entries.itertuples(index=False):  # entries, not events: a diary has tens of them
        extra = _extra(rec.extra)
        precision = extra.get("time_precision") or "day"
        start = rec.timestamp_utc
        end = rec.end_utc if pd.notna(rec.end_utc) else None
        if precision == "minute":
            margin = pd.Timedelta(minutes=params.minute_margin_minutes)
            lo, hi = start - margin, (end or start) + margin
        elif precision == "hour":
            margin = pd.Timedelta(minutes=params.hour_margin_minutes)
            lo, hi = start - margin, (end if extra.get("time_range") and end else start) + margin
        elif precision == "part_of_day":
            margin = pd.Timedelta(minutes=params.part_margin_minutes)
            lo, hi = start - margin, (end or start + pd.Timedelta(hours=6)) + margin
        else:
            precision = "day"
            lo, hi = local_day(start, tz)
            end = hi
        if rec.tz_flag in ("ambiguous", "nonexistent"):
            lo, hi = lo - pd.Timedelta(hours=1), hi + pd.Timedelta(hours=1)
        rows.append({"entry": int(rec.entry), "event_id": rec.event_id, "exhibit_ref": rec.exhibit_ref,
                     "locator": rec.locator, "precision": precision, "written_start_utc": start,
                     "written_end_utc": end if end is not None else start, "window_start_utc": lo,
                     "window_end_utc": hi, "tz_flag": rec.tz_flag, "lead": lead(rec.text),
                     "text": rec.text if isinstance(rec.text, str) else ""})
    return pd.DataFrame(rows, columns=list(ENTRY_COLUMNS))


def place_words(case: Case) -> dict[str, tuple[str, ...]]:
    """Return each place's distinctive words: its name less role words and persons' names."""
    names = {w for p in case.persons for w in _words(p.name)}
    out = {}
    for place in case.places:
        words = tuple(w for w in _words(place.name) if w not in PLACE_STOP_WORDS and w not in names)
        out[place.name] = words
    return out


def named_places(text: str, words: dict[str, tuple[str, ...]], allowed: tuple[str, ...]) -> tuple[str, ...]:
    """Return the allowed places the entry names: the whole name, or all its distinctive words."""
    found = set(_words(text))
    lowered = " ".join(_words(text))
    out = []
    for name in allowed:
        whole = " ".join(_words(name))
        if (whole and re.search(rf"\b{re.escape(whole)}\b", lowered)) or (
                words.get(name) and all(w in found for w in words[name])):
            out.append(name)
    return tuple(sorted(out))


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", str(text).lower())


# What an entry describes decides which sources are relevant to it. Each item is a regular
# expression matched case-insensitively from the start of a word ("messag" matches "messaged");
# an item ending in \b must match the whole word ("car" is not "card"). An entry with neither kind
# of word is tested against both.
CONTACT_STEMS = (r"messag", r"texts?\b", r"texted", r"rang\b", r"ring(s|ing)?\b", r"call", r"phon",
                 r"whatsapp", r"e-?mail", r"instagram", r"facebook", r"snapchat", r"tiktok", r"twitter",
                 r"dms?\b", r"voicemail", r"sms\b", r"answered", r"number", r"account", r"posts?\b",
                 r"posted", r"contact", r"block", r"withheld")
PRESENCE_STEMS = (r"outside", r"cars?\b", r"van\b", r"saw\b", r"seen\b", r"doorstep", r"door\b",
                  r"house", r"home\b", r"street", r"road", r"parked", r"waiting", r"turned up", r"garden",
                  r"window", r"drove", r"driving", r"walk", r"standing", r"watching", r"loiter",
                  r"behind me", r"work\b", r"office", r"gym\b", r"shop\b")
ONLINE_STEMS = (r"instagram", r"facebook", r"snapchat", r"tiktok", r"twitter", r"online", r"account",
                r"profile")
FOLLOW_STEM = r"follow"


def _has(text: str, stems: tuple[str, ...]) -> bool:
    return any(re.search(rf"\b{s}", text) for s in stems)


def topics(text: str) -> tuple[str, ...]:
    """Return what an entry describes: ``contact``, ``presence`` or both (both when neither is named).

    "follow" is an online follow when the entry names an online service or account, else
    physical following (a presence).
    """
    low = str(text).lower()
    contact, presence = _has(low, CONTACT_STEMS), _has(low, PRESENCE_STEMS)
    if _has(low, (FOLLOW_STEM,)):
        if _has(low, ONLINE_STEMS):
            contact = True
        else:
            presence = True
    found = tuple(t for t, yes in (("contact", contact), ("presence", presence)) if yes)
    return found or ("contact", "presence")
