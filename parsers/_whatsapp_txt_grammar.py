"""Line grammar of WhatsApp "Export chat" text: headers, dates, placeholders, senders.

Kept apart from ``whatsapp_txt`` so the tables a reviewer checks (placeholder and
system wording per UI language) sit together, and so the module that drives the
parse stays short. Everything here is a pure function of one line or one header.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from atlas.identifiers import display_name, tel
from atlas.timeparse import TimeReading, from_local

# Invisible characters WhatsApp (or the share sheet) puts at line starts and around
# names: BOM / zero-width no-break space, LRM/RLM, bidi embeddings and isolates.
MARKS = "\ufeff\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_DROP_MARKS = str.maketrans("", "", MARKS)
_SP = "[ \u00a0\u202f]"  # space, no-break space, narrow no-break space (before AM/PM)

HEADER = re.compile(
    rf"[{MARKS}]*(?P<br>\[)?"
    r"(?P<ts>(?P<a>\d{4}|\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?P<c>\d{4}|\d{2})\.?"
    rf",?{_SP}+(?P<H>\d{{1,2}})[:.](?P<M>\d{{2}})(?:[:.](?P<S>\d{{2}}))?"
    rf"(?:{_SP}*(?P<ap>[aApP])\.?{_SP}*[mM]\.?)?)"
    rf"(?(br)\]{_SP}?|{_SP}+[-\u2013]{_SP})"
)
"""A message header: ``29/01/18, 12:24 - ``, ``[29.01.18, 12:24:03] ``, ``1/29/18, 12:24 PM - ``."""

# --- Message bodies that stand for media, deletion or editing (per UI language). ---
ATTACHED = re.compile(
    r"<(?:attached|Anhang|adjunto|anexo|pièce jointe|allegato|bijlage): (?P<name>[^<>]+)>"
)
"""iOS attachment line: ``<attached: 00000012-PHOTO-2020-01-01-12-00-00.jpg>``."""
FILE_ATTACHED = re.compile(
    r"^(?P<name>.+?) \((?:file attached|Datei angehängt|archivo adjunto|fichier joint|"
    r"file allegato|arquivo anexado|bestand bijgevoegd)\)$"
)
"""Android attachment line when media was included: ``IMG-20200101-WA0001.jpg (file attached)``."""
PLACEHOLDER = re.compile(
    r"^(?:<Media omitted>|<Medien ausgeschlossen>|<Medien weggelassen>|<Multimedia omitido>|"
    r"<Médias omis>|(?:image|video|audio|sticker|GIF|document|Contact card) omitted|"
    r"(?:Bild|Video|Audio|Sticker|GIF|Dokument|Kontaktkarte) weggelassen|"
    r".+ document omitted|.+ Dokument weggelassen)$"
)
"""Media left out of the export: the placeholder text itself is the attachment entry."""
DELETED = re.compile(
    r"^(?:This message was deleted|You deleted this message|Diese Nachricht wurde gelöscht|"
    r"Du hast diese Nachricht gelöscht|Se eliminó este mensaje|Eliminaste este mensaje)\.?$"
)
_CLASSIFY_HINT = re.compile(
    r"[<(]|omitted|weggelassen|deleted|gelöscht|eliminó|Eliminaste", re.IGNORECASE)
"""Every body the patterns above can match contains one of these (a cheap pre-check)."""
EDITED = re.compile(
    r"<(?:This message was edited|Diese Nachricht wurde bearbeitet|Se editó este mensaje)>\s*$"
)

# --- System lines. Android writes them with no "Name: "; iOS writes "<chat name>: " then a
# U+200E and the notice. These phrases let both be recognised; anything else with a
# "Name: " stays a message, so an unknown notice is at worst attributed to the chat name
# (see Limitations in whatsapp_txt). ---
SYSTEM_BODY = re.compile(
    r"end-to-end encrypted|Ende-zu-Ende-verschlüsselt|created group|created this group|"
    r"changed the subject|changed this group's icon|changed the group description|"
    r"deleted this group's icon|\badded\b|\bremoved\b|\bleft$|joined using this group's invite"
    r"|security code (?:with .* )?changed|changed their phone number|You were added|"
    r"hinzugefügt|entfernt|verlassen|Sicherheitsnummer|hat den Betreff|hat das Gruppenbild|"
    r"hat die Gruppe"
)
SYSTEM_IN_NAME = re.compile(
    r' created group "| changed the subject | changed the group description| changed to "|'
    r' hat die Gruppe „| hat den Betreff '
)
"""A system line whose own text contains ": " (a quoted group subject) must not be split."""

PHONE_NAME = re.compile(r"^\+[\d \u00a0\-()]{6,}$")
THREAD_FILE = re.compile(r"^WhatsApp Chat (?:with|mit|-) (?P<name>.+)\.(?:txt|zip)$", re.I)


def thread_from_filename(display_path: str) -> str | None:
    """Return the chat name from ``WhatsApp Chat with X.txt`` / ``WhatsApp Chat - X.zip``."""
    base = display_path.replace("\\", "/").rsplit("/", 1)[-1]
    match = THREAD_FILE.match(base)
    return match.group("name") if match else None


def sniff_text(head: bytes, filename: str) -> bool:
    """Return True when the first non-blank line of ``head`` is a WhatsApp header.

    A file named like a WhatsApp export may have up to ten stray lines first. A
    bracketed ``[YYYY-MM-DD, HH:MM]`` header without seconds is Signal's text export
    (WhatsApp on iOS always writes seconds), so it is left to that parser.
    """
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not merely a character cut at the end of the head
            return False
        text = head[:exc.start].decode("utf-8")
    named = thread_from_filename(filename) is not None
    checked = 0
    for text_line in text.lstrip("\ufeff").splitlines():
        if not text_line.strip():
            continue
        m = HEADER.match(text_line)
        if m is not None:
            signal_like = (m.group("br") and len(m.group("a")) == 4
                           and m.group("sep") == "-" and m.group("S") is None)
            return not signal_like
        checked += 1
        if not named or checked >= 10:
            return False
    return False


def infer_order(texts: Iterable[str]) -> tuple[str | None, bool, bool]:
    """Scan header lines once and return (settled order, any header seen, conflict).

    A first field above 12 can only be a day (dmy); a second field above 12 can only
    be a day (mdy). Headers with a four-digit first field are ymd by shape and say
    nothing about the others. When both dmy and mdy evidence appear the file does not
    settle the order and ``conflict`` is True. Memory use is constant.
    """
    day_first = month_first = seen = False
    match_header = HEADER.match
    for text in texts:
        m = match_header(text)
        if m is None:
            continue
        seen = True
        a = m.group("a")
        if len(a) == 4:
            continue
        if int(a) > 12:
            day_first = True
        if int(m.group("b")) > 12:
            month_first = True
        if day_first and month_first:
            return None, True, True
    if day_first:
        return "dmy", seen, False
    if month_first:
        return "mdy", seen, False
    return None, seen, False


def wall_clock(m: re.Match[str], order: str, dates: dict[tuple[str, str, str], object]
               ) -> tuple[datetime | None, str]:
    """Return the naive local time of a header and the order used, or None and a reason.

    ``dates`` caches each distinct date text (a chat has few) so a million headers
    cost a million dictionary look-ups rather than a million date validations.
    """
    key = (m.group("a"), m.group("b"), m.group("c"))
    day = dates.get(key)
    if day is None:
        day = dates[key] = _calendar_day(*key, order, m.group("ts"))
    if isinstance(day, str):
        return None, day
    year, month, mday, used = day  # type: ignore[misc]
    hour = int(m.group("H"))
    ap = m.group("ap")
    if ap:
        if hour > 12:
            return None, f"hour {hour} cannot go with an AM/PM marker in {m.group('ts')!r}"
        hour = hour % 12 + (12 if ap in "pP" else 0)
    second = m.group("S")
    try:
        # Naive on purpose: wall-clock time, converted by timeparse.from_local.
        naive = datetime(year, month, mday, hour, int(m.group("M")),  # noqa: DTZ001
                         int(second) if second else 0)
    except ValueError as exc:
        return None, f"impossible time {m.group('ts')!r}: {exc}"
    return naive, used


def _calendar_day(a: str, b: str, c: str, order: str, shown: str
                  ) -> tuple[int, int, int, str] | str:
    """Return (year, month, day, order used) for the date fields, or a reason."""
    if len(a) == 4:
        if len(c) == 4:
            return f"date {shown!r} has two four-digit fields"
        used = "ymd"
        year, month, day = int(a), int(b), int(c)
    else:
        used = order
        year_text = a if order == "ymd" else c
        year = int(year_text) + (2000 if len(year_text) == 2 else 0)
        if order == "dmy":
            day, month = int(a), int(b)
        elif order == "mdy":
            month, day = int(a), int(b)
        else:
            month, day = int(b), int(c)
    try:
        datetime(year, month, day)  # noqa: DTZ001 - calendar check only
    except ValueError as exc:
        return f"impossible date {shown!r} read as {used}: {exc}"
    return year, month, day, used


def classify(body: str) -> tuple[tuple[str, ...], str | None]:
    """Return (attachments, status) for a message body (first line decides media)."""
    if _CLASSIFY_HINT.search(body) is None:
        return (), None  # most messages: one scan instead of five patterns
    first = body.split("\n", 1)[0].strip(MARKS + " ")
    attachments: tuple[str, ...] = ()
    status = None
    found = ATTACHED.search(first)
    if found:
        attachments = (found.group("name").strip(MARKS + " "),)
    elif (found := FILE_ATTACHED.match(first)) is not None:
        attachments = (found.group("name").strip(MARKS + " "),)
    elif PLACEHOLDER.match(first):
        attachments = (first,)
    elif DELETED.match(body.strip(MARKS + " ")):
        status = "deleted_message"
    if EDITED.search(body):
        status = "edited"
    return attachments, status


def is_ios_system(body: str) -> bool:
    """Return True for an iOS notice: a U+200E-prefixed body with a known system phrase."""
    if not body.startswith("\u200e"):
        return False
    first = body.split("\n", 1)[0].strip(MARKS + " ")
    if ATTACHED.search(first) or FILE_ATTACHED.match(first) or PLACEHOLDER.match(first):
        return False
    if DELETED.match(first) or EDITED.search(body):
        return False
    return SYSTEM_BODY.search(first) is not None


def sender_of(name: str, region: str) -> tuple[str | None, tuple[str, ...]]:
    """Return the sender identifier for a name as shown, and any flags."""
    clean = name.translate(_DROP_MARKS).strip()
    if not clean:
        return None, ("sender_name_empty",)
    if PHONE_NAME.match(clean):
        number = tel(clean, region)
        if number is not None:
            flags = () if number.parsed else ("sender_unparsed_number",)
            return "whatsapp:" + number.value.removeprefix("tel:"), flags
    return display_name("whatsapp", clean), ()


class HourClock:
    """Convert wall-clock times with ``timeparse.from_local``, reusing whole calm hours.

    ``from_local`` is asked about the first and last second of each local hour. When
    both are ``ok`` with the same offset, no clock change falls inside that hour, so
    every time in it takes that offset; any other hour is converted time by time,
    which keeps the ``ambiguous``/``nonexistent`` flags exactly as ``from_local``
    gives them. This turns a million conversions into one per distinct hour.
    """

    LIMIT = 100_000

    def __init__(self, zone_name: str) -> None:
        self.zone = zone_name
        self._hours: dict[tuple[int, int, int, int], timedelta | None] = {}

    def convert(self, naive: datetime) -> TimeReading:
        """Return the reading ``from_local(naive, zone)`` would give."""
        key = (naive.year, naive.month, naive.day, naive.hour)
        if key in self._hours:
            offset = self._hours[key]
        else:
            if len(self._hours) >= self.LIMIT:
                self._hours.clear()
            offset = self._hours[key] = self._calm_offset(naive)
        if offset is None:
            return from_local(naive, self.zone)
        return TimeReading((naive - offset).replace(tzinfo=UTC), f"assumed:{self.zone}", "ok")

    def _calm_offset(self, naive: datetime) -> timedelta | None:
        start = naive.replace(minute=0, second=0, microsecond=0)
        end = start.replace(minute=59, second=59)
        first, last = from_local(start, self.zone), from_local(end, self.zone)
        if first.flag != "ok" or last.flag != "ok":
            return None
        offset = start - first.utc.replace(tzinfo=None)
        if end - last.utc.replace(tzinfo=None) != offset:
            return None
        return offset
