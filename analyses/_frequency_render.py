"""Charts for ``frequency``, drawn from the result tables (UK local time on every axis)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 - the backend must be chosen first
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from atlas.case import Case  # noqa: E402

SIZE, DPI = (11.0, 5.0), 100
SAVE = {"dpi": DPI, "metadata": {"Software": None}}
MARK_STYLES = {"relationship_ended": "tab:gray", "stop_requested": "tab:red", "blocked": "tab:purple",
               "warned": "tab:orange", "order_served": "black"}


def render(result, case: Case, folder: Path) -> list[Path]:
    """Draw the daily, weekly and heat-map charts; return the files written."""
    tables = result.tables
    if "daily" not in tables:
        return []
    tz = case.display_timezone
    paths = [_daily(tables["daily"], _lines(tables), tz, folder / "daily_by_channel.png"),
             _weekly(tables["weekly_totals"], folder / "weekly_contacts_and_replies.png"),
             _heatmap(tables["heatmap"], folder / "heatmap_weekday_hour.png")]
    return paths


def _daily(daily: pd.DataFrame, marks: pd.DataFrame, tz: str, path: Path) -> Path:
    wide = daily.pivot(index="date_local", columns="channel", values="contacts").sort_index()
    days = pd.to_datetime(wide.index)
    fig, ax = plt.subplots(figsize=SIZE)
    bottom = np.zeros(len(wide))
    for channel in sorted(wide.columns):
        ax.bar(days, wide[channel].to_numpy(), bottom=bottom, width=0.9, align="edge", label=channel)
        bottom += wide[channel].to_numpy()
    shown = set()
    for m in marks.itertuples(index=False):
        at = pd.Timestamp(m.at_utc).tz_convert(tz).tz_localize(None)
        label = m.kind.replace("_", " ") if m.kind not in shown else None
        ax.axvline(at, color=MARK_STYLES[m.kind], linestyle="--", linewidth=1.2, label=label)
        shown.add(m.kind)
    ax.set_xlabel("Day (UK local time)")
    ax.set_ylabel("Contacts from suspect's identifiers")
    ax.set_title("Contacts per day by channel, with key dates from case.toml")
    ax.legend(loc="upper left", fontsize=8)
    return _save(fig, path)


def _lines(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Return the key dates to mark: period boundaries and the after-count marks (not candidates)."""
    bounds = tables["periods"].iloc[1:]
    rows = [(kind, at) for name, at in zip(bounds["starts_at"], bounds["start_utc"], strict=True)
            for kind in name.split(" + ")]
    rows += list(zip(tables["after_marks"]["kind"], tables["after_marks"]["at_utc"], strict=True))
    frame = pd.DataFrame(rows, columns=["kind", "at_utc"]).drop_duplicates()
    frame = frame.loc[frame["kind"].isin(list(MARK_STYLES))]
    return frame.sort_values(["at_utc", "kind"], kind="stable").reset_index(drop=True)


def _weekly(weeks: pd.DataFrame, path: Path) -> Path:
    x = np.arange(len(weeks))
    fig, ax = plt.subplots(figsize=SIZE)
    ax.bar(x - 0.2, weeks["contacts"].to_numpy(), width=0.4, label="contacts from suspect's identifiers")
    ax.bar(x + 0.2, weeks["replies"].to_numpy(), width=0.4, label="replies from complainant's identifiers")
    step = max(1, len(weeks) // 12)
    ax.set_xticks(x[::step], weeks["week_start_local"].iloc[::step].tolist(), rotation=45, ha="right")
    ax.set_xlabel("Week starting Monday (UK local time)")
    ax.set_ylabel("Records")
    ax.set_title("Contacts and replies per week")
    ax.legend(loc="upper right", fontsize=8)
    return _save(fig, path)


def _heatmap(cells: pd.DataFrame, path: Path) -> Path:
    grid = cells.pivot(index="weekday_index", columns="hour_local", values="contacts").sort_index()
    names = cells.drop_duplicates("weekday_index").sort_values("weekday_index")["weekday"].tolist()
    fig, ax = plt.subplots(figsize=SIZE)
    image = ax.imshow(grid.to_numpy(), aspect="auto", cmap="Reds", interpolation="nearest")
    ax.set_xticks(range(24), [f"{h:02d}" for h in range(24)])
    ax.set_yticks(range(7), names)
    ax.set_xlabel("Hour of day (UK local time)")
    ax.set_title("Contacts from suspect's identifiers by weekday and hour")
    fig.colorbar(image, ax=ax, label="contacts")
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, **SAVE)
    plt.close(fig)
    return path
