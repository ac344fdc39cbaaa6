"""Chart for ``threat_screen``, drawn from the ``by_month`` table (UK local months)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402

from atlas.case import Case  # noqa: E402

SIZE, DPI = (11.0, 5.0), 100
SAVE = {"dpi": DPI, "metadata": {"Software": None}}


def render(result, case: Case, folder: Path) -> list[Path]:
    """Draw tagged messages per UK local month, stacked by category; return the files written."""
    months = result.tables["by_month"]
    if months.empty:
        return []
    labels = {c.id: c.label for c in result.params.lexicon.categories}
    order = [c.id for c in result.params.lexicon.categories]
    wide = months.pivot_table(
        index="month_local", columns="category", values="messages", aggfunc="sum", fill_value=0
    ).sort_index()
    x = np.arange(len(wide))
    fig, ax = plt.subplots(figsize=SIZE)
    bottom = np.zeros(len(wide))
    for cat in [c for c in order if c in wide.columns]:
        ax.bar(x, wide[cat].to_numpy(), bottom=bottom, width=0.8, label=labels[cat])
        bottom += wide[cat].to_numpy()
    ax.set_xticks(x, wide.index.tolist(), rotation=45, ha="right")
    ax.set_xlabel("Month (UK local time)")
    ax.set_ylabel("Tags (a message counts once per category)")
    ax.set_title(
        "Messages tagged by the threat-screen lexicon, for officer review (not a finding of threat)"
    )
    ax.legend(loc="upper left", fontsize=8)
    path = folder / "tags_per_month.png"
    fig.tight_layout()
    fig.savefig(path, **SAVE)
    plt.close(fig)
    return [path]
