"""Cellebrite UFED / Physical Analyzer reports: ``report.xml`` and ``.ufdr`` containers.

Format:
    XML in the default namespace ``http://pa.cellebrite.com/report/2.0`` with root
    ``<project>``. Records are (1) every ``metadata[@section]/item`` (device
    model, IMEI, IMSI, MSISDN, extraction times, UFED version, the examiner's
    ``Time zone settings (ID)``), one ``device_info`` event each, and (2) every
    ``decodedData/modelType/model``: Call, SMS, MMS, Email, Contact, Location,
    InstalledApplication, DeviceInfoEntry, UserAccount and InstantMessage, one
    event each. A Chat is a container: each ``InstantMessage`` in its
    ``Messages`` list is one record, taking app (``Source``), thread (``Name``,
    else ``Id``) and participants from the Chat; a Chat with no messages is one
    rejection. Any other model type is one rejection ("unsupported model type X"),
    so it is counted. A ``.ufdr`` is a ZIP holding ``report.xml`` (read as a
    stream, never extracted) and the extracted files, which are hashed
    (streamed) when a message or email names them as attachments.
Time:
    A TimeStamp ``value`` whose text carries an offset or ``Z`` keeps it
    (``offset-in-source`` / ``utc-declared``). Text without an offset (the
    ``DateTimeOnly`` format) is wall-clock time: the report's ``Time zone
    settings (ID)`` is applied when the metadata before the models states a zone
    (``report-setting:<zone>``; note it is the examiner's display setting, not
    the phone's), otherwise ``options.source_tz`` (``assumed:<zone>``). The
    ``formattedTimestamp`` attribute and ``format`` hint go to ``extra``; an
    offset that appears only there is not trusted. A record without any time is
    kept with ``tz_flag=no_time``; an unreadable time makes the record a rejection.
Locator:
    ``xpath:/project/decodedData/modelType[@type='Call']/model[@id='…']`` (by
    position, ``model[N]``, when the id is missing), messages as
    ``…/model[@id='chat']/multiModelField[@name='Messages']/model[@id='msg']``,
    metadata as ``xpath:/project/metadata[N][@section='…']/item[M]``. Inside a
    ``.ufdr`` the same wrapped as ``zip:report.xml#xpath:…``.
Limitations:
    ``taggedFiles``, ``sourceExtractions``, ``caseInformation``, ``images`` and
    ``extraInfos`` describe the extraction, not events, and are not records.
    Chat fields and participants are read as they stream past; PA writes them
    before ``Messages``, and a Chat writing them after would give its messages
    the message's own ``Source`` and no participant-derived recipients.
    Attachments are hashed only inside a ``.ufdr``; beside a bare report.xml
    they are listed by path only. Locale-formatted metadata times
    (``DeviceInfoCreationTime``) are kept verbatim, not converted. Memory is
    bounded by the largest single model (a Chat's non-message lists included),
    not by the report size. DTDs are refused outright. Control characters XML
    1.0 forbids (which PA writes as ``&#x1;`` or raw bytes) are kept as visible
    text (``&#x1;``, ``␁``) and the record flagged ``invalid_xml_character``,
    instead of refusing the report (UTF-8 reports only).
References:
    SEilers/UFEDLib (model classes, ``ModelParser.cs``, ``MetaData/*.cs``);
    sepinf-inc/IPED ``UfedXmlReader.java``; aleph ingestors ``support/cellebrite.py``;
    the "Estrutura UFDR — Referência Completa" note (PA 10.7); formats.md §1.1.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import IO

from lxml import etree

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import line, member, xpath
from parsers._ufed_fields import NS, Clock, parties, raw_excerpt, text
from parsers._ufed_meta import item_event
from parsers._ufed_models import ChatContext, Ctx, call, email_model, instant_message, message
from parsers._ufed_records import contact, device_entry, installed_app, location
from parsers._ufed_stream import CleanReader, is_utf8
from parsers._ufed_zip import AttachmentHasher, check_members, find_report, open_report
from parsers._xml_safe import iterparse, local, release

_NS_BYTES = NS.encode()
_ZIP_MAGIC = b"PK\x03\x04"
_CLARK = f"{{{NS}}}"
_CLARK_LEN = len(_CLARK)

Item = EventDraft | Rejection

# Model type -> handler; any other type is one rejection ("unsupported model type").
HANDLERS: dict[str, Callable[[etree._Element, str, Ctx], Item]] = {
    "Call": call,
    "SMS": message,
    "MMS": message,
    "InstantMessage": instant_message,
    "Email": email_model,
    "Contact": contact,
    "Location": location,
    "InstalledApplication": installed_app,
    "DeviceInfoEntry": device_entry,
    "UserAccount": device_entry,
}


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a Cellebrite report.xml head, or a ZIP that is a ``.ufdr``."""
    if not head:
        return False
    if head.startswith(_ZIP_MAGIC):
        name_len = int.from_bytes(head[26:28], "little")
        first = head[30 : 30 + name_len]
        return filename.lower().endswith(".ufdr") or first in (b"report.xml", b"Report.xml")
    return _NS_BYTES in head and b"<project" in head


