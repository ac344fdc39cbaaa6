"""Chart for ``identifier_changes``, from the ``daily`` and ``anchors`` tables (UK local dates)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import pandas as pd  # noqa: E402

from atlas.case import Case  # noqa: E402

SIZE, DPI = (11.0, 4.5), 100
SAVE = {"dpi": DPI, "metadata": {"Software": None}}
LEAD_IN_DAYS = 60
"""Days shown before the first anchor."""
COLOURS = {"old": "tab:blue", "candidate": "tab:red"}


def render(result, case: Case, folder: Path) -> list[Path]:
    """Draw contacts per day for the old identifiers and the candidates; return the files."""
    daily, anchors = result.tables["daily"], result.tables["anchors"]
    if daily.empty:
        return []
    tz = case.display_timezone
    order = daily.drop_duplicates("identifier")[["identifier", "role"]]
    rows = {ident: n for n, ident in enumerate(order["identifier"])}
    fig, ax = plt.subplots(figsize=(SIZE[0], max(2.5, 0.6 * len(rows) + 1.5)))
    for role, part in daily.groupby("role", sort=True):
        ax.scatter(
            pd.to_datetime(part["date_local"]),
            part["identifier"].map(rows),
            s=10 + 4 * part["contacts"].clip(upper=30),
            color=COLOURS.get(role, "grey"),
            label=f"{role} identifier (marker size: contacts that day)",
            alpha=0.7,
        )
    shown = False
    for a in anchors.itertuples(index=False):
        at = pd.Timestamp(a.anchor_utc).tz_convert(tz).tz_localize(None)
        ax.axvline(
            at,
            color="tab:purple",
            linestyle="--",
            linewidth=1,
            label=None if shown else "anchor (block, or last contact of an old identifier)",
        )
        shown = True
    # Old identifiers can reach back years (an old follow); show the weeks that matter.
    first = pd.Timestamp(anchors["anchor_utc"].min()).tz_convert(tz).tz_localize(None)
    last = pd.to_datetime(daily["date_local"]).max()
    ax.set_xlim(first - pd.Timedelta(days=LEAD_IN_DAYS), last + pd.Timedelta(days=3))
    ax.set_yticks(range(len(rows)), list(rows))
    ax.set_xlabel(f"Day (UK local time), from {LEAD_IN_DAYS} days before the first anchor")
    ax.set_title(
        "Contacts with the complainant's identifiers per day: old identifiers and leads to check"
    )
    ax.legend(loc="upper left", fontsize=8)
    path = folder / "identifier_timeline.png"
    fig.tight_layout()
    fig.savefig(path, **SAVE)
    plt.close(fig)
    return [path]
