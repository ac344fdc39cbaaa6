"""Cell site lists: an operator's list of cells with mast positions, or the MLS/OpenCelliD export.

Format:
    Two layouts, CSV (or XLSX for the operator list):

    * **Operator cell list**: optional title rows, one header row, one row
      per cell. Columns are found by accepted header spellings (table in
      ``parsers/_cell_sites_values.py``; case and punctuation ignored):
      a cell identity (CGI/ECGI column, or MCC + MNC + LAC/TAC/eNodeB + CI),
      a position (latitude + longitude, OSGB36 easting + northing, or a letter
      grid reference such as ``SE 29950 33950``), azimuth (degrees clockwise
      from true north; blank or ``omni`` for an omni cell), and optionally
      beamwidth, antenna height, technology, band, site id/name/address and
      active from/to dates (dd/mm/yyyy or yyyy-mm-dd). An analyst whose list
      uses other names passes ``--mapping FILE`` with ``[columns] field =
      "Header"`` (fields as in that table) and ``[table] delimiter, encoding,
      sheet``. The header must name a cell identity, a position and azimuth.
    * **MLS / OpenCelliD export**:
      ``radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal``,
      header sometimes absent. LTE ``cell`` is the 28-bit ECI (split into
      eNodeB and cell id), UMTS ``cell`` is RNC x 65536 + CI (the 16-bit CI
      is used), MNC is written with two digits. Positions are crowd-sourced
      estimates, flagged ``crowd_sourced_position``; NR and CDMA identities
      are flagged ``cell_id_form_unverified``.

    Each row becomes one ``cell_site`` event: latitude/longitude = the
    **mast** position in WGS84 (never the phone's), location_method ``cell``,
    cell_id normalised by ``atlas.cells.normalise_cgi`` (a CGI that does not
    normalise is kept verbatim and flagged ``cell_id_unparsed``), and extra:
    ``azimuth_deg`` (absent when omni/blank, with ``omni: true`` when the
    list says omni), ``beamwidth_deg``, ``height_m``, ``technology``,
    ``band``, ``site_id``, ``site_name``, ``site_address``, ``active_from``,
    ``active_to`` (ISO dates), ``source_grid_ref`` / ``source_easting`` /
    ``source_northing`` with ``coordinate_transform`` when the position was
    converted, ``position_source`` and every unmapped column by its header.
Time:
    A cell list row is reference data valid over a period, not an event at
    an instant, so every row has no time (tz_flag ``no_time``, tz_basis
    ``none``); the active dates are kept in extra as calendar dates and used
    by ``atlas.cells.cell_areas`` to pick the row in force at an event's
    date. Placing rows on the timeline at their active-from date would mix
    reference data into the evidence. MLS ``created``/``updated`` Unix
    seconds go to extra as UTC ISO strings.
Locator:
    CSV: ``line:N`` (``line:N-M`` for a quoted cell spanning lines), physical
    lines counted by the csv reader, title and header rows included. XLSX:
    ``xlsx:<sheet>!row=N``.
Limitations:
    Latitude/longitude columns are taken to be WGS84 (an OSGB36 lat/lon list
    would be some 100 m out). Grid positions are converted with a Helmert
    transformation (``atlas.osgrid``), typically within 2-5 m, not OSTN15; a
    letter grid reference gives the south-west corner of its square (flag
    ``coarse_grid_reference`` when the square is over 10 m). A row whose
    position is blank, unreadable, 0,0 or outside the National Grid, whose
    cell identity is blank, or whose azimuth, beamwidth, height or dates
    cannot be read, is a Rejection naming the column. Title rows above the
    header are not records. ``sniff`` reads CSV only.
References:
    docs/formats.md section 4.2; Ordnance Survey, *A guide to coordinate
    systems in Great Britain*; Mozilla Location Service cell export
    documentation (archived); docs/uk-practice.md section 3.4.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from atlas.errors import UsageError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from parsers._cdr_csv_table import cell_text, first_rows, is_xlsx, table_rows
from parsers._cell_sites_mls import ROW_START, is_mls_header, mls_item
from parsers._cell_sites_row import site_item
from parsers._cell_sites_values import check_mapping, is_header, resolve

TITLE_ROWS_MAX = 10


def sniff(head: bytes, filename: str) -> bool:
    """Return True for the MLS/OpenCelliD export or an operator list's header (CSV only)."""
    if not head or head.startswith(b"PK\x03\x04"):
        return False
    body = head.removeprefix(b"\xef\xbb\xbf")
    if ROW_START.match(body):
        return True
    lines = body.decode("utf-8", errors="replace").splitlines()[: TITLE_ROWS_MAX + 1]
    if len(head) >= 65536 and lines:
        lines = lines[:-1]
    try:
        rows = list(csv.reader(lines))
    except csv.Error:
        return False
    return any(is_mls_header(r) or is_header(resolve(r, None)) for r in rows)


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield exactly one event or rejection per cell row, in file order."""
    columns, table = ({}, {}) if options.mapping is None else check_mapping(
        options.mapping, options.mapping_path or "(mapping)")
    xlsx = is_xlsx(source)
    settings = {"xlsx": xlsx, "delimiter": table.get("delimiter", ","),
                "encoding": table.get("encoding", "utf-8-sig"), "sheet": table.get("sheet")}
    head = first_rows(source, TITLE_ROWS_MAX + 1, **settings)
    mls = not xlsx and not columns and bool(head) and (
        is_mls_header(head[0].cells)
        or ROW_START.match(_joined(head[0].cells).encode()) is not None)
    if not mls and not any(is_header(resolve(r.cells, columns)) for r in head):
        if options.mapping is not None:
            raise UsageError(f"cell list mapping {options.mapping_path}: no row among the first "
                             f"{TITLE_ROWS_MAX + 1} of {source.display_path} names a cell "
                             "identity, a position and azimuth")
        raise NotThisFormat("no cell list header (cell id, position, azimuth) and not the "
                            "MLS/OpenCelliD export")
    rows = table_rows(source, **settings)
    try:
        position: dict[str, int] | None = None
        header: list[Any] = []
        for number, row in enumerate(rows):
            if mls:
                if number == 0 and is_mls_header(row.cells):
                    continue  # the export's header row is not a record
                yield mls_item(row.locator, [cell_text(c) for c in row.cells])
            elif position is None:
                found = resolve(row.cells, columns)
                if is_header(found):
                    position, header = found, list(row.cells)
                # rows above the header are title rows, not records
            else:
                yield site_item(row.locator, row.cells, header, position, xlsx)
    finally:
        rows.close()


def _joined(cells: list[Any]) -> str:
    return ",".join(cell_text(c) for c in cells) + ","


PARSER = ParserSpec(
    name="cell_sites",
    version="1.0",
    family="telecoms",
    summary="Operator cell site lists (grid or lat/lon, azimuth) and the MLS/OpenCelliD export",
    sniff=sniff,
    parse=parse,
    extensions=(".csv", ".xlsx"),
)
