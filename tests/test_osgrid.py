"""OS National Grid to WGS84 (atlas/osgrid.py) against published reference points."""

from __future__ import annotations

import math

import pytest

from atlas.osgrid import grid_to_osgb36, grid_to_wgs84, parse_grid_ref


def _dms(deg: int, minutes: int, seconds: float) -> float:
    return deg + minutes / 60 + seconds / 3600


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Return the great-circle distance between two (lat, lon) points (haversine, R = 6371 km)."""
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dp, dl = p2 - p1, math.radians(b[1] - a[1])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def test_os_guide_worked_example_on_osgb36():
    """OS guide annex C: E 651409.903, N 313177.270 -> 52°39'27.2531"N, 1°43'4.5177"E (OSGB36)."""
    lat, lon = grid_to_osgb36(651409.903, 313177.270)
    # 0.0001" is about 3 mm: the inverse projection reproduces the published figures.
    assert abs(lat - _dms(52, 39, 27.2531)) * 3600 < 1e-4
    assert abs(lon - _dms(1, 43, 4.5177)) * 3600 < 1e-4


@pytest.mark.parametrize(
    ("easting", "northing", "lat", "lon"),
    [(400000, 122350.044, 51.0, -2.0), (269995, 68361, 50.5, -3.83333),
     (197575, 794790, 56.99998, -5.3333)],
    ids=["central_meridian", "scorriton_dartmoor", "glendessary_lochaber"],
)
def test_more_osgb36_graticule_points(easting, northing, lat, lon):
    """Graticule intersections printed on OS maps (OSGB36 lat/lon), as in the osgb package docs."""
    got = grid_to_osgb36(easting, northing)
    assert (round(got[0], 5), round(got[1], 5)) == (lat, lon)


@pytest.mark.parametrize(
    ("easting", "northing", "lat", "lon"),
    [
        (393154.813, 177900.607, 51.5, -2.1),
        (533338.156, 170369.238, 51 + 25 / 60, -(5 / 60 + 2 / 3600)),
        (539524.836, 157551.913, 51.3, 0.0),
        (400096.274, 233505.403, 52.0, -2.0),
        (614300.0, 159900.0, 51.297880, 1.072628),
        (431831.0, 602623.0, 55 + 19 / 60, -1.5),
    ],
    ids=["bristol_area", "london_city", "kent_greenwich_meridian", "midlands_2W",
         "tr143599_canterbury", "coquet_island_nu3183102623"],
)
def test_wgs84_within_five_metres_of_ostn15_values(easting, northing, lat, lon):
    """The Helmert route is within 5 m of OSTN15-derived WGS84/ETRS89 reference values.

    Reference pairs: the doctests of the ``osgb`` package (OSTN15) and the OSTN02 worked
    example TR 143 599 -> 51.297880 N, 1.072628 E.
    """
    got = grid_to_wgs84(easting, northing)
    assert _metres(got, (lat, lon)) < 5.0


@pytest.mark.parametrize(
    ("text", "easting", "northing", "square"),
    [("SE 29950 33950", 429950, 433950, 1), ("TQ385803", 538500, 180300, 100),
     ("nu 31831 02623", 431831, 602623, 1), ("TR 14 59", 614000, 159000, 1000),
     ("HY 554 300", 355400, 1030000, 100), ("SV 0 0", 0, 0, 10000)],
    ids=["leeds_10_figure", "london_6_figure_no_space", "lower_case", "4_figure",
         "orkney_HY", "false_origin_SV"],
)
def test_parse_grid_ref(text, easting, northing, square):
    ref = parse_grid_ref(text)
    assert (ref.easting, ref.northing, ref.square_m) == (easting, northing, square)


@pytest.mark.parametrize(
    "text",
    ["SE 2995 33950", "SE 299", "SI 123 456", "ZZ 123 456", "429950 433950", "", "SE"],
    ids=["uneven_halves", "odd_digits", "letter_I", "outside_grid", "numeric", "empty",
         "no_digits"],
)
def test_parse_grid_ref_refuses(text):
    with pytest.raises(ValueError):
        parse_grid_ref(text)


@pytest.mark.parametrize(("easting", "northing"), [(-1, 0), (700001, 0), (0, 1300001),
                                                     (math.nan, 0)])
def test_outside_national_grid_refused(easting, northing):
    with pytest.raises(ValueError, match="outside the National Grid"):
        grid_to_wgs84(easting, northing)
