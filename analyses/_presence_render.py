"""Draw the presence chart: per reported episode, the distances of the victim's device records.

One column per reported episode (labelled with its UK local start date), one
marker per record of the victim's device in the episode's window, at its
distance from the place's centre (log scale), coloured by the record's class;
the place's radius and the separation threshold are drawn as lines; a
'no data' episode gets a grey bar at the foot of its column. Fixed size, fonts
and metadata, so the bytes depend only on the result.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

DPI = 120
SAVE = {"dpi": DPI, "metadata": {"Software": None}}
CLASS_COLOURS = {
    "elsewhere": "#2166ac",
    "at_place": "#b2182b",
    "between": "#ef8a62",
    "area_overlaps": "#999999",
    "area_apart": "#cccccc",
}
FLOOR_M = 1.0


def render(result: Any, case: Any, folder: Path) -> list[Path]:
    """Write ``presence.png`` from the episode tables; return its path."""
    eps = result.tables["episodes"]
    eps = eps[eps["reported"]].reset_index(drop=True)
    recs = result.tables["episode_records"]
    recs = recs[recs["side"] == "victim"]
    path = Path(folder) / "presence.png"
    fig, ax = plt.subplots(figsize=(10.0, 5.5))
    if eps.empty:
        ax.text(
            0.5,
            0.5,
            "No reported episode of the suspect's device at the victim's places",
            ha="center",
            va="center",
            fontsize=9,
        )
        ax.set_axis_off()
    else:
        labels = []
        for x, ep in enumerate(eps.itertuples(index=False)):
            labels.append(f"{ep.place}\n{ep.first_local_date}\n{ep.victim_status}")
            mine = recs[
                (recs["place"] == ep.place)
                & (recs["person"] == ep.person)
                & (recs["victim"] == ep.victim)
                & (recs["episode"] == ep.episode)
            ]
            if mine.empty:
                ax.bar(x, 2.0, bottom=FLOOR_M, width=0.5, color="#dddddd", edgecolor="#888888")
                continue
            for cls, group in mine.groupby("record_class", sort=True):
                dist = pd.to_numeric(group["distance_m"]).clip(lower=FLOOR_M)
                ax.scatter(
                    [x] * len(group),
                    dist,
                    s=14,
                    color=CLASS_COLOURS.get(cls, "#000000"),
                    label=cls,
                    zorder=3,
                )
        radii = sorted(set(eps["radius_m"].astype(float)))
        for r in radii:
            ax.axhline(r, color="#b2182b", lw=0.8, ls="--")
        ax.axhline(result.params.min_separation_m, color="#2166ac", lw=0.8, ls=":")
        ax.set_yscale("log")
        ax.set_xticks(range(len(eps)), labels, fontsize=6)
        ax.set_xlim(-0.7, len(eps) - 0.3)
        ax.set_ylabel(
            "Distance of the victim's device record from the place's centre (m)", fontsize=8
        )
        handles, names = ax.get_legend_handles_labels()
        unique = dict(zip(names, handles, strict=True))
        ax.legend(
            [unique[k] for k in sorted(unique)], sorted(unique), fontsize=7, loc="upper right"
        )
        ax.grid(axis="y", color="#eeeeee", lw=0.5)
    ax.set_title(
        "Records of the victim's device during episodes of the suspect's device at her places\n"
        f"(dashed: place radius; dotted: separation {result.params.min_separation_m:g} m; "
        "grey bar: no data, which is not an absence; devices, not people)",
        fontsize=8,
    )
    fig.tight_layout()
    fig.savefig(path, **SAVE)
    plt.close(fig)
    return [path]
