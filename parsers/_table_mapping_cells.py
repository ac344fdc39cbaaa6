"""Read one cell of a mapped table: time, number, code, identifier or text.

A cell that cannot be read raises ``BadCell`` with a reason that names the
column and the event field; the parser turns it into a Rejection.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from atlas.identifiers import display_name, email, handle, tel, vrm
from atlas.timeparse import TimeReading, from_local, from_unix, parse_iso
from parsers._table_io import date_order_of as date_order_of
from parsers._table_mapping_config import ENUM_FIELDS, TIME_KEYWORDS, Mapping

_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_CLOCK = re.compile(r"(?:(\d+):)?([0-5]?\d):([0-5]\d(?:\.\d+)?)")
NUMBER_RANGES = {"latitude": (-90.0, 90.0), "longitude": (-180.0, 180.0),
                 "duration_s": (0.0, math.inf), "accuracy_m": (0.0, math.inf)}


class BadCell(Exception):  # noqa: N818 - a record-level signal turned into a Rejection
    """A cell that cannot become part of an event; the message is the rejection reason."""


def text_of(value: Any) -> str:
    """Return a cell as text: CSV text unchanged, XLSX values written plainly."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 447700900123.0 was typed as a number, not a decimal
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


def json_value(value: Any) -> Any:
    """Return a cell as a JSON-able value for ``extra`` (numbers stay numbers)."""
    if isinstance(value, (bool, int, float, str)):
        return value
    return text_of(value)


def read_time(cells: list[Any], columns: tuple[str, ...],
              m: Mapping) -> tuple[TimeReading, str | None, bool]:
    """Return the reading, the verbatim source text and whether the strptime format was used."""
    label = " + ".join(repr(c) for c in columns)
    if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
        return TimeReading(None, "none", "no_time"), None, False
    if any(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
        raise BadCell(f"column {label} (time): one of the time columns is empty")
    value = _spreadsheet_datetime(cells)
    if value is not None:  # a real date-time cell: wall-clock time in the mapping's zone
        return from_local(value, m.timezone), value.isoformat(sep=" "), False
    if any(isinstance(c, (datetime, date, time)) for c in cells):
        raise BadCell(f"column {label} (time): date and time cells do not combine "
                      f"into one date-time: {[text_of(c) for c in cells]!r}")
    fmt = m.time_format
    if fmt in ("unix_s", "unix_ms"):
        raw = text_of(cells[0]).strip() if len(cells) == 1 else " ".join(map(text_of, cells))
        if not _DECIMAL.fullmatch(raw):
            raise BadCell(f"column {label} (time): {raw!r} is not a number of "
                          f"{'seconds' if fmt == 'unix_s' else 'milliseconds'} since 1970")
        reading = from_unix(float(raw), "s" if fmt == "unix_s" else "ms")
    else:
        if any(isinstance(c, (int, float)) for c in cells):
            raise BadCell(f"column {label} (time): holds the number "
                          f"{text_of(cells[0])!r}, not text in format {fmt!r} (a spreadsheet "
                          "serial date not formatted as a date?)")
        raw = " ".join(c.strip() for c in cells)
        if fmt == "iso" and not _ISO_DATETIME.match(raw):
            # a bare date would silently become midnight
            raise BadCell(f"column {label} (time): {raw!r} is not an ISO 8601 date and time")
        reading = parse_iso(raw, m.timezone) if fmt == "iso" else _strptime(raw, fmt, m.timezone)
    if reading.error:
        raise BadCell(f"column {label} (time): {reading.error}")
    return reading, raw, fmt not in TIME_KEYWORDS


def _spreadsheet_datetime(cells: list[Any]) -> datetime | None:
    if len(cells) == 1 and isinstance(cells[0], datetime):
        return cells[0].replace(tzinfo=None)
    if (len(cells) == 2 and isinstance(cells[0], (datetime, date)) and isinstance(cells[1], time)
            and (not isinstance(cells[0], datetime) or cells[0].time() == time(0))):
        day = cells[0].date() if isinstance(cells[0], datetime) else cells[0]
        return datetime.combine(day, cells[1].replace(tzinfo=None))
    return None


def _strptime(text: str, fmt: str, zone_name: str) -> TimeReading:
    try:
        parsed = datetime.strptime(text, fmt)  # noqa: DTZ007 - zone decided just below
    except ValueError as exc:
        detail = "" if str(exc).startswith("time data") else f" ({exc})"
        return TimeReading(None, "none", "ok", f"{text!r} does not match format {fmt!r}{detail}")
    if parsed.tzinfo is None:
        return from_local(parsed, zone_name)
    declared = parsed.utcoffset() == timedelta(0) and text.rstrip().endswith(("Z", "z"))
    return TimeReading(parsed.astimezone(UTC), "utc-declared" if declared else "offset-in-source")


def read_number(field: str, column: str, value: Any) -> float | None:
    """Return a number cell (``duration_s`` may also be ``[H:]MM:SS``), or None when empty."""
    where = f"column {column!r} ({field})"
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise BadCell(f"{where}: {value!r} is not a number")
    if isinstance(value, timedelta) and field == "duration_s":
        number = value.total_seconds()
    elif isinstance(value, time) and field == "duration_s":
        number = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    elif isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip()
        clock = _CLOCK.fullmatch(text) if field == "duration_s" else None
        if clock:
            number = int(clock[1] or 0) * 3600 + int(clock[2]) * 60 + float(clock[3])
        elif _DECIMAL.fullmatch(text):
            number = float(text)
        else:
            hint = " (seconds, or H:MM:SS)" if field == "duration_s" else ""
            raise BadCell(f"{where}: {text!r} is not a number{hint}")
    else:
        raise BadCell(f"{where}: {text_of(value)!r} is not a number")
    low, high = NUMBER_RANGES[field]
    if not (math.isfinite(number) and low <= number <= high):
        rule = "must not be negative" if high == math.inf else f"is outside {low:g}..{high:g}"
        raise BadCell(f"{where}: {text_of(value).strip()!r} {rule}")
    return number


def read_code(field: str, column: str, value: Any, m: Mapping) -> str | None:
    """Return a coded cell translated through ``[values.<field>]``, or None when empty."""
    text = text_of(value).strip()
    codes = m.values.get(field)
    if codes is not None:
        if text in codes:
            return codes[text]
        if not text:
            return None
        raise BadCell(f"column {column!r} ({field}): unknown code {text!r}; add it to "
                      f"[values.{field}] in the mapping")
    if not text:
        return None
    allowed = ENUM_FIELDS[field]
    if allowed is None:
        return text
    if text.lower() in allowed:
        return text.lower()
    raise BadCell(f"column {column!r} ({field}): {text!r} is not one of {', '.join(allowed)}; "
                  f"map the source codes in [values.{field}]")


def read_ident(scheme: str, text: str, region: str) -> tuple[str | None, str | None]:
    """Return (normalised identifier or None, problem flag suffix or None)."""
    text = text.strip()
    if not text:
        return None, None
    if scheme == "raw":
        return text, None
    if scheme == "tel":
        number = tel(text, region)
        if number is None:
            return None, "withheld"
        return number.value, None if number.parsed else "unparsed_number"
    if scheme.startswith("name:"):
        return display_name(scheme.partition(":")[2].strip(), text), None
    if scheme.startswith("handle:"):
        ident = handle(scheme.partition(":")[2].strip().lower(), text)
    else:
        ident = email(text) if scheme == "email" else vrm(text)
    return ident.value, None if ident.parsed else "unparsed_identifier"
