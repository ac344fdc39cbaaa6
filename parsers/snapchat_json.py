"""Snapchat "My Data" JSON: chat, snap, friends and location history files.

Format:
    One JSON object per file from the ``json/`` folder of the export; the
    sections are recognised by their keys, so each file is read by the same
    parser:

    * ``chat_history.json``, older shape: ``Received|Sent [Saved|Unsaved]
      Chat History`` lists of ``{From|To, Media Type, Created, Text}``;
      newer shape: one list per conversation (``"<username or group id>":
      [{From, Media Type, Created, Content, Conversation Title, IsSender,
      Created(microseconds), IsSaved, Media IDs}]``). Kind ``chat_message``;
      direction from the section name or ``IsSender``; accounts become
      ``snapchat:<username>``; HTML entities in text (``&#39;``) are decoded,
      flagged ``html_entities_decoded`` with the text as written in ``extra``.
      ``Media IDs`` is kept as the attachment.
    * ``snap_history.json``: ``Received|Sent Snap History`` lists of
      ``{From|To, Media Type, Created}``; kind ``chat_message``, status ``snap``.
    * ``friends.json``: ``Friends``, ``Deleted Friends``, ``Friend Requests
      Sent``, ``Blocked Users``, ``Hidden Friend Suggestions``, ``Ignored
      Snapchatters``, ``Pending Requests``; kind ``social_interaction``,
      status per section (table in ``_snapchat_json_records.py``).
    * ``location_history.json``: ``Location History`` (``{Time, "Latitude,
      Longitude"}`` or ``[time, "lat, lon"]`` pairs) -> ``location_fix``;
      ``Daily Top Locations`` / ``Top Locations Per Six-Day Period``
      (``{"Date: 2022-02-14 UTC": "lat 34.206 ± 19.47 meters, long -118.432 ±
      19.47 meters"}``) -> ``location_visit`` spanning the day / six days,
      flagged ``date_only``; ``Home & Work`` coordinates and ``Frequent
      Locations`` / ``Latest Location`` places -> untimed ``location_visit``.
      ``accuracy_m`` is the ``± N meters`` value (the larger of the two when
      latitude and longitude differ, both kept in ``extra``).

    Any other section (``Shortcuts``, newer location sections, ...) yields
    one rejection per element naming the section. An empty ``Home & Work``
    value is not a record.
Time:
    ``Created`` and ``Time`` are written ``YYYY-MM-DD HH:MM:SS UTC`` (or
    ``YYYY/MM/DD``): tz_basis ``utc-declared``. ``Created(microseconds)``
    actually holds milliseconds in the exports seen; its unit is decided by
    its digit count (10 s, 13 ms, 16 us), it is preferred when present
    (tz_basis ``epoch``, unit in ``extra``), and the event is flagged
    ``created_fields_disagree`` when it and ``Created`` differ by a second or
    more.
Locator:
    JSON pointer: ``json:/Received Saved Chat History/4``,
    ``json:/Daily Top Locations/0/3``, ``json:/Home & Work/Home``.
Limitations:
    The file is streamed one record at a time. Snapchat keeps only saved or
    recent chats and about a month of snaps; most ``Content`` is null.
    Who owns the export is not in these files, so incoming messages have no
    recipient and outgoing older-shape messages no sender. ``Media IDs`` are
    not matched to ``chat_media/`` files. Zip exports, ``memories_history.json``
    and the HTML variant are not read.
References:
    docs formats.md section 2.6; raleighlittles/Snapchat-Chats-And-Location-Analyzer
    (chat and location shapes); public My Data readers in the code index.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import pointer
from parsers._json_stream import JsonStream, JsonStreamError, escape_pointer
from parsers._snapchat_json_records import (
    FRIEND_SECTIONS,
    category_chat,
    conversation_message,
    friend,
    location_fix,
    named_place,
    top_location,
)

Item = EventDraft | Rejection
_HISTORY = re.compile(r"^(Received|Sent) (?:(Saved|Unsaved) )?(Chat|Snap) History$")
TOP_LOCATIONS = {
    "Daily Top Locations": (1, "daily_top"),
    "Top Locations Per Six-Day Period": (6, "six_day_top"),
}
PLACES = {"Frequent Locations": "frequent", "Latest Location": "latest"}
_CONVERSATION_KEYS = ("IsSender", "Conversation Title", "Created(microseconds)")
_SNIFF = re.compile(
    rb'"(?:Received|Sent) (?:Saved |Unsaved )?(?:Chat|Snap) History"\s*:'
    rb'|"Created\(microseconds\)"\s*:|"IsSender"\s*:\s*(?:true|false)'
    rb'|"(?:Frequent Locations|Daily Top Locations|Latest Location)"\s*:'
    rb'|"Top Locations Per Six-Day Period"\s*:'
    rb'|"Location History"\s*:\s*\[\s*(?:\{\s*"Time"|\[\s*"\d{4}[-/])'
    rb'|"(?:Friends|Deleted Friends|Friend Requests Sent|Blocked Users)"'
    rb'\s*:\s*\[\s*(?:\]|\{\s*"Username")'
)


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a JSON object with Snapchat My Data section keys near its start."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return text.startswith(b"{") and bool(_SNIFF.search(text[:65536]))


def parse(source: Source, options: ParseOptions) -> Iterator[Item]:
    """Yield one event or rejection per record of every section, in file order."""
    if not sniff(source.head(), source.display_path):
        raise NotThisFormat("no Snapchat My Data section keys near the start of the file")
    where = "json:"
    try:
        with source.open_text(encoding="utf-8-sig") as fh:
            stream = JsonStream(fh)
            for key in stream.iter_object():
                where = pointer("/" + escape_pointer(key))
                yield from _section(stream, key)
            stream.end()
    except JsonStreamError as exc:
        raise SourceError(source.display_path, where, f"not well-formed JSON: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise SourceError(source.display_path, where, f"not UTF-8 text: {exc}") from exc


def _section(stream: JsonStream, key: str) -> Iterator[Item]:
    base = "/" + escape_pointer(key)
    if key == "Home & Work" and stream.peek() == "{":
        for place in stream.iter_object():
            value = stream.value()
            if value not in ("", None):
                yield named_place(value, pointer(f"{base}/{escape_pointer(place)}"), place.lower())
        return
    if stream.peek() != "[":
        yield Rejection(
            pointer(base), f"section {key!r} is not a list; not read by this parser", stream.value()
        )
        return
    history = _HISTORY.match(key)
    for index in stream.iter_array():
        where = pointer(f"{base}/{index}")
        if key in TOP_LOCATIONS and stream.peek() == "[":
            days, status = TOP_LOCATIONS[key]
            for inner in stream.iter_array():
                yield top_location(stream.value(), pointer(f"{base}/{index}/{inner}"), days, status)
            continue
        rec = stream.value()
        if history:
            direction = "incoming" if history[1] == "Received" else "outgoing"
            saved = None if history[2] is None else history[2] == "Saved"
            yield category_chat(rec, where, direction, saved, history[3] == "Snap")
        elif key in FRIEND_SECTIONS:
            yield friend(rec, where, key)
        elif key == "Location History":
            yield location_fix(rec, where)
        elif key in TOP_LOCATIONS:
            yield top_location(rec, where, *TOP_LOCATIONS[key])
        elif key in PLACES:
            yield named_place(rec, where, PLACES[key])
        elif isinstance(rec, dict) and any(k in rec for k in _CONVERSATION_KEYS):
            yield conversation_message(rec, where, key)
        else:
            yield Rejection(where, f"section {key!r} is not read by this parser", rec)


PARSER = ParserSpec(
    name="snapchat_json",
    version="1.0",
    family="social",
    summary="Snapchat My Data JSON (chat, snap, friends and location history)",
    sniff=sniff,
    parse=parse,
    extensions=(".json",),
)
