"""Record mappers for Meta "Download your information" JSON (see ``parsers.meta_dyi_json``).

Each mapper takes one loaded record, its JSON pointer and a ``Ctx`` and returns
one ``EventDraft`` or ``Rejection``. The tables below say, per DYI section,
which kind, direction and status an entry becomes and where the other account
is named, so a reviewer can check the mapping against the export.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.identifiers import display_name, handle
from atlas.timeparse import from_unix
from parsers._json_stream import escape_pointer

Item = EventDraft | Rejection

# Top-level key -> (platform, category).
SECTIONS: dict[str, tuple[str, str]] = {
    "relationships_following": ("instagram", "following"),
    "relationships_followers": ("instagram", "follower"),
    "relationships_close_friends": ("instagram", "close_friend"),
    "relationships_blocked_users": ("instagram", "blocked"),
    "relationships_follow_requests_sent": ("instagram", "follow_request_sent"),
    "relationships_permanent_follow_requests": ("instagram", "follow_request_sent"),
    "relationships_follow_requests_received": ("instagram", "follow_request_received"),
    "relationships_unfollowed_users": ("instagram", "unfollowed"),
    "relationships_hide_stories_from": ("instagram", "hide_story_from"),
    "relationships_restricted_users": ("instagram", "restricted"),
    "relationships_dismissed_suggested_users": ("instagram", "dismissed_suggestion"),
    "likes_media_likes": ("instagram", "like"),
    "likes_comment_likes": ("instagram", "comment_like"),
    "comments_media_comments": ("instagram", "comment"),
    "comments_reels_comments": ("instagram", "comment"),
    "searches_user": ("instagram", "search_user"),
    "searches_keyword": ("instagram", "search"),
    "searches_hashtag": ("instagram", "search"),
    "friends_v2": ("facebook", "friend"),
    "friends": ("facebook", "friend"),
    "deleted_friends_v2": ("facebook", "friend_removed"),
    "sent_requests_v2": ("facebook", "friend_request_sent"),
    "received_requests_v2": ("facebook", "friend_request_received"),
    "rejected_requests_v2": ("facebook", "friend_request_rejected"),
    "following_v3": ("facebook", "following"),
    "following_v2": ("facebook", "following"),
    "comments_v2": ("facebook", "comment"),
    "reactions_v2": ("facebook", "reaction"),
    "searches_v2": ("facebook", "search"),
}

# Category -> (kind, direction relative to the account holder, where the other account is,
# status). "recipient": the other account is acted on; "sender": it acted on the holder;
# None: no other account.
CATEGORIES: dict[str, tuple[str, str, str | None, str | None]] = {
    "following": ("social_interaction", "outgoing", "recipient", "follow"),
    "follower": ("social_interaction", "incoming", "sender", "follow"),
    "close_friend": ("social_interaction", "outgoing", "recipient", "close_friend"),
    "blocked": ("social_interaction", "outgoing", "recipient", "block"),
    "follow_request_sent": ("social_interaction", "outgoing", "recipient", "follow_request"),
    "follow_request_received": ("social_interaction", "incoming", "sender", "follow_request"),
    "unfollowed": ("social_interaction", "outgoing", "recipient", "unfollow"),
    "hide_story_from": ("social_interaction", "outgoing", "recipient", "hide_story"),
    "restricted": ("social_interaction", "outgoing", "recipient", "restrict"),
    "dismissed_suggestion": ("social_interaction", "outgoing", "recipient", "dismiss_suggestion"),
    "like": ("social_interaction", "outgoing", "recipient", "like"),
    "comment_like": ("social_interaction", "outgoing", "recipient", "comment_like"),
    "comment": ("social_interaction", "outgoing", "recipient", "comment"),
    "search_user": ("app_event", "outgoing", "recipient", "search"),
    "search": ("app_event", "outgoing", None, "search"),
    "post": ("social_post", "outgoing", None, None),
    "friend": ("social_interaction", "unknown", "recipient", "friend"),
    "friend_removed": ("social_interaction", "outgoing", "recipient", "unfriend"),
    "friend_request_sent": ("social_interaction", "outgoing", "recipient", "friend_request"),
    "friend_request_received": ("social_interaction", "incoming", "sender", "friend_request"),
    "friend_request_rejected": (
        "social_interaction",
        "outgoing",
        "sender",
        "reject_friend_request",
    ),
    "reaction": ("social_interaction", "outgoing", None, "reaction"),
}

# Instagram categories whose entry names the other account in ``title`` (the media owner);
# the rest name it in ``value``/``href``.
_OWNER_IN_TITLE = {"like", "comment_like", "comment"}
_TEXT_IN_VALUE = {"comment", "search", "search_user"}
_HREF_USER = re.compile(r"instagram\.com/(?:_u/)?([^/?#]+)")


@dataclass(frozen=True)
class Ctx:
    """Where records come from: the platform (or None when undetermined) and the locator builder."""

    platform: str | None
    locate: Callable[[str], str]


def repair(text: str) -> tuple[str, bool]:
    """Undo the DYI mojibake (UTF-8 bytes stored as Latin-1 escapes) when it round-trips."""
    try:
        fixed = text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text, False
    return fixed, fixed != text


def repair_deep(value: Any) -> tuple[Any, bool]:
    """Repair every string inside ``value``; return the copy and whether anything changed."""
    if isinstance(value, str):
        return repair(value)
    if isinstance(value, list):
        pairs = [repair_deep(v) for v in value]
        return [p[0] for p in pairs], any(p[1] for p in pairs)
    if isinstance(value, dict):
        changed = False
        out = {}
        for key, val in value.items():
            out[key], hit = repair_deep(val)
            changed = changed or hit
        return out, changed
    return value, False


def epoch_reading(value: Any, unit: str) -> tuple[Any, str | None]:
    """Return (TimeReading or None for a zero/absent time, error)."""
    if value is None or value == 0:
        return None, None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None, f"timestamp {value!r} is not a positive epoch number"
    reading = from_unix(value, unit)
    return (None, reading.error) if reading.error else (reading, None)


def _ident(platform: str | None, name: str | None, is_handle: bool) -> str | None:
    if not name or not name.strip():
        return None
    if is_handle and platform == "instagram":
        return handle("instagram", name).value
    return display_name(platform or "meta", name)


def _draft(
    where: str,
    ctx: Ctx,
    category: str,
    when: Any,
    stamp: Any,
    *,
    other: str | None,
    flags: list[str],
    **fields: Any,
) -> EventDraft:
    kind, direction, role, status = CATEGORIES[category]
    if when is None:
        flags.append("timestamp_zero" if stamp == 0 else "no_timestamp")
    sender = fields.pop("sender", None)
    recipients: tuple[str, ...] = ()
    if other and role == "recipient":
        recipients = (other,)
    elif other and role == "sender":
        sender = other
    return EventDraft(
        locator=where,
        kind=kind,
        direction=direction,
        status=status,
        timestamp_utc=when.utc if when else None,
        timestamp_source=None if stamp is None else str(stamp),
        tz_basis=when.basis if when else "none",
        tz_flag=when.flag if when else "no_time",
        sender=sender,
        recipients=recipients,
        channel=ctx.platform or "meta",
        flags=tuple(flags),
        **fields,
    )


def ig_list_entries(item: Any, path: str, ctx: Ctx, category: str) -> Iterator[Item]:
    """Map an Instagram ``string_list_data`` item: one record per list entry."""
    where = ctx.locate(path)
    if not isinstance(item, dict):
        yield Rejection(where, "entry is not a JSON object", item)
        return
    item, fixed = repair_deep(item)
    entries = item.get("string_list_data")
    if isinstance(item.get("string_map_data"), dict):
        yield ig_map_entry(item, path, ctx, category, fixed)
        return
    if not isinstance(entries, list) or not entries:
        yield Rejection(where, "entry has no string_list_data values", item)
        return
    title = item.get("title") or None
    for j, entry in enumerate(entries):
        at = ctx.locate(f"{path}/string_list_data/{j}")
        if not isinstance(entry, dict):
            yield Rejection(at, "string_list_data value is not a JSON object", entry)
            continue
        when, error = epoch_reading(entry.get("timestamp"), "s")
        if error:
            yield Rejection(at, error, entry)
            continue
        value, href = entry.get("value"), entry.get("href")
        if category in _OWNER_IN_TITLE:
            name = title
        else:
            match = _HREF_USER.search(href or "")
            name = (
                (value if category not in _TEXT_IN_VALUE else None)
                or title
                or (match and match.group(1))
            )
        extra = {k: v for k, v in entry.items() if k != "timestamp"}
        if title:
            extra["title"] = title
        yield _draft(
            at,
            ctx,
            category,
            when,
            entry.get("timestamp"),
            other=_ident(ctx.platform, name, True),
            flags=["mojibake_repaired"] if fixed else [],
            text=value if category in _TEXT_IN_VALUE else None,
            extra=extra,
        )


def ig_map_entry(item: dict, path: str, ctx: Ctx, category: str, fixed: bool) -> Item:
    """Map an Instagram ``string_map_data`` item (comments, searches): one record per item."""
    where = ctx.locate(path)
    data = item["string_map_data"]
    stamp_key = next(
        (k for k in ("Time", "Date", "Search Time") if isinstance(data.get(k), dict)), None
    )
    stamp = data[stamp_key].get("timestamp") if stamp_key else None
    when, error = epoch_reading(stamp, "s")
    if error:
        return Rejection(where, error, item)
    values = {k: v.get("value") for k, v in data.items() if isinstance(v, dict) and v.get("value")}
    text = values.get("Comment") or values.get("Search")
    other = values.get("Media Owner") or (
        values.get("Search") if category == "search_user" else None
    )
    extra = {k: v for k, v in item.items() if v}
    return _draft(
        where,
        ctx,
        category,
        when,
        stamp,
        other=_ident(ctx.platform, other, True),
        flags=["mojibake_repaired"] if fixed else [],
        text=text,
        extra=extra,
    )


def fb_entry(item: Any, path: str, ctx: Ctx, category: str | None) -> Item:
    """Map a Facebook ``{timestamp, data[], attachments[], title}`` or ``{name, timestamp}``."""
    where = ctx.locate(path)
    if not isinstance(item, dict):
        return Rejection(where, "entry is not a JSON object", item)
    item, fixed = repair_deep(item)
    data = [d for d in item.get("data") or [] if isinstance(d, dict)]
    parts = {k: v for d in data for k, v in d.items()}
    category = category or (
        "post"
        if "post" in parts
        else "reaction"
        if "reaction" in parts
        else "comment"
        if "comment" in parts
        else None
    )
    if category is None:
        return Rejection(where, "activity item is neither a post, a comment nor a reaction", item)
    when, error = epoch_reading(item.get("timestamp"), "s")
    if error:
        return Rejection(where, error, item)
    comment = parts.get("comment") if isinstance(parts.get("comment"), dict) else {}
    reaction = parts.get("reaction") if isinstance(parts.get("reaction"), dict) else {}
    author = comment.get("author") or reaction.get("actor")
    text = parts.get("post") or comment.get("comment") or parts.get("text") or None
    media = [
        m.get("media", {}).get("uri")
        for a in item.get("attachments") or []
        if isinstance(a, dict)
        for m in a.get("data") or []
        if isinstance(m, dict) and isinstance(m.get("media"), dict)
    ]
    extra = {k: v for k, v in item.items() if k not in ("timestamp", "name")}
    return _draft(
        where,
        ctx,
        category,
        when,
        item.get("timestamp"),
        other=_ident("facebook", item.get("name"), False),
        flags=["mojibake_repaired"] if fixed else [],
        sender=_ident("facebook", author, False),
        sender_name=author or None,
        text=text if isinstance(text, str) else None,
        attachments=tuple(u for u in media if isinstance(u, str)),
        extra=extra,
    )


def ig_post(item: Any, path: str, ctx: Ctx) -> Item:
    """Map an Instagram ``posts_N.json`` item ``{media[{uri, creation_timestamp}], title}``."""
    where = ctx.locate(path)
    if not isinstance(item, dict) or not isinstance(item.get("media"), list):
        return Rejection(where, "post has no media list", item)
    item, fixed = repair_deep(item)
    media = [m for m in item["media"] if isinstance(m, dict)]
    stamp = item.get("creation_timestamp") or (
        media[0].get("creation_timestamp") if media else None
    )
    when, error = epoch_reading(stamp, "s")
    if error:
        return Rejection(where, error, item)
    text = item.get("title") or (media[0].get("title") if media else None) or None
    return _draft(
        where,
        ctx,
        "post",
        when,
        stamp,
        other=None,
        flags=["mojibake_repaired"] if fixed else [],
        text=text,
        attachments=tuple(m["uri"] for m in media if isinstance(m.get("uri"), str)),
        extra={k: v for k, v in item.items() if k != "title"},
    )


def pointer_path(*tokens: str | int) -> str:
    """Return a JSON pointer path from raw tokens."""
    return "".join("/" + escape_pointer(t) for t in tokens)
