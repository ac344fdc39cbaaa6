"""Cellebrite report.xml: one ``metadata/item`` -> one ``device_info`` event.

Metadata sections ("Additional Fields", "Extraction Data", "Device Info" …)
hold name/value items: device model, IMEI, IMSI, MSISDN, extraction dates, the
UFED version and the examiner's time zone setting. Each item is one record.
The device's own numbers and hardware identifiers are marked as attribution
hints; the time zone setting is read so later offset-less times can use it.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from atlas.events import EventDraft
from atlas.identifiers import tel
from parsers._ufed_fields import Clock, parse_zone_setting

# Item names (lower-cased, matched as regular expressions) that hold the device's own identifiers.
OWN_NUMBER_ITEMS = re.compile(r"msisdn|phone ?number|own ?number|\bmdn\b|line ?number")
HARDWARE_ITEMS = (
    ("imei", re.compile(r"\bimei\d?\b|meid")),
    ("imsi", re.compile(r"\bimsi\b")),
    ("device", re.compile(r"\biccid\b|serial")),
)
TIMEZONE_ITEMS = ("time zone settings (id)",)
"""The examiner's display zone, which PA applies to times stored without an offset."""


def item_event(item: etree._Element, section: str | None, where: str, clock: Clock) -> EventDraft:
    """Map one metadata item to a ``device_info`` event (and note a time zone setting)."""
    name = (item.get("name") or "").strip()
    raw = item.text if item.text is not None and item.text.strip() else item.get("value")
    value = raw.strip() if raw is not None else None
    extra: dict[str, Any] = {"section": section, "name": name, "value": value}
    attrs = {k: v for k, v in item.attrib.items() if k not in ("name", "value")}
    if attrs:
        extra["attributes"] = dict(sorted(attrs.items()))
    flags: list[str] = []
    lname = name.lower()
    if value and OWN_NUMBER_ITEMS.search(lname):
        got = tel(value, clock.options.region)
        if got is not None:
            extra.update(hint="device_own_identifier", identifier=got.value)
            if not got.parsed:
                flags.append("unparsed_number")
    elif value:
        for scheme, pattern in HARDWARE_ITEMS:
            if pattern.search(lname):
                extra.update(hint="device_own_identifier", identifier=f"{scheme}:{value}")
                break
    if lname in TIMEZONE_ITEMS and value:
        zone_name = parse_zone_setting(value)
        if zone_name is None:
            flags.append("timezone_setting_unrecognised")
        else:
            extra["timezone"] = zone_name
            if clock.report_zone is None:
                clock.report_zone = zone_name
    return EventDraft(
        locator=where,
        kind="device_info",
        timestamp_utc=None,
        timestamp_source=None,
        tz_basis="none",
        tz_flag="no_time",
        direction="none",
        deleted="unknown",
        flags=tuple(flags),
        extra=extra,
    )
