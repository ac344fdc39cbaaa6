"""Tower dumps: every device seen on a list of cells in a time window (CSV).

Format:
    One CSV table per production, comma, semicolon, tab or pipe separated,
    UTF-8 with or without byte-order mark: optional title rows, one header
    row, one row per event of any subscriber on one of the requested cells,
    optional footer rows. **There is no public sample of a UK tower dump**:
    the layout supported here is built from the general description in
    docs/formats.md sections 4.1 and 4.3 (same ingredients as an operator
    CDR, many subscribers, millions of rows) and is not verified against a
    real production. Columns are found by accepted header spellings (table in
    ``parsers/_tower_dump_csv_columns.py``; case and punctuation ignored);
    the header must name a subscriber identity (MSISDN, IMSI or IMEI), a time
    (one date-time column, or a date and a time column) and a cell (a CGI
    column, or MCC + MNC + LAC/TAC + CI). Optional: dump/request id
    (``Request ID``, ``Dump Reference``), event type, other party, duration
    (seconds or hh:mm:ss), last cell. Example::

        Tower dump request TD-2024-0001 - cells 234-15-1234-56789 ...
        Request ID,MSISDN,IMSI,IMEI,Event Type,Event Date,Event Time,Duration,Other Party,Cell ID
        TD-2024-0001,447700900123,234150000000001,356938035643809,Voice MO,27/10/2024,
          01:30:00,65,07700900456,234-15-1234-56789      (one line in the file)

    Each row becomes one ``cell_event``: sender = the subscriber seen on the
    cell (its MSISDN as ``tel:``, E.164 with ``options.region``; digits-only
    numbers of 11+ digits are international without '+'); a row with no
    MSISDN falls back to ``imsi:``/``imei:`` and is flagged
    ``sender_not_msisdn``. recipients = the other party when there is one (a
    withheld one is flagged ``party_withheld``, its text kept in extra
    ``other_party_raw``). ``status`` is the event type (``voice_mo``,
    ``voice_mt``, ``sms_mo``, ``sms_mt``, ``mms_mo``, ``mms_mt``, ``data``,
    ``location_update``, ``call_forward``); direction and channel follow it.
    An unknown code is kept, folded to snake case, flagged
    ``event_type_unmapped``. ``cell_id`` is normalised by
    ``atlas.cells.normalise_cgi`` (``234-15-1234-56789``; one that does not
    normalise is kept verbatim and flagged ``cell_id_unparsed``; an empty one
    is flagged ``cell_id_missing``; separate MCC/MNC/LAC/CI cells are joined
    with '-' as written before normalising); location_method ``cell``. extra holds
    ``dump_id`` (on every row: the row's id column, else the reference in the
    title row above the header, else the file name) with ``dump_id_source``
    (``column``/``title``/``file_name``), ``imsi``, ``imei``,
    ``device_identifiers`` (``imsi:…``, ``imei:…``), ``event_type`` as
    written, ``last_cell_id`` and every unmapped column under its header.
Time:
    Operators write UK local wall-clock time without an offset. A date-time
    (``dd/mm/yyyy HH:MM[:SS]``, or ISO 8601) is read in ``options.source_tz``
    (tz_basis ``assumed:Europe/London``, date_order ``dmy:assumed``); a time
    in the doubled October hour is flagged ``ambiguous`` (earlier reading
    kept), one in the skipped March hour ``nonexistent``; never shifted. An
    ISO time with ``Z`` or an offset is read as written.
Locator:
    ``line:N`` (``line:N-M`` for a quoted cell spanning lines): physical
    lines counted by the csv reader, title and header rows included.
Limitations:
    The file is streamed row by row (flat memory for millions of rows). Title
    rows above the header, blank rows, a repeated header row and a title row
    naming a further tower dump (it starts a new section whose rows take its
    reference) are structure, not records. A footer row (``Total ...``,
    ``End of report``) is rejected with reason "footer row", so its totals can
    be checked against the accepted count. A row with the wrong number of
    cells, an empty or unreadable time, an unreadable duration or no
    subscriber identity at all is a Rejection naming the column. Hexadecimal
    LAC/CI and 5G NCIs are kept verbatim (``cell_id_unparsed``). XLSX is not
    read. ``sniff`` needs MSISDN + IMSI + time + cell columns *and* a
    tower-dump marker (a title row saying "tower dump", a dump/request id
    column, or "tower"/"dump" in the file name), so a single-target CDR is
    left to ``cdr_csv``; other files need ``--format tower_dump_csv``.
References:
    docs/formats.md sections 4.1 and 4.3 (general knowledge; no public
    sample); 3GPP TS 23.003 (CGI/ECGI structure).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from parsers._cdr_csv_table import table_rows
from parsers._csv_layout_common import (
    BadCell,
    find_header,
    first_text,
    head_tables,
    join_time,
    read_duration,
    read_msisdn,
    read_time,
    resolve,
    row_item,
    time_roles,
)
from parsers._tower_dump_csv_columns import (
    DUMP_FILENAME,
    SYNONYMS,
    TOWER_TITLE,
    cell_identity,
    event_type,
    is_header,
    title_reference,
)


@dataclass
class _Plan:
    header: list[str]
    pos: dict[str, int]
    time_roles: tuple[str, ...]
    file_name: str
    time_label: str
    title_id: str | None = None


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a CSV whose header names MSISDN, IMSI, time and cell, with a dump marker."""
    for _, rows in head_tables(head):
        for index, row in enumerate(rows):
            found = resolve(row, SYNONYMS)
            if len(row) < 4 or not is_header(found) or not {"msisdn", "imsi"} <= found.keys():
                continue
            titled = any(TOWER_TITLE.search(" ".join(r)) for r in rows[:index])
            return titled or "dump_id" in found or bool(DUMP_FILENAME.search(filename or ""))
    return False


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield exactly one event or rejection per data row, in file order."""
    layout = find_header(source, lambda cells: is_header(resolve(cells, SYNONYMS)))
    if layout is None:
        raise NotThisFormat("no header row naming a subscriber (MSISDN/IMSI/IMEI), a time and "
                            "a cell in the first rows")
    delimiter, header_locator = layout
    rows = table_rows(source, xlsx=False, delimiter=delimiter)
    plan: _Plan | None = None
    titles: list[str] = []
    try:
        for row in rows:
            if plan is None:
                if row.locator == header_locator:
                    plan = _plan(row.cells, titles, source)
                else:
                    titles.append(" ".join(row.cells))  # a title row: not a record
                continue
            cells = [c.strip() for c in row.cells]
            if cells == plan.header:
                continue  # the header repeated (dumps appended one after another)
            if TOWER_TITLE.search(first_text(row)):
                plan.title_id = title_reference(" ".join(cells))  # a further dump's title
                continue
            yield _item(row.locator, cells, plan, options)
    finally:
        rows.close()


def _plan(header: list[str], titles: list[str], source: Source) -> _Plan:
    header = [h.strip() for h in header]
    pos = resolve(header, SYNONYMS)
    if {"mcc", "mnc", "lac"} <= pos.keys() and "ci" not in pos and "cell" in pos:
        pos["ci"] = pos.pop("cell")  # with MCC/MNC/LAC columns, "Cell ID" is the CI alone
    roles = time_roles(pos)
    title_id = next((ref for t in titles if (ref := title_reference(t))), None)
    time_label = "time (column " + " + ".join(repr(header[pos[r]]) for r in roles) + ")"
    return _Plan(header, pos, roles, os.path.basename(source.display_path), time_label,
                 title_id)


def _item(locator: str, cells: list[str], plan: _Plan,
          options: ParseOptions) -> EventDraft | Rejection:
    return row_item(locator, cells, plan.header, lambda: _draft(locator, cells, plan, options))


def _draft(locator: str, cells: list[str], plan: _Plan, options: ParseOptions) -> EventDraft:
    def text(field: str) -> str:
        return cells[plan.pos[field]] if field in plan.pos else ""

    def label(*fields: str) -> str:
        return "column " + " + ".join(repr(plan.header[plan.pos[f]]) for f in fields)

    parts = [text(r) for r in plan.time_roles]
    if not all(parts):
        raise BadCell(f"time ({label(*plan.time_roles)}) is empty")
    time_text = join_time(parts)
    reading, date_order = read_time(time_text, plan.time_label, options)
    duration = read_duration(text("duration"), f"duration ({label('duration')})") \
        if "duration" in plan.pos else None

    flags: list[str] = []
    extra: dict[str, Any] = {}
    _dump_id(text("dump_id"), plan, extra)
    imsi, imei = text("imsi"), text("imei")
    devices = [f"imsi:{imsi}"] * bool(imsi) + [f"imei:{imei}"] * bool(imei)
    subscriber = read_msisdn(text("msisdn"), options.region)
    if subscriber is not None:
        sender = subscriber.value
        if not subscriber.parsed:
            flags.append("sender_unparsed_number")
    elif devices:
        sender = devices[0]
        flags.append("sender_not_msisdn")
        if text("msisdn"):
            extra["msisdn_raw"] = text("msisdn")
    else:
        raise BadCell("no subscriber identity: MSISDN, IMSI and IMEI are all empty")
    extra.update({k: v for k, v in (("imsi", imsi), ("imei", imei)) if v})
    if devices:
        extra["device_identifiers"] = devices

    recipients: tuple[str, ...] = ()
    other = read_msisdn(text("other"), options.region)
    if other is not None:
        recipients = (other.value,)
        if not other.parsed:
            flags.append("recipient_unparsed_number")
    elif text("other"):
        flags.append("party_withheld")
        extra["other_party_raw"] = text("other")

    status, direction, channel = event_type(text("event"), "event" in plan.pos, flags, extra)
    cell_id = cell_identity(text, "cell" in plan.pos, flags, extra)
    used = set(plan.pos.values())
    for i, h in enumerate(plan.header):
        if i not in used and cells[i]:
            extra.setdefault(h or f"column {i + 1}", cells[i])

    return EventDraft(
        locator=locator,
        kind="cell_event",
        timestamp_utc=reading.utc,
        timestamp_source=time_text,
        tz_basis=reading.basis,
        tz_flag=reading.flag,
        date_order=date_order,
        duration_s=duration,
        direction=direction,
        sender=sender,
        recipients=recipients,
        channel=channel,
        status=status,
        location_method="cell",
        cell_id=cell_id,
        flags=tuple(flags),
        extra=extra,
    )


def _dump_id(value: str, plan: _Plan, extra: dict[str, Any]) -> None:
    if value:
        extra.update(dump_id=value, dump_id_source="column")
    elif plan.title_id:
        extra.update(dump_id=plan.title_id, dump_id_source="title")
    else:
        extra.update(dump_id=plan.file_name, dump_id_source="file_name")


PARSER = ParserSpec(
    name="tower_dump_csv",
    version="1.0",
    family="telecoms",
    summary="Operator tower dumps (all devices seen on given cells), CSV, streamed",
    sniff=sniff,
    parse=parse,
    extensions=(".csv",),
)
