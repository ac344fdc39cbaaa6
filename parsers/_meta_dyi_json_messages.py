"""Message-thread mapping for Meta DYI ``message_N.json`` files (see ``parsers.meta_dyi_json``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from atlas.events import EventDraft, Rejection
from atlas.identifiers import display_name
from parsers._meta_dyi_json_records import Ctx, epoch_reading, repair, repair_deep

Item = EventDraft | Rejection
MEDIA_KEYS = ("photos", "videos", "audio_files", "gifs", "files")
_MSG_HANDLED = {
    "sender_name",
    "timestamp_ms",
    "content",
    *MEDIA_KEYS,
    "sticker",
    "is_unsent",
    "type",
    "call_duration",
}
_MSG_KINDS = {"Call": "call", "Subscribe": "system", "Unsubscribe": "system"}


def thread_messages(doc: dict, ctx: Ctx) -> Iterator[Item]:
    """Map each message of a ``message_N.json`` thread, in file order (newest first)."""
    people = [p.get("name") for p in doc.get("participants") or [] if isinstance(p, dict)]
    people = [repair(n)[0] for n in people if isinstance(n, str)]
    title = repair(doc["title"])[0] if isinstance(doc.get("title"), str) else None
    thread_extra = {
        k: doc[k] for k in ("thread_path", "thread_type") if isinstance(doc.get(k), str)
    }
    messages = doc.get("messages")
    if not isinstance(messages, list):
        yield Rejection(ctx.locate("/messages"), "messages is not a JSON array", messages)
        return
    for index, msg in enumerate(messages):
        yield _message(msg, ctx.locate(f"/messages/{index}"), ctx, people, title, thread_extra)


def _message(
    msg: Any, where: str, ctx: Ctx, people: list[str], title: str | None, thread_extra: dict
) -> Item:
    if not isinstance(msg, dict):
        return Rejection(where, "message is not a JSON object", msg)
    msg, fixed = repair_deep(msg)
    when, error = epoch_reading(msg.get("timestamp_ms"), "ms")
    if error or when is None:
        return Rejection(where, error or "message has no timestamp_ms", msg)
    platform = ctx.platform or "meta"
    name = msg.get("sender_name") if isinstance(msg.get("sender_name"), str) else None
    flags = ["mojibake_repaired"] if fixed else []
    if ctx.platform is None:
        flags.append("platform_undetermined")
    attachments = [
        m.get("uri") for key in MEDIA_KEYS for m in msg.get(key) or [] if isinstance(m, dict)
    ]
    if isinstance(msg.get("sticker"), dict):
        attachments.append(msg["sticker"].get("uri"))
    content = (
        msg.get("content") if isinstance(msg.get("content"), str) and msg.get("content") else None
    )
    if content is None and not attachments and "share" not in msg:
        flags.append("no_content")
    kind = _MSG_KINDS.get(msg.get("type"), "chat_message")
    duration = msg.get("call_duration") if kind == "call" else None
    extra = {
        **thread_extra,
        **{k: v for k, v in msg.items() if k not in _MSG_HANDLED or k in ("type",)},
    }
    media = {k: msg[k] for k in (*MEDIA_KEYS, "sticker") if k in msg}
    if media:
        extra["media"] = media
    if kind == "call" and "call_duration" in msg:
        extra["call_duration"] = msg["call_duration"]
    return EventDraft(
        locator=where,
        kind=kind,
        timestamp_utc=when.utc,
        timestamp_source=str(msg["timestamp_ms"]),
        tz_basis=when.basis,
        tz_flag=when.flag,
        direction="unknown",
        duration_s=float(duration)
        if isinstance(duration, (int, float)) and not isinstance(duration, bool)
        else None,
        sender=display_name(platform, name) if name and name.strip() else None,
        sender_name=name,
        recipients=tuple(display_name(platform, p) for p in people if p != name and p.strip()),
        channel={"instagram": "instagram", "facebook": "messenger"}.get(ctx.platform or "", "meta"),
        thread=title,
        text=content,
        attachments=tuple(a for a in attachments if isinstance(a, str)),
        status="unsent" if msg.get("is_unsent") is True else None,
        flags=tuple(flags),
        extra=extra,
    )
