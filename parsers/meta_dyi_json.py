"""Instagram and Facebook "Download your information" (DYI) JSON, one file or the zip.

Format:
    JSON files from Meta's self-service export, dispatched on their top-level
    keys (and, for top-level arrays, the file name):

    * messages, ``message_N.json``: ``{participants[{name}], messages[], title,
      thread_path, ...}``; each message (``sender_name``, ``timestamp_ms``,
      ``content``, ``photos``/``videos``/``audio_files``/``gifs``/``files``/
      ``sticker``, ``share``, ``reactions``, ``is_unsent``, ``type``) is one
      record: kind ``chat_message`` (``Call`` -> ``call`` with
      ``call_duration``; ``Subscribe``/``Unsubscribe`` -> ``system``), channel
      ``instagram`` or ``messenger``. Only display names identify people:
      ``name:instagram:<name>``; recipients are the other participants listed
      for the thread. ``is_unsent`` -> status ``unsent``; a message with no
      content, media or share is flagged ``no_content``.
    * Instagram ``relationships_*`` (following, followers, blocked, ...),
      ``likes_*``, ``comments_*`` and ``searches_*`` sections, and the
      top-level arrays ``followers_N.json``, ``post_comments_N.json``,
      ``posts_N.json``: one record per ``string_list_data`` value (or per
      ``string_map_data`` item); the other account becomes ``instagram:<handle>``
      from ``value``, ``title`` or the profile ``href``.
    * Facebook ``friends_v2``/``following_v3``/request lists, ``comments_v2``,
      ``reactions_v2``, ``searches_v2`` and the top-level arrays
      ``your_posts_N.json``/``likes_and_reactions_N.json``: one record per item.

    Kinds and statuses per section are the tables in
    ``parsers/_meta_dyi_json_records.py`` (follows, likes, comments ->
    ``social_interaction``; posts -> ``social_post``; searches -> ``app_event``);
    threads are mapped in ``parsers/_meta_dyi_json_messages.py``.
    Every string has the DYI mojibake repaired (``s.encode("latin-1").decode(
    "utf-8")`` when that round-trips, else left as written); a record where a
    repair changed anything is flagged ``mojibake_repaired``. Other source
    fields (reactions, share, thread path, media objects) go to ``extra``.
    A zip of the export is read member by member (JSON members in sorted name
    order); a JSON member in a layout this parser does not read is one
    rejection, other members (media, HTML) are not records.
Time:
    ``timestamp_ms`` (messages) is Unix milliseconds, every other timestamp
    Unix seconds: tz_basis ``epoch``. A ``timestamp`` of 0 or none (seen in
    some relationship lists) gives tz_flag ``no_time`` and flag
    ``timestamp_zero``/``no_timestamp``; it is never read as 1970.
Locator:
    ``json:/messages/12``, ``json:/relationships_following/3/string_list_data/0``,
    ``json:/4`` for top-level arrays; inside a zip
    ``zip:<member>#json:/messages/3``.
Limitations:
    Each JSON file (or zip member, up to 256 MiB) is loaded whole with ``json``:
    DYI splits threads into ``message_N.json`` parts and lists into small
    files, so this is bounded in practice. The export does not say which
    participant is the account holder, so message direction is ``unknown``.
    The platform of a message file is taken from the path (``instagram``,
    ``facebook``/``messenger``) or Instagram-only fields; when neither
    settles it, names are ``name:meta:<name>``, channel ``meta`` and the event
    is flagged ``platform_undetermined``. Reactions carry no time and stay in
    ``extra``. The repair cannot tell genuine Latin-1 text that happens to be
    valid UTF-8 from mojibake (rare in practice). HTML-format exports are not read.
References:
    docs formats.md section 2.4 (MasterScrat/Chatistics#43, joweich/chat-miner#78,
    uvacw/osd2f#43 on the encoding quirk); section key names from public
    DYI-reading projects in the code index.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import member, pointer
from parsers._meta_dyi_json_messages import thread_messages
from parsers._meta_dyi_json_records import (
    SECTIONS,
    Ctx,
    fb_entry,
    ig_list_entries,
    ig_post,
    pointer_path,
)

Item = EventDraft | Rejection
MAX_MEMBER = 256 << 20
# Top-level arrays carry no section key: the file name says what they list.
ARRAY_FILES = (
    (re.compile(r"followers_\d+\.json$"), "instagram", "follower"),
    (re.compile(r"post_comments_\d+\.json$"), "instagram", "comment"),
    (re.compile(r"(?<!your_)posts_\d+\.json$"), "instagram", "post"),
    (re.compile(r"your_posts(?:_\d+)?\.json$"), "facebook", "post"),
    (re.compile(r"likes_and_reactions(?:_\d+)?\.json$"), "facebook", "reaction"),
)
_THREAD = re.compile(rb'"participants"\s*:\s*\[.{0,4000}?"(?:sender_name|timestamp_ms)"', re.S)
_SECTION_START = re.compile(
    rb'^\{\s*"(' + b"|".join(re.escape(k.encode()) for k in SECTIONS) + rb')"\s*:\s*\['
)
_IG_ARRAY = re.compile(
    rb'^\[\s*\{\s*"(?:title|media_list_data|string_list_data|string_map_data|media)"\s*:'
)
_FB_ARRAY = re.compile(rb'^\[\s*\{\s*"timestamp"\s*:\s*\d{9,10}\s*,\s*"(?:attachments|data|title)"')
_ZIP_MEMBER = re.compile(
    rb"(?:your_instagram_activity/|your_facebook_activity/|your_activity_across_facebook/|"
    rb"connections/followers_and_following/|messages/inbox/[^/\x00]{1,200}/message_\d+\.json)"
)


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a DYI message thread, a known DYI section, or a DYI zip."""
    if head.startswith(b"PK\x03\x04"):
        return bool(_ZIP_MEMBER.search(head))
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"{"):
        return bool(_THREAD.search(text) or _SECTION_START.match(text))
    if text.startswith(b"["):
        return bool(_IG_ARRAY.match(text) or _FB_ARRAY.match(text))
    return False


