"""One row of an operator's cell list to a ``cell_site`` event (``cell_sites``)."""

from __future__ import annotations

from typing import Any

from atlas.cells import cgi_from_parts, normalise_cgi
from atlas.events import EventDraft, Rejection
from atlas.osgrid import HELMERT_ACCURACY_M, grid_to_wgs84, parse_grid_ref
from parsers._cdr_csv_table import cell_text, is_blank
from parsers._cell_sites_values import OMNI, BadValue, day, number, site_event

POSITION_SOURCE = "operator cell list"
TRANSFORM = (f"OSGB36 National Grid to WGS84 by Helmert transformation "
             f"(about {HELMERT_ACCURACY_M:g} m), atlas.osgrid")


def site_item(locator: str, cells: list[Any], header: list[Any], position: dict[str, int],
              xlsx: bool) -> EventDraft | Rejection:
    """Return the event (or rejection) for one data row of an operator cell list."""
    width = len(header)
    if not xlsx and len(cells) != width:
        return Rejection(locator, f"row has {len(cells)} cells but the header has {width}",
                         raw=cells)
    if len(cells) > width and not is_blank(list(cells[width:])):
        return Rejection(locator, "cells beyond the header", raw=cells)
    cells = list(cells[:width]) + [None] * (width - len(cells))
    try:
        return _draft(locator, cells, header, position)
    except BadValue as exc:
        return Rejection(locator, str(exc), raw=cells)


def _draft(locator: str, cells: list[Any], header: list[Any],
           position: dict[str, int]) -> EventDraft:
    def raw(field: str) -> Any:
        return cells[position[field]] if field in position else None

    def label(field: str) -> str:
        return f"column {cell_text(header[position[field]])!r}"

    def text(field: str) -> str:
        return cell_text(raw(field))

    flags: list[str] = []
    extra: dict[str, Any] = {"position_source": POSITION_SOURCE}
    if "cgi" in position and text("cgi"):
        verbatim = text("cgi")
        cell_id = normalise_cgi(verbatim)
    elif "cgi" not in position and all(text(f) for f in ("mcc", "mnc", "lac", "ci")):
        verbatim = "-".join(text(f) for f in ("mcc", "mnc", "lac", "ci"))
        cell_id = cgi_from_parts(*(text(f) for f in ("mcc", "mnc", "lac", "ci")))
    else:
        where = label("cgi") if "cgi" in position else "MCC/MNC/LAC/CI columns"
        raise BadValue(f"no cell identity ({where} empty)")
    if cell_id is None:
        cell_id = verbatim
        flags.append("cell_id_unparsed")
    elif verbatim != cell_id:
        extra["cell_id_raw"] = verbatim

    lat, lon = _position(raw, label, text, flags, extra)

    az_text = text("azimuth")
    if az_text.casefold() in OMNI:
        extra["omni"] = True
    elif az_text:
        extra["azimuth_deg"] = number(raw("azimuth"), f"azimuth ({label('azimuth')})", 0, 360)
    for field, key, high in (("beamwidth", "beamwidth_deg", 360), ("height", "height_m", 1000)):
        if field in position:
            value = number(raw(field), f"{field} ({label(field)})", 0, high)
            if value is not None:
                extra[key] = value
    for field in ("active_from", "active_to"):
        if field in position:
            value = day(raw(field), f"{field.replace('_', ' ')} ({label(field)})")
            if value is not None:
                extra[field] = value
    start, end = extra.get("active_from"), extra.get("active_to")
    if start and end and end < start:
        raise BadValue(f"active to {end} is before active from {start}")
    for field in ("technology", "band", "site_id", "site_name", "site_address"):
        if field in position and text(field):
            extra[field] = text(field)
    used = set(position.values())
    for i, h in enumerate(header):
        if i not in used and not is_blank([cells[i]]):
            key = cell_text(h) or f"column {i + 1}"
            extra.setdefault(key, cells[i] if isinstance(cells[i], (int, float, str))
                             else cell_text(cells[i]))

    return site_event(locator, lat, lon, cell_id, flags, extra)


def _position(raw: Any, label: Any, text: Any, flags: list[str],
              extra: dict[str, Any]) -> tuple[float, float]:
    """Return the WGS84 mast position from lat/lon, easting/northing or a grid reference."""
    if text("latitude") or text("longitude"):
        lat = number(raw("latitude"), f"latitude ({label('latitude')})", -90, 90)
        lon = number(raw("longitude"), f"longitude ({label('longitude')})", -180, 180)
        if lat is None or lon is None:
            raise BadValue("only one of latitude and longitude is given")
        if lat == 0 and lon == 0:
            raise BadValue("latitude/longitude 0,0 is a placeholder, not a mast position")
        return lat, lon
    if text("easting") or text("northing"):
        east = number(raw("easting"), f"easting ({label('easting')})", 0, 700000)
        north = number(raw("northing"), f"northing ({label('northing')})", 0, 1300000)
        if east is None or north is None:
            raise BadValue("only one of easting and northing is given")
        extra.update(source_easting=east, source_northing=north, coordinate_transform=TRANSFORM)
        return grid_to_wgs84(east, north)
    if text("grid_ref"):
        try:
            ref = parse_grid_ref(text("grid_ref"))
        except ValueError as exc:
            raise BadValue(f"grid reference ({label('grid_ref')}): {exc}") from None
        extra.update(source_grid_ref=text("grid_ref"), grid_square_m=ref.square_m,
                     coordinate_transform=TRANSFORM)
        if ref.square_m > 10:
            flags.append("coarse_grid_reference")
        return grid_to_wgs84(ref.easting, ref.northing)
    raise BadValue("no mast position: latitude/longitude, easting/northing and grid reference "
                   "are all empty or absent")
