"""Any CSV or XLSX table, read through an analyst's TOML mapping file.

Format:
    A table with one header row and one record per row: a CSV file (any
    encoding and delimiter) or one worksheet of an XLSX workbook. How an
    analyst brings in a tabular export until a dedicated parser exists. The
    mapping (``--format table_mapping --mapping FILE``) says what each column
    means; it arrives parsed as ``options.mapping`` and is checked before the
    exhibit is read: a missing or invalid mapping, or a mapped column that is
    not in the header, is a UsageError naming the mapping file and the key.
    Tables and keys (full commented example in ``docs/table-mapping.md``)::

        [table]        type ("csv"/"xlsx"; default: XLSX when the file is a ZIP),
                       sheet (XLSX; default the first), header_row (1-based line
                       for CSV, row for XLSX; default 1), encoding (CSV; default
                       "utf-8-sig"), delimiter (default ","), quotechar ('"'),
                       list_separator (";", splits recipients and attachments)
        [time]         column (a header, or a list of headers joined with one
                       space, e.g. ["Date", "Time"]), format (a strptime format,
                       "iso", "unix_s" or "unix_ms"), timezone (IANA; default
                       the case zone, options.source_tz)
        [fields]       event field = column header, for kind, direction, sender,
                       sender_name, recipients, text, thread, channel, status,
                       duration_s, latitude, longitude, accuracy_m,
                       location_method, cell_id, attachments, deleted
        [constants]    fixed values for every row: kind, direction, channel,
                       thread, status, location_method, deleted
        [values.<f>]   "source code" = "event value", for kind, direction,
                       status, location_method, deleted, channel
        [identifiers]  sender / recipients: tel, email, vrm, raw,
                       handle:<platform> or name:<channel>

    Every event needs a kind (constants.kind or fields.kind). A coded field
    with no ``[values.<f>]`` table must already hold an event value (any case).
    Columns the mapping does not name go to ``extra`` under their header (empty
    cells left out; a blank header becomes ``column N``, a repeated header
    ``<header> (column N)``). Coordinates without a stated method get
    location_method ``unknown``; a constant location_method is applied only
    to rows that have coordinates. Identifiers are normalised through
    ``atlas.identifiers`` (phone numbers to E.164 with ``options.region``); one
    that cannot be normalised is kept verbatim and flagged
    ``sender_unparsed_number`` / ``recipient_unparsed_identifier`` etc.; a
    withheld number is left out and flagged ``sender_withheld``.
Time:
    With a strptime format, a value without ``%z`` is wall-clock time in
    ``time.timezone`` (tz_basis ``assumed:<zone>``; clock-change hours flagged
    ``ambiguous``/``nonexistent``, never shifted); with ``%z`` the written
    offset is used (``offset-in-source``, or ``utc-declared`` for ``Z``).
    ``%Z`` is refused, since strptime ignores it. ``iso`` keeps a written
    offset and otherwise assumes ``time.timezone``; a bare date is rejected,
    never read as midnight. ``unix_s``/``unix_ms`` are epoch numbers (``epoch``).
    An XLSX cell that is already a date-time (or a date cell plus a time cell)
    is wall-clock time in ``time.timezone``; ``timestamp_source`` is then the
    cell value written as ``YYYY-MM-DD HH:MM:SS``. A numeric strptime date
    records its order as e.g. ``dmy:assumed`` (stated by the mapping). An empty
    time cell keeps the row as an event with tz_flag ``no_time``.
Locator:
    CSV: ``line:N`` (``line:N-M`` when a quoted cell spans lines), physical
    lines counted by the csv reader, header included. XLSX:
    ``xlsx:<sheet>!row=N`` as the spreadsheet numbers rows.
Limitations:
    ``sniff`` always returns False: a table says nothing about its meaning, so
    this format is only chosen explicitly. Rows above the header row and rows
    with every cell empty are not records. A CSV row with a different number
    of cells from the header, an unparseable time, an unknown code or a bad
    number (decimal comma included) is a Rejection naming the column; broken
    CSV quoting or undecodable text raises SourceError with the line. XLSX
    formulas give their cached values (none if the file was never
    recalculated); numbers typed into phone-number cells have lost any leading
    zero. There is no end-time column (use duration_s) and no per-row sender
    constant. The mapping is recorded by path only (``options.as_log``).
References:
    Python ``csv`` and ``datetime.strptime`` documentation; openpyxl read-only
    mode, https://openpyxl.readthedocs.io/en/stable/optimized.html
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from atlas.errors import UsageError
from atlas.events import EventDraft, Rejection
from atlas.parsing import ParseOptions, ParserSpec, Source
from parsers._table_mapping_cells import (
    BadCell,
    date_order_of,
    json_value,
    read_code,
    read_ident,
    read_number,
    read_time,
    text_of,
)
from parsers._table_mapping_config import TIME_KEYWORDS, Mapping, load
from parsers._table_mapping_rows import Row, csv_rows, table_type, xlsx_rows


@dataclass(frozen=True)
class _Plan:
    """The mapping resolved against one file's header."""

    mapping: Mapping
    is_csv: bool
    width: int
    position: dict[str, int]  # column header -> index
    extra_columns: tuple[tuple[int, str], ...]  # (index, extra key)
    date_order: str | None
    region: str


