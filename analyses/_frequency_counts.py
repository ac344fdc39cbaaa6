"""Count tables, bursts, stop-request candidates and after-mark counts for ``frequency``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
DAILY_COLUMNS = ("date_local", "channel", "contacts", "replies")
WEEKLY_COLUMNS = ("week_start_local", "channel", "contacts", "replies")
WEEKLY_TOTAL_COLUMNS = ("week_start_local", "contacts", "replies", "contacts_per_reply")
HEATMAP_COLUMNS = ("weekday_index", "weekday", "hour_local", "contacts")
BURST_COLUMNS = ("episode", "start_utc", "end_utc", "minutes", "contacts", "channels", "first_event_id")
CANDIDATE_COLUMNS = ("event_id", "timestamp_utc", "exhibit_ref", "channel", "phrase", "text")
PHRASES_FILE = Path(__file__).with_name("frequency_stop_phrases.txt")


def local_days(window: tuple, tz: str) -> pd.DatetimeIndex:
    """Return every UK calendar day from the window's first to its last record (naive dates)."""
    first, last = (pd.Timestamp(w).tz_convert(tz).tz_localize(None).normalize() for w in window)
    return pd.date_range(first, last, freq="D")


def _local(frame: pd.DataFrame, tz: str) -> pd.Series:
    return frame["timestamp_utc"].dt.tz_convert(tz).dt.tz_localize(None)


def per_day_and_week(contacts: pd.DataFrame, replies: pd.DataFrame, window: tuple,
                     tz: str) -> dict[str, pd.DataFrame]:
    """Return the daily, weekly (by channel) and weekly-total tables, zero-filled."""
    days = local_days(window, tz)
    channels = sorted(set(contacts["channel"]) | set(replies["channel"]))
    both = pd.concat([
        pd.DataFrame({"day": _local(f, tz).dt.normalize(), "channel": f["channel"], "c": c, "r": 1 - c})
        for f, c in ((contacts, 1), (replies, 0))
    ], ignore_index=True)
    grid = pd.MultiIndex.from_product([days, channels], names=["day", "channel"])
    daily = both.groupby(["day", "channel"])[["c", "r"]].sum().reindex(grid, fill_value=0).reset_index()
    daily["week"] = daily["day"] - pd.to_timedelta(daily["day"].dt.day_of_week, unit="D")
    weekly = daily.groupby(["week", "channel"], sort=True)[["c", "r"]].sum().reset_index()
    totals = daily.groupby("week", sort=True)[["c", "r"]].sum().reset_index()
    ratio = (totals["c"] / totals["r"].where(totals["r"] > 0)).round(3)
    out_daily = pd.DataFrame({"date_local": daily["day"].dt.strftime("%Y-%m-%d"), "channel": daily["channel"],
                              "contacts": daily["c"].astype(int), "replies": daily["r"].astype(int)})
    out_weekly = pd.DataFrame({"week_start_local": weekly["week"].dt.strftime("%Y-%m-%d"),
                               "channel": weekly["channel"], "contacts": weekly["c"].astype(int),
                               "replies": weekly["r"].astype(int)})
    out_totals = pd.DataFrame({"week_start_local": totals["week"].dt.strftime("%Y-%m-%d"),
                               "contacts": totals["c"].astype(int), "replies": totals["r"].astype(int),
                               "contacts_per_reply": ratio.astype(object).where(ratio.notna(), None)})
    return {"daily": out_daily, "weekly": out_weekly, "weekly_totals": out_totals}


def daily_totals(contacts: pd.DataFrame, window: tuple, tz: str) -> pd.Series:
    """Return contacts per UK calendar day over the window (all channels), indexed by day."""
    days = local_days(window, tz)
    return _local(contacts, tz).dt.normalize().value_counts().reindex(days, fill_value=0).astype(int)


def heatmap(contacts: pd.DataFrame, tz: str) -> pd.DataFrame:
    """Return contacts by UK weekday and hour, all 168 cells."""
    local = _local(contacts, tz)
    counts = pd.DataFrame({"d": local.dt.day_of_week, "h": local.dt.hour}).value_counts()
    grid = pd.MultiIndex.from_product([range(7), range(24)], names=["d", "h"])
    counts = counts.reindex(grid, fill_value=0).reset_index(name="n")
    return pd.DataFrame({"weekday_index": counts["d"].astype(int),
                         "weekday": counts["d"].map(dict(enumerate(WEEKDAYS))),
                         "hour_local": counts["h"].astype(int), "contacts": counts["n"].astype(int)})


def episodes(ts: np.ndarray, min_contacts: int, window_minutes: int) -> list[tuple[int, int]]:
    """Return ``[first, stop)`` row ranges of merged windows holding ``min_contacts`` or more.

    ``ts`` must be sorted ascending. A window runs from a contact to ``window_minutes``
    later, end included; overlapping qualifying windows merge into one episode.
    """
    if len(ts) < min_contacts:
        return []
    index = np.arange(len(ts))
    stop = np.searchsorted(ts, ts + np.timedelta64(window_minutes, "m"), side="right")
    starts = index[stop - index >= min_contacts]
    if starts.size == 0:
        return []
    stops = stop[starts]
    # ``stops`` never decreases, so a window opens a new episode exactly when it starts
    # at or after the previous window's end.
    opens = np.r_[True, starts[1:] >= stops[:-1]]
    closes = np.r_[opens[1:], True]
    return list(zip(starts[opens].tolist(), stops[closes].tolist(), strict=True))


def load_phrases(path: Path = PHRASES_FILE) -> tuple[str, ...]:
    """Return the stop phrases in the file: one a line, ``#`` comments and blanks skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(normalise_text(s) for s in lines if s.strip() and not s.lstrip().startswith("#"))


def normalise_text(text: str) -> str:
    """Lower-case, straighten apostrophes and collapse white space (for phrase matching)."""
    return " ".join(text.replace("\u2019", "'").replace("\u2018", "'").lower().split())


def stop_candidates(replies: pd.DataFrame, phrases: tuple[str, ...]) -> pd.DataFrame:
    """Return the replies whose text contains a stop phrase, with the first phrase matched."""
    if not phrases or replies.empty:
        return pd.DataFrame(columns=list(CANDIDATE_COLUMNS))
    # Longest first, so "do not message me again" is named rather than a shorter phrase inside it.
    ordered = sorted(set(phrases), key=lambda p: (-len(p), p))
    pattern = r"(?<![\w'])(" + "|".join(re.escape(p) for p in ordered) + r")(?![\w'])"
    text = replies["text"].fillna("").map(normalise_text)
    found = text.str.extract(pattern, expand=False)
    hit = found.notna()
    out = replies.loc[hit, ["event_id", "timestamp_utc", "exhibit_ref", "channel", "text"]].copy()
    out["phrase"] = found[hit]
    return out[list(CANDIDATE_COLUMNS)].reset_index(drop=True)


def after(contacts: pd.DataFrame, at: pd.Timestamp, identifier: str) -> dict:
    """Return the contacts strictly after ``at``: count, by channel, first and last, ids."""
    later = contacts.loc[contacts["timestamp_utc"] > at]
    by_channel = later["channel"].value_counts().sort_index()
    return {
        "count": len(later),
        "channels": [f"{c}: {n}" for c, n in by_channel.items()],
        "first_utc": later["timestamp_utc"].iloc[0] if len(later) else None,
        "last_utc": later["timestamp_utc"].iloc[-1] if len(later) else None,
        "from_identifier": int((later["sender"] == identifier).sum()) if identifier else None,
        "event_ids": tuple(later["event_id"]),
    }