def parse(source: Source, options: ParseOptions) -> Iterator[Item]:
    """Yield one event or rejection per metadata item and per decoded record, in file order."""
    head = source.head(65536)
    if head.startswith(_ZIP_MAGIC):
        yield from _parse_container(source, options)
        return
    if not (_NS_BYTES in head and b"<project" in head):
        raise NotThisFormat("no <project> in the Cellebrite report namespace")
    with source.open_binary() as fh:
        yield from _walk(fh, source, options, AttachmentHasher(None), lambda inner: inner)


def _parse_container(source: Source, options: ParseOptions) -> Iterator[Item]:
    is_ufdr = source.path.lower().endswith(".ufdr")
    with source.open_binary() as fh:
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, OSError) as exc:
            if not is_ufdr:
                raise NotThisFormat(f"not a readable ZIP: {exc}") from exc
            raise SourceError(
                source.display_path, None, f"not a readable ZIP container: {exc}"
            ) from exc
        with zf:
            info = find_report(zf)
            if info is None:
                if not is_ufdr:
                    raise NotThisFormat("ZIP without report.xml at its root")
                raise SourceError(
                    source.display_path, None, "no report.xml at the root of the .ufdr"
                )
            check_members(zf, source.display_path)
            with open_report(zf, info, source.display_path) as stream:
                yield from _walk(
                    stream,
                    source,
                    options,
                    AttachmentHasher(zf),
                    lambda inner: member(info.filename, inner),
                )


def _pred(attr: str, value: str | None, position: int) -> str:
    """Return ``[@attr='value']``, or ``[position]`` when the value is missing or holds a quote."""
    if value and "'" not in value:
        return f"[@{attr}='{value}']"
    return f"[{position}]"


