"""KML 2.2 and KMZ: placemarks, paths and gx:Track points as location events.

Format:
    XML whose root is ``kml`` in ``http://www.opengis.net/kml/2.2`` (or the
    older ``http://earth.google.com/kml/2.x``, or no namespace), with Google
    extensions in ``http://www.google.com/kml/ext/2.2``. Features
    (``Placemark``, and ``PhotoOverlay`` whose ``Icon/href`` becomes an
    attachment) sit at any depth inside ``Document``/``Folder``. Each
    geometry of a feature (also inside ``MultiGeometry``/``gx:MultiTrack``)
    gives:

    * ``Point``: one event, ``location_fix``, or ``location_visit`` when the
      feature has a ``TimeSpan`` (an interval at a place, as in Google
      timeline KML): timestamp = ``begin``, end_utc = ``end``, duration_s.
    * ``LineString``/``LinearRing``: one ``location_fix`` per vertex (``part``
      = vertex index from 0), **without time** (tz_flag ``no_time``): a plain
      path says where, not when; the feature's TimeStamp/TimeSpan is kept in
      extra (``feature_time``, ``timespan_end``), never spread over vertices.
    * ``gx:Track``: one ``location_fix`` per ``when``/``gx:coord`` pair
      (``part`` = point index from 0); per-point ``gx:SimpleArrayData``
      values go to extra under their name (``accuracy`` also to accuracy_m).
    * ``Polygon``, ``Model``: a Rejection (an area or a 3D model is not a
      position); a feature without geometry: a Rejection.

    ``<coordinates>`` tuples are ``lon,lat[,alt]`` (**longitude first**),
    ``gx:coord`` is ``lon lat alt``; altitude goes to extra ``altitude_m``.
    Placemark ``name`` -> text; ``description``, ``address``, ``snippet``
    and ``ExtendedData`` (``Data/value``, ``SchemaData/SimpleData``, as extra
    ``data``) -> extra; an ``accuracy`` Data value -> accuracy_m. thread =
    the name of the nearest named enclosing Folder/Document. channel ``kml``,
    location_method ``unknown`` (KML does not say how a position was found).
    KMZ: a ZIP whose main document is ``doc.kml``, else its first ``.kml``
    member; that member is read as a stream (never extracted).
Time:
    ``when``/``begin``/``end`` as xsd:dateTime: ``Z`` -> ``utc-declared``,
    an offset -> ``offset-in-source``, no zone -> wall-clock time in
    ``options.source_tz`` (``assumed:<zone>``, flagged ambiguous/nonexistent
    at clock changes). A date, year-month or year only (allowed by KML) is
    **not** turned into midnight: the event has no time (tz_flag
    ``no_time``), flag ``date_only``, the value kept in timestamp_source. No
    time element: tz_flag ``no_time``. Anything else is a Rejection.
Locator:
    ``xpath:/kml/Document[1]/Folder[2]/Placemark[3]/Point[1]``: positional,
    1-based among same-named siblings, namespace-free names (``Track`` for
    ``gx:Track``); vertices and track points share their geometry's locator
    and differ by ``part``. Inside a KMZ: ``zip:doc.kml#xpath:/kml/...``.
Limitations:
    Streamed with ``lxml.etree.iterparse`` (no DTD, no network, entities not
    resolved: an entity reference stays as written and the event is flagged
    ``unresolved_entity``); each finished feature is freed. A ``gx:Track``'s
    ``when``/``gx:coord`` texts are buffered until the track ends (about 200
    bytes per point), since per-point data follows the coordinates. A bad
    feature TimeStamp/TimeSpan rejects the whole feature (locator of the
    feature); a bad coordinate rejects that Point or vertex, a bad track
    ``when``/``gx:coord`` that track point (the reason names the vertex or
    point number); a track whose ``when`` and ``gx:coord`` counts differ is
    rejected whole. Times on Folders/Documents, Styles,
    ``gx:angles``, ``NetworkLink`` (never fetched) and ground/screen overlays
    are not read. KMZ: a main member with an absolute or ``..`` path, an
    encrypted one, or one over 2 GiB or compressed more than 200:1 is
    refused (SourceError); other members are never opened. XML that is not
    well formed raises SourceError naming the line; items already yielded are
    rolled back by the ingest core.
References:
    OGC KML 2.2 (OGC 07-147r2); Google KML extensions reference
    (developers.google.com/kml/documentation/kmlreference, gx:Track);
    docs/formats.md section 3.5.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterator
from typing import IO, Any

from lxml import etree

from atlas.errors import SourceError
from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import member, xpath
from parsers._kml_feature import feature_items
from parsers._xml_safe import (
    element_path,
    local,
    release,
    root_prolog,
    sniff_root,
    text_of,
    walk,
)

NAMESPACES = ("http://www.opengis.net/kml/2.2", "http://earth.google.com/kml/2.0",
              "http://earth.google.com/kml/2.1", "http://earth.google.com/kml/2.2")
FEATURES = ("Placemark", "PhotoOverlay")
CONTAINERS = ("Document", "Folder")
ZIP_MAGIC = b"PK\x03\x04"
MAX_MEMBER_BYTES = 2 << 30
MAX_RATIO = 200

_PROLOG = root_prolog("kml")


def sniff(head: bytes, filename: str) -> bool:
    """Return True for a document whose root is ``kml``, or a ZIP whose first member is .kml."""
    if not head:
        return False
    if head.startswith(ZIP_MAGIC):
        size = int.from_bytes(head[26:28], "little")
        name = head[30:30 + size].decode("utf-8", errors="replace").lower()
        return name.endswith(".kml")
    return sniff_root(head, _PROLOG,
                      lambda uri: uri.decode("utf-8", errors="replace") in NAMESPACES)


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield the items of every feature, in document order."""
    if source.head(4) != ZIP_MAGIC:
        with source.open_binary() as fh:
            yield from _stream(fh, source, options, xpath)
        return
    with source.open_binary() as raw:
        try:
            archive = zipfile.ZipFile(raw)
        except zipfile.BadZipFile as exc:
            raise SourceError(source.display_path, None,
                              f"not a readable KMZ (ZIP): {exc}") from exc
        with archive:
            info = _main_member(archive, source)
            with archive.open(info) as fh:
                yield from _stream(fh, source, options,
                                   lambda path: member(info.filename, xpath(path)))


