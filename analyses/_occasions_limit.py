"""The advisory six-month calculator for summary-only offences (s.127 MCA 1980), with its working.

Counting (uk-practice §6.3): the day of the last occasion relied on is
excluded ("from" a date excludes that date), and the period ends at midnight
at the end of the day in the sixth month after that has the same number (the
corresponding-date rule); where that month has no such day, at the end of its
last day. Dates are UK local calendar dates. The working is returned as short
factual steps so a reader can check every one.
"""

from __future__ import annotations

import calendar
import datetime as dt

import pandas as pd

COARSE_PRECISIONS = ("hour", "part_of_day", "day", "week", "month")
UNCERTAIN_TZ_FLAGS = ("ambiguous", "nonexistent")


def six_months_on(day: dt.date) -> tuple[dt.date, bool]:
    """Return the corresponding date six months after ``day`` and whether it was moved to month-end."""
    month = day.month + 6
    year, month = day.year + (month - 1) // 12, (month - 1) % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last)), day.day > last


def long_date(day: dt.date) -> str:
    """Return ``1 July 2025``."""
    return f"{day.day} {day:%B %Y}"


def working(last_day: dt.date, event: dict[str, object] | None, given: bool, tz: str,
            as_of: dt.date | None) -> tuple[dt.date, list[str], int | None]:
    """Return (last day to lay the information, the working as steps, days remaining or None).

    ``event`` is the last record relied on (``event_id``, ``exhibit_ref``,
    ``locator``, ``timestamp_utc``), or None when the store has no record on
    ``last_day``; ``given`` says the officer chose ``last_day``.
    """
    steps: list[str] = []
    if given:
        steps.append(f"Last occasion relied on: {long_date(last_day)} (UK local date), as given by the "
                     "officer (parameter last_relied_on).")
    if event is not None:
        utc = pd.Timestamp(event["timestamp_utc"])
        local = utc.tz_convert(tz)
        lead = "The last record on that date" if given else "Last occasion found in the records"
        steps.append(f"{lead}: record {event['event_id']} ({event['exhibit_ref']} {event['locator']}), "
                     f"{utc:%H:%M} UTC on {long_date(utc.date())} = {local:%H:%M} {local.tzname()} on "
                     f"{long_date(local.date())} in UK local time ({tz}).")
        if utc.date() != local.date():
            steps.append(f"Converting from UTC to UK local time changed the date from "
                         f"{long_date(utc.date())} (UTC) to {long_date(local.date())} (UK local); the UK "
                         "local date is used.")
    elif given:
        steps.append("The store holds no relevant record on that date; the date is the officer's.")
    start = last_day + dt.timedelta(days=1)
    steps.append(f"The day of the last occasion is excluded: the period runs from the start of "
                 f"{long_date(start)}.")
    deadline, clamped = six_months_on(last_day)
    if clamped:
        steps.append(f"Six months from {long_date(last_day)}: {deadline:%B %Y} has no day {last_day.day}, "
                     f"so the period ends on the last day of that month, {long_date(deadline)}.")
    else:
        steps.append(f"Six months from {long_date(last_day)}: the corresponding date in the sixth month "
                     f"after is {long_date(deadline)}.")
    steps.append(f"The information must be laid by midnight at the end of {long_date(deadline)} "
                 "(UK local date).")
    remaining = None
    if as_of is not None:
        remaining = (deadline - as_of).days
        if remaining >= 0:
            steps.append(f"On {long_date(as_of)} (parameter as_of), the last day is {remaining} days "
                         "away (0 means it is that day).")
        else:
            steps.append(f"On {long_date(as_of)} (parameter as_of), that day passed {-remaining} days ago.")
    steps.append("Applies only to summary-only offences (s.2 and s.2A Protection from Harassment Act "
                 "1997; s.127 Magistrates' Courts Act 1980); the result is advisory.")
    return deadline, steps, remaining


def uncertain_reasons(record: pd.Series) -> list[str]:
    """Return why a record's UK local date may be uncertain (empty when it is not)."""
    reasons = []
    if record["tz_flag"] in UNCERTAIN_TZ_FLAGS:
        reasons.append(f"tz_flag {record['tz_flag']}")
    if record["tz_basis"] == "none":
        reasons.append("no time zone or offset in the source")
    if record["time_precision"] in COARSE_PRECISIONS:
        reasons.append(f"time precision {record['time_precision']}")
    if "approximate" in tuple(record["flags"]):
        reasons.append("time marked approximate in the source")
    return reasons
