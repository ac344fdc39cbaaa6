"""Find the date expression that leads a diary entry and read its parts.

``scan_lead(text)`` reads the expression at the start of a line, paragraph or
cell ("Tues 3rd Oct about 9pm", "yesterday evening", "3/10/24 21:40") and
returns a ``Lead`` holding the verbatim span and its parts, or None when the
text does not start with a date. Nothing here resolves a day or a zone; that
is ``parsers._diary_resolve``.

The grammar, in order: an optional bullet, an optional "on"; one day part
(ISO ``2024-10-03``; numeric ``3/10/24``, ``03.10.2024``, ``03/10``; words
``Tues 3rd Oct``, ``3rd of October 2024``, ``October 3rd``; a relative day
``yesterday``, ``last Friday``, ``Sunday``, ``2 days ago``, ``last night``;
or a vague phrase such as ``the other day``, recognised only so that it can
be rejected); after a written date, optionally a relative day counted from it
("03/10 - yesterday evening"); then up to three time parts in any order: a
clock (``21:40``, ``9.15pm``, ``about 9pm``, ``around 6``, ``9ish``,
``9-10pm``, ``noon``) or a part of the day (``evening``, ``in the morning``,
``night``). A bare number is a clock only after "at"/an approximation word or
with "ish", so "Mon 2 Oct 7 calls" keeps "7 calls" as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tues": 1, "tue": 1, "wednesday": 2, "weds": 2,
    "wed": 2, "thursday": 3, "thurs": 3, "thur": 3, "thu": 3, "friday": 4, "fri": 4,
    "saturday": 5, "sat": 5, "sunday": 6, "sun": 6,
}
MONTHS = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4,
    "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}
# Relative phrases that name a day and a part of it at once.
RELATIVE_WITH_PART = {
    "last night": ("yesterday", "night"), "tonight": ("today", "night"),
    "this morning": ("today", "morning"), "this afternoon": ("today", "afternoon"),
    "this evening": ("today", "evening"),
}
APPROX = r"(?:about|around|approx(?:\.|imately)?|circa|c\.|roughly|~)"

_alt = "|".join(sorted(WEEKDAYS, key=len, reverse=True))
_WD = rf"(?P<wd>{_alt})\.?"
_WD_FULL = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
_MON = r"(?P<mon>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_ORD = r"(?:st|nd|rd|th)?"
_NUM_WORDS = r"(?:\d{1,2}|one|two|three|four|five|six|seven)"

BULLET = re.compile(r"[\s•*>#\[(\-–—]*")
ON = re.compile(r"on\s+", re.I)
DAY_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("iso", re.compile(r"(?:" + _WD + r",?\s+)?(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
                       r"(?!\d|:\d)", re.I)),
    ("numeric", re.compile(r"(?:" + _WD + r",?\s+)?(?P<d>\d{1,2})(?P<sep>[/.\-])(?P<m>\d{1,2})"
                           r"(?P=sep)(?P<y>\d{4}|\d{2})(?![\d:/.]\d)", re.I)),
    ("numeric", re.compile(r"(?:" + _WD + r",?\s+)?(?P<d>\d{1,2})/(?P<m>\d{1,2})(?!\d|[:/]\d)"
                           r"(?!\s+(?:an?|hours?|miles?|way)\b)",
                           re.I)),
    ("words", re.compile(r"(?:" + _WD + r",?\s+)?(?:the\s+)?(?P<d>\d{1,2})" + _ORD
                         + r"(?:\s+of)?\s+" + _MON + r"(?:,?\s+(?P<y>(?:19|20)\d{2}|'\d{2}))?"
                         r"(?!\w|:\d)", re.I)),
    ("words", re.compile(r"(?:" + _WD + r",?\s+)?" + _MON + r"\s+(?:the\s+)?(?P<d>\d{1,2})" + _ORD
                         + r"(?:,?\s+(?P<y>(?:19|20)\d{2}))?(?!\w|:\d)", re.I)),
    ("vague", re.compile(r"(?P<rel>the\s+other\s+(?:day|night)|a\s+(?:few|couple\s+of)\s+"
                         r"(?:days|nights)\s+ago|some\s+days\s+ago|last\s+week(?:end)?|"
                         r"earlier\s+this\s+week)\b", re.I)),
    ("relative", re.compile(r"(?P<rel>yesterday|today|tonight|last\s+night|(?:the\s+)?day\s+"
                            r"before\s+yesterday|this\s+(?:morning|afternoon|evening)|"
                            r"(?:last|this\s+past)\s+" + _WD_FULL + r"|" + _WD_FULL + r"|"
                            + _NUM_WORDS + r"\s+days?\s+ago)\b", re.I)),
)
RELATIVE_AFTER_DATE = next(p for k, p in DAY_PATTERNS if k == "relative")
SEP = re.compile(r"\s*(?:[,\-–—:@]\s*|\s)|$")
_CLOCK = (r"(?P<h{n}>\d{{1,2}})(?:[:.](?P<mi{n}>\d{{2}}))?\s*(?P<ap{n}>[ap]\.?m\b\.?)?"
          r"(?P<ish{n}>\s*-?ish\b)?")
CLOCK = re.compile(
    r"(?P<approx>" + APPROX + r"\s+|at\s+(?:" + APPROX + r"\s+)?|just\s+(?:before|after)\s+)?"
    r"(?:(?P<word>noon|midday|midnight)\b|" + _CLOCK.format(n="") + r"(?:\s*(?:-|–|to|till|"
    r"until)\s*" + _CLOCK.format(n="2") + r")?)(?!\w|:\d)", re.I)
PART = re.compile(r"(?P<approx>" + APPROX + r"\s+)?(?:in\s+the\s+|at\s+)?(?:(?:early|late|mid)"
                  r"[\s-]?)?(?P<pod>morning|afternoon|evening|night|lunch\s?time|early\s+hours)"
                  r"\b", re.I)


@dataclass(frozen=True)
class Clock:
    """A written clock time, still on a 12- or 24-hour face."""

    text: str
    hour: int
    minute: int | None
    ampm: str | None  # "am", "pm" or None
    zero_padded: bool
    word: str | None = None  # noon / midday / midnight


@dataclass(frozen=True)
class Lead:
    """The date expression at the start of a text, split into its parts."""

    text: str  # the expression verbatim
    rest: str  # what follows it, separators stripped
    day_kind: str | None  # iso, numeric, words, relative, vague; None for a time alone
    day: int | None = None
    month: int | None = None
    year: int | None = None
    weekday: int | None = None
    weekday_text: str | None = None
    relative: str | None = None  # a relative day, normalised for dateparser
    clock: Clock | None = None
    clock_end: Clock | None = None
    part: str | None = None
    approx: bool = False


def scan_lead(text: str) -> Lead | None:
    """Return the date expression that starts ``text``, or None."""
    start = BULLET.match(text).end()
    pos = start
    on = ON.match(text, pos)
    if on:
        pos = on.end()
    for kind, pattern in DAY_PATTERNS:  # noqa: B007 - kind is used after the loop
        m = pattern.match(text, pos)
        if m:
            break
    else:
        return None
    day = _day_fields(kind, m)
    pos = m.end()
    if kind in ("iso", "numeric", "words"):
        sep = SEP.match(text, pos)
        rel = RELATIVE_AFTER_DATE.match(text, sep.end()) if sep and sep.end() > pos else None
        if rel:
            day.update(_relative_fields(rel.group("rel")))
            pos = rel.end()
    return _with_times(text, start, pos, kind, day, bare_ok=False)


def scan_time(text: str) -> Lead | None:
    """Return the time parts of a Time cell ("21:40", "about 9pm", "evening", "9"), or None."""
    lead = _with_times(text, 0, BULLET.match(text).end(), None, {}, bare_ok=True, leading=False)
    return lead if lead is not None and (lead.clock or lead.part) else None


def _with_times(text: str, start: int, pos: int, kind: str | None, day: dict,
                bare_ok: bool, leading: bool = True) -> Lead | None:
    fields: dict = dict(day)
    approx = False
    for _ in range(3):
        sep = SEP.match(text, pos) if leading or pos else None
        at = sep.end() if sep else pos
        if at == pos and pos > 0 and leading:
            break
        m = CLOCK.match(text, at)
        if m and "clock" not in fields and _clock_ok(m, bare_ok):
            fields["clock"] = _clock(m, "")
            if m.group("h2"):
                fields["clock_end"] = _clock(m, "2")
            said = (m.group("approx") or "").strip().lower()
            approx = approx or said not in ("", "at") or bool(m.group("ish") or m.group("ish2"))
            pos = m.end()
            continue
        m = PART.match(text, at)
        if m and "part" not in fields:
            fields["part"] = re.sub(r"\s+", " ", m.group("pod").lower()).replace("lunch time",
                                                                                   "lunchtime")
            approx = approx or bool(m.group("approx"))
            pos = m.end()
            continue
        break
    if pos < len(text) and (text[pos].isalnum() or text[pos] in "'’"):
        return None  # the expression runs into a word: "Sunday's" is not a date
    rest = SEP.match(text, pos)
    return Lead(text=text[start:pos].rstrip(" ,-–—:@"), rest=text[rest.end() if rest else pos:],
                day_kind=kind, approx=approx, **fields)


def _day_fields(kind: str, m: re.Match[str]) -> dict:
    groups = m.groupdict()
    fields: dict = {}
    if groups.get("wd"):
        fields["weekday"] = WEEKDAYS[groups["wd"].lower()]
        fields["weekday_text"] = groups["wd"]
    if kind in ("iso", "numeric", "words"):
        fields["day"] = int(groups["d"])
        fields["month"] = MONTHS[groups["mon"].lower()] if groups.get("mon") else int(groups["m"])
        year = groups.get("y")
        if year:
            year = year.lstrip("'")
            fields["year"] = int(year) + (2000 if len(year) == 2 else 0)
    elif kind in ("relative", "vague"):
        fields.update(_relative_fields(groups["rel"]))
    return fields


def _relative_fields(phrase: str) -> dict:
    norm = re.sub(r"\s+", " ", phrase.lower())
    if norm in RELATIVE_WITH_PART:
        rel, part = RELATIVE_WITH_PART[norm]
        return {"relative": rel, "part": part}
    return {"relative": norm.replace("this past ", "last ")}


def _clock_ok(m: re.Match[str], bare_ok: bool) -> bool:
    if m.group("word"):
        return True
    written = m.group("mi") or m.group("ap") or m.group("ish") or m.group("ap2")
    return bool(written or m.group("approx") or bare_ok)


def _clock(m: re.Match[str], n: str) -> Clock:
    if not n and m.group("word"):
        word = m.group("word").lower()
        return Clock(m.group("word"), 0 if word == "midnight" else 12, None, None, True, word)
    minute = m.group("mi" + n)
    ampm = m.group("ap" + n)
    return Clock(text=m.group(0), hour=int(m.group("h" + n)),
                 minute=int(minute) if minute is not None else None,
                 ampm=ampm.lower().replace(".", "")[:2] if ampm else None,
                 zero_padded=m.group("h" + n).startswith("0") and len(m.group("h" + n)) == 2)