def _walk(
    stream: IO[bytes],
    source: Source,
    options: ParseOptions,
    hasher: AttachmentHasher,
    wrap: Callable[[str], str],
) -> Iterator[Item]:
    clock = Clock(options)
    ctx = Ctx(clock=clock, hasher=hasher)
    if is_utf8(stream.peek(256)[:256]):
        stream = io.BufferedReader(CleanReader(stream), buffer_size=1 << 16)
    events = iterparse(stream, huge_tree=True, remove_comments=True, remove_pis=True)
    stack: list[str] = []
    last_line = 1
    meta = {"index": 0, "section": None, "item": 0}
    kinds = {"index": 0, "type": None, "path": "", "model": 0}
    chat_path = ""
    holder: str | None = None
    message_pos = 0
    try:
        for event, el in events:
            tag = el.tag
            tag = (
                tag[_CLARK_LEN:] if isinstance(tag, str) and tag.startswith(_CLARK) else local(tag)
            )
            last_line = el.sourceline or last_line
            if event == "start":
                depth = len(stack)
                stack.append(tag)
                if depth == 0:
                    _check_root(el, source, wrap)
                elif depth == 1 and tag == "metadata":
                    meta.update(index=meta["index"] + 1, section=el.get("section"), item=0)
                elif depth == 2 and stack[1] == "metadata":
                    meta["item"] += 1
                elif depth == 2 and stack[1] == "decodedData" and tag == "modelType":
                    kinds.update(index=kinds["index"] + 1, type=el.get("type"), model=0)
                    kinds["path"] = "/project/decodedData/modelType" + _pred(
                        "type", el.get("type"), kinds["index"]
                    )
                elif depth == 3 and stack[1] == "decodedData" and tag == "model":
                    kinds["model"] += 1
                    if el.get("type") == "Chat":
                        chat_path = (
                            f"{kinds['path']}/model{_pred('id', el.get('id'), kinds['model'])}"
                        )
                        ctx.chat = ChatContext(el.get("id"))
                        message_pos = 0
                elif depth == 4 and ctx.chat is not None:
                    holder = el.get("name") if tag == "multiModelField" else None
                elif (
                    depth == 5 and ctx.chat is not None and holder == "Messages" and tag == "model"
                ):
                    message_pos += 1
                continue

            stack.pop()
            depth = len(stack)
            if depth == 2 and stack[1] == "metadata":
                section = meta["section"]
                where = (
                    f"/project/metadata[{meta['index']}]"
                    + (f"[@section='{section}']" if section and "'" not in section else "")
                    + f"/item[{meta['item']}]"
                )
                yield item_event(el, section, wrap(xpath(where)), clock)
                release(el)
            elif depth == 4 and ctx.chat is not None and stack[1] == "decodedData":
                _chat_part(el, tag, ctx)
            elif depth == 5 and ctx.chat is not None and holder == "Messages" and tag == "model":
                where = f"{chat_path}/multiModelField[@name='Messages']/model" + _pred(
                    "id", el.get("id"), message_pos
                )
                yield _message(el, wrap(xpath(where)), ctx)
                release(el)
            elif depth == 3 and stack[1] == "decodedData" and tag == "model":
                where = f"{kinds['path']}/model{_pred('id', el.get('id'), kinds['model'])}"
                yield from _model(el, wrap(xpath(where)), ctx)
                release(el)
            elif depth <= 2:
                release(el)
    except etree.XMLSyntaxError as exc:
        where = wrap(line(max(exc.lineno or last_line, 1)))
        raise SourceError(source.display_path, where, f"XML is not well formed: {exc.msg}") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise SourceError(
            source.display_path,
            wrap(line(last_line)),
            f"report.xml could not be read from the container: {exc}",
        ) from exc


def _check_root(el: etree._Element, source: Source, wrap: Callable[[str], str]) -> None:
    if el.getroottree().docinfo.doctype:
        # A DTD can declare external or exponential entities; a real report never has one.
        raise SourceError(
            source.display_path, wrap(line(1)), "document declares a DTD (DOCTYPE); refused"
        )
    if el.tag != f"{{{NS}}}project":
        raise NotThisFormat(f"root element is {el.tag!r}, not a Cellebrite <project>")


def _chat_part(el: etree._Element, tag: str, ctx: Ctx) -> None:
    """Remember a Chat's own fields and participants as they stream past."""
    chat = ctx.chat
    name = el.get("name")
    parent = el.getparent()
    if tag == "field" and name and parent is not None:
        got = text(parent, name)
        if got is not None:
            chat.fields.setdefault(name, got)
    elif tag == "multiModelField" and name == "Participants" and parent is not None:
        chat.participants = parties(parent, "Participants")
        el.clear(keep_tail=False)


def _message(el: etree._Element, where: str, ctx: Ctx) -> Item:
    ctx.chat.messages += 1
    if el.get("type") != "InstantMessage":
        return Rejection(
            where,
            f"unsupported model type {el.get('type')!r} in a Chat's Messages",
            raw_excerpt(el),
        )
    return HANDLERS["InstantMessage"](el, where, ctx)


def _model(el: etree._Element, where: str, ctx: Ctx) -> Iterator[Item]:
    kind = el.get("type")
    if kind == "Chat":
        chat, ctx.chat = ctx.chat, None
        if chat is not None and chat.messages == 0:
            yield Rejection(
                where,
                "Chat holds no InstantMessage models (nothing to place on a timeline)",
                raw_excerpt(el),
            )
        return
    handler = HANDLERS.get(kind or "")
    if handler is None:
        yield Rejection(where, f"unsupported model type {kind!r}", raw_excerpt(el))
        return
    yield handler(el, where, ctx)


PARSER = ParserSpec(
    name="ufed_xml",
    version="1.0",
    family="phone",
    summary="Cellebrite UFED / Physical Analyzer report.xml and .ufdr",
    sniff=sniff,
    parse=parse,
    extensions=(".xml", ".ufdr"),
)
