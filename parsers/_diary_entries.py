"""Turn diary entries and table rows into events or rejections (helpers of ``parsers.diary``)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from parsers._diary_dates import Lead, scan_lead, scan_time
from parsers._diary_resolve import Context, read_stated_dates, resolve
from parsers._diary_sources import LooseRow, TableRow, TypedDate, find_columns, is_blank


def table_entries(items: Iterator[Any], ctx: Context) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per table row; preamble text only sets the context."""
    for item in items:
        if isinstance(item, str):
            read_stated_dates(item, ctx)
        elif isinstance(item, LooseRow):
            yield Rejection(item.locator, f"row of {item.container}, which has no header row "
                            f"naming a Date and a What happened/Description column",
                            _raw(item.cells))
        else:
            yield _row(item, ctx)


def _row(row: TableRow, ctx: Context) -> EventDraft | Rejection:
    cols = row.columns
    cells = list(row.cells) + [None] * (len(cols.headers) - len(row.cells))
    if any(not is_blank([c]) for c in cells[len(cols.headers):]):
        return Rejection(row.locator, f"row has {len(row.cells)} cells with text beyond the "
                         f"{len(cols.headers)} header columns", _raw(row.cells))
    date_text = _cell(cells[cols.date])
    time_text = _cell(cells[cols.time]) if cols.time is not None else ""
    description = _cell(cells[cols.text])
    extra: dict[str, Any] = {}
    others = {(h or f"column {i + 1}"): _cell(c)
              for i, (h, c) in enumerate(zip(cols.headers, cells, strict=False))
              if i not in (cols.date, cols.time, cols.text) and _cell(c)}
    if others:
        extra["columns"] = others
    if not date_text:
        return Rejection(row.locator, f"the {cols.headers[cols.date]!r} cell is empty",
                         _raw(row.cells))
    lead = scan_lead(date_text)
    if lead is None:
        return Rejection(row.locator, f"date {date_text!r} is not a date expression this parser "
                         f"can read", _raw(row.cells))
    flags = []
    if lead.rest.strip():
        flags.append("date_cell_extra_text")
        extra["date_cell_rest"] = lead.rest.strip()
    if time_text:
        when = scan_time(time_text)
        if when is None or when.rest.strip() or lead.clock or lead.part:
            flags.append("time_cell_unread")
            extra["time_cell"] = time_text
        else:
            lead = dataclasses.replace(
                lead, clock=lead.clock or when.clock, clock_end=lead.clock_end or when.clock_end,
                part=lead.part or when.part, approx=lead.approx or when.approx)
    stamp = f"{date_text} {time_text}".strip()
    return event(row.locator, lead, stamp, description, ctx, extra, tuple(flags),
                  typed=isinstance(cells[cols.date], TypedDate), raw=_raw(row.cells))


def event(where: str, lead: Lead, stamp: str, text: str, ctx: Context, extra: dict,
          flags: tuple[str, ...] = (), typed: bool = False, raw: str | None = None
          ) -> EventDraft | Rejection:
    """Resolve ``lead`` and return the entry's event, or a rejection naming why not."""
    reading = resolve(lead, ctx, typed=typed)
    if isinstance(reading, str):
        return Rejection(where, reading, raw if raw is not None else text)
    return EventDraft(
        locator=where,
        kind="note",
        timestamp_utc=reading.utc,
        timestamp_source=stamp,
        tz_basis=reading.basis,
        tz_flag=reading.flag,
        date_order=reading.date_order,
        end_utc=reading.end_utc,
        direction="none",
        channel="diary",
        text=text,
        flags=tuple(sorted(set(flags + reading.flags))),
        extra={**extra, **reading.extra},
    )


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _raw(cells: list[Any]) -> str:
    return " | ".join(_cell(c) for c in cells)




def docx_table_rows(rows: list[tuple[str, list[str]]], columns: Any, table: int
                    ) -> Iterator[Any]:
    """Yield a Word table's preamble text and rows in the shapes ``table_entries`` takes."""
    if columns is None:
        for where, cells in rows:
            if not is_blank(cells):
                yield LooseRow(where, cells, f"Word table {table}")
        return
    header_seen = False
    for where, cells in rows:
        if is_blank(cells):
            continue
        if not header_seen:
            header_seen = find_columns(cells) is not None
            if not header_seen:
                yield " ".join(cells)
            continue
        yield TableRow(where, cells, columns)


