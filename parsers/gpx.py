"""GPX 1.0 and 1.1: waypoints, route points and track points as location fixes.

Format:
    XML whose root element is ``gpx``, in the namespace
    ``http://www.topografix.com/GPX/1/0`` or ``/1/1`` (or, as some writers
    emit it, in no namespace). Points are ``wpt`` (children of ``gpx``),
    ``rte/rtept`` and ``trk/trkseg/trkpt``, each with ``lat`` and ``lon``
    attributes (decimal degrees, WGS84) and optional children ``ele``,
    ``time``, ``magvar``, ``geoidheight``, ``name``, ``cmt``, ``desc``,
    ``src``, ``link`` (1.1) / ``url``, ``urlname`` (1.0), ``sym``, ``type``,
    ``fix``, ``sat``, ``hdop``, ``vdop``, ``pdop``, ``ageofdgpsdata``,
    ``dgpsid``, ``course`` and ``speed`` (1.0) and ``extensions``. Each point
    becomes one ``location_fix`` event (location_method ``gps``, channel
    ``gpx``). ``thread`` is the ``name`` of the enclosing track or route, or
    its positional label (``trk[1]``, ``rte[2]``) when it has none; waypoints
    have no thread. Every other child is kept in ``extra`` under its element
    name: numbers as numbers (``sat`` and ``dgpsid`` as integers), text
    verbatim, ``link`` as a list of ``href`` values, and ``extensions`` (e.g.
    Garmin ``TrackPointExtension``) flattened to ``{"path/to/leaf": "text"}``
    with namespace prefixes dropped. ``extra["point_type"]`` is ``wpt``,
    ``rtept`` or ``trkpt``, and a track point's ``extra["segment"]`` is the
    position of its ``trkseg`` (segment breaks matter to gap analysis). A
    numeric child that is not a number is kept as text and flagged
    ``<name>_not_numeric``. The file is read as a stream (``lxml.etree.iterparse``
    with no DTD loading, no network and no entity resolution); finished
    elements are cleared, so memory stays flat however many points the file
    holds. A byte-order mark is accepted.
Time:
    ``time`` is an xsd:dateTime. ``Z`` gives tz_basis ``utc-declared``; a
    written offset (``+07:00``, as real writers emit) is kept as
    ``offset-in-source``; a time with no zone at all is read as wall-clock
    time in ``options.source_tz`` (``assumed:<zone>``) and flagged
    ``ambiguous``/``nonexistent`` around clock changes. A point with no
    ``time`` element (or an empty one, flagged ``empty_time``) is kept as an
    event with ``timestamp_utc`` None and tz_flag ``no_time``: a fix without
    a time still shows a place the device went. A ``time`` that is not an
    xsd:dateTime (including a bare date) is a Rejection, never midnight.
    Fractional seconds beyond microseconds are truncated in ``timestamp_utc``
    and kept verbatim in ``timestamp_source``.
Locator:
    ``xpath:/gpx/trk[1]/trkseg[2]/trkpt[17]``: positional (1-based, counted
    among same-named siblings), namespace-free element names.
Limitations:
    GPX has no horizontal accuracy in metres: ``hdop``/``vdop``/``pdop`` are
    dilution-of-precision factors, kept in ``extra`` and never converted, so
    ``accuracy_m`` stays empty. A point whose ``lat``/``lon`` is missing, not
    a decimal number or out of range is a Rejection. Entity references are
    never resolved (XXE-safe): they stay in the text verbatim (``&xxe;``) and
    the point is flagged ``unresolved_entity``. A track ``name`` written after
    its points (a schema violation) is not applied to the earlier points. XML
    that is not well formed raises SourceError naming the line; points before
    that line were already yielded and are discarded by the ingest rollback.
    Metadata (file ``time``, ``bounds``, author) is not an event.
References:
    GPX 1.1 schema, https://www.topografix.com/GPX/1/1/gpx.xsd; GPX 1.0,
    https://www.topografix.com/gpx_manual.asp; test files from
    tkrajina/gpxpy ``test_files/`` (Apache-2.0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any

from lxml import etree

from atlas.events import EventDraft, Rejection
from atlas.parsing import NotThisFormat, ParseOptions, ParserSpec, Source
from atlas.provenance import xpath
from atlas.timeparse import parse_iso
from parsers._xml_safe import (
    element_path,
    local,
    release,
    root_prolog,
    sniff_root,
    text_of,
    walk,
)

GPX_NAMESPACE_PREFIX = "http://www.topografix.com/GPX/"
POINTS = ("wpt", "rtept", "trkpt")
CONTAINERS = ("trk", "rte")
FLOAT_CHILDREN = ("ele", "magvar", "geoidheight", "hdop", "vdop", "pdop", "ageofdgpsdata",
                  "course", "speed")
INT_CHILDREN = ("sat", "dgpsid")

# xsd:dateTime: a date alone is not a time and must not become midnight.
_XSD_DATETIME = re.compile(
    r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")
_DECIMAL = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_PROLOG = root_prolog("gpx")


def sniff(head: bytes, filename: str) -> bool:
    """Return True when the first element of ``head`` is a GPX ``gpx`` root."""
    if not head:
        return False
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            head = head.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            head = head[2:].decode("utf-16-le" if head[0] == 0xFF else "utf-16-be",
                                   errors="ignore").encode("utf-8")
    # An undeclared prefix is not well formed; no namespace is GPX as written.
    return sniff_root(head, _PROLOG, lambda uri: uri.startswith(GPX_NAMESPACE_PREFIX.encode()))


def parse(source: Source, options: ParseOptions) -> Iterator[EventDraft | Rejection]:
    """Yield one event or rejection per ``wpt``, ``rtept`` and ``trkpt``, in file order."""
    # Each open element: [local name, position among same-named siblings, child counts].
    stack: list[list[Any]] = []
    containers: list[dict[str, Any]] = []  # open trk/rte: depth, label, name
    point_depth: int | None = None
    ext_depth: int | None = None
    with source.open_binary() as fh:
        for event, elem, name in walk(fh, source, _check_root, stack):
            depth = len(stack)
            if event == "start":
                if point_depth is None and ext_depth is None:
                    if name == "extensions":
                        ext_depth = depth
                    elif name in POINTS:
                        point_depth = depth
                    elif name in CONTAINERS:
                        containers.append({"depth": depth, "label": f"{name}[{stack[-1][1]}]",
                                           "name": None})
                continue
            if depth == point_depth:
                yield _point(elem, stack, containers, options)
                point_depth = None
            elif point_depth is not None:
                stack.pop()
                continue  # children of a point are read when the point ends
            elif depth == ext_depth:
                ext_depth = None
            elif (ext_depth is None and name == "name" and containers
                  and containers[-1]["depth"] == depth - 1):
                containers[-1]["name"] = text_of(elem)
            elif containers and containers[-1]["depth"] == depth:
                containers.pop()
            stack.pop()
            release(elem)


def _check_root(elem: etree._Element) -> None:
    qname = etree.QName(elem)
    if qname.localname != "gpx":
        raise NotThisFormat(f"root element is {qname.localname!r}, not 'gpx'")
    if qname.namespace is not None and not qname.namespace.startswith(GPX_NAMESPACE_PREFIX):
        raise NotThisFormat(f"root namespace {qname.namespace!r} is not a GPX namespace")


def _point(elem: etree._Element, stack: list[list[Any]], containers: list[dict[str, Any]],
           options: ParseOptions) -> EventDraft | Rejection:
    kind = stack[-1][0]
    where = xpath(element_path("gpx", stack))
    coords = []
    for attr, limit in (("lat", 90.0), ("lon", 180.0)):
        raw = elem.get(attr)
        if raw is None:
            return Rejection(where, f"{kind} has no {attr} attribute", raw=_raw(elem))
        if not _DECIMAL.fullmatch(raw.strip()):
            return Rejection(where, f"{attr} {raw!r} is not a decimal number", raw=_raw(elem))
        value = float(raw)
        if not -limit <= value <= limit:
            return Rejection(where, f"{attr} {raw!r} is outside -{limit:g}..{limit:g}",
                             raw=_raw(elem))
        coords.append(value)

    extra: dict[str, Any] = {"point_type": kind}
    flags: list[str] = []
    time_text: str | None = None
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        name = local(child.tag)
        if name == "time":
            if time_text is None:
                time_text = text_of(child)
            else:
                extra.setdefault("time_repeated", []).append(text_of(child))
        elif name == "extensions":
            extra["extensions"] = _flatten(child)
        elif name == "link":
            extra.setdefault("link", []).append(child.get("href"))
        else:
            text = text_of(child)
            if name in FLOAT_CHILDREN or name in INT_CHILDREN:
                number = _number(text, integer=name in INT_CHILDREN)
                if number is None and text:
                    flags.append(f"{name}_not_numeric")
                extra[name] = number if number is not None else text
            else:
                extra[name] = text
    if kind == "trkpt" and stack[-2][0] == "trkseg":
        extra["segment"] = stack[-2][1]
    if next(elem.iter(etree.Entity), None) is not None:
        flags.append("unresolved_entity")

    if not time_text:
        if time_text is not None:
            flags.append("empty_time")
            time_text = None
        utc, basis, tz_flag = None, "none", "no_time"
    else:
        if not _XSD_DATETIME.fullmatch(time_text):
            return Rejection(where, f"time {time_text!r} is not an xsd:dateTime "
                             "(YYYY-MM-DDThh:mm:ss[.s][Z|±hh:mm])", raw=_raw(elem))
        reading = parse_iso(time_text, default_zone=options.source_tz)
        if reading.error:
            return Rejection(where, reading.error, raw=_raw(elem))
        utc, basis, tz_flag = reading.utc, reading.basis, reading.flag

    thread = None
    if kind != "wpt" and containers:
        thread = containers[-1]["name"] or containers[-1]["label"]
    return EventDraft(
        locator=where,
        kind="location_fix",
        timestamp_utc=utc,
        timestamp_source=time_text,
        tz_basis=basis,
        tz_flag=tz_flag,
        channel="gpx",
        thread=thread,
        latitude=coords[0],
        longitude=coords[1],
        location_method="gps",
        flags=tuple(flags),
        extra=extra,
    )


def _flatten(elem: etree._Element, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for child in elem:
        if not isinstance(child.tag, str):
            continue
        key = f"{prefix}{local(child.tag)}"
        if len(child):
            out.update(_flatten(child, key + "/"))
        else:
            while key in out:
                key += "+"
            out[key] = text_of(child)
    return out


def _number(text: str, integer: bool) -> float | int | None:
    try:
        value = int(text) if integer else float(text)
    except ValueError:
        return None
    return value if integer or math.isfinite(value) else None


def _raw(elem: etree._Element) -> str:
    return etree.tostring(elem, encoding="unicode", with_tail=False)


PARSER = ParserSpec(
    name="gpx",
    version="1.0",
    family="location",
    summary="GPX 1.0/1.1 waypoints, routes and tracks (one location fix per point)",
    sniff=sniff,
    parse=parse,
    extensions=(".gpx",),
)
