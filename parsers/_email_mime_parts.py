"""MIME helpers for ``parsers.email_mime``: body text, HTML to text, attachments, addresses."""

from __future__ import annotations

import hashlib
import re
from email.errors import HeaderParseError
from email.message import EmailMessage, Message
from html.parser import HTMLParser
from typing import Any

from atlas.identifiers import email

# Text inside these elements is never shown to a reader of the e-mail.
_HIDDEN = {"script", "style", "head", "title", "template", "noscript"}
_BLOCK = {
    "br",
    "p",
    "div",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "table",
    "ul",
    "ol",
    "pre",
    "hr",
}
_REPLY_PREFIX = re.compile(r"^\s*((re|fwd?|aw|wg|sv|antw)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE)


def clean(text: str) -> str:
    """Turn raw 8-bit header bytes (kept by ``email`` as surrogate escapes) back into UTF-8 text."""
    if not any("\udc80" <= ch <= "\udcff" for ch in text):
        return text
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class _TextOnly(HTMLParser):
    """Collect the visible text of an HTML document; nothing is fetched or executed."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK:
            self.out.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.out.append(data)


def html_to_text(markup: str) -> str:
    """Return the visible text of an HTML body, whitespace tidied, without executing anything."""
    parser = _TextOnly()
    parser.feed(markup)
    parser.close()
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", ln).strip() for ln in "".join(parser.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def body_text(msg: EmailMessage) -> tuple[str | None, Message | None, tuple[str, ...]]:
    """Return the body text (text/plain preferred, else HTML as text), its part, and flags."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return None, None, ()
    try:
        content = part.get_content()
    except (LookupError, ValueError) as exc:
        # An unknown charset: decode what can be decoded and say so.
        raw = part.get_payload(decode=True) or b""
        return (
            raw.decode("utf-8", errors="replace"),
            part,
            (f"body_charset_error:{type(exc).__name__}",),
        )
    if not isinstance(content, str):
        return None, part, ()
    if part.get_content_subtype() == "html":
        return html_to_text(content), part, ("body_from_html",)
    return content.replace("\r\n", "\n").strip("\n"), part, ()


def attachments(msg: Message, body: Message | None) -> list[dict[str, Any]]:
    """List every attachment (a named or attachment-disposition part, or an attached message)."""
    found: list[dict[str, Any]] = []
    _walk(msg, body, found, top=True)
    return found


def _walk(
    part: Message, body: Message | None, found: list[dict[str, Any]], top: bool = False
) -> None:
    ctype = part.get_content_type()
    if ctype == "message/rfc822" and not top:
        inner = part.get_payload()
        data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
        found.append(_entry(part, data))
        return
    if part.is_multipart():
        for child in part.get_payload():
            _walk(child, body, found)
        return
    if part is body:
        return
    if part.get_content_disposition() == "attachment" or part.get_filename():
        found.append(_entry(part, part.get_payload(decode=True) or b""))


def _entry(part: Message, data: bytes) -> dict[str, Any]:
    name = part.get_filename()
    return {
        "filename": clean(name) if name else None,
        "content_type": part.get_content_type(),
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def addresses(msg: EmailMessage, name: str) -> tuple[list[tuple[str, str | None, bool]], list[str]]:
    """Return (identifier, display name, parsed) per address in header ``name``, and its texts.

    RFC 2047 encoded words in display names are decoded by the header parser.
    """
    try:
        values = msg.get_all(name) or []
    except (IndexError, ValueError, TypeError, AttributeError, HeaderParseError):
        # Known failures of the standard address parser on hostile headers: keep the text.
        values = [value for key, value in msg.raw_items() if key.lower() == name.lower()]
    found: list[tuple[str, str | None, bool]] = []
    shown: list[str] = []
    for value in values:
        groups = getattr(value, "groups", None)
        if groups is None:
            # The header could not be parsed as addresses; keep the text, flag it.
            text = clean(re.sub(r"\r?\n[ \t]+", " ", str(value))).strip()
            if text:
                found.append((email(text).value, None, False))
                shown.append(text)
            continue
        for group in groups:
            for addr in group.addresses:
                ident = email(clean(addr.addr_spec))
                found.append((ident.value, clean(addr.display_name) or None, ident.parsed))
                shown.append(clean(str(addr)))
    return found, shown


def thread_of(msg: Message, subject: str | None) -> tuple[str | None, str]:
    """Return the thread key and how it was found.

    The root of ``References`` (or ``In-Reply-To``) names the conversation; a
    message starting a conversation is its own root, so its Message-ID is used.
    Without any of these the subject, minus reply prefixes, stands in.
    """
    refs = _ids(msg.get("References"))
    if refs:
        return refs[0], "references"
    reply = _ids(msg.get("In-Reply-To"))
    if reply:
        return reply[0], "in_reply_to"
    own = _ids(msg.get("Message-ID"))
    if own:
        return own[0], "message_id"
    if subject:
        stripped = _REPLY_PREFIX.sub("", subject).strip()
        return (f"subject:{stripped}" if stripped else None), "subject"
    return None, "none"


def _ids(value: Any) -> list[str]:
    if value is None:
        return []
    return re.findall(r"<[^<>\s]+>", str(value))