def parse(source: Source, options: ParseOptions) -> Iterator[Item]:
    """Yield one event or rejection per DYI record, file by file in sorted member order."""
    head = source.head()
    if not sniff(head, source.display_path):
        raise NotThisFormat("not a Meta DYI JSON file or zip")
    if head.startswith(b"PK\x03\x04"):
        yield from _parse_zip(source)
        return
    with source.open_binary() as fh:
        doc = _load(fh.read(), source, "json:")
    layout = _layout(doc, source.display_path)
    if layout is None:
        raise NotThisFormat("JSON is not in a DYI layout this parser reads")
    yield from _records(doc, layout, source.display_path, pointer)


def _load(data: bytes, source: Source, where: str) -> Any:
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(source.display_path, where, f"not well-formed UTF-8 JSON: {exc}") from exc


def _parse_zip(source: Source) -> Iterator[Item]:
    with source.open_binary() as fh:
        try:
            archive = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError) as exc:
            raise SourceError(source.display_path, None, f"not a readable zip: {exc}") from exc
        with archive:
            infos = sorted(
                (
                    i
                    for i in archive.infolist()
                    if not i.is_dir() and i.filename.lower().endswith(".json")
                ),
                key=lambda i: i.filename,
            )
            for info in infos:
                name = info.filename
                where = member(name, "json:")
                if (
                    name.startswith(("/", "\\"))
                    or ".." in re.split(r"[/\\]", name)
                    or re.match(r"[A-Za-z]:", name)
                ):
                    yield Rejection(
                        where, "unsafe member path (absolute or '..'); member not read", name
                    )
                    continue
                if info.flag_bits & 0x1:
                    raise SourceError(source.display_path, where, "zip member is encrypted")
                if info.file_size > MAX_MEMBER:
                    yield Rejection(
                        where,
                        f"member is {info.file_size} bytes, over the {MAX_MEMBER} "
                        "bytes this parser loads; split or extract it",
                        name,
                    )
                    continue
                try:
                    with archive.open(info) as part:
                        data = part.read(MAX_MEMBER + 1)
                except (zipfile.BadZipFile, OSError, EOFError) as exc:
                    raise SourceError(
                        source.display_path, where, f"damaged zip member: {exc}"
                    ) from exc
                if len(data) > MAX_MEMBER:
                    yield Rejection(
                        where, "member expands beyond its declared size; not read", name
                    )
                    continue
                doc = _load(data, source, where)
                layout = _layout(doc, f"{source.display_path}/{name}")
                if layout is None:
                    keys = sorted(doc)[:8] if isinstance(doc, dict) else type(doc).__name__
                    yield Rejection(
                        where,
                        f"JSON file not in a DYI layout this parser reads (top level: {keys})",
                        name,
                    )
                    continue
                yield from _records(
                    doc,
                    layout,
                    f"{source.display_path}/{name}",
                    lambda p, _n=name: member(_n, pointer(p)),
                )


