"""Cellebrite report.xml: reading fields, times, parties and identifiers of one model.

A model element holds ``field`` (one ``value`` or ``empty``), ``multiField``
(several ``value``), ``modelField`` (one nested ``model``) and
``multiModelField`` (a list of nested models). These helpers read only direct
children, so a nested model's fields never leak into its parent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from lxml import etree

from atlas.identifiers import Ident, display_name, email, handle, tel, whatsapp_jid
from atlas.parsing import ParseOptions
from atlas.timeparse import TimeReading, from_local, parse_iso, zone

NS = "http://pa.cellebrite.com/report/2.0"

DELETED_STATES = {"intact": "intact", "deleted": "deleted", "trash": "deleted"}

# The app named in a model's ``Source`` field -> channel. Anything else is lower-cased with
# spaces turned into underscores, so no app name is lost.
CHANNELS = {
    "whatsapp": "whatsapp",
    "whatsapp business": "whatsapp_business",
    "instagram": "instagram",
    "instagram direct": "instagram",
    "facebook messenger": "facebook_messenger",
    "messenger": "facebook_messenger",
    "facebook": "facebook",
    "snapchat": "snapchat",
    "telegram": "telegram",
    "signal": "signal",
    "skype": "skype",
    "viber": "viber",
    "tiktok": "tiktok",
    "twitter": "twitter",
    "x": "twitter",
    "imessage": "imessage",
    "facetime": "facetime",
    "line": "line",
    "wechat": "wechat",
    "discord": "discord",
    "threema": "threema",
}
NATIVE_SOURCES = {"", "native", "phone", "sms", "mms", "call log", "native messages", "messages"}
HANDLE_PLATFORMS = {
    "instagram",
    "facebook",
    "facebook_messenger",
    "snapchat",
    "telegram",
    "twitter",
    "tiktok",
}

_OFFSET = re.compile(r"(?:[+-]\d{2}:?\d{2}|[Zz])$")
_PHONE_LIKE = re.compile(r"^\+?[\d\s().-]{6,}$")
_EMAIL_LIKE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_ANGLE_EMAIL = re.compile(r"<[^<>@\s]+@[^<>@\s]+>")


_C = f"{{{NS}}}"
FIELD, VALUE, MODEL = _C + "field", _C + "value", _C + "model"
MULTI_FIELD, MODEL_FIELD, MULTI_MODEL_FIELD = (
    _C + "multiField",
    _C + "modelField",
    _C + "multiModelField",
)


def _named(el: etree._Element, clark: str, name: str) -> list[etree._Element]:
    return [c for c in el.iterchildren(clark) if c.get("name") == name]


def value_el(model: etree._Element, name: str) -> etree._Element | None:
    """Return the ``value`` element of field ``name``, or None when absent or ``<empty/>``."""
    for f in _named(model, FIELD, name):
        for v in f.iterchildren(VALUE):
            return v
    return None


def text(model: etree._Element, name: str, strip: bool = True) -> str | None:
    """Return the text of field ``name`` (None when absent, empty or blank)."""
    v = value_el(model, name)
    if v is None:
        return None
    raw = v.text if v.text is not None else v.get("value")
    if raw is None or not raw.strip():
        return None
    return raw.strip() if strip else raw


def first_text(model: etree._Element, *names: str) -> str | None:
    """Return the first non-empty text among several field names."""
    for name in names:
        got = text(model, name)
        if got is not None:
            return got
    return None


def multi_values(model: etree._Element, name: str) -> list[str]:
    """Return the texts of a ``multiField``."""
    out = []
    for mf in _named(model, MULTI_FIELD, name):
        out.extend((v.text or "").strip() for v in mf.iterchildren(VALUE))
    return [v for v in out if v]


def sub_models(model: etree._Element, name: str) -> list[etree._Element]:
    """Return models under a ``modelField`` or ``multiModelField`` called ``name``."""
    out = []
    for holder in _named(model, MODEL_FIELD, name) + _named(model, MULTI_MODEL_FIELD, name):
        out.extend(holder.iterchildren(MODEL))
    return out


def deletion(model: etree._Element) -> tuple[str, tuple[str, ...]]:
    """Return the deletion state and flags from ``deleted_state`` and ``iscarved``."""
    state = DELETED_STATES.get((model.get("deleted_state") or "").strip().lower(), "unknown")
    if (model.get("iscarved") or "").strip().lower() == "true":
        return "recovered", ("carved",)
    return state, ()


def channel_of(source: str | None, default: str | None) -> str | None:
    """Normalise an app name from ``Source`` to a channel; native or empty gives ``default``."""
    key = (source or "").strip().lower()
    if key in NATIVE_SOURCES:
        return default
    return CHANNELS.get(key, re.sub(r"\s+", "_", key))


@dataclass
class Clock:
    """How to read times that carry no offset: the report's zone setting, else the case default."""

    options: ParseOptions
    report_zone: str | None = None

    def read(self, v: etree._Element) -> tuple[TimeReading, str, dict[str, Any]]:
        """Read a TimeStamp ``value``: return the reading, verbatim text and ``extra`` hints."""
        raw = (v.text or "").strip()
        formatted = (v.get("formattedTimestamp") or "").strip()
        hints: dict[str, Any] = {}
        if v.get("format"):
            hints["timestamp_format"] = v.get("format")
        if formatted and formatted != raw:
            hints["timestamp_formatted"] = formatted
        if not raw:
            raw = formatted
        if _OFFSET.search(raw):
            return parse_iso(raw), raw, hints
        try:
            naive = datetime.fromisoformat(raw)
        except ValueError:
            return TimeReading(None, "none", "ok", f"timestamp {raw!r} is not ISO 8601"), raw, hints
        if self.report_zone:
            return (
                from_local(naive, self.report_zone, f"report-setting:{self.report_zone}"),
                raw,
                hints,
            )
        return from_local(naive, self.options.source_tz), raw, hints


