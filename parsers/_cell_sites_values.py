"""Column names and cell readers for the ``cell_sites`` parser.

Operator cell lists have no fixed column names, so each field is found by a
small table of accepted header spellings (compared case-insensitively with
punctuation collapsed: ``Azimuth (deg)`` reads as ``azimuth deg``). An
analyst's mapping (``[columns] field = "Header"``) overrides the table.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

from atlas.errors import UsageError
from atlas.events import EventDraft
from parsers._cdr_csv_table import cell_text

# Field -> accepted header spellings (normalised by ``header_key``).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "cgi": ("cgi", "ecgi", "cell id", "cellid", "cell global identity", "cgi ecgi",
            "cell identity", "global cell id"),
    "mcc": ("mcc",),
    "mnc": ("mnc",),
    "lac": ("lac", "tac", "lac tac", "enodeb", "enodeb id", "enb", "enb id"),
    "ci": ("ci", "cell", "cell number", "sector"),
    "site_id": ("site id", "site ref", "site reference", "site number"),
    "site_name": ("site name", "site", "mast name", "name"),
    "site_address": ("address", "site address", "location", "postcode"),
    "latitude": ("lat", "latitude", "wgs84 latitude"),
    "longitude": ("lon", "long", "lng", "longitude", "wgs84 longitude"),
    "easting": ("easting", "eastings", "os easting", "grid easting"),
    "northing": ("northing", "northings", "os northing", "grid northing"),
    "grid_ref": ("grid ref", "grid reference", "ngr", "os grid ref", "os grid reference",
                 "national grid reference"),
    "azimuth": ("azimuth", "azimuth deg", "azimuth degrees", "bearing", "orientation"),
    "beamwidth": ("beamwidth", "beam width", "horizontal beamwidth", "hbw", "beamwidth deg",
                  "beam width deg"),
    "height": ("height", "height m", "antenna height", "antenna height m", "agl",
               "height agl m"),
    "technology": ("technology", "tech", "rat", "radio", "generation"),
    "band": ("band", "frequency band", "frequency", "freq band"),
    "active_from": ("active from", "start date", "on air date", "on air", "valid from",
                    "live date"),
    "active_to": ("active to", "end date", "off air date", "off air", "valid to",
                  "decommissioned"),
}
FIELDS = tuple(SYNONYMS)
OMNI = ("omni", "omnidirectional", "o", "-", "n/a")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class BadValue(Exception):  # noqa: N818 - a record-level signal turned into a Rejection
    """A cell that cannot be read; the message is the rejection reason."""


def header_key(text: str) -> str:
    """Return a header folded for comparison: lower case, punctuation collapsed to spaces."""
    return " ".join(re.sub(r"[^0-9a-z]+", " ", text.casefold()).split())


def resolve(header: list[Any], mapping: dict[str, str] | None) -> dict[str, int]:
    """Return field -> column index for one candidate header row."""
    keys = [header_key(cell_text(c)) for c in header]
    found: dict[str, int] = {}
    for field, spellings in SYNONYMS.items():
        wanted = (header_key(mapping[field]),) if mapping and field in mapping else spellings
        for spelling in wanted:
            if spelling in keys:
                found[field] = keys.index(spelling)
                break
    return found


def is_header(found: dict[str, int]) -> bool:
    """Return True when a row names a cell identity, a position and a sector direction."""
    cell = "cgi" in found or {"mcc", "mnc", "lac", "ci"} <= found.keys()
    position = ({"latitude", "longitude"} <= found.keys() or {"easting", "northing"} <= found.keys()
                or "grid_ref" in found)
    return cell and position and "azimuth" in found


def check_mapping(raw: Any, path: str) -> tuple[dict[str, str], dict[str, Any]]:
    """Return the ([columns], [table]) of an analyst's cell-list mapping; UsageError if invalid."""
    if not isinstance(raw, dict):
        raise UsageError(f"cell list mapping {path}: must be a TOML document of tables")
    for key in raw:
        if key not in ("columns", "table"):
            raise UsageError(f"cell list mapping {path}: {key}: unknown table; allowed: "
                             "columns, table")
    columns = raw.get("columns", {})
    table = raw.get("table", {})
    if not isinstance(columns, dict) or not isinstance(table, dict):
        raise UsageError(f"cell list mapping {path}: columns and table must be tables")
    for key, value in columns.items():
        if key not in FIELDS:
            raise UsageError(f"cell list mapping {path}: columns.{key}: unknown field; "
                             f"allowed: {', '.join(FIELDS)}")
        if not isinstance(value, str) or not value.strip():
            raise UsageError(f"cell list mapping {path}: columns.{key}: must be a header name")
    for key in table:
        if key not in ("delimiter", "encoding", "sheet"):
            raise UsageError(f"cell list mapping {path}: table.{key}: unknown key; allowed: "
                             "delimiter, encoding, sheet")
    return columns, table


def number(value: Any, label: str, low: float, high: float) -> float | None:
    """Return a number within [low, high], None for an empty cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        result = float(value)
    else:
        text = cell_text(value)
        if not _NUMBER.fullmatch(text):
            raise BadValue(f"{label} {text!r} is not a number")
        result = float(text)
    if not (math.isfinite(result) and low <= result <= high):
        raise BadValue(f"{label} {result:g} is outside {low:g}..{high:g}")
    return result


def day(value: Any, label: str) -> str | None:
    """Return a date as ISO ``YYYY-MM-DD`` (from dd/mm/yyyy, yyyy-mm-dd or a date cell)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = cell_text(value)
    for fmt in ("%d/%m/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text, fmt).date().isoformat()  # noqa: DTZ007 - a date only
        except ValueError:
            continue
    raise BadValue(f"{label} {text!r} is not a date (dd/mm/yyyy or yyyy-mm-dd)")


def site_event(locator: str, latitude: float, longitude: float, cell_id: str,
               flags: list[str], extra: dict[str, Any]) -> EventDraft:
    """Return the ``cell_site`` event for one mast: a position without a time."""
    return EventDraft(
        locator=locator,
        kind="cell_site",
        timestamp_utc=None,
        timestamp_source=None,
        tz_basis="none",
        tz_flag="no_time",
        direction="none",
        latitude=latitude,
        longitude=longitude,
        location_method="cell",
        cell_id=cell_id,
        flags=tuple(flags),
        extra=extra,
    )