def _layout(doc: Any, path: str) -> tuple[str, str | None, str | None] | None:
    """Return (shape, platform, category) for a loaded document, or None if not a DYI layout."""
    if isinstance(doc, dict):
        if "participants" in doc and "messages" in doc:
            return ("thread", _thread_platform(doc, path), None)
        if any(k in SECTIONS for k in doc):
            return ("sections", None, None)
        return None
    if isinstance(doc, list):
        lowered = path.lower()
        for pattern, platform, category in ARRAY_FILES:
            if pattern.search(lowered):
                return ("array", platform, category)
        first = next((x for x in doc if isinstance(x, dict)), None)
        if (
            first is not None
            and "timestamp" in first
            and ("data" in first or "attachments" in first)
        ):
            return ("array", "facebook", None)
    return None


def _thread_platform(doc: dict, path: str) -> str | None:
    lowered = path.lower()
    if "instagram" in lowered:
        return "instagram"
    if "facebook" in lowered or "messenger" in lowered:
        return "facebook"
    link = (
        (doc.get("joinable_mode") or {}).get("link", "")
        if isinstance(doc.get("joinable_mode"), dict)
        else ""
    )
    messages = doc.get("messages") if isinstance(doc.get("messages"), list) else []
    if "ig.me/" in str(link) or any(
        isinstance(m, dict) and "is_geoblocked_for_viewer" in m for m in messages
    ):
        return "instagram"
    return None


def _records(
    doc: Any, layout: tuple[str, str | None, str | None], path: str, locate
) -> Iterator[Item]:
    shape, platform, category = layout
    if shape == "thread":
        yield from thread_messages(doc, Ctx(platform, locate))
        return
    if shape == "array":
        yield from _section_items(doc, "", platform or "facebook", category, locate)
        return
    for key, value in doc.items():
        if key not in SECTIONS:
            yield Rejection(
                locate(pointer_path(key)),
                f"section {key!r} is not read by this parser",
                json.dumps(value, ensure_ascii=False)[:500],
            )
            continue
        section_platform, section_category = SECTIONS[key]
        if not isinstance(value, list):
            yield Rejection(
                locate(pointer_path(key)), f"section {key!r} is not a JSON array", value
            )
            continue
        yield from _section_items(
            value, pointer_path(key), section_platform, section_category, locate
        )


def _section_items(
    items: list, base: str, platform: str, category: str | None, locate
) -> Iterator[Item]:
    ctx = Ctx(platform, locate)
    for index, item in enumerate(items):
        path = f"{base}/{index}"
        if platform == "facebook":
            yield fb_entry(item, path, ctx, category)
        elif category == "post":
            yield ig_post(item, path, ctx)
        else:
            yield from ig_list_entries(item, path, ctx, category or "")


PARSER = ParserSpec(
    name="meta_dyi_json",
    version="1.0",
    family="social",
    summary="Instagram / Facebook 'Download your information' JSON (messages, follows, posts, ...)",
    sniff=sniff,
    parse=parse,
    extensions=(".json", ".zip"),
)