def _main_member(archive: zipfile.ZipFile, source: Source) -> zipfile.ZipInfo:
    kmls = [i for i in archive.infolist() if i.filename.lower().endswith(".kml")
            and not i.is_dir()]
    if not kmls:
        raise NotThisFormat("ZIP holds no .kml document")
    info = next((i for i in kmls if i.filename == "doc.kml"), kmls[0])
    name = info.filename
    parts = re.split(r"[/\\]", name)
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or ".." in parts:
        raise SourceError(source.display_path, None, f"KMZ main document {name!r} has an "
                          "absolute or '..' path (zip-slip); refused")
    if info.flag_bits & 0x1:
        raise SourceError(source.display_path, None, f"KMZ member {name!r} is encrypted")
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > MAX_MEMBER_BYTES or ratio > MAX_RATIO:
        raise SourceError(source.display_path, None, f"KMZ member {name!r} declares "
                          f"{info.file_size} bytes ({ratio:.0f}:1 compression); refused as "
                          "a possible zip bomb")
    return info


def _stream(fh: IO[bytes], source: Source, options: ParseOptions,
            locate: Callable[[str], str]) -> Iterator[EventDraft | Rejection]:
    stack: list[list[Any]] = []  # open elements: [local name, sibling index, child counts]
    containers: list[dict[str, Any]] = []
    tracks: dict[str, tuple[list[str], list[str]]] = {}
    feature_depth: int | None = None
    try:
        for event, elem, name in walk(fh, source, _check_root, stack):
            if event == "start":
                if feature_depth is None:
                    if name in FEATURES:
                        feature_depth = len(stack)
                    elif name in CONTAINERS:
                        containers.append({"depth": len(stack), "name": None})
                continue
            depth = len(stack)
            if feature_depth is not None and depth > feature_depth:
                if name in ("when", "coord") and stack[-2][0] == "Track":
                    whens, coords = tracks.setdefault(_path(stack[:-1]), ([], []))
                    (whens if name == "when" else coords).append(text_of(elem))
                    _drop_buffered(elem)
                stack.pop()
                continue  # other children of a feature are read when it ends
            if depth == feature_depth:
                yield from feature_items(elem, _path(stack), _thread(containers), tracks,
                                         options, locate)
                tracks.clear()
                feature_depth = None
            elif (name == "name" and containers and containers[-1]["depth"] == depth - 1):
                containers[-1]["name"] = text_of(elem)
            elif containers and containers[-1]["depth"] == depth:
                containers.pop()
            stack.pop()
            release(elem)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise SourceError(source.display_path, None, f"KMZ member is damaged: {exc}") from exc


def _check_root(elem: etree._Element) -> None:
    qname = etree.QName(elem)
    if qname.localname != "kml":
        raise NotThisFormat(f"root element is {qname.localname!r}, not 'kml'")
    if qname.namespace is not None and qname.namespace not in NAMESPACES:
        raise NotThisFormat(f"root namespace {qname.namespace!r} is not a KML namespace")


def _path(stack: list[list[Any]]) -> str:
    return element_path("kml", stack)


def _thread(containers: list[dict[str, Any]]) -> str | None:
    return next((c["name"] for c in reversed(containers) if c["name"]), None)


def _drop_buffered(elem: etree._Element) -> None:
    """Free a buffered track element and the buffered ones before it (memory stays flat)."""
    elem.clear(keep_tail=False)
    parent = elem.getparent()
    previous = elem.getprevious()
    while parent is not None and previous is not None and local(previous.tag) in ("when",
                                                                                   "coord"):
        parent.remove(previous)
        previous = elem.getprevious()


PARSER = ParserSpec(
    name="kml",
    version="1.0",
    family="location",
    summary="KML/KMZ placemarks, paths and gx:Track points",
    sniff=sniff,
    parse=parse,
    extensions=(".kml", ".kmz"),
)
