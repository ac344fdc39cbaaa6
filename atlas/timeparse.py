"""Turning source timestamps into UTC without hiding how.

Every reading returns a ``TimeReading``: the UTC instant, the basis on which the
zone was decided (``offset-in-source``, ``utc-declared``, ``assumed:<zone>``,
``device-setting:<zone>``, ``epoch``) and a flag. Local wall-clock times are
checked against both ``fold`` values with ``zoneinfo``:

* **ambiguous** (the autumn hour that happens twice): the *earlier* instant
  (fold=0, summer time) is stored and the event is flagged ``ambiguous``;
* **nonexistent** (the spring hour that is skipped): the offset in force
  *before* the change is applied and the event is flagged ``nonexistent``.

Neither case is ever resolved silently: the flag travels with the event into
every table and the statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

APPLE_EPOCH_OFFSET = 978307200  # seconds from 1970-01-01Z to 2001-01-01Z


@dataclass(frozen=True, slots=True)
class TimeReading:
    """The result of reading one timestamp."""

    utc: datetime | None
    basis: str
    flag: str = "ok"
    error: str | None = None


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """Return the ``ZoneInfo`` for an IANA name, with a clear error when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def from_local(naive: datetime, zone_name: str, basis: str | None = None) -> TimeReading:
    """Convert a naive wall-clock time in ``zone_name`` to UTC, flagging clock changes."""
    tz = zone(zone_name)
    basis = basis or f"assumed:{zone_name}"
    early = naive.replace(tzinfo=tz, fold=0)
    late = naive.replace(tzinfo=tz, fold=1)
    early_utc = early.astimezone(UTC)
    late_utc = late.astimezone(UTC)
    if early_utc == late_utc:
        return TimeReading(early_utc, basis, "ok")
    # The two folds differ either because the time happens twice (ambiguous) or
    # because it never happens (nonexistent); a round trip tells them apart.
    if early_utc.astimezone(tz).replace(tzinfo=None) == naive:
        return TimeReading(min(early_utc, late_utc), basis, "ambiguous")
    # Nonexistent: fold=0 applies the offset in force before the change.
    return TimeReading(early_utc, basis, "nonexistent")


def parse_local(text: str, fmt: str, zone_name: str, basis: str | None = None) -> TimeReading:
    """Parse ``text`` with ``strptime`` format ``fmt`` as wall-clock time in ``zone_name``."""
    try:
        naive = datetime.strptime(text.strip(), fmt)  # noqa: DTZ007 - zone applied below
    except ValueError as exc:
        return TimeReading(None, "none", "ok", f"time {text!r} does not match {fmt!r}: {exc}")
    return from_local(naive, zone_name, basis)


def parse_iso(text: str, default_zone: str | None = None) -> TimeReading:
    """Parse an ISO 8601 timestamp; an offset or ``Z`` in the text decides the zone.

    Without an offset, ``default_zone`` is assumed (and recorded); with neither,
    the reading is an error.
    """
    raw = text.strip()
    if not raw:
        return TimeReading(None, "none", "ok", "empty timestamp")
    candidate = raw[:-1] + "+00:00" if raw.endswith(("Z", "z")) else raw
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return TimeReading(None, "none", "ok", f"time {raw!r} is not ISO 8601")
    if parsed.tzinfo is None:
        if default_zone is None:
            return TimeReading(None, "none", "ok", f"time {raw!r} has no offset and no zone was given")
        return from_local(parsed, default_zone)
    offset = parsed.utcoffset()
    basis = "utc-declared" if offset == timedelta(0) and raw.endswith(("Z", "z")) else "offset-in-source"
    return TimeReading(parsed.astimezone(UTC), basis, "ok")


def from_unix(value: float, unit: str = "s") -> TimeReading:
    """Convert a Unix epoch number in seconds, ms, us or ns to UTC."""
    scale = {"s": 1, "ms": 1e3, "us": 1e6, "ns": 1e9}[unit]
    try:
        utc = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=float(value) / scale)
    except (OverflowError, ValueError) as exc:
        return TimeReading(None, "none", "ok", f"epoch value {value!r} out of range: {exc}")
    return TimeReading(utc, "epoch", "ok")


def from_apple(value: float) -> TimeReading:
    """Convert Apple absolute time (seconds, or nanoseconds when > 1e15) to UTC."""
    seconds = float(value) / 1e9 if abs(float(value)) > 1e15 else float(value)
    return from_unix(seconds + APPLE_EPOCH_OFFSET, "s")


def display(utc: datetime | None, zone_name: str = "Europe/London") -> str:
    """Format a UTC instant in the display zone with its abbreviation (GMT/BST)."""
    if utc is None:
        return "(no time)"
    local = utc.astimezone(zone(zone_name))
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")
