"""Drawing the colocation result: a map PNG (no online tiles) and a KML for Google Earth.

Both are drawn from the result tables and the case's areas only, with fixed
sizes, fonts and number formats, so the bytes depend only on the result. Cell
masts appear as triangles with an indicative sector wedge, never as a pin for
a handset; the legend says so.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from xml.sax.saxutils import escape

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Circle, Wedge  # noqa: E402

from analyses._colocation_geo import EARTH_RADIUS_M, Area, case_areas  # noqa: E402
from atlas.analysis import AnalysisResult  # noqa: E402
from atlas.attribution import role_ids  # noqa: E402
from atlas.case import Case  # noqa: E402

DPI = 120
SIZE = (10.0, 8.5)
STATUS_COLOURS = {"within": "#b2182b", "indeterminate": "#ef8a62"}
NICE = (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000)

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069\ufffe\uffff\ud800-\udfff]")


def render(result: AnalysisResult, case: Case, folder: Path) -> list[Path]:
    """Write ``colocation_map.png`` and ``colocation.kml`` into ``folder``; return their paths."""
    subjects = tuple(sorted(role_ids(case, "suspect")))
    areas = case_areas(case, subjects, result.params.places)
    t = result.tables
    return [_map(areas, t["place_records"], t["place_episodes"], t["device_pairs"],
                 t["device_episodes"], t["cell_events"], Path(folder) / "colocation_map.png"),
            _kml(areas, t["place_records"], t["place_episodes"], t["device_pairs"],
                 t["device_episodes"], t["cell_events"], case, Path(folder) / "colocation.kml")]


def _closest(rows: pd.DataFrame, keys: list[str], dist: str, time: str, ident: str) -> pd.DataFrame:
    """Return the closest row of each group (ties: earliest, then smallest id)."""
    if rows.empty:
        return rows
    ordered = rows.sort_values([*keys, dist, time, ident], kind="stable")
    return ordered.drop_duplicates(keys, keep="first").reset_index(drop=True)


def _masts(cells: pd.DataFrame) -> pd.DataFrame:
    known = cells[cells["area"] != ""]
    cols = ["cell_id", "mast_latitude", "mast_longitude", "bearing_from_deg", "bearing_to_deg"]
    return known[cols].drop_duplicates("cell_id").sort_values("cell_id", kind="stable").reset_index(drop=True)


# ---------------------------------------------------------------- map

def _map(areas: tuple[Area, ...], rows: pd.DataFrame, eps: pd.DataFrame, pairs: pd.DataFrame,
         deps: pd.DataFrame, cells: pd.DataFrame, path: Path) -> Path:
    masts = _masts(cells)
    lats = [a.lat for a in areas] + rows["latitude"].tolist() + pairs["latitude_b"].tolist()
    lons = [a.lon for a in areas] + rows["longitude"].tolist() + pairs["longitude_b"].tolist()
    lats += masts["mast_latitude"].tolist()
    lons += masts["mast_longitude"].tolist()
    lat0 = float(np.mean([a.lat for a in areas])) if areas else (float(np.mean(lats)) if lats else 0.0)
    lon0 = float(np.mean([a.lon for a in areas])) if areas else (float(np.mean(lons)) if lons else 0.0)

    def xy(lat, lon):  # noqa: ANN001, ANN202 - arrays or floats
        k = EARTH_RADIUS_M * math.pi / 180
        return (np.asarray(lon, float) - lon0) * k * math.cos(math.radians(lat0)), (np.asarray(lat, float) - lat0) * k

    fig, ax = plt.subplots(figsize=SIZE, dpi=DPI)
    xs, ys = xy(lats, lons) if lats else (np.zeros(1), np.zeros(1))
    pad = [0.0]
    for area in areas:
        cx, cy = xy(area.lat, area.lon)
        dashed = area.kind == "order_zone"
        ax.add_patch(Circle((float(cx), float(cy)), area.radius_m, fill=not dashed, alpha=0.12 if not dashed else 1,
                            facecolor="#4575b4", edgecolor="#c51b7d" if dashed else "#4575b4",
                            linestyle="--" if dashed else "-", linewidth=1.2))
        ax.annotate(area.name, (float(cx), float(cy) + area.radius_m), ha="center", va="bottom", fontsize=8)
        pad.append(area.radius_m)
    span = max(float(np.ptp(xs)), float(np.ptp(ys)), 2 * max(pad), 200.0)
    wedge_r = span * 0.06
    for m in masts.itertuples(index=False):
        mx, my = xy(m.mast_latitude, m.mast_longitude)
        if not (math.isnan(m.bearing_from_deg) or (m.bearing_from_deg == 0 and m.bearing_to_deg == 360)):
            theta1, theta2 = 90 - m.bearing_to_deg, 90 - m.bearing_from_deg
            ax.add_patch(Wedge((float(mx), float(my)), wedge_r, theta1, theta2, facecolor="#999999",
                               alpha=0.35, edgecolor="#555555"))
        ax.plot([float(mx)], [float(my)], marker="^", color="black", markersize=8, linestyle="none")
        ax.annotate(m.cell_id, (float(mx), float(my)), xytext=(4, -10), textcoords="offset points", fontsize=6)
    if not rows.empty:
        for status, colour in STATUS_COLOURS.items():
            part = rows[rows["status"] == status]
            px, py = xy(part["latitude"], part["longitude"])
            ax.plot(px, py, "o", color=colour, markersize=3, alpha=0.7, linestyle="none")
    best = _closest(rows, ["area", "person", "episode"], "distance_m", "start_utc", "event_id")
    for b in best.itertuples(index=False):
        bx, by = xy(b.latitude, b.longitude)
        ax.plot([float(bx)], [float(by)], marker="*", color="#67001f", markersize=11, linestyle="none")
    if not pairs.empty:
        vx, vy = xy(pairs["latitude_b"], pairs["longitude_b"])
        ax.plot(vx, vy, "s", color="#542788", markersize=3, alpha=0.7, linestyle="none")
        near = _closest(pairs, ["person_a", "person_b", "episode"], "distance_m", "start_a", "event_id_a")
        for p in near.itertuples(index=False):
            ax1, ay1 = xy(p.latitude_a, p.longitude_a)
            bx1, by1 = xy(p.latitude_b, p.longitude_b)
            ax.plot([float(ax1), float(bx1)], [float(ay1), float(by1)], color="#542788", linewidth=1.5)
    cx = float((xs.min() + xs.max()) / 2) if len(xs) else 0.0
    cy = float((ys.min() + ys.max()) / 2) if len(ys) else 0.0
    half = span / 2 * 1.15 + max(pad)
    ax.set_xlim(cx - half, cx + half)
    ax.set_ylim(cy - half, cy + half)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    _scale_bar(ax, cx - half, cy - half, 2 * half)
    ax.annotate("N\n↑", (0.97, 0.95), xycoords="axes fraction", ha="center", va="top", fontsize=10)
    handles = [
        Line2D([], [], marker="o", color=STATUS_COLOURS["within"], linestyle="none", label="Suspect-device record: within"),
        Line2D([], [], marker="o", color=STATUS_COLOURS["indeterminate"], linestyle="none",
               label="Suspect-device record: indeterminate"),
        Line2D([], [], marker="*", color="#67001f", linestyle="none", markersize=10,
               label="Closest record of each episode"),
        Line2D([], [], marker="s", color="#542788", linestyle="none",
               label="Victim-device record paired in time and distance"),
        Line2D([], [], marker="^", color="black", linestyle="none",
               label="Cell mast (mast location, not handset location)"),
    ]
    ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9)
    ax.set_title("Co-location: recorded positions, places and order zones (records, not movements)", fontsize=10)
    fig.text(0.01, 0.01, "Circles: case places (solid) and order zones (dashed). Wedges show the recorded "
             "sector direction only, not coverage. No background map.", fontsize=7)
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return path


def _scale_bar(ax, x0: float, y0: float, width: float) -> None:  # noqa: ANN001 - matplotlib Axes
    length = max([n for n in NICE if n <= width / 4] or [NICE[0]])
    x, y = x0 + width * 0.05, y0 + width * 0.05
    ax.plot([x, x + length], [y, y], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length // 1000} km" if length >= 1000 else f"{length} m"
    ax.annotate(label, (x + length / 2, y), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8)


# ---------------------------------------------------------------- KML

def _coord(lat: float, lon: float) -> str:
    return f"{lon:.6f},{lat:.6f},0"


def _when(ts: object) -> str:
    return pd.Timestamp(ts).tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def _circle(area: Area, n: int = 72) -> str:
    pts = []
    for k in range(n + 1):
        b = math.radians(360.0 * (k % n) / n)
        d = area.radius_m / EARTH_RADIUS_M
        p1, l1 = math.radians(area.lat), math.radians(area.lon)
        p2 = math.asin(math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(b))
        l2 = l1 + math.atan2(math.sin(b) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
        pts.append(_coord(math.degrees(p2), math.degrees(l2)))
    return " ".join(pts)


def _text(value: str) -> str:
    """Escape for XML, showing characters XML cannot hold (and bidi overrides) as [U+XXXX]."""
    return escape(_NOT_XML.sub(lambda m: f"[U+{ord(m.group()):04X}]", str(value)))


def _placemark(name: str, desc: str, geometry: str, style: str, span: tuple[str, str] | None = None) -> str:
    when = f"<TimeSpan><begin>{span[0]}</begin><end>{span[1]}</end></TimeSpan>" if span else ""
    return (f"<Placemark><name>{_text(name)}</name><description>{_text(desc)}</description>"
            f"{when}<styleUrl>#{style}</styleUrl>{geometry}</Placemark>\n")


def _kml(areas: tuple[Area, ...], rows: pd.DataFrame, eps: pd.DataFrame, pairs: pd.DataFrame,
         deps: pd.DataFrame, cells: pd.DataFrame, case: Case, path: Path) -> Path:
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>\n',
           f"<name>{_text(case.urn)}: co-location (recorded positions, not movements)</name>\n",
           '<Style id="place"><LineStyle><color>ffb47545</color><width>2</width></LineStyle>'
           '<PolyStyle><color>33b47545</color></PolyStyle></Style>\n',
           '<Style id="zone"><LineStyle><color>ff7d1bc5</color><width>2</width></LineStyle>'
           '<PolyStyle><fill>0</fill></PolyStyle></Style>\n',
           '<Style id="episode"><IconStyle><color>ff2b18b2</color></IconStyle></Style>\n',
           '<Style id="mast"><IconStyle><color>ff000000</color><Icon><href>http://maps.google.com/'
           'mapfiles/kml/shapes/triangle.png</href></Icon></IconStyle></Style>\n',
           "<Folder><name>Places and order zones</name>\n"]
    for a in areas:
        geom = (f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{_circle(a)}</coordinates>"
                "</LinearRing></outerBoundaryIs></Polygon>")
        out.append(_placemark(a.name, f"{a.kind}, centre {a.lat:.6f}, {a.lon:.6f}, radius {a.radius_m:.0f} m",
                              geom, "zone" if a.kind == "order_zone" else "place"))
    out.append("</Folder>\n<Folder><name>Device-to-place episodes</name>\n")
    best = _closest(rows, ["area", "person", "episode"], "distance_m", "start_utc", "event_id")
    for ep, b in zip(eps.itertuples(index=False), best.itertuples(index=False), strict=True):
        desc = (f"{ep.records} records ({ep.basis}; {ep.exhibits}) from the device attributed to {ep.person}; "
                f"status {ep.status}; closest recorded position {ep.closest_m:.1f} m from the centre "
                f"(record {b.event_id}).")
        out.append(_placemark(f"{ep.area} episode {ep.episode}", desc,
                              f"<Point><coordinates>{_coord(b.latitude, b.longitude)}</coordinates></Point>",
                              "episode", (_when(ep.start_utc), _when(ep.end_utc))))
    out.append("</Folder>\n<Folder><name>Device-to-device episodes</name>\n")
    near = _closest(pairs, ["person_a", "person_b", "episode"], "distance_m", "start_a", "event_id_a")
    for ep, p in zip(deps.itertuples(index=False), near.itertuples(index=False), strict=True):
        desc = (f"{ep.pairs} pairs of records ({ep.basis}; {ep.exhibits}); status {ep.status}; closest "
                f"recorded positions {ep.closest_m:.1f} m apart (records {p.event_id_a}, {p.event_id_b}).")
        geom = (f"<LineString><coordinates>{_coord(p.latitude_a, p.longitude_a)} "
                f"{_coord(p.latitude_b, p.longitude_b)}</coordinates></LineString>")
        out.append(_placemark(f"{ep.person_a}-{ep.person_b} episode {ep.episode}", desc, geom, "episode",
                              (_when(ep.start_utc), _when(ep.end_utc))))
    out.append("</Folder>\n<Folder><name>Cell masts (mast location, not handset location)</name>\n")
    for m in _masts(cells).itertuples(index=False):
        out.append(_placemark(f"Mast of cell {m.cell_id}", "Recorded mast position from the cell list; "
                              "not a handset position.",
                              f"<Point><coordinates>{_coord(m.mast_latitude, m.mast_longitude)}</coordinates></Point>",
                              "mast"))
    out.append("</Folder>\n</Document></kml>\n")
    path.write_bytes("".join(out).encode("utf-8"))
    return path
