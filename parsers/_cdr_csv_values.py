"""Read one CDR cell as a time, duration, phone number or cell identity (``cdr_csv``).

A cell that cannot be read raises ``BadRow`` with a reason naming the column;
the parser turns it into a Rejection.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Any

from atlas.cells import eci_cgi, normalise_cgi
from atlas.identifiers import Ident, tel
from atlas.timeparse import TimeReading, from_local, parse_local
from parsers._cdr_csv_profile import Profile
from parsers._cdr_csv_table import cell_text
from parsers._table_io import date_order_of as date_order_of

_SECONDS = re.compile(r"\d+(\.\d+)?")
_HMS = re.compile(r"(\d+):([0-5]\d):([0-5]\d)")


class BadRow(Exception):  # noqa: N818 - a record-level signal turned into a Rejection
    """A row that cannot become an event; the message is the rejection reason."""


def is_empty(value: Any) -> bool:
    """Return True for a missing or whitespace-only cell."""
    return value is None or (isinstance(value, str) and not value.strip())


def read_time(values: list[Any], headers: list[str], p: Profile) -> tuple[TimeReading, str, bool]:
    """Return the reading, the verbatim time text and whether the text format was applied."""
    label = " + ".join(repr(h) for h in headers)
    if any(is_empty(v) for v in values):
        raise BadRow(f"start time column {label} is empty")
    if len(values) == 1 and isinstance(values[0], datetime):
        return from_local(values[0], p.timezone), values[0].isoformat(sep=" "), False
    if (len(values) == 2 and isinstance(values[0], (datetime, date))
            and isinstance(values[1], (time, datetime))):
        day = values[0].date() if isinstance(values[0], datetime) else values[0]
        clock = values[1].time() if isinstance(values[1], datetime) else values[1]
        naive = datetime.combine(day, clock)
        return from_local(naive, p.timezone), naive.isoformat(sep=" "), False
    if any(isinstance(v, (datetime, date, time)) for v in values):
        raise BadRow(f"start time column {label}: spreadsheet date/time cells "
                     f"{[cell_text(v) for v in values]!r} do not combine into one date-time")
    text = " ".join(cell_text(v) for v in values)
    reading = parse_local(text, p.time_format, p.timezone)
    if reading.error:
        raise BadRow(f"start time column {label}: {text!r} does not match the profile's "
                     f"format {p.time_format!r}")
    return reading, text, True


def read_duration(value: Any, header: str, p: Profile) -> float | None:
    """Return the duration in seconds, None for an empty cell."""
    if is_empty(value):
        return None
    if isinstance(value, time):
        return float(value.hour * 3600 + value.minute * 60 + value.second)
    if isinstance(value, timedelta):
        return value.total_seconds()
    numeric = isinstance(value, (int, float)) and not isinstance(value, bool)
    if numeric and p.duration_unit == "seconds":
        if value < 0:
            raise BadRow(f"duration column {header!r}: {value!r} is negative")
        return float(value)
    text = cell_text(value)
    if p.duration_unit == "seconds":
        if not _SECONDS.fullmatch(text):
            raise BadRow(f"duration column {header!r}: {text!r} is not a number of seconds")
        return float(text)
    match = _HMS.fullmatch(text)
    if not match:
        raise BadRow(f"duration column {header!r}: {text!r} is not hh:mm:ss")
    hours, minutes, seconds = (int(g) for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def read_number(value: Any, p: Profile, region: str) -> Ident | None:
    """Normalise a phone number; None when withheld or empty.

    With ``international_without_plus`` a digits-only number of 11 or more
    digits not starting with 0 gets a '+' (``447700900123``); a shorter one is
    left to ``tel`` with the case region, since a 10-digit number may be a UK
    national number whose leading 0 a spreadsheet dropped.
    """
    text = cell_text(value)
    if (p.international_without_plus and text.isascii() and text.isdigit()
            and not text.startswith("0") and len(text) >= 11):
        text = "+" + text  # an MSISDN column writes international numbers without the '+'
    return tel(text, region)


def read_cell(value: Any, p: Profile) -> tuple[str | None, str | None]:
    """Return (normalised cell id or None, verbatim text); both None for an empty cell."""
    text = cell_text(value)
    if not text:
        return None, None
    if p.cell_form == "eci":
        return eci_cgi(p.mcc, p.mnc, text), text
    return normalise_cgi(text), text
