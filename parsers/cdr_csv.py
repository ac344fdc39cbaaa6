"""UK operator call data records (CSV or XLSX), read through an operator profile.

Format:
    One table per production: optional title rows, one header row, one row
    per call, SMS/MMS or data session, optional footer rows (totals). Layouts
    differ per operator and per production date, so the columns are described
    by a *profile*, a small TOML file. Shipped profiles, in
    ``parsers/cdr_profiles/``: ``ee``, ``vodafone``, ``o2`` and ``three``.
    **They are illustrative**: built from the general description of UK CDRs
    in docs/formats.md section 4.1, not verified against real productions (no
    public UK sample exists). An analyst whose production differs copies one,
    edits it and passes it with ``--format cdr_csv --mapping FILE``; the
    profile is ``options.mapping`` when given, else the shipped profile whose
    headers all appear in one of the file's first rows (two matching is a
    UsageError asking for ``--mapping``; none is not this format). Profile
    tables and keys (every problem is a UsageError naming the file and key)::

        [profile]       name, operator, basis (free text: where the layout came from)
        [table]         delimiter (","), encoding ("utf-8-sig"), sheet (XLSX; first),
                        title_rows_max (10: how far down the header may be),
                        footer_pattern (regex on a row's first non-empty cell)
        [title]         target_pattern (regex; group 1 = the target MSISDN, when
                        only a title row states it)
        [columns]       role = header: record_type; datetime, or date + time;
                        other (with target), or a_party + b_party; target,
                        duration, imei, imsi, first_cell, last_cell
        [time]          datetime_format, or date_format + time_format (strptime;
                        default %d/%m/%Y and %H:%M:%S), timezone (Europe/London)
        [duration]      unit: "seconds" or "hh:mm:ss"
        [numbers]       international_without_plus (447700900123 means +44...)
        [cells]         form: "cgi" (MCC-MNC-LAC-CI / MCC-MNC-eNB-cell) or "eci"
                        (the 28-bit ECI alone, with mcc and mnc given here)
        [record_types]  "code" = [event, direction]; event call/sms/mms/data

    Each record becomes a ``call``, ``sms`` or ``mms`` event, or a data session
    (kind ``cell_event``, status ``data_session``, direction ``none``, no
    parties). The target MSISDN is the device's own number: outgoing, sender
    = target and recipients = (other,); incoming, the reverse. With A/B
    columns the sender is A and the recipient B, and a target known from the
    title that is not on the target's side is flagged ``target_mismatch``. A
    withheld or blank far end leaves that side empty and is flagged
    ``party_withheld`` (the verbatim text kept in extra ``other_party_raw``);
    an unparseable number is kept verbatim and flagged
    ``party_unparsed_number`` / ``target_unparsed_number``. ``cell_id`` is the
    first serving cell normalised by ``atlas.cells.normalise_cgi``
    (``234-15-1234-56789``; a cell that does not normalise is kept verbatim
    and flagged ``cell_id_unparsed``); extra holds ``last_cell_id``, the
    verbatim cells when they differ, ``imei``, ``imsi``, ``record_type``,
    ``target``, ``cdr_profile`` and every unmapped column under its header.
    ``location_method`` is ``cell`` when there is a cell (an area, never a
    point: the mast is not the phone).
Time:
    UK operators write local wall-clock time without an offset: the start is
    read with the profile's format and ``from_local`` in the profile's zone
    (tz_basis ``assumed:Europe/London``); a time in the doubled October hour
    is flagged ``ambiguous`` (earlier reading kept), one in the skipped March
    hour ``nonexistent``; never shifted silently. date_order is the profile's
    (``dmy:assumed``). XLSX date/time cells are wall-clock time in the same
    zone (timestamp_source written as ``YYYY-MM-DD HH:MM:SS``).
Locator:
    CSV: ``line:N`` (``line:N-M`` for a quoted cell spanning lines), physical
    lines counted by the csv reader, title and header rows included. XLSX:
    ``xlsx:<sheet>!row=N``.
Limitations:
    Title rows above the header and blank rows are not records (the title is
    only searched for ``target_pattern``). A footer row (first non-empty cell
    matching ``footer_pattern``, e.g. "Total records: 12") is *rejected* with
    reason "footer row", so it stays visible in the ledger where its totals
    can be checked against the accepted count. A row with the wrong number of
    cells, an empty or unparseable start time, an unknown record type code or
    a bad duration is a Rejection naming the column. ``sniff`` reads CSV only:
    an XLSX production must be given ``--format cdr_csv``. With
    ``international_without_plus`` only digit strings of 11+ digits get a
    '+'; a number typed into an XLSX number cell has lost its leading 0 and is
    read by phonenumbers with the case region (7700900456 -> +447700900456). Hexadecimal LAC/CI,
    5G NCIs and tower dumps (many subscribers) are not handled. The shipped
    profiles are not validated against real productions.
References:
    docs/formats.md section 4.1 (UK operator CDRs, general knowledge);
    3GPP TS 23.003 (CGI and ECGI structure); docs/uk-practice.md section 3.4.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from atlas.errors import SourceError, UsageError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from parsers._cdr_csv_parties import parties
from parsers._cdr_csv_profile import Profile, load, shipped
from parsers._cdr_csv_sniff import sniff
from parsers._cdr_csv_table import Row, cell_text, first_rows, is_xlsx, table_rows
from parsers._cdr_csv_values import (
    BadRow,
    date_order_of,
    is_empty,
    read_cell,
    read_duration,
    read_time,
)

KINDS = {"call": ("call", "phone"), "sms": ("sms", "sms"), "mms": ("mms", "mms"),
         "data": ("cell_event", "data")}


@dataclass(frozen=True)
class _Plan:
    """A profile resolved against one file's header."""

    profile: Profile
    xlsx: bool
    width: int
    position: dict[str, int]  # role -> column index
    extras: tuple[tuple[int, str], ...]
    title_target: str | None
    region: str


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield exactly one event or rejection per record row, in file order."""
    xlsx = is_xlsx(source)
    if options.mapping is not None:
        candidates = (load(options.mapping, options.mapping_path or "(mapping)",
                           options.source_tz),)
    else:
        candidates = shipped()
    profile = _choose(source, candidates, xlsx, options.mapping is not None)
    rows = table_rows(source, xlsx=xlsx, delimiter=profile.delimiter,
                      encoding=profile.encoding, sheet=profile.sheet)
    try:
        titles: list[Row] = []
        plan = None
        for row in rows:
            if plan is None:
                if profile.matches(row.cells):
                    plan = _plan(row.cells, profile, titles, xlsx, options.region)
                else:
                    titles.append(row)  # a title row above the header: not a record
                continue
            yield _item(row, plan)
    finally:
        rows.close()


def _choose(source: Source, candidates: tuple[Profile, ...], xlsx: bool,
            explicit: bool) -> Profile:
    found: list[Profile] = []
    best: tuple[int, Profile | None, list[Any]] = (-1, None, [])
    for p in candidates:
        try:
            head = first_rows(source, p.title_rows_max + 1, xlsx=xlsx, delimiter=p.delimiter,
                              encoding=p.encoding, sheet=p.sheet)
        except SourceError:
            if explicit:
                raise
            continue
        for row in head:
            if p.matches(row.cells):
                found.append(p)
                break
            present = {cell_text(c).casefold() for c in row.cells}
            score = len(p.header_keys() & present)
            if score > best[0]:
                best = (score, p, row.cells)
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        raise UsageError(f"{source.display_path}: the header matches several CDR profiles "
                         f"({', '.join(p.name for p in found)}); choose one with --mapping")
    if explicit:
        p = candidates[0]
        row_keys = {cell_text(c).casefold() for c in best[2]}
        missing = sorted(h for h in p.columns.values() if h.strip().casefold() not in row_keys)
        raise UsageError(f"CDR profile {p.path}: columns: no row among the first "
                         f"{p.title_rows_max + 1} of {source.display_path} holds every named "
                         f"header; missing from the closest row: {', '.join(map(repr, missing))}")
    raise NotThisFormat("no shipped CDR profile's header row found "
                        f"({', '.join(p.name for p in candidates)}); give --mapping")


def _plan(header: list[Any], p: Profile, titles: list[Row], xlsx: bool, region: str) -> _Plan:
    keys = [cell_text(c).casefold() for c in header]
    position = {role: keys.index(h.strip().casefold()) for role, h in p.columns.items()}
    used = set(position.values())
    extras, seen = [], set()
    for i, h in enumerate(cell_text(c) for c in header):
        if i in used:
            continue
        key = h if h and h not in seen else (f"{h} (column {i + 1})" if h else f"column {i + 1}")
        seen.add(h)
        extras.append((i, key))
    title_target = None
    if p.target_pattern is not None:
        for row in titles:
            match = p.target_pattern.search(" ".join(cell_text(c) for c in row.cells))
            if match:
                title_target = match.group(1).replace(" ", "")
                break
    return _Plan(p, xlsx, len(header), position, tuple(extras), title_target, region)


def _item(row: Row, plan: _Plan) -> EventDraft | Rejection:
    cells = row.cells
    p = plan.profile
    first = next((cell_text(c) for c in cells if not is_empty(c)), "")
    if p.footer is not None and p.footer.search(first):
        return Rejection(row.locator, f"footer row below the records (matches footer_pattern of "
                         f"profile {p.name}); not a record - check its totals against the "
                         "accepted count", raw=cells)
    if not plan.xlsx and len(cells) != plan.width:
        return Rejection(row.locator, f"row has {len(cells)} cells but the header has "
                         f"{plan.width}", raw=cells)
    spill = [i + 1 for i in range(plan.width, len(cells)) if not is_empty(cells[i])]
    if spill:
        return Rejection(row.locator, f"cells beyond the header in columns "
                         f"{', '.join(map(str, spill))}", raw=cells)
    cells = list(cells[:plan.width]) + [None] * (plan.width - len(cells))
    try:
        return _draft(row.locator, cells, plan)
    except BadRow as exc:
        return Rejection(row.locator, str(exc), raw=cells)


def _draft(locator: str, cells: list[Any], plan: _Plan) -> EventDraft:
    p = plan.profile
    cols = p.columns

    def cell(role: str) -> Any:
        return cells[plan.position[role]] if role in plan.position else None

    code = cell_text(cell("record_type"))
    mapped = p.record_types.get(code.casefold())
    if mapped is None:
        raise BadRow(f"record type {code!r} (column {cols['record_type']!r}) is not in "
                     f"[record_types] of profile {p.path}; add it there (or in a copy passed "
                     "with --mapping)")
    event, direction = mapped
    kind, channel = KINDS[event]

    roles = ["datetime"] if "datetime" in cols else ["date", "time"]
    reading, time_source, used_format = read_time([cell(r) for r in roles],
                                                  [cols[r] for r in roles], p)
    duration = read_duration(cell("duration"), cols.get("duration", ""), p) \
        if "duration" in cols else None

    flags: list[str] = []
    extra: dict[str, Any] = {"cdr_profile": p.name, "record_type": code}
    sender, recipients = parties(cell, event, direction, p, plan.region, plan.title_target,
                                 flags, extra)

    first_id, first_raw = read_cell(cell("first_cell"), p)
    last_id, last_raw = read_cell(cell("last_cell"), p)
    cell_id = first_id
    if first_raw is not None and first_id is None:
        cell_id = first_raw
        flags.append("cell_id_unparsed")
    if first_raw is not None and first_raw != cell_id:
        extra["first_cell_raw"] = first_raw
    if last_raw is not None:
        extra["last_cell_id"] = last_id or last_raw
        if last_id is None:
            flags.append("last_cell_id_unparsed")
        elif last_raw != last_id:
            extra["last_cell_raw"] = last_raw
    for role in ("imei", "imsi"):
        text = cell_text(cell(role))
        if text:
            extra[role] = text
    for i, key in plan.extras:
        if not is_empty(cells[i]):
            value = cells[i]
            extra[key] = value if isinstance(value, (int, float, str)) else cell_text(value)

    return EventDraft(
        locator=locator,
        kind=kind,
        timestamp_utc=reading.utc,
        timestamp_source=time_source,
        tz_basis=reading.basis,
        tz_flag=reading.flag,
        date_order=date_order_of(p.time_format) if used_format else None,
        duration_s=duration,
        direction=direction,
        sender=sender,
        recipients=recipients,
        channel=channel,
        status="data_session" if event == "data" else None,
        location_method="cell" if cell_id else None,
        cell_id=cell_id,
        flags=tuple(flags),
        extra=extra,
    )


PARSER = ParserSpec(
    name="cdr_csv",
    version="1.0",
    family="telecoms",
    summary="UK operator call data records (CSV/XLSX) through an operator profile",
    sniff=sniff,
    parse=parse,
    extensions=(".csv", ".xlsx"),
)
