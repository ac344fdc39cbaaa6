"""Resolve a diary entry's date expression to a local time window, then to UTC.

Resolution rules (the ``diary`` parser's docstring states them for users):

* A written year is used as written; a two-digit year is 20YY. A date with no
  year takes the year that puts it nearest the context date: the previous
  resolved entry, else the start of the dates the diary header states. With
  no context the entry is rejected.
* A relative day ("yesterday", "last Friday", "Sunday", "2 days ago") is read
  by ``dateparser`` (DATE_ORDER DMY, PREFER_DATES_FROM past,
  RETURN_AS_TIMEZONE_AWARE False) with RELATIVE_BASE set to the anchor: the
  entry's own written date, else the previous resolved entry, else the stated
  start of the diary; never today's date.
* A written weekday that does not match the resolved date is flagged
  ``weekday_mismatch``; the date is not moved.
* The window: a clock to the minute has no end; an hour lasts one hour; a
  part of the day uses ``PART_WINDOWS``; a date alone lasts the whole day.
  Start and end are converted separately with ``atlas.timeparse.from_local``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from atlas.timeparse import from_local
from parsers._diary_dates import DAY_PATTERNS, MONTHS, Clock, Lead

# Local hours of each part of the day; an end past 24 falls on the next day, so
# "Sunday night" is 22:00 Sunday to 06:00 Monday (the night of the stated date).
PART_WINDOWS = {
    "morning": (6, 12), "afternoon": (12, 18), "evening": (18, 22), "night": (22, 30),
    "lunchtime": (12, 14), "early hours": (0, 6),
}
# How a 1-11 o'clock hour with no am/pm is read when a part of the day is written.
PM_PARTS = ("afternoon", "evening", "night")
DATEPARSER_SETTINGS = {"DATE_ORDER": "DMY", "PREFER_DATES_FROM": "past",
                       "RETURN_AS_TIMEZONE_AWARE": False}
RANGE_WORDS = re.compile(r"\b(?:from|since|start(?:ing|ed)?(?:\s+on)?|beginning|commencing|"
                         r"between|dates?\s*:|period\s*:)\s*(?:on\s+|the\s+)?", re.I)
RANGE_JOIN = re.compile(r"\s*(?:to|until|till|and|-|–|—)\s*(?:the\s+)?", re.I)


@dataclass
class Context:
    """What earlier lines of the diary tell about later entries."""

    zone: str
    order: str = "dmy"  # day-first unless the analyst forces mdy
    order_label: str = "dmy:assumed"
    previous: date | None = None
    stated_start: date | None = None
    stated_end: date | None = None


@dataclass(frozen=True)
class Reading:
    """A resolved entry time: UTC window plus how it was decided."""

    utc: datetime
    end_utc: datetime | None
    basis: str
    flag: str
    date_order: str | None
    flags: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)


def read_stated_dates(text: str, ctx: Context) -> None:
    """Set ``ctx.stated_start``/``stated_end`` from a header line ("from 1 September 2024")."""
    if ctx.stated_start is not None:
        return
    for m in RANGE_WORDS.finditer(text):
        start = _full_date_at(text, m.end(), ctx)
        if start is None:
            continue
        ctx.stated_start = start[0]
        join = RANGE_JOIN.match(text, start[1])
        end = _full_date_at(text, join.end(), ctx) if join else None
        ctx.stated_end = end[0] if end else None
        return


def resolve(lead: Lead, ctx: Context, typed: bool = False) -> Reading | str:
    """Return the entry's time window, or the reason it cannot be given one."""
    flags: list[str] = []
    extra: dict[str, Any] = {}
    if lead.day_kind == "vague":
        return f"date {lead.text!r} cannot be resolved to a day"
    written, order = None, None
    if lead.day_kind in ("iso", "numeric", "words"):
        written = _written_date(lead, ctx, flags, extra)
        if isinstance(written, str):
            return written
        if lead.day_kind == "numeric":
            order = ctx.order_label
        elif lead.day_kind == "iso" and not typed:
            order = "ymd:inferred"
    day = written
    if lead.relative:
        day = _relative(lead, written, ctx, flags, extra)
        if isinstance(day, str):
            return day
    window = _window(day, lead, flags, extra)
    if isinstance(window, str):
        return window
    start, end = window
    when = from_local(start, ctx.zone)
    end_utc = None
    if end is not None:
        finish = from_local(end, ctx.zone)
        end_utc = finish.utc
        if finish.flag != "ok":
            flags.append(f"end_time_{finish.flag}")
    if lead.approx:
        flags.append("approximate")
    if ctx.previous is not None and day < ctx.previous:
        flags.append("timestamp_out_of_order")
    if (ctx.stated_start and day < ctx.stated_start) or (ctx.stated_end and day > ctx.stated_end):
        flags.append("outside_stated_dates")
    ctx.previous = day
    return Reading(when.utc, end_utc, when.basis, when.flag, order, tuple(flags), extra)


