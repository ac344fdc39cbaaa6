"""Reading XRY time values (helper for ``parsers.xry_txt``; not a parser).

XRY writes times in the examiner's Windows locale, e.g. ``1/2/2019 1:23:45 PM
(Device)``, ``23/01/2019 13:23:45 UTC (Network)`` or ``1/3/1990 1:23:54 AM UTC+4``.
The optional zone is ``UTC``/``GMT`` with or without an offset (also bracketed, or a
bare ``+04:00``); the optional bracketed suffix names the clock that produced the
time (``Device``, ``Network``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from atlas.timeparse import TimeReading, parse_local

_VALUE = re.compile(
    r"""^\s*(?P<date>\d{1,4}(?P<s1>[/.\-])\d{1,2}(?P<s2>[/.\-])\d{1,4})
    (?:\s+|T)(?P<clock>\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?)
    (?:\s*(?P<ampm>[AaPp]\.?[Mm]\.?))?
    \s*(?:\(?\s*(?P<zone>(?:UTC|GMT)(?:\s*[+-]\s*\d{1,2}(?::?\d{2})?)?|[+-]\d{1,2}:?\d{2})\s*\)?)?
    \s*(?:\((?P<src>[^()]*)\))?\s*$""",
    re.X | re.I,
)
_DATE_ONLY = re.compile(r"^\s*(?P<date>\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4})\b")
_OFFSET = re.compile(r"(?P<sign>[+-])\s*(?P<hh>\d{1,2})(?::?(?P<mm>\d{2}))?$")


@dataclass(frozen=True)
class XryTime:
    """One XRY time value, read."""

    reading: TimeReading
    clock: str | None
    """The clock named in brackets, lower-case (``device``, ``network``), or None."""
    zone_text: str | None
    """The zone exactly as written (``UTC+4``), or None when the time is local."""


def date_evidence(value: str) -> str | None:
    """Return ``dmy``/``mdy`` when a date settles the order by itself, else None."""
    match = _DATE_ONLY.match(value)
    if not match:
        return None
    parts = re.split(r"[/.\-]", match.group("date"))
    if len(parts[0]) == 4:
        return None  # year first: says nothing about the other dates
    first, second = int(parts[0]), int(parts[1])
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return None


def looks_like_time(value: str) -> bool:
    """Return True when ``value`` has the shape of an XRY date and time."""
    return bool(_VALUE.match(value))


def read_time(value: str, order: str, source_tz: str) -> XryTime | str:
    """Read one XRY time value; return an ``XryTime`` or an error message.

    ``order`` is ``dmy`` or ``mdy`` for dates that do not start with the year. A time
    with no zone is wall-clock time in ``source_tz`` (the phone's clock is local),
    checked for clock changes by ``atlas.timeparse``.
    """
    match = _VALUE.match(value)
    if not match:
        return f"time {value.strip()!r} is not an XRY date and time (date, clock, optional zone and (source))"
    parts = re.split(r"[/.\-]", match.group("date"))
    s1, s2 = match.group("s1"), match.group("s2")
    if len(parts[0]) == 4:
        fields = ("%Y", "%m", "%d")
    else:
        day_month = ("%d", "%m") if order == "dmy" else ("%m", "%d")
        if len(parts[2]) not in (2, 4):
            return f"time {value.strip()!r}: the year must have 2 or 4 digits"
        fields = (*day_month, "%Y" if len(parts[2]) == 4 else "%y")
    clock = match.group("clock").replace(",", ".")
    clock = re.sub(r"(\.\d{6})\d+$", r"\1", clock)  # strptime reads at most microseconds
    hour = "%I" if match.group("ampm") else "%H"
    clock_fmt = {1: f"{hour}:%M", 2: f"{hour}:%M:%S"}[clock.count(":")]
    if "." in clock:
        clock_fmt += ".%f"
    text = f"{match.group('date')} {clock}"
    fmt = f"{fields[0]}{s1}{fields[1]}{s2}{fields[2]} {clock_fmt}"
    if match.group("ampm"):
        text += " " + match.group("ampm").replace(".", "").upper()
        fmt += " %p"
    src = match.group("src")
    clock_name = src.strip().lower() if src else None
    zone_text = match.group("zone")
    if clock_name is None and zone_text and re.search(r"\(\s*" + re.escape(zone_text), value):
        clock_name = zone_text.strip().lower()  # "(UTC)" written where the clock name goes
    if zone_text is None:
        reading = parse_local(text, fmt, source_tz)
        return reading.error or XryTime(reading, clock_name, None)
    offset = _offset(zone_text)
    if offset is None:
        return f"time {value.strip()!r}: zone {zone_text!r} is not a UTC offset between -14 and +14 hours"
    basis = "utc-declared" if offset == timedelta(0) else "offset-in-source"
    as_utc = parse_local(text, fmt, "UTC", basis)
    if as_utc.error:
        return as_utc.error
    return XryTime(TimeReading(as_utc.utc - offset, basis, "ok"), clock_name, zone_text.strip())


def _offset(zone_text: str) -> timedelta | None:
    text = re.sub(r"^(UTC|GMT)", "", zone_text.strip(), flags=re.I).strip()
    if not text:
        return timedelta(0)
    match = _OFFSET.match(text.replace(" ", ""))
    if not match:
        return None
    hours, minutes = int(match.group("hh")), int(match.group("mm") or 0)
    if hours > 14 or minutes >= 60:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return -delta if match.group("sign") == "-" else delta
