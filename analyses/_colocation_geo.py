"""Geometry for the colocation analysis: distances, a local projection, areas and zone status.

Distances are great-circle (haversine) on a sphere of the mean Earth radius,
good to well under 1 % at the scale of a case. The local equirectangular
projection is used only to put records into grid cells (candidate pruning); it
never decides a result, so its small distortion cannot change what is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from atlas.case import Case

EARTH_RADIUS_M = 6371008.8
STATUSES = ("within", "indeterminate", "outside")


@dataclass(frozen=True)
class Area:
    """A circle a device's records are tested against: a case place or an order's zone."""

    name: str
    """Shown name: the place name, or ``<order id> zone: <place>`` for an order zone."""
    kind: str
    """``place`` or ``order_zone``."""
    place: str
    lat: float
    lon: float
    radius_m: float
    order_id: str | None = None


def haversine_m(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Return great-circle distances in metres, elementwise (arrays broadcast)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp = p2 - p1
    dl = np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def project(lat: np.ndarray, lon: np.ndarray, lat_ref: float, lon0: float) -> tuple[np.ndarray, np.ndarray]:
    """Return local equirectangular x, y in metres (x scaled by cos ``lat_ref``)."""
    x = EARTH_RADIUS_M * np.cos(np.radians(lat_ref)) * np.radians(np.asarray(lon) - lon0)
    y = EARTH_RADIUS_M * np.radians(np.asarray(lat))
    return x, y


def zone_status(distance_m: np.ndarray, uncertainty_m: np.ndarray, radius_m: float) -> np.ndarray:
    """Return ``within`` (d + r <= R), ``outside`` (d - r > R) or ``indeterminate``, elementwise."""
    return np.select([distance_m + uncertainty_m <= radius_m, distance_m - uncertainty_m > radius_m],
                     ["within", "outside"], default="indeterminate").astype(object)


def case_areas(case: Case, subjects: tuple[str, ...], names: tuple[str, ...]) -> tuple[Area, ...]:
    """Return the areas to test: places not linked to a subject, and zones of orders on a subject.

    ``names`` (place names) restricts both when not empty. Order zones carry the
    order's own radius around the named place.
    """
    by_name = {p.name: p for p in case.places}
    out = [Area(p.name, "place", p.name, p.lat, p.lon, p.radius_m)
           for p in case.places if p.person not in subjects and (not names or p.name in names)]
    for order in case.orders:
        if order.subject not in subjects:
            continue
        for z in order.zones:
            p = by_name[z.place]
            if names and p.name not in names:
                continue
            out.append(Area(f"{order.id} zone: {p.name}", "order_zone", p.name, p.lat, p.lon,
                            z.radius_m, order.id))
    return tuple(out)