def sniff(head: bytes, filename: str) -> bool:
    """Return False: a generic table is only parsed when chosen with ``--format``."""
    return False


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield exactly one event or rejection per data row, in file order."""
    mapping = load(options.mapping, options.mapping_path, options.source_tz)
    is_csv = table_type(source, mapping) == "csv"
    rows = csv_rows(source, mapping) if is_csv else xlsx_rows(source, mapping)
    try:
        header = next(rows)
        plan = _plan(header, mapping, is_csv, source, options)
        for row in rows:
            yield _event(row, plan)
    finally:
        rows.close()


def _plan(header: list[str], m: Mapping, is_csv: bool, source: Source,
          options: ParseOptions) -> _Plan:
    where = f"line {m.header_row}" if is_csv else f"row {m.header_row}"
    keys = [("time.column", c) for c in m.time_columns]
    keys += [(f"fields.{f}", c) for f, c in m.fields.items()]
    position: dict[str, int] = {}
    for key, column in keys:
        found = [i for i, h in enumerate(header) if h == column]
        if not found:
            near = [h for h in header if h.casefold() == column.casefold()]
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise UsageError(f"mapping {m.path}: {key}: column {column!r} is not in the header "
                             f"({where}) of {source.display_path}{hint}; headers: "
                             f"{', '.join(repr(h) for h in header)}")
        if len(found) > 1:
            raise UsageError(f"mapping {m.path}: {key}: column {column!r} appears "
                             f"{len(found)} times in the header of {source.display_path} "
                             f"(columns {', '.join(str(i + 1) for i in found)})")
        position[column] = found[0]
    extras = []
    seen: set[str] = set()
    for i, h in enumerate(header):
        if i in position.values():
            continue
        key = h if h and h not in seen else (f"{h} (column {i + 1})" if h else f"column {i + 1}")
        seen.add(h)
        extras.append((i, key))
    order = None if m.time_format in TIME_KEYWORDS else date_order_of(m.time_format)
    return _Plan(m, is_csv, len(header), position, tuple(extras), order, options.region)


def _event(row: Row, plan: _Plan) -> EventDraft | Rejection:
    cells = row.cells
    if plan.is_csv and len(cells) != plan.width:
        return Rejection(row.locator, f"row has {len(cells)} cell{'s' * (len(cells) != 1)} "
                         f"but the header has {plan.width}", raw=cells)
    if len(cells) > plan.width:
        spill = [i + 1 for i in range(plan.width, len(cells)) if text_of(cells[i]).strip()]
        if spill:
            return Rejection(row.locator, f"cells beyond the header in columns "
                             f"{', '.join(map(str, spill))}", raw=cells)
    cells = cells + [None] * (plan.width - len(cells))
    try:
        return _draft(row.locator, cells, plan)
    except BadCell as exc:
        return Rejection(row.locator, str(exc), raw=cells)


def _draft(locator: str, cells: list[Any], plan: _Plan) -> EventDraft:
    m = plan.mapping
    fields = m.fields

    def cell(name: str) -> Any:
        return cells[plan.position[fields[name]]] if name in fields else None

    time_cells = [cells[plan.position[c]] for c in m.time_columns]
    reading, time_source, used_format = read_time(time_cells, m.time_columns, m)
    coded: dict[str, str | None] = {}
    for name in ("kind", "direction", "location_method", "deleted", "status", "channel"):
        coded[name] = (read_code(name, fields[name], cell(name), m) if name in fields
                       else m.constants.get(name))
    if coded["kind"] is None:
        raise BadCell(f"column {fields['kind']!r} (kind) is empty")

    flags: list[str] = []
    sender = None
    if "sender" in fields:
        sender, problem = read_ident(m.identifiers["sender"], text_of(cell("sender")),
                                     plan.region)
        if problem:
            flags.append(f"sender_{problem}")
    recipients: list[str] = []
    if "recipients" in fields:
        for part in text_of(cell("recipients")).split(m.list_separator):
            value, problem = read_ident(m.identifiers["recipients"], part, plan.region)
            if problem and f"recipient_{problem}" not in flags:
                flags.append(f"recipient_{problem}")
            if value is not None:
                recipients.append(value)

    numbers = {name: read_number(name, fields[name], cell(name))
               for name in ("duration_s", "latitude", "longitude", "accuracy_m") if name in fields}
    lat, lon = numbers.get("latitude"), numbers.get("longitude")
    if (lat is None) != (lon is None):
        empty = "latitude" if lat is None else "longitude"
        raise BadCell(f"column {fields[empty]!r} ({empty}) is empty but the other coordinate "
                      "is not")
    method = coded["location_method"]
    if lat is None and "location_method" not in fields:
        method = None  # a constant method describes coordinates; this row has none
    elif lat is not None and method is None:
        method = "unknown"

    text = text_of(cell("text")) if "text" in fields else ""
    attachments = tuple(p.strip() for p in text_of(cell("attachments")).split(m.list_separator)
                        if p.strip())
    extra = {key: json_value(cells[i]) for i, key in plan.extra_columns
             if text_of(cells[i]).strip()}
    return EventDraft(
        locator=locator,
        kind=coded["kind"],
        timestamp_utc=reading.utc,
        timestamp_source=time_source,
        tz_basis=reading.basis,
        tz_flag=reading.flag,
        date_order=plan.date_order if used_format else None,
        duration_s=numbers.get("duration_s"),
        direction=coded["direction"] or "unknown",
        sender=sender,
        sender_name=_stripped(cell("sender_name")),
        recipients=tuple(recipients),
        channel=coded["channel"],
        thread=_stripped(cell("thread")) or m.constants.get("thread"),
        text=text if text.strip() else None,
        attachments=attachments,
        status=coded["status"],
        latitude=lat,
        longitude=lon,
        accuracy_m=numbers.get("accuracy_m"),
        location_method=method,
        cell_id=_stripped(cell("cell_id")),
        deleted=coded["deleted"] or "unknown",
        flags=tuple(flags),
        extra=extra,
    )


def _stripped(value: Any) -> str | None:
    text = text_of(value).strip()
    return text or None


PARSER = ParserSpec(
    name="table_mapping",
    version="1.0",
    family="generic",
    summary="Any CSV/XLSX table read through an analyst's TOML column mapping",
    sniff=sniff,
    parse=parse,
    extensions=(".csv", ".tsv", ".xlsx"),
)
