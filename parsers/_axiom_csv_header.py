"""AXIOM CSV time columns (helper for ``parsers.axiom_csv``; not a parser).

AXIOM writes the display zone and the .NET date pattern into each time column's
header, e.g. ``Message Sent Date/Time - UTC+00:00 (dd/MM/yyyy)``. The values carry
the date in that pattern followed by the clock time in the examiner's Windows
format (``13:05:09`` or ``1:05:09 PM``), which the header does not state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from atlas.timeparse import TimeReading, parse_local

TIME_HEADER = re.compile(
    r"^(?P<label>.*?)\s*Date/Time - UTC(?P<offset>[+-]\d{2}:\d{2})\s*\((?P<pattern>[^()]+)\)\s*$")
SNIFF = re.compile(r"Date/Time - UTC[+-]\d{2}:\d{2} \([^()\r\n]+\)")

# .NET custom date/time specifiers -> strptime directives. Longest first.
_NET = (
    ("yyyy", "%Y"), ("yyy", "%Y"), ("yy", "%y"),
    ("MMMM", "%B"), ("MMM", "%b"), ("MM", "%m"), ("M", "%m"),
    ("dddd", "%A"), ("ddd", "%a"), ("dd", "%d"), ("d", "%d"),
    ("HH", "%H"), ("H", "%H"), ("hh", "%I"), ("h", "%I"),
    ("mm", "%M"), ("m", "%M"), ("ss", "%S"), ("s", "%S"),
    ("tt", "%p"),
)
_FRACTION = re.compile(r"[fF]{1,7}")
# Clock formats tried after the date when the pattern has no time part.
_CLOCKS = ("%H:%M:%S", "%H:%M:%S.%f", "%I:%M:%S %p", "%I:%M:%S.%f %p", "%H:%M", "%I:%M %p")


@dataclass(frozen=True)
class TimeColumn:
    """One AXIOM time column, as its header declares it."""

    index: int
    header: str
    label: str
    offset_text: str
    offset: timedelta
    pattern: str
    date_format: str
    has_clock: bool

    @property
    def date_order(self) -> str | None:
        """Return ``dmy``/``mdy``/``ymd`` from the pattern, or None when it has no order."""
        positions = {k: self.date_format.find(v) for k, v in (("d", "%d"), ("m", "%m"), ("y", "%Y"))}
        if positions["y"] < 0:
            positions["y"] = self.date_format.find("%y")
        if positions["m"] < 0:
            positions["m"] = max(self.date_format.find("%b"), self.date_format.find("%B"))
        if min(positions.values()) < 0:
            return None
        return "".join(sorted(positions, key=positions.__getitem__))


def translate(pattern: str) -> str:
    """Translate a .NET custom date pattern to a ``strptime`` format; raise ValueError."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch in "'\"":
            end = pattern.find(ch, i + 1)
            if end < 0:
                raise ValueError(f"unclosed quote in date pattern {pattern!r}")
            out.append(pattern[i + 1:end].replace("%", "%%"))
            i = end + 1
            continue
        if ch == "\\" and i + 1 < len(pattern):
            out.append(pattern[i + 1].replace("%", "%%"))
            i += 2
            continue
        fraction = _FRACTION.match(pattern, i)
        if fraction:
            out.append("%f")
            i = fraction.end()
            continue
        for token, directive in _NET:
            if pattern.startswith(token, i):
                out.append(directive)
                i += len(token)
                break
        else:
            if ch.isalpha():
                raise ValueError(f"date pattern {pattern!r}: specifier {ch!r} is not supported")
            out.append(ch.replace("%", "%%"))
            i += 1
    return "".join(out)


def time_column(index: int, header: str) -> TimeColumn | None:
    """Return the ``TimeColumn`` for an AXIOM time header; None for other headers.

    Raises ValueError when the header has the AXIOM shape but a pattern or offset
    this parser cannot read.
    """
    match = TIME_HEADER.match(header.strip())
    if not match:
        return None
    offset_text = match.group("offset")
    hours, minutes = int(offset_text[1:3]), int(offset_text[4:6])
    if hours > 14 or minutes >= 60:
        raise ValueError(f"column {header!r}: offset UTC{offset_text} is not a real UTC offset")
    offset = timedelta(hours=hours, minutes=minutes) * (-1 if offset_text[0] == "-" else 1)
    fmt = translate(match.group("pattern").strip())
    return TimeColumn(index=index, header=header, label=match.group("label").strip(),
                      offset_text=offset_text, offset=offset, pattern=match.group("pattern").strip(),
                      date_format=fmt, has_clock=("%H" in fmt or "%I" in fmt))


def read_value(column: TimeColumn, value: str) -> TimeReading:
    """Read one cell of ``column`` as UTC, through ``atlas.timeparse``."""
    text = " ".join(value.split())
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # .NET writes up to 7 fraction digits
    basis = "utc-declared" if column.offset == timedelta(0) else "offset-in-source"
    formats = (column.date_format,) if column.has_clock else ()
    formats += tuple(f"{column.date_format} {clock}" for clock in _CLOCKS)
    for fmt in formats:
        reading = parse_local(text, fmt, "UTC", basis)
        if reading.error is None and reading.utc is not None:
            return TimeReading(reading.utc - column.offset, basis, "ok")
    return TimeReading(None, "none", "ok",
                       f"time {value.strip()!r} in column {column.header!r} does not match the "
                       f"declared date pattern {column.pattern!r} followed by a clock time")
