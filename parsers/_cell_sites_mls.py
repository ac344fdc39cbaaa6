"""Rows of the Mozilla Location Service / OpenCelliD cell export (``cell_sites``).

``radio,mcc,net,area,cell,unit,lon,lat,range,samples,changeable,created,updated,averageSignal``,
header sometimes absent. Positions are crowd-sourced *estimates* of where a
cell is heard, not the operator's mast position, and carry no azimuth.
"""

from __future__ import annotations

import re
from typing import Any

from atlas.cells import normalise_cgi
from atlas.events import EventDraft, Rejection
from atlas.timeparse import from_unix
from parsers._cell_sites_values import site_event

MLS_HEADER = ("radio", "mcc", "net", "area", "cell", "unit", "lon", "lat", "range", "samples",
              "changeable", "created", "updated", "averagesignal")
RADIOS = ("GSM", "UMTS", "LTE", "NR", "CDMA")
ROW_START = re.compile(rb"(GSM|UMTS|LTE|NR|CDMA),\d{3},\d{1,3},\d+,\d+,")
POSITION_SOURCE = "crowd-sourced estimate (MLS/OpenCelliD), not the operator's mast position"


def is_mls_header(cells: list[str]) -> bool:
    """Return True for the export's header row."""
    return tuple(c.strip().casefold() for c in cells) == MLS_HEADER


def mls_item(locator: str, cells: list[str]) -> EventDraft | Rejection:
    """Return the event (or rejection) for one export row."""
    if len(cells) != len(MLS_HEADER):
        return Rejection(locator, f"row has {len(cells)} cells; the MLS/OpenCelliD export has "
                         f"{len(MLS_HEADER)}", raw=cells)
    rec = dict(zip(MLS_HEADER, (c.strip() for c in cells), strict=True))
    radio = rec["radio"].upper()
    if radio not in RADIOS:
        return Rejection(locator, f"radio {rec['radio']!r} is not one of {', '.join(RADIOS)}",
                         raw=cells)
    ints = ("mcc", "net", "area", "cell")
    bad = [k for k in ints if not (rec[k].isascii() and rec[k].isdigit())]
    if bad:
        return Rejection(locator, f"{', '.join(bad)} not a whole number", raw=cells)
    if not rec["lat"] or not rec["lon"]:
        return Rejection(locator, "lat/lon empty: the export gives no position for this cell",
                         raw=cells)
    try:
        lat, lon = float(rec["lat"]), float(rec["lon"])
    except ValueError:
        return Rejection(locator, f"lat {rec['lat']!r} / lon {rec['lon']!r} is not a position",
                         raw=cells)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return Rejection(locator, f"lat {lat:g} / lon {lon:g} is not a usable position", raw=cells)
    mcc, net = rec["mcc"], f"{int(rec['net']):02d}"
    area, cell = int(rec["area"]), int(rec["cell"])
    flags = ["crowd_sourced_position"]
    extra: dict[str, Any] = {"technology": radio, "position_source": POSITION_SOURCE,
                             "mls_area": area, "mls_cell": cell}
    if radio == "LTE":  # cell is the 28-bit ECI; the CGI uses eNodeB id and cell id
        cell_id = normalise_cgi(f"{mcc}-{net}-{cell}")
        extra["tac"] = area
    elif radio == "UMTS":  # cell is RNC id * 65536 + CI; the CGI uses LAC and the 16-bit CI
        cell_id = normalise_cgi(f"{mcc}-{net}-{area}-{cell & 0xFFFF}")
        extra["rnc"] = cell >> 16
    else:
        cell_id = normalise_cgi(f"{mcc}-{net}-{area}-{cell}")
        if radio != "GSM":
            flags.append("cell_id_form_unverified")
    if cell_id is None:
        return Rejection(locator, f"{radio} cell {mcc}-{net}-{area}-{cell} does not form a "
                         "cell identity", raw=cells)
    for key, name in (("range", "range_m"), ("samples", "samples"), ("changeable", "changeable"),
                      ("averagesignal", "average_signal_dbm"), ("unit", "unit")):
        if rec[key]:
            extra[name] = _num(rec[key])
    for key in ("created", "updated"):
        if rec[key].isascii() and rec[key].isdigit():
            reading = from_unix(int(rec[key]))
            if reading.utc is not None:
                extra[key] = reading.utc.isoformat()
        elif rec[key]:
            extra[f"{key}_raw"] = rec[key]
    return site_event(locator, lat, lon, cell_id, flags, extra)


def _num(text: str) -> int | float | str:
    """Return a numeric export value as a number, anything else verbatim."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            continue
    return text
