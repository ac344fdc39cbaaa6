"""ANPR reads: vehicle registration marks read by a camera (CSV export).

Format:
    A CSV table (comma, semicolon, tab or pipe; UTF-8 with or without BOM):
    optional title rows, one header row, one row per capture record (a READ,
    or a HIT when the VRM matched a vehicle-of-interest list). **No public
    export was found**: the columns supported here come from the general
    description of the National ANPR Standards (NASPLE) capture record in
    docs/formats.md section 4.4 and are found by accepted header spellings
    (case and punctuation ignored; see ``SYNONYMS``): VRM, read time (one
    date-time column, or date + time), camera id and/or camera name, camera
    position as latitude + longitude, OSGB36 easting + northing or a letter
    grid reference, direction of travel, lane, OCR confidence, HIT/READ,
    hotlist and image references. The header must name a VRM, a camera (id
    or name) and a time. Example::

        VRM,Read Date/Time,Camera ID,Camera Name,Easting,Northing,Direction,Lane,Confidence,Hit/Read
        AB12 CDE,27/10/2024 01:30:12,CAM-LDS-0042,A64 York Road,432512,434100,East,1,92,READ

    Each row becomes one ``anpr_read`` event: sender = ``vrm:`` identifier
    from ``atlas.identifiers.vrm`` (upper case, spaces and hyphens removed;
    one that is not 2-8 letters/digits is kept and flagged ``vrm_unparsed``)
    with the VRM exactly as read in extra ``vrm_as_read`` (misreads such as
    0/O and 1/I are evidence: nothing is corrected), channel ``anpr``,
    location_method ``anpr``, status ``read``/``hit`` (the HIT/READ column
    lower-cased), latitude/longitude = the **camera's** position in WGS84,
    accuracy_m None. Image references go to attachments. extra:
    ``camera_id``, ``camera_name``, ``direction_of_travel``, ``lane``,
    ``ocr_confidence`` (a number as written, e.g. 92 or 0.92; a trailing %
    dropped), ``hotlist``, ``source_easting``/``source_northing`` or
    ``source_grid_ref`` with ``coordinate_transform`` when converted, and
    every unmapped column under its header.
Time:
    ISO 8601 with ``Z`` or an offset is read as written; ISO without offset
    and ``dd/mm/yyyy HH:MM[:SS]`` are wall-clock time in ``options.source_tz``
    (tz_basis ``assumed:Europe/London``, date_order ``dmy:assumed``, or
    ``mdy`` when ``options.date_order`` says so), flagged ``ambiguous`` or
    ``nonexistent`` around clock changes, never shifted.
Locator:
    ``line:N`` (``line:N-M`` for a quoted cell spanning lines), physical lines
    counted by the csv reader, title and header rows included.
Limitations:
    The position is where the **camera** is, not where the vehicle was: a
    read says the vehicle passed that camera's field of view at that time.
    OSGB36 grid positions are converted by ``atlas.osgrid`` (Helmert, within
    about 5 m); a letter grid reference gives the south-west corner of its
    square (flag ``coarse_grid_reference`` over 10 m). A position that is
    missing (flag ``camera_position_missing``) or unreadable, 0,0 or out of
    range (flag ``camera_position_unreadable``, reason in extra
    ``camera_position_problem``, the cells kept) leaves latitude/longitude
    empty but keeps the read: the camera id still names the place. An empty
    VRM, an empty or unreadable time, or a row with the wrong number of cells
    is a Rejection; a footer row (``Total ...``) is rejected as "footer row".
    A non-numeric confidence is kept as text and flagged
    ``ocr_confidence_not_numeric``. Title rows and blank rows are not
    records. XLSX is not read.
References:
    docs/formats.md section 4.4; Home Office, National ANPR Standards for
    Policing and Law Enforcement (NASPLE), gov.uk, OGL v3.0 (capture record
    definition only; no export layout is published).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.identifiers import vrm
from atlas.osgrid import HELMERT_ACCURACY_M, grid_to_wgs84, parse_grid_ref
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from parsers._cdr_csv_table import table_rows
from parsers._csv_layout_common import (
    BadCell,
    find_header,
    head_tables,
    join_time,
    number,
    read_time,
    resolve,
    row_item,
    time_roles,
)

SYNONYMS: dict[str, tuple[str, ...]] = {
    "vrm": ("vrm", "vrm read", "read vrm", "vrn", "plate", "plate read", "number plate",
            "registration", "registration mark", "vehicle registration", "reg", "reg no"),
    "date": ("read date", "capture date", "date"),
    "time": ("time",),
    "datetime": ("read date time", "read datetime", "date time", "date time of read",
                 "capture date time", "capture time", "read time", "timestamp",
                 "read timestamp", "time of read", "captured"),
    "camera_id": ("camera id", "camera", "camera ref", "camera reference", "camera number",
                  "camera no", "source id", "reader id", "device id", "asset id"),
    "camera_name": ("camera name", "camera location", "camera description", "site name",
                    "location", "location name", "site"),
    "latitude": ("latitude", "lat", "camera latitude", "camera lat"),
    "longitude": ("longitude", "lon", "long", "lng", "camera longitude", "camera lon"),
    "easting": ("easting", "eastings", "camera easting", "os easting", "grid easting"),
    "northing": ("northing", "northings", "camera northing", "os northing", "grid northing"),
    "grid_ref": ("grid ref", "grid reference", "ngr", "os grid ref", "os grid reference",
                 "camera grid ref"),
    "direction": ("direction of travel", "direction", "travel direction", "heading", "dir"),
    "lane": ("lane", "lane number", "lane no"),
    "confidence": ("ocr confidence", "confidence", "read confidence", "ocr score",
                   "confidence score", "score"),
    "read_type": ("hit read", "read hit", "hit or read", "read type", "record type", "type"),
    "hotlist": ("hotlist", "hotlist name", "hot list", "vehicle of interest list"),
    "image": ("plate image", "patch image", "image", "image ref", "image reference",
              "image file"),
    "overview": ("overview image", "overview", "scene image"),
}
EXTRA_KEYS = {"camera_id": "camera_id", "camera_name": "camera_name",
              "direction": "direction_of_travel", "lane": "lane", "hotlist": "hotlist"}
TRANSFORM = (f"OSGB36 National Grid to WGS84 by Helmert transformation "
             f"(about {HELMERT_ACCURACY_M:g} m), atlas.osgrid")


@dataclass(frozen=True)
class _Plan:
    header: list[str]
    pos: dict[str, int]
    time_roles: tuple[str, ...]


def _is_header(found: dict[str, int]) -> bool:
    camera = bool({"camera_id", "camera_name"} & found.keys())
    return "vrm" in found and camera and bool({"datetime", "date", "time"} & found.keys())


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a CSV whose header names a VRM, a camera and a read time."""
    return any(len(row) >= 3 and _is_header(resolve(row, SYNONYMS))
               for _, rows in head_tables(head) for row in rows)


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield exactly one event or rejection per data row, in file order."""
    layout = find_header(source, lambda cells: _is_header(resolve(cells, SYNONYMS)))
    if layout is None:
        raise NotThisFormat("no header row naming a VRM, a camera and a read time")
    delimiter, header_locator = layout
    rows = table_rows(source, xlsx=False, delimiter=delimiter)
    plan: _Plan | None = None
    try:
        for row in rows:
            if plan is None:
                if row.locator == header_locator:
                    plan = _plan(row.cells)
                continue  # a title row above the header: not a record
            yield _item(row.locator, row.cells, plan, options)
    finally:
        rows.close()


def _plan(header: list[str]) -> _Plan:
    header = [h.strip() for h in header]
    pos = resolve(header, SYNONYMS)
    return _Plan(header, pos, time_roles(pos))


def _item(locator: str, cells: list[str], plan: _Plan,
          options: ParseOptions) -> EventDraft | Rejection:
    return row_item(locator, cells, plan.header, lambda: _draft(locator, cells, plan, options))


def _draft(locator: str, cells: list[str], plan: _Plan, options: ParseOptions) -> EventDraft:
    def text(field: str) -> str:
        return cells[plan.pos[field]].strip() if field in plan.pos else ""

    def label(*fields: str) -> str:
        return "column " + " + ".join(repr(plan.header[plan.pos[f]]) for f in fields)

    as_read = cells[plan.pos["vrm"]]
    if not as_read.strip():
        raise BadCell(f"VRM ({label('vrm')}) is empty")
    time_label = f"read time ({label(*plan.time_roles)})"
    parts = [text(r) for r in plan.time_roles]
    if not all(parts):
        raise BadCell(f"{time_label} is empty")
    time_text = join_time(parts)
    reading, date_order = read_time(time_text, time_label, options)

    flags: list[str] = []
    ident = vrm(as_read)
    if not ident.parsed:
        flags.append("vrm_unparsed")
    extra: dict[str, Any] = {"vrm_as_read": as_read}
    for field, key in EXTRA_KEYS.items():
        if text(field):
            extra[key] = text(field)
    if text("confidence"):
        value = number(text("confidence"))
        extra["ocr_confidence"] = value if value is not None else text("confidence")
        if value is None:
            flags.append("ocr_confidence_not_numeric")
    if text("read_type"):
        extra["read_type"] = text("read_type")
    lat, lon = _position(text, label, flags, extra)
    used = set(plan.pos.values())
    for i, h in enumerate(plan.header):
        if i not in used and cells[i].strip():
            extra.setdefault(h or f"column {i + 1}", cells[i].strip())

    return EventDraft(
        locator=locator,
        kind="anpr_read",
        timestamp_utc=reading.utc,
        timestamp_source=time_text,
        tz_basis=reading.basis,
        tz_flag=reading.flag,
        date_order=date_order,
        direction="none",
        sender=ident.value,
        channel="anpr",
        attachments=tuple(text(f) for f in ("image", "overview") if text(f)),
        status=text("read_type").lower() or None,
        latitude=lat,
        longitude=lon,
        location_method="anpr",
        flags=tuple(flags),
        extra=extra,
    )


def _position(text: Any, label: Any, flags: list[str],
              extra: dict[str, Any]) -> tuple[float | None, float | None]:
    """Return the camera's WGS84 position, or (None, None) with a flag saying why."""
    given = {f: text(f) for f in ("latitude", "longitude", "easting", "northing", "grid_ref")
             if text(f)}
    try:
        if "latitude" in given or "longitude" in given:
            lat, lon = number(text("latitude")), number(text("longitude"))
            if lat is None or lon is None:
                raise ValueError(f"latitude/longitude ({label('latitude')}, "
                                 f"{label('longitude')}) is not a pair of numbers")
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise ValueError(f"latitude/longitude {lat}, {lon} is out of range")
            if lat == 0 and lon == 0:
                raise ValueError("latitude/longitude 0,0 is a placeholder, not a position")
            return lat, lon
        if "easting" in given or "northing" in given:
            east, north = number(text("easting")), number(text("northing"))
            if east is None or north is None:
                raise ValueError("easting/northing is not a pair of numbers")
            extra.update(source_easting=east, source_northing=north,
                         coordinate_transform=TRANSFORM)
            return grid_to_wgs84(east, north)
        if "grid_ref" in given:
            ref = parse_grid_ref(text("grid_ref"))
            extra.update(source_grid_ref=text("grid_ref"), grid_square_m=ref.square_m,
                         coordinate_transform=TRANSFORM)
            if ref.square_m > 10:
                flags.append("coarse_grid_reference")
            return grid_to_wgs84(ref.easting, ref.northing)
    except ValueError as exc:
        for key in ("coordinate_transform", "grid_square_m", "source_easting", "source_northing",
                    "source_grid_ref"):
            extra.pop(key, None)
        flags.append("camera_position_unreadable")
        extra["camera_position_problem"] = str(exc)
        extra["camera_position_raw"] = given
        return None, None
    flags.append("camera_position_missing")
    return None, None


PARSER = ParserSpec(
    name="anpr_csv",
    version="1.0",
    family="location",
    summary="ANPR capture records (VRM reads and hits) exported as CSV",
    sniff=sniff,
    parse=parse,
    extensions=(".csv",),
)
