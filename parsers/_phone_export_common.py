"""Shared helpers for the phone-extraction *report* parsers (``xry_txt``, ``axiom_csv``).

Not a parser: no ``PARSER`` here. Both report formats write parties as free text
(a number, a WhatsApp JID, an e-mail address, ``Name <number>`` or a bare display
name), direction as a word, and durations as ``hh:mm:ss`` or seconds; these
helpers turn them into the event model's values without guessing.
"""

from __future__ import annotations

import re

from atlas.identifiers import SCHEMES, Ident, display_name, email, handle, tel, whatsapp_jid

_PHONE = re.compile(r"^\+?[\d\s().\-/]{3,}$")
_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")
_NAME_AND_ADDRESS = re.compile(r"^(?P<name>.*?)\s*<(?P<address>[^<>]+)>\s*$")
_WITHHELD = {"withheld", "private", "private number", "unknown", "anonymous", "restricted",
             "no caller id", "hidden"}

# Channel names as report writers spell them -> the channel stored on the event.
CHANNEL_WORDS: tuple[tuple[str, str], ...] = (
    ("whatsapp", "whatsapp"),
    ("telegram", "telegram"),
    ("signal", "signal"),
    ("instagram", "instagram"),
    ("messenger", "facebook"),
    ("facebook", "facebook"),
    ("snapchat", "snapchat"),
    ("twitter", "twitter"),
    ("tiktok", "tiktok"),
    ("viber", "viber"),
    ("skype", "skype"),
    ("wickr", "wickr"),
    ("discord", "discord"),
    ("imessage", "imessage"),
    ("mms", "mms"),
    ("sms", "sms"),
)

# Direction words used by XRY and AXIOM -> (direction, status implied by the word).
DIRECTION_WORDS: dict[str, tuple[str, str | None]] = {
    "incoming": ("incoming", None),
    "received": ("incoming", None),
    "inbox": ("incoming", None),
    "deliver": ("incoming", None),
    "missed": ("incoming", "missed"),
    "rejected": ("incoming", "rejected"),
    "declined": ("incoming", "rejected"),
    "blocked": ("incoming", "blocked"),
    "outgoing": ("outgoing", None),
    "sent": ("outgoing", None),
    "outbox": ("outgoing", "outbox"),
    "dialed": ("outgoing", None),
    "dialled": ("outgoing", None),
    "last dialed": ("outgoing", "last_dialed"),
    "submit": ("outgoing", None),
    "draft": ("outgoing", "draft"),
    "drafts": ("outgoing", "draft"),
    "unsent": ("outgoing", "unsent"),
    "sending failed": ("outgoing", "failed"),
    "failed": ("outgoing", "failed"),
}

_YES = {"yes", "true", "deleted", "1", "y"}
_NO = {"no", "false", "intact", "0", "n", "active"}


def channel_from_text(text: str | None) -> str | None:
    """Return the channel named in an application or artefact name, or None."""
    if not text:
        return None
    low = text.lower()
    for word, channel in CHANNEL_WORDS:
        if re.search(rf"(?<![a-z]){word}(?![a-z])", low):
            return channel
    return None


def direction_of(word: str | None) -> tuple[str, str | None] | None:
    """Return (direction, implied status) for a direction word, or None when unknown."""
    if not word:
        return None
    return DIRECTION_WORDS.get(" ".join(word.lower().split()))


def yes_no(word: str | None) -> bool | None:
    """Return True/False for a yes/no style cell, None when empty or not yes/no."""
    if word is None:
        return None
    low = word.strip().lower()
    if low in _YES:
        return True
    if low in _NO:
        return False
    return None


def split_name(raw: str) -> tuple[str | None, str]:
    """Split ``Name <address>`` into (name, address); other text is (None, text)."""
    text = raw.strip()
    match = _NAME_AND_ADDRESS.match(text)
    if match:
        return (match.group("name").strip().strip('"') or None), match.group("address").strip()
    return None, text


def identify(raw: str | None, channel: str | None, region: str) -> Ident | None:
    """Normalise one party as written in a report; None for empty or withheld.

    Numbers become ``tel:`` (``whatsapp:`` on WhatsApp), JIDs ``whatsapp:``, addresses
    ``email:``; any other text is an account handle on platforms that have one, else a
    display name on the channel (an alphanumeric SMS sender such as ``HSBC``).
    """
    if raw is None:
        return None
    text = raw.strip()
    if not text or text.lower() in _WITHHELD:
        return None
    if re.search(r"@(s\.whatsapp\.net|c\.us|g\.us)$", text):
        return whatsapp_jid(text)
    if _EMAIL.match(text):
        return email(text)
    if _PHONE.match(text) and sum(ch.isdigit() for ch in text) >= 2:
        number = tel(text, region)
        if number is None:
            return None
        if channel == "whatsapp":
            return Ident("whatsapp:" + number.value.removeprefix("tel:"), number.parsed)
        return number
    if channel in SCHEMES and channel not in ("tel", "email", "name", "vrm", "imei", "imsi", "device"):
        return handle(channel, text)
    return Ident(display_name(channel or "unknown", text), True)


def unparsed_flag(role: str, ident: Ident | None) -> tuple[str, ...]:
    """Return the flag for an identifier that could not be normalised, if any."""
    if ident is not None and not ident.parsed:
        return (f"{role}_unparsed_number" if ident.value.startswith("tel:") else f"{role}_unparsed",)
    return ()


def parse_duration(raw: str | None) -> float | None:
    """Return seconds from ``[d.]hh:mm:ss[.f]``, ``mm:ss`` or plain seconds; None if unreadable."""
    if raw is None:
        return None
    text = raw.strip().lower().removesuffix("s").removesuffix("sec").strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    match = re.fullmatch(r"(?:(\d+)\.)?(\d{1,3}):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?", text)
    if not match:
        return None
    days, first, second, third = match.groups()
    if third is None:  # mm:ss
        return int(first) * 60 + float(second)
    return int(days or 0) * 86400 + int(first) * 3600 + int(second) * 60 + float(third)


def parse_coordinate(raw: str | None) -> float | None:
    """Return a decimal-degree number (a decimal comma is accepted); None if unreadable."""
    if raw is None:
        return None
    text = raw.strip().replace("\u2212", "-")
    if re.fullmatch(r"[+-]?\d{1,3},\d+", text):
        text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None
