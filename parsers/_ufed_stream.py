"""Cellebrite report.xml: keep characters XML 1.0 forbids as visible text instead of failing.

Physical Analyzer writes message text containing control characters either as
character references (``&#x1;``) or as raw bytes, both illegal in XML 1.0, so
a strict parser refuses the whole report (IPED's ``UFEDXMLWrapper`` works
around the same thing). This filter rewrites, in the byte stream:

* an illegal character reference ``&#x1;`` to ``&amp;#x1;``, so the text reads
  ``&#x1;`` exactly as the file spells it;
* an illegal raw control byte to its Unicode control picture (U+2400 + n, e.g.
  ``␁``).

Records whose text carries either form are flagged by the model handlers
(``TEXT_ESCAPED`` below). Only UTF-8 (or ASCII) reports are filtered: in those,
bytes below 0x20 never occur inside a multi-byte character.
"""

from __future__ import annotations

import io
import re
from typing import IO

_BAD_REF = re.compile(
    rb"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));"
)
_BAD_BYTE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
TEXT_ESCAPED = re.compile(
    r"&#(?:[xX]0*(?:[0-8bBcCeEfF]|1[0-9a-fA-F])|0*(?:[0-8]|1[124-9]|2[0-9]|3[01]));|[\u2400-\u241f]"
)
"""Matches the visible forms this filter produces, for flagging records."""


def is_utf8(head: bytes) -> bool:
    """Return True when the report declares UTF-8/ASCII or nothing (and has no UTF-16 BOM)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    found = _ENCODING.match(head.removeprefix(b"\xef\xbb\xbf"))
    return found is None or found.group(1).lower() in (b"utf-8", b"utf8", b"us-ascii", b"ascii")


def _clean(data: bytes) -> bytes:
    data = _BAD_REF.sub(lambda m: b"&amp;" + m.group(0)[1:], data)
    return _BAD_BYTE.sub(lambda m: chr(0x2400 + m.group(0)[0]).encode(), data)


class CleanReader(io.RawIOBase):
    """A read-only stream that applies the rewrite above, chunk by chunk."""

    def __init__(self, raw: IO[bytes]) -> None:
        self._raw = raw
        self._pending = b""
        self._out = memoryview(b"")
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not len(self._out) and not self._eof:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                self._eof = True
                data, self._pending = self._pending, b""
            else:
                data = self._pending + chunk
                # A reference split across chunks is held back until its ';' arrives.
                amp = data.rfind(b"&", max(0, len(data) - 16))
                if amp != -1 and b";" not in data[amp:]:
                    data, self._pending = data[:amp], data[amp:]
                else:
                    self._pending = b""
            self._out = memoryview(_clean(data))
        n = min(len(buffer), len(self._out))
        buffer[:n] = self._out[:n]
        self._out = self._out[n:]
        return n
