"""Ordnance Survey National Grid positions to WGS84 latitude and longitude, in pure Python.

UK operators often give mast positions as OSGB36 National Grid eastings and
northings (``429950, 433950``) or as letter grid references (``SE 29950 33950``).
This module turns them into WGS84 degrees in two documented steps, following
the Ordnance Survey's *A guide to coordinate systems in Great Britain*:

1. **Inverse Transverse Mercator** on the Airy 1830 ellipsoid with the
   National Grid constants (true origin 49°N 2°W, false origin E 400 000 m /
   N -100 000 m, scale 0.9996012717), giving OSGB36 latitude and longitude.
   This step is exact to about a millimetre (the guide's annex C formulae).
2. **Seven-parameter Helmert transformation** OSGB36 -> WGS84 (the guide's
   published WGS84 -> OSGB36 parameters with their signs reversed), applied
   to Cartesian coordinates, then back to latitude and longitude on the GRS80
   / WGS84 ellipsoid. Heights are taken as zero (mast heights above ground are
   irrelevant to the plan position at this accuracy).

Limitations:
    Step 2 is the guide's approximate transformation: OSGB36 is not a rigid
    copy of WGS84, so a single Helmert transform is typically **2-5 m** out
    and up to about 7 m in places (the guide quotes "of the order of 5
    metres"). The OS's definitive OSTN15 grid transformation (``convertbng``,
    ``osgb``, ``pyproj`` with the OSTN15 grid) is accurate to about 0.1 m but
    is not a dependency of Atlas. A few metres is far below the size of any
    cell's coverage area, so it is adequate for mast positions; it is not
    adequate for survey-grade work. Grid references outside the National
    Grid's 700 km x 1 300 km extent, and Irish Grid references, are refused.
    A letter grid reference names the south-west corner of a square whose
    size depends on the number of digits (``SE 299 339`` is a 100 m square);
    the corner is returned with the square size, never a guessed centre.

References:
    Ordnance Survey, *A guide to coordinate systems in Great Britain* (v3.6,
    2020), sections 6.6 (Helmert parameters) and annex C (Transverse Mercator
    formulae, worked example E 651409.903, N 313177.270 -> 52°39'27.2531"N,
    1°43'4.5177"E on OSGB36).
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

# Airy 1830 (OSGB36) and GRS80/WGS84 ellipsoids: semi-major and semi-minor axes (m).
AIRY_1830 = (6377563.396, 6356256.909)
WGS84 = (6378137.000, 6356752.3141)

# National Grid projection constants.
F0 = 0.9996012717
LAT0 = math.radians(49.0)
LON0 = math.radians(-2.0)
E0 = 400000.0
N0 = -100000.0

# OSGB36 -> WGS84: the guide's WGS84 -> OSGB36 parameters with every sign reversed.
HELMERT_TX, HELMERT_TY, HELMERT_TZ = 446.448, -125.157, 542.060  # metres
HELMERT_S = -20.4894e-6  # scale (ppm -> unitless)
_ARCSEC = math.pi / (180 * 3600)
HELMERT_RX, HELMERT_RY, HELMERT_RZ = 0.1502 * _ARCSEC, 0.2470 * _ARCSEC, 0.8421 * _ARCSEC

GRID_EXTENT = (0.0, 700000.0, 0.0, 1300000.0)  # min E, max E, min N, max N
HELMERT_ACCURACY_M = 5.0
"""Typical accuracy of the Helmert step, stated on converted positions."""

_GRID_REF = re.compile(r"([A-HJ-Z])([A-HJ-Z])\s*(\d+)\s*(\d*)")


class GridRef(NamedTuple):
    """A parsed letter grid reference: the south-west corner of a square and its size."""

    easting: float
    northing: float
    square_m: float


def _meridional_arc(phi: float, a: float, b: float) -> float:
    n = (a - b) / (a + b)
    n2, n3 = n * n, n * n * n
    dp, sp = phi - LAT0, phi + LAT0
    return b * F0 * (
        (1 + n + 1.25 * n2 + 1.25 * n3) * dp
        - (3 * n + 3 * n2 + 2.625 * n3) * math.sin(dp) * math.cos(sp)
        + (1.875 * n2 + 1.875 * n3) * math.sin(2 * dp) * math.cos(2 * sp)
        - (35 / 24) * n3 * math.sin(3 * dp) * math.cos(3 * sp)
    )


def grid_to_osgb36(easting: float, northing: float) -> tuple[float, float]:
    """Return OSGB36 (latitude, longitude) in degrees for a National Grid easting/northing."""
    _check_extent(easting, northing)
    a, b = AIRY_1830
    e2 = 1 - (b * b) / (a * a)
    phi = (northing - N0) / (a * F0) + LAT0
    m = _meridional_arc(phi, a, b)
    while abs(northing - N0 - m) >= 1e-5:  # iterate to 0.01 mm, as the guide prescribes
        phi += (northing - N0 - m) / (a * F0)
        m = _meridional_arc(phi, a, b)
    sin_p, cos_p, tan_p = math.sin(phi), math.cos(phi), math.tan(phi)
    nu = a * F0 / math.sqrt(1 - e2 * sin_p * sin_p)
    rho = a * F0 * (1 - e2) / (1 - e2 * sin_p * sin_p) ** 1.5
    eta2 = nu / rho - 1
    t2, t4, t6 = tan_p ** 2, tan_p ** 4, tan_p ** 6
    vii = tan_p / (2 * rho * nu)
    viii = tan_p / (24 * rho * nu ** 3) * (5 + 3 * t2 + eta2 - 9 * t2 * eta2)
    ix = tan_p / (720 * rho * nu ** 5) * (61 + 90 * t2 + 45 * t4)
    x = 1 / (cos_p * nu)
    xi = 1 / (cos_p * 6 * nu ** 3) * (nu / rho + 2 * t2)
    xii = 1 / (cos_p * 120 * nu ** 5) * (5 + 28 * t2 + 24 * t4)
    xiia = 1 / (cos_p * 5040 * nu ** 7) * (61 + 662 * t2 + 1320 * t4 + 720 * t6)
    de = easting - E0
    lat = phi - vii * de ** 2 + viii * de ** 4 - ix * de ** 6
    lon = LON0 + x * de - xi * de ** 3 + xii * de ** 5 - xiia * de ** 7
    return math.degrees(lat), math.degrees(lon)


def osgb36_to_wgs84(lat: float, lon: float) -> tuple[float, float]:
    """Return WGS84 (latitude, longitude) for an OSGB36 position, by the Helmert transform."""
    x, y, z = _to_cartesian(math.radians(lat), math.radians(lon), *AIRY_1830)
    s1 = 1 + HELMERT_S
    x2 = HELMERT_TX + s1 * x - HELMERT_RZ * y + HELMERT_RY * z
    y2 = HELMERT_TY + HELMERT_RZ * x + s1 * y - HELMERT_RX * z
    z2 = HELMERT_TZ - HELMERT_RY * x + HELMERT_RX * y + s1 * z
    phi, lam = _from_cartesian(x2, y2, z2, *WGS84)
    return math.degrees(phi), math.degrees(lam)


def grid_to_wgs84(easting: float, northing: float) -> tuple[float, float]:
    """Return WGS84 (latitude, longitude) for a National Grid easting/northing (±5 m)."""
    return osgb36_to_wgs84(*grid_to_osgb36(easting, northing))


def parse_grid_ref(text: str) -> GridRef:
    """Parse a letter grid reference such as ``SE 29950 33950`` or ``TQ385803``.

    Raises:
        ValueError: the text is not a National Grid letter reference.
    """
    raw = text.strip().upper()
    match = _GRID_REF.fullmatch(raw)
    if not match:
        raise ValueError(f"{text!r} is not a National Grid reference such as 'SE 29950 33950'")
    first, second, digits_a, digits_b = match.groups()
    digits = digits_a + digits_b
    if digits_b and len(digits_a) != len(digits_b):
        raise ValueError(f"{text!r}: easting and northing have different numbers of digits")
    if len(digits) % 2 or not 2 <= len(digits) <= 10:
        raise ValueError(f"{text!r}: a grid reference needs an even number of digits (2 to 10)")
    half = len(digits) // 2
    l1 = ord(first) - ord("A") - (first > "I")
    l2 = ord(second) - ord("A") - (second > "I")
    e100 = ((l1 - 2) % 5) * 5 + (l2 % 5)
    n100 = (19 - (l1 // 5) * 5) - (l2 // 5)
    if not (0 <= e100 <= 6 and 0 <= n100 <= 12):
        raise ValueError(f"{text!r}: square {first}{second} is outside the National Grid")
    square = 10.0 ** (5 - half)
    easting = e100 * 100000 + int(digits[:half]) * square
    northing = n100 * 100000 + int(digits[half:]) * square
    return GridRef(float(easting), float(northing), square)


def _check_extent(easting: float, northing: float) -> None:
    min_e, max_e, min_n, max_n = GRID_EXTENT
    if not (math.isfinite(easting) and math.isfinite(northing)
            and min_e <= easting <= max_e and min_n <= northing <= max_n):
        raise ValueError(f"easting {easting}, northing {northing} is outside the National Grid "
                         f"(0-700000 E, 0-1300000 N)")


def _to_cartesian(phi: float, lam: float, a: float, b: float) -> tuple[float, float, float]:
    e2 = 1 - (b * b) / (a * a)
    nu = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
    return (nu * math.cos(phi) * math.cos(lam), nu * math.cos(phi) * math.sin(lam),
            (1 - e2) * nu * math.sin(phi))


def _from_cartesian(x: float, y: float, z: float, a: float, b: float) -> tuple[float, float]:
    e2 = 1 - (b * b) / (a * a)
    p = math.hypot(x, y)
    phi = math.atan2(z, p * (1 - e2))
    for _ in range(10):  # converges to well under a millimetre in 3-4 steps
        nu = a / math.sqrt(1 - e2 * math.sin(phi) ** 2)
        phi = math.atan2(z + e2 * nu * math.sin(phi), p)
    return phi, math.atan2(y, x)