def _written_date(lead: Lead, ctx: Context, flags: list[str], extra: dict) -> date | str:
    d, m = lead.day, lead.month
    if lead.day_kind == "numeric" and ctx.order == "mdy":
        d, m = m, d
    if lead.year is not None:
        try:
            found = date(lead.year, m, d)
        except ValueError:
            return f"date {lead.text!r} is not a real date (day {d}, month {m}, year {lead.year})"
    else:
        anchor, source = _context_date(ctx)
        if anchor is None:
            return (f"date {lead.text!r} has no year, and no earlier entry or stated diary "
                    f"dates give one")
        candidates = []
        for year in (anchor.year - 1, anchor.year, anchor.year + 1):
            try:
                candidates.append(date(year, m, d))
            except ValueError:
                continue
        if not candidates:
            return f"date {lead.text!r} is not a real date (day {d}, month {m})"
        found = min(candidates, key=lambda c: (abs((c - anchor).days), c))
        flags.append("year_inferred")
        extra["year_from"] = {"date": anchor.isoformat(), "from": source}
    if lead.weekday is not None and found.weekday() != lead.weekday:
        flags.append("weekday_mismatch")
        extra["written_weekday"] = lead.weekday_text
    return found


def _relative(lead: Lead, written: date | None, ctx: Context, flags: list[str],
              extra: dict) -> date | str:
    if written is not None:
        anchor, source = written, "own_date"
        extra["written_date"] = written.isoformat()
    else:
        anchor, source = _context_date(ctx)
    if anchor is None:
        return (f"date {lead.text!r} is relative, and there is no earlier dated entry or "
                f"stated diary start date to count it from")
    found = _relative_day(lead.relative, anchor)
    if found is None:
        return f"date {lead.text!r} cannot be resolved to a day"
    flags.append(f"relative_to_{source}")
    extra["relative_to"] = {"date": anchor.isoformat(), "from": source}
    return found


def _context_date(ctx: Context) -> tuple[date | None, str | None]:
    if ctx.previous is not None:
        return ctx.previous, "previous_entry"
    if ctx.stated_start is not None:
        return ctx.stated_start, "diary_header"
    return None, None


@lru_cache(maxsize=4096)
def _relative_day(phrase: str, anchor: date) -> date | None:
    from dateparser.date import DateDataParser  # heavy import, only when a relative day appears

    base = datetime(anchor.year, anchor.month, anchor.day, 12)  # noqa: DTZ001 - a calendar base
    parser = DateDataParser(languages=["en"],
                            settings={**DATEPARSER_SETTINGS, "RELATIVE_BASE": base})
    data = parser.get_date_data(phrase)
    if data.date_obj is None or data.period != "day":
        return None
    return data.date_obj.date()


def _window(day: date, lead: Lead, flags: list[str], extra: dict
            ) -> tuple[datetime, datetime | None] | str:
    part = lead.part
    midnight = datetime.combine(day, time())
    if lead.clock is not None:
        end_clock = lead.clock_end
        inherit = None
        if end_clock is not None and end_clock.ampm and not lead.clock.ampm:
            same = lead.clock.hour % 12 <= end_clock.hour % 12
            inherit = end_clock.ampm if same else ("am" if end_clock.ampm == "pm" else "pm")
        start = _clock_time(midnight, lead.clock, part, flags, inherit)
        if isinstance(start, str):
            return start
        extra["time_precision"] = "hour" if lead.clock.minute is None else "minute"
        if end_clock is not None:
            end = _clock_time(midnight, end_clock, part, [], None)
            if isinstance(end, str):
                return end
            while end <= start:
                end += timedelta(days=1)
            extra["time_range"] = True
            return start, end
        return start, (start + timedelta(hours=1) if lead.clock.minute is None else None)
    if part is not None:
        first, last = PART_WINDOWS[part]
        extra["time_precision"] = "part_of_day"
        extra["part_of_day"] = part
        extra["window_local"] = f"{first:02d}:00-{last % 24:02d}:00"
        return midnight + timedelta(hours=first), midnight + timedelta(hours=last)
    extra["time_precision"] = "day"
    return midnight, midnight + timedelta(days=1)


def _clock_time(midnight: datetime, clock: Clock, part: str | None, flags: list[str],
                inherit: str | None) -> datetime | str:
    if clock.word in ("noon", "midday"):
        return midnight + timedelta(hours=12)
    if clock.word == "midnight":  # the midnight that ends the stated day
        return midnight + timedelta(days=1)
    hour, minute, ampm = clock.hour, clock.minute or 0, clock.ampm or inherit
    bad = f"time {clock.text.strip()!r} is not a real time"
    if minute > 59:
        return bad
    if ampm:
        if not 1 <= hour <= 12:
            return bad
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif hour > 23:
        return bad
    elif part == "night" and hour == 12:
        hour = 0
    elif 1 <= hour <= 11 and not clock.zero_padded:
        if part in PM_PARTS and not (part == "night" and hour < 6):
            hour += 12
        elif part == "lunchtime" and hour <= 5:
            hour += 12
        elif part is None:
            flags.append("am_pm_unstated")
    extra_day = 1 if part == "night" and hour < 6 else 0
    return midnight + timedelta(days=extra_day, hours=hour, minutes=minute)


def _full_date_at(text: str, pos: int, ctx: Context) -> tuple[date, int] | None:
    for kind, pattern in DAY_PATTERNS:
        if kind not in ("iso", "numeric", "words"):
            continue
        m = pattern.match(text, pos)
        if not m or not m.groupdict().get("y"):
            continue
        y = m.group("y").lstrip("'")
        year = int(y) + (2000 if len(y) == 2 else 0)
        d = int(m.group("d"))
        mon = m.groupdict().get("mon")
        month = MONTHS[mon.lower()] if mon else int(m.group("m"))
        if kind == "numeric" and ctx.order == "mdy":
            d, month = month, d
        try:
            return date(year, month, d), m.end()
        except ValueError:
            return None
    return None
