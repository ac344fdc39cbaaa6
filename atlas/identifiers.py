"""Normalised identifiers: one spelling per phone number, address or account.

Identifiers are scheme-prefixed strings::

    tel:+447700900123        a phone number in E.164 (phonenumbers, default region GB)
    tel:07700 9001           a number that could not be parsed, kept verbatim (flagged)
    email:jo@example.org     lower-cased address
    whatsapp:+447700900123   a WhatsApp account (JID) by its number
    instagram:some.handle    an account handle on a platform, lower-cased, no '@'
    name:whatsapp:Dave       a display name exactly as an export shows it, on a channel
    vrm:AB12CDE              a vehicle registration mark, upper-case, no spaces

An identifier is never a person: ``case.toml`` attributes identifiers to
persons, each with its basis.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

import phonenumbers

SCHEMES = ("tel", "email", "whatsapp", "name", "vrm", "imei", "imsi", "device", "instagram",
           "facebook", "snapchat", "telegram", "signal", "twitter", "tiktok", "account")


class Ident(NamedTuple):
    """A normalised identifier and whether normalisation succeeded."""

    value: str
    parsed: bool


_WITHHELD = {"", "withheld", "private", "unknown", "anonymous", "restricted", "no caller id",
             "-1", "-2", "-3"}


@lru_cache(maxsize=1 << 16)
def tel(raw: str, region: str = "GB") -> Ident | None:
    """Normalise a phone number to ``tel:+E164``; return None for withheld/empty numbers.

    A number ``phonenumbers`` cannot parse, or that is not a possible number,
    is kept verbatim (whitespace trimmed) with ``parsed=False`` so the caller
    can flag it; it is never guessed. Results are cached: call records and
    tower dumps repeat the same few numbers many times, and parsing is the
    costly part of a row.
    """
    text = raw.strip()
    if text.lower() in _WITHHELD:
        return None
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return Ident(f"tel:{text}", False)
    # IS_POSSIBLE only: a number that is "possible" only as a local dial string
    # (no area code) cannot be written in E.164 honestly.
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        return Ident(f"tel:{text}", False)
    return Ident("tel:" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True)


def email(raw: str) -> Ident:
    """Normalise an email address (angle brackets and display name removed, lower-cased)."""
    text = raw.strip()
    match = re.search(r"<([^<>]+)>", text)
    if match:
        text = match.group(1)
    text = text.strip().lower()
    ok = bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text))
    return Ident(f"email:{text}", ok)


def handle(platform: str, raw: str) -> Ident:
    """Normalise an account handle on ``platform`` (lower-cased, leading '@' removed)."""
    text = raw.strip().lstrip("@").lower()
    return Ident(f"{platform}:{text}", bool(text))


def display_name(channel: str, raw: str) -> str:
    """Return the identifier of a display name exactly as shown on ``channel``."""
    return f"name:{channel}:{raw.strip()}"


def vrm(raw: str) -> Ident:
    """Normalise a vehicle registration mark (upper-case, spaces removed)."""
    text = re.sub(r"[\s-]+", "", raw).upper()
    return Ident(f"vrm:{text}", bool(re.fullmatch(r"[A-Z0-9]{2,8}", text)))


def whatsapp_jid(raw: str, region: str = "GB") -> Ident | None:
    """Normalise a WhatsApp JID such as ``447700900123@s.whatsapp.net`` to ``whatsapp:+E164``."""
    user = raw.strip().split("@", 1)[0]
    number = tel("+" + user if user.isdigit() else user, region)
    if number is None:
        return None
    return Ident("whatsapp:" + number.value.removeprefix("tel:"), number.parsed)


def normalise(value: str, region: str = "GB") -> Ident:
    """Normalise an identifier written with its scheme, as in ``case.toml``.

    ``tel:07700 900123`` becomes ``tel:+447700900123``. Unknown schemes are an
    error for the caller to report.
    """
    if ":" not in value:
        raise ValueError(f"{value!r} has no scheme; write e.g. 'tel:{value}'")
    scheme, rest = value.split(":", 1)
    scheme = scheme.strip().lower()
    if scheme not in SCHEMES:
        raise ValueError(f"unknown identifier scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    if scheme == "tel":
        got = tel(rest, region)
        if got is None:
            raise ValueError(f"{value!r} is a withheld or empty number")
        return got
    if scheme == "email":
        return email(rest)
    if scheme == "vrm":
        return vrm(rest)
    if scheme == "whatsapp":
        got = tel(rest, region)
        if got is None:
            raise ValueError(f"{value!r} is empty")
        return Ident("whatsapp:" + got.value.removeprefix("tel:"), got.parsed)
    if scheme == "name":
        if ":" not in rest:
            raise ValueError(f"{value!r}: write a display name as name:<channel>:<name as shown>")
        channel, name = rest.split(":", 1)
        return Ident(display_name(channel.strip().lower(), name), bool(name.strip()))
    if scheme in ("imei", "imsi", "device"):
        text = rest.strip()
        return Ident(f"{scheme}:{text}", bool(text))
    return handle(scheme, rest)
