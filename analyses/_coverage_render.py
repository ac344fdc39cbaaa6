"""Draw the coverage chart: one row per source, days with records marked, gaps shaded (deterministic PNG)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

DPI = 150
WIDTH = 11.0
RECORD_COLOUR = "#1f618d"
GAP_COLOUR = "#e74c3c"


def render(result: Any, case: Any, folder: Path) -> list[Path]:
    """Write ``coverage.png`` from the ``sources``, ``daily``, ``gaps`` and ``key_dates`` tables."""
    sources, daily, gaps = result.tables["sources"], result.tables["daily"], result.tables["gaps"]
    path = folder / "coverage.png"
    rows = list(sources["source"])
    fig, ax = plt.subplots(figsize=(WIDTH, 1.8 + 0.45 * max(len(rows), 1)))
    if not rows:
        ax.text(0.5, 0.5, "No dated records in the store", ha="center", va="center")
        ax.set_axis_off()
    days = [mdates.date2num(dt.date.fromisoformat(d)) for d in daily["date"]] if rows else []
    for y, name in enumerate(rows):
        present = daily[name].to_numpy() > 0
        # Consecutive days with records are drawn as one bar, so a long record is not 365 rectangles.
        edges = np.flatnonzero(np.diff(np.r_[0, present.astype(int), 0]))
        spans = [(days[a], b - a) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        ax.broken_barh(spans, (y - 0.3, 0.6), facecolors=RECORD_COLOUR)
        for g in gaps[gaps["source"] == name].itertuples(index=False):
            start = mdates.date2num(dt.date.fromisoformat(g.gap_start))
            ax.broken_barh([(start, g.days)], (y - 0.45, 0.9), facecolors=GAP_COLOUR, alpha=0.3)
            ax.text(start + g.days / 2, y + 0.47, f"{g.days} days", ha="center", va="bottom", fontsize=6,
                    color="#922b21")
    marks = result.tables["key_dates"][["key_date", "date"]].drop_duplicates()
    for number, mark in enumerate(marks.itertuples(index=False)):
        x = mdates.date2num(dt.date.fromisoformat(mark.date)) + 0.5
        ax.axvline(x, color="#555555", lw=0.7, ls=":")
        ax.text(x, -0.6 - 0.3 * (number % 3), mark.key_date.split(":")[0], fontsize=6,
                rotation=0, ha="left", va="bottom", color="#333333")
    if rows:
        ax.set_yticks(range(len(rows)), rows, fontsize=8)
        ax.set_ylim(len(rows) - 0.4, -1.6)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b %Y"))
        ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=4, maxticks=10))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlabel(f"Date (UK local, {case.display_timezone}); blue: days with records; "
                      f"red: gaps of {result.params.gap_days} or more days without records", fontsize=8)
        ax.grid(axis="x", color="#dddddd", lw=0.5)
        ax.set_axisbelow(True)
    ax.set_title("Coverage of each source in the store (no records in a period is not evidence of no activity)",
                 fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=DPI, metadata={"Software": None})
    plt.close(fig)
    return [path]