def parse_zone_setting(value: str) -> str | None:
    """Return the IANA zone in a ``Time zone settings (ID)`` value, or None if not one."""
    # PA writes e.g. "_America/Sao_Paulo"; strip the marker and check zoneinfo knows it.
    candidate = value.strip().lstrip("_").strip()
    if not candidate:
        return None
    try:
        zone(candidate)
    except ValueError:
        return None
    return candidate


def parse_duration(raw: str) -> float | None:
    """Parse a .NET TimeSpan (``[d.]hh:mm:ss[.fffffff]``) or plain seconds; None if neither."""
    m = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d{1,2}):(\d{1,2})(?:\.(\d+))?", raw.strip())
    if m:
        days, hours, minutes, seconds, frac = m.groups()
        total = int(days or 0) * 86400 + int(hours) * 3600 + int(minutes) * 60 + int(seconds)
        return total + (float("0." + frac) if frac else 0.0)
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if value >= 0 else None


def parse_number(raw: str | None) -> float | None:
    """Parse a decimal that may use a comma (``51,5``); None when absent or not a number."""
    if raw is None:
        return None
    try:
        return float(raw.strip().replace(",", "."))
    except ValueError:
        return None


@dataclass(frozen=True)
class Party:
    """One ``Party`` model: who took part, as written."""

    identifier: str | None
    name: str | None
    role: str | None
    is_owner: bool


def parties(model: etree._Element, *names: str) -> list[Party]:
    """Return the parties under the given modelField/multiModelField names, in order."""
    out = []
    for holder_name in names:
        for p in sub_models(model, holder_name):
            role = text(p, "Role")
            if role in (None, "General") and holder_name not in ("Parties", "Participants"):
                role = holder_name  # Email To/Cc/Bcc hold parties whose Role is General.
            out.append(
                Party(
                    text(p, "Identifier"),
                    text(p, "Name"),
                    role,
                    (text(p, "IsPhoneOwner") or "").lower() == "true",
                )
            )
    return out


@lru_cache(maxsize=1 << 16)
def ident(raw: str, channel: str | None, region: str) -> Ident | None:
    """Normalise a party identifier for its channel; None for withheld or empty.

    Cached, because the same numbers recur thousands of times in one report.
    """
    value = raw.strip()
    if not value:
        return None
    lowered = value.lower()
    if lowered.endswith(("@s.whatsapp.net", "@c.us")):
        return whatsapp_jid(value, region)
    if lowered.endswith("@g.us"):
        return handle("whatsapp", value)
    if (
        channel == "email"
        or _ANGLE_EMAIL.search(value)
        or (
            _EMAIL_LIKE.match(value)
            and channel in (None, "sms", "mms", "phone", "imessage", "facetime")
        )
    ):
        return email(value)
    if channel in (
        None,
        "sms",
        "mms",
        "phone",
        "imessage",
        "facetime",
        "signal",
        "whatsapp",
        "whatsapp_business",
        "viber",
    ) and _PHONE_LIKE.match(value):
        got = tel(value, region)
        if got is not None and channel in ("whatsapp", "whatsapp_business"):
            return Ident("whatsapp:" + got.value.removeprefix("tel:"), got.parsed)
        return got
    if channel in (None, "sms", "mms", "phone"):
        return tel(value, region)
    if channel in HANDLE_PLATFORMS:
        return handle("facebook" if channel == "facebook_messenger" else channel, value)
    if _EMAIL_LIKE.match(value):
        return email(value)
    return handle("account", f"{channel}:{value}")


@dataclass
class People:
    """Normalised sender and recipients of one record, with flags for unparsed identifiers."""

    sender: str | None = None
    sender_name: str | None = None
    recipients: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @staticmethod
    def value_of(party: Party, channel: str | None, region: str) -> tuple[str | None, bool]:
        """Return a party's identifier (else its display name) and whether it parsed."""
        got = ident(party.identifier, channel, region) if party.identifier else None
        if got is not None:
            return got.value, got.parsed
        if party.name and channel:
            return display_name(channel, party.name), True
        return None, True

    def add(self, party: Party, as_sender: bool, channel: str | None, region: str) -> None:
        """Add one party as the sender or as a recipient."""
        value, parsed = self.value_of(party, channel, region)
        if not parsed:
            flag = "sender_unparsed_identifier" if as_sender else "recipient_unparsed_identifier"
            if flag not in self.flags:
                self.flags.append(flag)
        if as_sender:
            self.sender, self.sender_name = value, party.name
        elif value is not None and value not in self.recipients:
            self.recipients.append(value)


def raw_excerpt(el: etree._Element, limit: int = 600) -> str:
    """Return the start of an element's XML for a rejection's ``raw``."""
    return etree.tostring(el, encoding="unicode", with_tail=False)[:limit]
