"""Cellebrite report.xml: communications (Call, SMS, MMS, InstantMessage, Email) and shared helpers.

Each handler receives a complete top-level ``model`` element (or one
``InstantMessage`` inside a Chat) and returns exactly one item. Tables of
source codes sit at the top so a reviewer can check them. Other record types
are in ``_ufed_records``; the dispatch table is in ``ufed_xml``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from atlas.events import EventDraft, Rejection
from parsers._ufed_fields import (
    NS,
    Clock,
    Party,
    People,
    channel_of,
    deletion,
    first_text,
    multi_values,
    parse_duration,
    parties,
    raw_excerpt,
    sub_models,
    text,
    value_el,
)
from parsers._ufed_stream import TEXT_ESCAPED
from parsers._ufed_zip import AttachmentHasher

# Call ``Direction``/``Type`` -> direction; older reports put the outcome in ``Type``.
CALL_DIRECTIONS = {
    "incoming": "incoming",
    "outgoing": "outgoing",
    "missed": "incoming",
    "rejected": "incoming",
    "blocked": "incoming",
    "unknown": "unknown",
}
CALL_OUTCOMES = {"missed": "missed", "rejected": "rejected", "blocked": "blocked"}
# Message ``Folder`` (or, failing that, ``Status``) -> direction.
FOLDER_DIRECTIONS = {
    "inbox": "incoming",
    "sent": "outgoing",
    "outbox": "outgoing",
    "draft": "outgoing",
    "drafts": "outgoing",
    "read": "incoming",
    "unread": "incoming",
    "unsent": "outgoing",
    "sending": "outgoing",
    "failed": "outgoing",
    "incoming": "incoming",
    "outgoing": "outgoing",
}
JUMPTARGETS = f"{{{NS}}}jumptargets"


@dataclass
class ChatContext:
    """What a Chat says before its messages: app, thread and participants."""

    model_id: str | None
    fields: dict[str, str] = field(default_factory=dict)
    participants: list[Party] = field(default_factory=list)
    messages: int = 0


@dataclass
class Ctx:
    """Everything a handler needs besides the element."""

    clock: Clock
    hasher: AttachmentHasher
    chat: ChatContext | None = None

    @property
    def region(self) -> str:
        return self.clock.options.region


def common_args(
    model: etree._Element, where: str, ctx: Ctx, time_fields: tuple[str, ...]
) -> dict[str, Any] | Rejection:
    """Return the EventDraft arguments every model shares, or a Rejection for an unreadable time."""
    deleted, flags = deletion(model)
    extra: dict[str, Any] = {"model_type": model.get("type"), "model_id": model.get("id")}
    for attr in ("decoding_confidence", "source_index", "extractionId"):
        if model.get(attr):
            extra[attr] = model.get(attr)
    targets = [t.text.strip() for j in model.iterchildren(JUMPTARGETS) for t in j if t.text]
    if targets:
        extra["jump_targets"] = targets
    args: dict[str, Any] = {
        "locator": where,
        "deleted": deleted,
        "flags": list(flags),
        "extra": extra,
        "timestamp_utc": None,
        "timestamp_source": None,
        "tz_basis": "none",
        "tz_flag": "no_time",
    }
    for name in time_fields:
        v = value_el(model, name)
        if v is None or not ((v.text or "").strip() or v.get("formattedTimestamp")):
            continue
        reading, source_text, hints = ctx.clock.read(v)
        if reading.error:
            return Rejection(where, f"field {name}: {reading.error}", raw_excerpt(model))
        args.update(
            timestamp_utc=reading.utc,
            timestamp_source=source_text,
            tz_basis=reading.basis,
            tz_flag=reading.flag,
        )
        extra.update(hints)
        extra["timestamp_field"] = name
        break
    return args


def finish(args: dict[str, Any], people: People | None = None) -> EventDraft:
    """Build the EventDraft from the collected arguments (empty extras dropped)."""
    if people is not None:
        args.update(
            sender=people.sender,
            sender_name=people.sender_name,
            recipients=tuple(people.recipients),
        )
        args["flags"] = args["flags"] + [f for f in people.flags if f not in args["flags"]]
    if args.get("text") and TEXT_ESCAPED.search(args["text"]):
        args["flags"].append("invalid_xml_character")
    args["flags"] = tuple(args["flags"])
    args["extra"] = {k: v for k, v in args["extra"].items() if v not in (None, "", [])}
    return EventDraft(**args)


def _attachments(model: etree._Element, ctx: Ctx, args: dict[str, Any]) -> None:
    paths, hashes = [], {}
    for att in sub_models(model, "Attachments") + sub_models(model, "Attachment"):
        path = first_text(att, "attachment_extracted_path", "Filename", "URL")
        if path is None:
            continue
        paths.append(path)
        digest = ctx.hasher.sha256(path)
        if digest:
            hashes[path] = digest
        elif ctx.hasher.active and "attachment_not_in_container" not in args["flags"]:
            args["flags"].append("attachment_not_in_container")
    args["attachments"] = tuple(paths)
    if hashes:
        args["extra"]["attachment_sha256"] = hashes


def _who(
    people: People, found: list[Party], channel: str | None, region: str, direction: str
) -> None:
    """Split parties into sender and recipients by Role, or by direction when roles are General."""
    for p in found:
        role = (p.role or "").lower()
        if role == "from":
            people.add(p, True, channel, region)
        elif role in ("to", "cc", "bcc"):
            people.add(p, False, channel, region)
        elif direction == "incoming" and people.sender is None and not p.is_owner:
            people.add(p, True, channel, region)
        elif direction == "outgoing" and not p.is_owner:
            people.add(p, False, channel, region)


def _direction(found: list[Party], *codes: str | None) -> str:
    for p in found:
        if (p.role or "").lower() == "from" and p.is_owner:
            return "outgoing"
    for code in codes:
        got = FOLDER_DIRECTIONS.get((code or "").lower())
        if got:
            return got
    for p in found:
        if (p.role or "").lower() == "from":
            return "incoming"
    return "unknown"


def call(model: etree._Element, where: str, ctx: Ctx) -> EventDraft | Rejection:
    """Map a Call: direction, outcome, duration and parties."""
    args = common_args(model, where, ctx, ("TimeStamp",))
    if isinstance(args, Rejection):
        return args
    type_code, direction_code = text(model, "Type"), text(model, "Direction")
    direction = CALL_DIRECTIONS.get((direction_code or type_code or "").lower(), "unknown")
    status_code = text(model, "Status")
    outcome = CALL_OUTCOMES.get((type_code or "").lower()) or (
        status_code.lower() if status_code else None
    )
    source = text(model, "Source")
    channel = channel_of(source, "phone")
    duration_raw = text(model, "Duration")
    duration = parse_duration(duration_raw) if duration_raw else None
    if duration_raw and duration is None:
        args["flags"].append("duration_unparsed")
    people = People()
    _who(people, parties(model, "Parties"), channel, ctx.region, direction)
    args["extra"].update(
        source_app=source,
        call_type=type_code,
        call_direction=direction_code,
        call_status=status_code,
        duration_source=duration_raw,
        video_call=text(model, "VideoCall"),
        network=text(model, "NetworkName"),
    )
    args.update(
        kind="call", direction=direction, status=outcome, channel=channel, duration_s=duration
    )
    return finish(args, people)


def message(model: etree._Element, where: str, ctx: Ctx) -> EventDraft | Rejection:
    """Map an SMS or MMS: folder, status, parties, body, attachments."""
    kind = "mms" if model.get("type") == "MMS" else "sms"
    args = common_args(model, where, ctx, ("TimeStamp", "DateSent", "DateDelivered"))
    if isinstance(args, Rejection):
        return args
    found = parties(model, "Parties", "From", "To")
    folder, status = text(model, "Folder"), text(model, "Status")
    direction = _direction(found, folder, status)
    source = text(model, "Source")
    channel = channel_of(source, kind)
    people = People()
    _who(people, found, channel, ctx.region, direction)
    _body(model, args)
    _attachments(model, ctx, args)
    args["extra"].update(
        folder=folder, source_app=source, subject=text(model, "Subject"), smsc=text(model, "SMSC")
    )
    args.update(
        kind=kind, direction=direction, channel=channel, status=status.lower() if status else None
    )
    return finish(args, people)


def _body(model: etree._Element, args: dict[str, Any]) -> None:
    v = value_el(model, "Body")
    if v is None:
        v = value_el(model, "Snippet")
    if v is not None and v.text:
        args["text"] = v.text
        if (v.get("format") or "").lower() == "base64string":
            args["flags"].append("text_base64")


def instant_message(model: etree._Element, where: str, ctx: Ctx) -> EventDraft | Rejection:
    """Map an InstantMessage, inside a Chat (app and thread from the Chat) or on its own."""
    args = common_args(model, where, ctx, ("TimeStamp", "DateSent"))
    if isinstance(args, Rejection):
        return args
    chat = ctx.chat
    chat_fields = chat.fields if chat else {}
    source = chat_fields.get("Source") or text(model, "Source") or text(model, "SourceApplication")
    channel = channel_of(source, "unknown_app")
    found = parties(model, "From", "To")
    folder, status = text(model, "Folder"), text(model, "Status")
    direction = _direction(found, folder, status)
    people = People()
    _who(people, found, channel, ctx.region, direction)
    if (
        not people.recipients
        and chat
        and chat.participants
        and (people.sender or direction == "outgoing")
    ):
        # No To list: everyone else in the chat received it (IPED does the same).
        for p in chat.participants:
            value, _ = People.value_of(p, channel, ctx.region)
            if (
                value is not None
                and value != people.sender
                and not (people.sender is None and p.is_owner)
            ):
                people.add(p, False, channel, ctx.region)
        if people.recipients:
            args["flags"].append("recipients_from_participants")
    _body(model, args)
    _attachments(model, ctx, args)
    thread = chat_fields.get("Name") or chat_fields.get("Id") or (chat.model_id if chat else None)
    args["extra"].update(
        source_app=source,
        folder=folder,
        message_type=text(model, "Type"),
        chat_model_id=chat.model_id if chat else None,
        chat_id=chat_fields.get("Id"),
        chat_account=chat_fields.get("Account"),
        subject=text(model, "Subject"),
    )
    args.update(
        kind="chat_message",
        direction=direction,
        channel=channel,
        thread=thread,
        status=status.lower() if status else None,
    )
    return finish(args, people)


def email_model(model: etree._Element, where: str, ctx: Ctx) -> EventDraft | Rejection:
    """Map an Email: From, To/Cc/Bcc, subject, body, attachments."""
    args = common_args(model, where, ctx, ("TimeStamp",))
    if isinstance(args, Rejection):
        return args
    found = parties(model, "From", "To", "Cc", "Bcc")
    folder, status = text(model, "Folder"), text(model, "Status")
    direction = _direction(found, folder)
    people = People()
    _who(people, found, "email", ctx.region, direction)
    _body(model, args)
    _attachments(model, ctx, args)
    args["extra"].update(
        subject=text(model, "Subject"),
        folder=folder,
        account=text(model, "Account"),
        source_app=text(model, "Source"),
        labels=multi_values(model, "Labels"),
    )
    args.update(
        kind="email",
        direction=direction,
        channel="email",
        status=status.lower() if status else None,
    )
    return finish(args, people)
