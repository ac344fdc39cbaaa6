"""Safe, streaming lxml reading shared by the XML parsers (``gpx``, ``kml``, ``ufed_xml``).

Not a parser: no ``PARSER`` here. It holds what those parsers do alike:
recognising the root element from the first bytes, opening an ``iterparse``
stream that never loads a DTD, touches the network or resolves entities,
tracking positional element paths, freeing finished elements so memory stays
flat, and turning a syntax error into ``NotThisFormat`` or ``SourceError``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import IO, Any

from lxml import etree

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat, Source
from atlas.provenance import line

_XMLNS = re.compile(rb"""xmlns(?::([\w.-]+))?\s*=\s*["']([^"']*)["']""")


def root_prolog(root: str) -> re.Pattern[bytes]:
    """Return the pattern for an XML prolog (declaration, comments, PIs, DOCTYPE) and ``root``."""
    return re.compile(
        rb"\s*(<\?xml[^>]*\?>)?\s*(?:(?:<!--.*?-->|<\?.*?\?>|<!DOCTYPE[^\[>]*(?:\[.*?\])?\s*>)\s*)*"
        rb"<(?:([A-Za-z_][\w.-]*):)?" + re.escape(root.encode()) + rb"(?=[\s/>])([^>]*)>",
        re.DOTALL,
    )


def sniff_root(head: bytes, prolog: re.Pattern[bytes], accept: Callable[[bytes], bool]) -> bool:
    """Return True when ``head`` opens with the root of ``prolog`` in a namespace ``accept`` takes.

    A root in no namespace is accepted; one with an undeclared prefix (not well
    formed) is not. A UTF-8 byte-order mark is skipped.
    """
    head = head.removeprefix(b"\xef\xbb\xbf")
    match = prolog.match(head)
    if match is None:
        return False
    prefix = match.group(2) or b""
    for ns_prefix, uri in _XMLNS.findall(match.group(3)):
        if ns_prefix == prefix:
            return accept(uri)
    return not prefix


def iterparse(fh: IO[bytes], *, huge_tree: bool = False, **options: Any) -> Any:
    """Return an ``iterparse`` of start and end events: no DTD, no network, no entity resolution."""
    return etree.iterparse(fh, events=("start", "end"), resolve_entities=False,
                           no_network=True, load_dtd=False, huge_tree=huge_tree, **options)


def local(tag: object) -> str:
    """Return the namespace-free name of an element tag ('' for comments and entities)."""
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def text_of(elem: etree._Element | None) -> str:
    """Return the text of a simple element; entity references stay as written."""
    if elem is None:
        return ""
    parts = [elem.text or ""]
    for child in elem:
        if child.tag is etree.Entity:
            parts.append(child.text or "")
        parts.append(child.tail or "")
    return "".join(parts).strip()


def open_element(stack: list[list[Any]], name: str) -> None:
    """Push ``[name, position among same-named siblings, child counts]`` (the root is 0)."""
    if not stack:
        stack.append([name, 0, {}])
        return
    counts = stack[-1][2]
    counts[name] = counts.get(name, 0) + 1
    stack.append([name, counts[name], {}])


def element_path(root: str, stack: list[list[Any]]) -> str:
    """Return the positional path of the innermost open element, e.g. ``/gpx/trk[1]/trkseg[2]``."""
    return f"/{root}" + "".join(f"/{name}[{index}]" for name, index, _ in stack[1:])


def release(elem: etree._Element) -> None:
    """Free a finished element and its earlier siblings, so memory stays flat."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    if parent is not None:
        while elem.getprevious() is not None:
            del parent[0]


def not_well_formed(exc: etree.XMLSyntaxError, source: Source,
                    seen_root: bool) -> NotThisFormat | SourceError:
    """Return the error to raise for ``exc``: not XML at all, or XML broken at a line."""
    if not seen_root:
        return NotThisFormat(f"not XML: {exc.msg}")
    where = line(exc.lineno) if exc.lineno and exc.lineno > 0 else None
    return SourceError(source.display_path, where,
                       f"XML is not well formed (truncated or corrupt): {exc.msg}")


def walk(fh: IO[bytes], source: Source, check_root: Callable[[etree._Element], None],
         stack: list[list[Any]]) -> Iterator[tuple[str, etree._Element, str]]:
    """Yield (event, element, local name) for each start and end event below the root's start.

    The root's start is checked with ``check_root`` (which raises NotThisFormat)
    and, like every start, pushed on ``stack`` with ``open_element``; popping
    and freeing at the end event is the caller's. Broken XML raises what
    ``not_well_formed`` says; a document with no root element is NotThisFormat.
    """
    seen_root = False
    try:
        for event, elem in iterparse(fh):
            name = local(elem.tag)
            if event == "start":
                if not stack:
                    check_root(elem)
                    seen_root = True
                    open_element(stack, name)
                    continue
                open_element(stack, name)
            yield event, elem, name
    except etree.XMLSyntaxError as exc:
        raise not_well_formed(exc, source, seen_root) from exc
    if not seen_root:
        raise NotThisFormat("no root element")
