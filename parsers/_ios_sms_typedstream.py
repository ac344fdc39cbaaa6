"""Read the plain text out of an iMessage ``attributedBody`` (a typedstream NSAttributedString).

A helper of ``ios_sms_db`` (not a parser). ``attributedBody`` is written with the
old ``NSArchiver`` "typedstream" format: a header ``04 0B 'streamtyped'`` (little
endian; ``'typedstream'`` is the big-endian spelling), then the object graph. The
message text is the first ``NSString`` value: after the class chain naming
``NSString`` comes the type encoding ``84 01 2B`` (a new one-byte string ``+``,
meaning "UTF-8 string") and then the value as a length-prefixed run of UTF-8
bytes. Lengths use the typedstream integer encoding: a byte below ``0x80`` is the
number itself, ``0x81`` is followed by a 2-byte integer and ``0x82`` by a 4-byte
integer, in the stream's byte order; other bytes of ``0x80``-``0x91`` are tags.

Only the text is read; attributes (links, mentions, part numbers) are not. When the
blob does not follow this shape, ``None`` is returned and the caller flags it,
rather than guessing.

References: dgelessus/python-typedstream ``stream.py`` (tag values and integer
encoding); Apple NSArchiver (deprecated) documentation.
"""

from __future__ import annotations

_SIGNATURES = {b"streamtyped": "little", b"typedstream": "big"}
_CLASS_MARKER = b"NSString"
_UTF8_TYPE = b"\x84\x01+"  # TAG_NEW, length 1, type encoding "+"
_TYPE_WINDOW = 32  # the version number and superclass reference sit between the two
_TAG_INTEGER_2 = 0x81
_TAG_INTEGER_4 = 0x82


def decode_attributed_body(blob: object) -> str | None:
    """Return the text of an ``attributedBody`` blob, or None when it cannot be read safely."""
    if not isinstance(blob, (bytes, bytearray)) or len(blob) < 16:
        return None
    data = bytes(blob)
    order = next((o for sig, o in _SIGNATURES.items() if data[2:2 + len(sig)] == sig), None)
    if order is None:
        return None
    marker = data.find(_CLASS_MARKER)
    if marker < 0:
        return None
    start = marker + len(_CLASS_MARKER)
    type_at = data.find(_UTF8_TYPE, start, start + _TYPE_WINDOW)
    if type_at < 0:
        return None
    pos = type_at + len(_UTF8_TYPE)
    length, pos = _read_length(data, pos, order)
    if length is None or pos + length > len(data):
        return None
    try:
        return data[pos:pos + length].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _read_length(data: bytes, pos: int, order: str) -> tuple[int | None, int]:
    """Read a typedstream integer used as a length; return (value or None, next position)."""
    if pos >= len(data):
        return None, pos
    head = data[pos]
    if head < 0x80:
        return head, pos + 1
    size = {_TAG_INTEGER_2: 2, _TAG_INTEGER_4: 4}.get(head)
    if size is None or pos + 1 + size > len(data):
        return None, pos
    value = int.from_bytes(data[pos + 1:pos + 1 + size], order, signed=True)  # type: ignore[arg-type]
    if value < 0:
        return None, pos
    return value, pos + 1 + size
