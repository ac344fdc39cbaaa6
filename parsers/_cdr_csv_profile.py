"""Operator profiles of the ``cdr_csv`` parser: load, check and match against a header row.

A profile is a small TOML document (the shipped ones are in
``parsers/cdr_profiles/<name>.toml``; an analyst's arrives as
``options.mapping``). Every problem in one is a ``UsageError`` naming the
file and the key. The format is documented in ``parsers/cdr_csv.py``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from atlas.errors import UsageError
from atlas.events import DIRECTIONS
from atlas.timeparse import zone

PROFILE_DIR = Path(__file__).resolve().parent / "cdr_profiles"
SECTIONS = ("profile", "table", "title", "columns", "time", "duration", "numbers", "cells",
            "record_types")
KEYS = {
    "profile": ("name", "operator", "basis"),
    "table": ("delimiter", "encoding", "sheet", "title_rows_max", "footer_pattern"),
    "title": ("target_pattern",),
    "time": ("date_format", "time_format", "datetime_format", "timezone"),
    "duration": ("unit",),
    "numbers": ("international_without_plus",),
    "cells": ("form", "mcc", "mnc"),
}
ROLES = ("record_type", "date", "time", "datetime", "target", "other", "a_party", "b_party",
         "duration", "imei", "imsi", "first_cell", "last_cell")
EVENTS = ("call", "sms", "mms", "data")
DURATION_UNITS = ("seconds", "hh:mm:ss")
CELL_FORMS = ("cgi", "eci")


@dataclass(frozen=True)
class Profile:
    """A checked operator profile: which column means what and how to read it."""

    name: str
    path: str
    operator: str | None
    delimiter: str
    encoding: str
    sheet: str | None
    title_rows_max: int
    footer: re.Pattern[str] | None
    target_pattern: re.Pattern[str] | None
    columns: dict[str, str]  # role -> header as written in the file
    time_format: str  # strptime format of the date and time text joined by one space
    timezone: str
    duration_unit: str
    international_without_plus: bool
    cell_form: str
    mcc: str | None
    mnc: str | None
    record_types: dict[str, tuple[str, str]]  # casefolded code -> (event, direction)

    def header_keys(self) -> frozenset[str]:
        """Return the casefolded headers a header row must contain."""
        return frozenset(h.strip().casefold() for h in self.columns.values())

    def matches(self, cells: list[Any]) -> bool:
        """Return True when ``cells`` (one row) holds every header this profile names."""
        present = {str(c).strip().casefold() for c in cells if c is not None}
        return self.header_keys() <= present


@lru_cache(maxsize=1)
def shipped() -> tuple[Profile, ...]:
    """Return the profiles shipped in ``parsers/cdr_profiles``, sorted by name."""
    profiles = []
    for path in sorted(PROFILE_DIR.glob("*.toml")):
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
        profiles.append(load(raw, f"cdr_profiles/{path.name}", "Europe/London"))
    return tuple(profiles)


def load(raw: Any, path: str, default_tz: str) -> Profile:
    """Check a parsed profile and return it; raise UsageError naming ``path`` and the key."""
    if not isinstance(raw, dict):
        raise _bad(path, "", "must be a TOML document of tables")
    _only(path, "", raw, SECTIONS)
    sec = {name: _table(path, raw, name) for name in SECTIONS}
    for name, keys in KEYS.items():
        _only(path, name, sec[name], keys)
    columns = {k: _text(path, f"columns.{k}", v) for k, v in sec["columns"].items()}
    _only(path, "columns", columns, ROLES)
    for role in ("record_type",):
        if role not in columns:
            raise _bad(path, f"columns.{role}", "is required (the column with the record "
                       "type code)")
    if "datetime" in columns and ("date" in columns or "time" in columns):
        raise _bad(path, "columns.datetime", "give either datetime or date + time, not both")
    if "datetime" not in columns and not ("date" in columns and "time" in columns):
        raise _bad(path, "columns", "needs datetime, or both date and time")
    if "other" in columns and ("a_party" in columns or "b_party" in columns):
        raise _bad(path, "columns.other", "give either other (with target) or a_party + b_party")
    if "other" not in columns and not ("a_party" in columns and "b_party" in columns):
        raise _bad(path, "columns", "needs other (the far end), or both a_party and b_party")
    if len({h.casefold() for h in columns.values()}) != len(columns):
        raise _bad(path, "columns", "two roles name the same column")

    time = sec["time"]
    if "datetime" in columns:
        fmt = _text(path, "time.datetime_format", time.get("datetime_format", "%d/%m/%Y %H:%M:%S"))
    else:
        fmt = (_text(path, "time.date_format", time.get("date_format", "%d/%m/%Y")) + " "
               + _text(path, "time.time_format", time.get("time_format", "%H:%M:%S")))
    if "%z" in fmt or "%Z" in fmt:
        raise _bad(path, "time", "operator CDR times are local without offset; %z/%Z not supported")
    tz = _text(path, "time.timezone", time.get("timezone", default_tz))
    try:
        zone(tz)
    except ValueError as exc:
        raise _bad(path, "time.timezone", str(exc)) from None

    table = sec["table"]
    delimiter = _text(path, "table.delimiter", table.get("delimiter", ","))
    if len(delimiter) != 1:
        raise _bad(path, "table.delimiter", "must be one character")
    title_max = table.get("title_rows_max", 10)
    if not isinstance(title_max, int) or isinstance(title_max, bool) or not 0 <= title_max <= 100:
        raise _bad(path, "table.title_rows_max", "must be a whole number from 0 to 100")

    unit = sec["duration"].get("unit", "seconds")
    if unit not in DURATION_UNITS:
        raise _bad(path, "duration.unit", f"must be one of {', '.join(DURATION_UNITS)}")
    cells = sec["cells"]
    form = cells.get("form", "cgi")
    if form not in CELL_FORMS:
        raise _bad(path, "cells.form", f"must be one of {', '.join(CELL_FORMS)}")
    mcc = cells.get("mcc")
    mnc = cells.get("mnc")
    if form == "eci" and not (isinstance(mcc, str) and isinstance(mnc, str)):
        raise _bad(path, "cells", "form 'eci' needs mcc and mnc as strings (e.g. \"234\", \"20\")")
    intl = sec["numbers"].get("international_without_plus", False)
    if not isinstance(intl, bool):
        raise _bad(path, "numbers.international_without_plus", "must be true or false")

    types: dict[str, tuple[str, str]] = {}
    for code, value in sec["record_types"].items():
        key = f"record_types.{code!r}"
        if not (isinstance(value, list) and len(value) == 2 and value[0] in EVENTS
                and value[1] in DIRECTIONS):
            raise _bad(path, key, f"must be [event, direction] with event one of {EVENTS} and "
                       f"direction one of {DIRECTIONS}")
        types[code.strip().casefold()] = (value[0], value[1])
    if not types:
        raise _bad(path, "record_types", "is empty: map each record type code to "
                   "[event, direction]")

    return Profile(
        name=_text(path, "profile.name", sec["profile"].get("name", "mapping")),
        path=path,
        operator=sec["profile"].get("operator"),
        delimiter=delimiter,
        encoding=_text(path, "table.encoding", table.get("encoding", "utf-8-sig")),
        sheet=table.get("sheet"),
        title_rows_max=title_max,
        footer=_regex(path, "table.footer_pattern", table.get("footer_pattern")),
        target_pattern=_regex(path, "title.target_pattern", sec["title"].get("target_pattern")),
        columns=columns,
        time_format=fmt,
        timezone=tz,
        duration_unit=unit,
        international_without_plus=intl,
        cell_form=form,
        mcc=mcc,
        mnc=mnc,
        record_types=types,
    )


def _regex(path: str, key: str, value: Any) -> re.Pattern[str] | None:
    if value is None:
        return None
    try:
        return re.compile(_text(path, key, value), re.IGNORECASE)
    except re.error as exc:
        raise _bad(path, key, f"is not a valid regular expression: {exc}") from None


def _table(path: str, raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name, {})
    if not isinstance(value, dict):
        raise _bad(path, name, "must be a table")
    return value


def _text(path: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, key, "must be a non-empty string")
    return value


def _only(path: str, where: str, table: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            prefix = f"{where}." if where else ""
            raise _bad(path, f"{prefix}{key}", f"unknown key; allowed: {', '.join(allowed)}")


def _bad(path: str, key: str, problem: str) -> UsageError:
    return UsageError(f"CDR profile {path}: {key}: {problem}" if key
                      else f"CDR profile {path}: {problem}")
