"""The two ends of a call or SMS record, as clock_agreement and both_ends compare them.

A record of a call or an SMS names at most two telephone numbers: the *originator*
(who called or sent) and the *receiver*. A network record (CDR) names both; a handset
often names only the other party (its own number is implicit) and a call with the
caller's number withheld names only the receiver. ``ends`` returns one row per call or
SMS record with both ends as far as the record gives them.

A number dialled with a UK caller-line prefix (``141``, withhold; ``1470``, reveal)
before a national number, as a handset's call log keeps it, is the same called number
as the one without the prefix: the prefix goes to the network, not to the called
phone. Only that exact shape (prefix then ``0`` and nine or ten digits) is rewritten,
and the prefix is kept in the ``prefix`` column so a finding can say so.

Families follow ``analyses._same_contact.family``: calls over the telephone network
(``call:tel``) and SMS/MMS (``text:tel``). Application calls and messages are never
compared with them.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analyses._same_contact import family
from atlas.identifiers import tel

FAMILIES = ("call:tel", "text:tel")
CALL_PREFIX = re.compile(r"^tel:(141|1470)(0\d{9,10})$")
END_COLUMNS = (
    "event_id",
    "exhibit_ref",
    "timestamp_utc",
    "t_ms",
    "family",
    "direction",
    "originator",
    "receiver",
    "prefix",
)


def strip_prefix(values: pd.Series, region: str) -> tuple[pd.Series, pd.Series]:
    """Return ``(identifier, prefix)``: a prefixed dialled number rewritten without its prefix."""
    uniques = sorted({v for v in values.dropna().unique() if isinstance(v, str)})
    rewritten: dict[str, tuple[str, str]] = {}
    for raw in uniques:  # distinct numbers, not events: a handful per exhibit
        m = CALL_PREFIX.match(raw)
        parsed = tel(m.group(2), region) if m else None
        if m and parsed is not None and parsed.parsed:
            rewritten[raw] = (parsed.value, m.group(1))
    new_ident = values.map({k: v[0] for k, v in rewritten.items()})
    ident = new_ident.where(new_ident.notna(), values).astype(object)
    prefix = values.map({k: v[1] for k, v in rewritten.items()}).astype(object)
    prefix = prefix.where(prefix.notna(), "")
    return ident.where(ident.notna(), None), prefix


def _single(recipients: pd.Series) -> pd.Series:
    """Return the only recipient of each record, or None (none, or several)."""
    one = [
        v[0] if v is not None and not isinstance(v, float) and len(v) == 1 else None
        for v in recipients
    ]
    return pd.Series(one, index=recipients.index, dtype=object)


def ends(events: pd.DataFrame, region: str = "GB") -> pd.DataFrame:
    """Return the call and SMS records with a time and a direction, with both ends.

    Columns ``END_COLUMNS`` plus any of ``locator``, ``duration_s``, ``status``,
    ``sender``, ``flags`` present in ``events``; sorted by time, exhibit and event id.
    ``t_ms`` is the time in integer milliseconds since the Unix epoch.
    """
    fam = family(events["kind"], events["channel"])
    keep = (
        fam.isin(FAMILIES)
        & events["direction"].isin(["incoming", "outgoing"])
        & events["timestamp_utc"].notna()
    )
    sub = events.loc[keep]
    extra = [c for c in ("locator", "duration_s", "status", "flags") if c in sub.columns]
    out = sub[["event_id", "exhibit_ref", "timestamp_utc", "direction", "sender", *extra]].copy()
    out["family"] = fam.loc[keep]
    receiver, prefix = strip_prefix(_single(sub["recipients"]), region)
    out["receiver"] = receiver.where(receiver.notna(), None)
    out["prefix"] = prefix
    out["originator"] = sub["sender"].astype(object).where(sub["sender"].notna(), None)
    out["t_ms"] = to_ms(out["timestamp_utc"])
    out = out.sort_values(["t_ms", "exhibit_ref", "event_id"], kind="stable").reset_index(drop=True)
    return out[[*END_COLUMNS, *extra, "sender"]]


def to_ms(times: pd.Series) -> pd.Series:
    """Return aware timestamps as integer milliseconds since the Unix epoch (whatever the unit)."""
    return (times.dt.as_unit("us").astype("int64") // 1000).astype("int64")


def window_pairs(
    left_keys: np.ndarray,
    left_ms: np.ndarray,
    right_keys: np.ndarray,
    right_ms: np.ndarray,
    before_ms: int,
    after_ms: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Return index pairs ``(i, j)`` with equal keys and ``left - before <= right <= left + after``.

    Keys are non-negative integers; ``right`` must be sorted by ``(key, ms)``. One sort and
    two binary searches: the cost is the number of pairs inside the window, never all pairs.
    """
    scale = np.int64(10) ** 13  # ms since 1970 stay below 10**13 until the year 2286
    right = right_keys.astype("int64") * scale + right_ms.astype("int64")
    left = left_keys.astype("int64") * scale + left_ms.astype("int64")
    if len(right) > 1 and np.any(np.diff(right) < 0):
        raise ValueError("right side must be sorted by key and time")
    lo = np.searchsorted(right, left - before_ms, side="left")
    hi = np.searchsorted(right, left + after_ms, side="right")
    counts = hi - lo
    i = np.repeat(np.arange(len(left)), counts)
    starts = np.repeat(lo, counts)
    within = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return i, starts + within


def key_codes(*columns: pd.Series) -> list[np.ndarray]:
    """Return integer codes for string keys, shared across the given columns (None is -1)."""
    joined = pd.concat([c.astype(object) for c in columns], ignore_index=True)
    codes, _ = pd.factorize(joined, sort=True)
    out, start = [], 0
    for c in columns:
        out.append(codes[start : start + len(c)].astype("int64"))
        start += len(c)
    return out
