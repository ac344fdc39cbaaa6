"""Splitting one XRY record block into key/value pairs (helper for ``parsers.xry_txt``).

A block is a title line (``Calls #<tab>1``) followed by ``Key:<tab>Value`` lines.
A line holding only ``From``, ``To`` or ``Participant`` is a *namespace*: it tells
whose ``Tel``/``Name`` the following lines are. ``Text``/``Message`` values may
run over several lines; a following line belongs to the text unless it is a
namespace or a key this parser knows (so ``See you at 5: ok`` stays in the text).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

TITLE = re.compile(r"^(?P<category>\S[^\t#]*?)\s+#\t+\s*(?P<number>\d+)\s*$")
_KEY = re.compile(r"^\s*(?P<key>[^:\t]{1,60}?)\s*:(?P<value>(?:[ \t].*)?)$")

NAMESPACES = frozenset({"from", "to", "participant", "participants"})
MARKERS = frozenset({"deleted"})
TEXT_KEYS = frozenset({"text", "message", "body"})

# Keys seen in XRY text exports (sleuthkit/autopsy XRY*FileParser.java) plus the
# obvious location/contact ones. Only used to decide where a multi-line text ends.
KNOWN_KEYS = frozenset({
    "time", "date", "date/time", "timestamp", "start time", "end time", "created", "modified",
    "deleted", "direction", "call type", "type", "status", "folder", "storage", "index",
    "duration", "number", "tel", "name", "name (matched)", "from", "to", "text", "message",
    "body", "subject", "service center", "reference number", "segment number", "segments",
    "related application", "application", "app", "service", "account", "account name",
    "mobile", "home", "work", "other", "email", "email home", "email work", "address",
    "address home", "picture", "attachment", "attachments", "latitude", "longitude",
    "altitude", "accuracy", "position", "coordinates", "data", "attribute", "web address",
    "domain", "thread", "chat", "group", "user id", "participant",
})


@dataclass(frozen=True)
class Pair:
    """One ``Key: Value`` line, with the namespace in force and its line number."""

    namespace: str | None
    key: str
    label: str
    value: str
    line: int


@dataclass
class Block:
    """One record block of an XRY export."""

    first: int
    last: int
    title: str | None
    category: str | None
    number: str | None
    pairs: list[Pair] = field(default_factory=list)
    markers: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)
    raw: str = ""

    def values(self, *keys: str, namespace: str | None | bool = False) -> list[str]:
        """Return the non-empty values of ``keys`` (namespace False = any namespace)."""
        return [p.value for p in self.pairs
                if p.key in keys and p.value and (namespace is False or p.namespace == namespace)]

    def first_value(self, *keys: str, namespace: str | None | bool = False) -> str | None:
        """Return the first non-empty value among ``keys``, in the order given."""
        for key in keys:
            found = self.values(key, namespace=namespace)
            if found:
                return found[0]
        return None


def split_block(lines: list[tuple[int, str]]) -> Block:
    """Turn the physical lines of one block into a ``Block``."""
    title_match = TITLE.match(lines[0][1])
    block = Block(
        first=lines[0][0], last=lines[-1][0],
        title=lines[0][1].strip() if title_match else None,
        category=title_match.group("category").strip() if title_match else None,
        number=title_match.group("number") if title_match else None,
        raw="\n".join(text for _, text in lines),
    )
    body = lines[1:] if title_match else lines
    namespace: str | None = None
    in_text = False
    pending: dict[str, object] | None = None
    for number, text in body:
        stripped = text.strip()
        low = stripped.lower()
        if low in NAMESPACES:
            namespace, in_text = low.rstrip("s"), False
            continue
        match = _KEY.match(text)
        key = match.group("key").strip().lower() if match else None
        if in_text and pending is not None and (key is None or key not in KNOWN_KEYS):
            pending["value"] = f"{pending['value']}\n{text.rstrip()}"
            continue
        if pending is not None:
            block.pairs.append(Pair(**pending))  # type: ignore[arg-type]
            pending = None
        if low in MARKERS and match is None:
            block.markers.append(low)
            in_text = False
            continue
        if match is None:
            if stripped:
                block.stray.append(stripped)
            continue
        pending = {"namespace": namespace, "key": key, "label": match.group("key").strip(),
                   "value": match.group("value").strip(), "line": number}
        in_text = key in TEXT_KEYS
        if key in ("from", "to"):
            pending["namespace"] = key
    if pending is not None:
        block.pairs.append(Pair(**pending))  # type: ignore[arg-type]
    return block
