"""The merged chronology: filtering events and writing them for people and spreadsheets."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pandas as pd

from atlas.case import Case
from atlas.errors import UsageError
from atlas.events import FIELD_NAMES
from atlas.store import load_events
from atlas.timeparse import from_local

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_LIST_FIELDS = ("recipients", "attachments", "flags")


def parse_bound(text: str, tz: str, end: bool) -> datetime:
    """Read a ``--from``/``--to`` value (date or date-time, local to ``tz``) as UTC.

    A date alone means the whole day: ``--to 2024-05-31`` includes 31 May.
    """
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            naive = datetime.combine(day + timedelta(days=1) if end else day, time())
        else:
            naive = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{text!r} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM)") from None
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    reading = from_local(naive, tz)
    if reading.flag != "ok":
        raise UsageError(f"{text} is {reading.flag} in {tz} because of a clock change; "
                         "give it with an offset, e.g. 2024-10-27T01:30+01:00")
    return reading.utc  # type: ignore[return-value]


def select(case: Case, start: str | None = None, end: str | None = None, person: str | None = None,
           kinds: tuple[str, ...] = (), exhibits: tuple[str, ...] = ()) -> pd.DataFrame:
    """Return the events matching the filters, in chronological order."""
    frame = load_events(case.root, exhibits=list(exhibits) or None)
    mask = pd.Series(True, index=frame.index)
    if start:
        mask &= frame["timestamp_utc"] >= parse_bound(start, case.display_timezone, end=False)
    if end:
        mask &= frame["timestamp_utc"] < parse_bound(end, case.display_timezone, end=True)
    if kinds:
        mask &= frame["kind"].isin(kinds)
    if person:
        wanted = set(case.identifiers_of(case.person(person).id))
        sender = frame["sender"].isin(wanted)
        recips = frame["recipients"].map(lambda r: r is not None and any(x in wanted for x in r))
        mask &= sender | recips.astype(bool)
    return frame.loc[mask].reset_index(drop=True)


def display_times(series: pd.Series, tz: str) -> pd.Series:
    """Return local display strings with the zone abbreviation (``2024-05-01 13:00:00 BST``)."""
    local = series.dt.tz_convert(tz)
    text = local.dt.strftime("%Y-%m-%d %H:%M:%S %Z")
    return text.where(series.notna(), "(no time)")


def neutralise(value: str) -> str:
    """Make a spreadsheet cell inert: a leading formula character gets a quote prefix."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def terminal_safe(value: object, limit: int | None = None) -> str:
    """Return text with control and bidi-override characters shown as escapes."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = str(value)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    out = []
    for ch in text:
        code = ord(ch)
        if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0 or 0x202A <= code <= 0x202E \
                or 0x2066 <= code <= 0x2069:
            out.append("\\n" if ch == "\n" else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


def _cell(name: str, value: object) -> str:
    if value is None:
        return ""
    if name in _LIST_FIELDS:
        items = [] if value is None else list(value)
        return neutralise(json.dumps(items, ensure_ascii=False)) if items else ""
    if isinstance(value, pd.Timestamp):
        return "" if pd.isna(value) else value.isoformat()
    if isinstance(value, float):
        return "" if pd.isna(value) else repr(value)
    return neutralise(str(value))


def write_csv(frame: pd.DataFrame, path: Path, tz: str) -> int:
    """Write every event field plus ``display_time`` to a CSV Excel opens (UTF-8 with BOM)."""
    columns = ["display_time", *FIELD_NAMES]
    shown = display_times(frame["timestamp_utc"], tz) if len(frame) else pd.Series([], dtype=object)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(columns)
        records = frame[list(FIELD_NAMES)].astype(object).where(frame[list(FIELD_NAMES)].notna(), None)
        for disp, rec in zip(shown.tolist(), records.itertuples(index=False, name=None), strict=True):
            writer.writerow([disp, *(_cell(n, v) for n, v in zip(FIELD_NAMES, rec, strict=True))])
    return len(frame)
