"""A small streaming JSON walker built on the standard library.

``json`` can only decode a whole document. Chat and location exports can run to
hundreds of megabytes, so the parsers walk the outer containers with this
reader and decode one record at a time with ``json.JSONDecoder.raw_decode``.
Only the record being decoded and a read-ahead buffer are held in memory.

Usage::

    stream = JsonStream(fh)
    for key in stream.iter_object():      # the caller must consume each value
        if key == "messages":
            for index in stream.iter_array():
                record = stream.value()
        else:
            stream.skip()
    stream.end()
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

_WS = " \t\r\n"


class JsonStreamError(ValueError):
    """The document is not well-formed JSON (or ends early); ``offset`` is the character offset."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (character {offset})")
        self.offset = offset


class JsonStream:
    """Walk a JSON text incrementally: containers by hand, leaves and records by ``raw_decode``."""

    def __init__(self, fh: IO[str], chunk: int = 1 << 16) -> None:
        self._fh = fh
        self._chunk = chunk
        self._buf = ""
        self._pos = 0
        self._base = 0
        self._eof = False
        self._decoder = json.JSONDecoder()

    def offset(self) -> int:
        """Return the character offset of the cursor from the start of the text."""
        return self._base + self._pos

    def _more(self, at_least: int = 0) -> bool:
        if self._eof:
            return False
        if self._pos:
            # Drop what has been consumed so memory stays bounded by the largest record.
            self._base += self._pos
            self._buf = self._buf[self._pos :]
            self._pos = 0
        data = self._fh.read(max(self._chunk, at_least))
        if not data:
            self._eof = True
            return False
        self._buf += data
        return True

    def peek(self) -> str:
        """Skip whitespace and return the next character, or '' at the end of the text."""
        while True:
            buf = self._buf
            n = len(buf)
            pos = self._pos
            while pos < n and buf[pos] in _WS:
                pos += 1
            self._pos = pos
            if pos < n:
                return buf[pos]
            if not self._more():
                return ""

    def _expect(self, char: str) -> None:
        got = self.peek()
        if got != char:
            found = repr(got) if got else "end of file"
            raise JsonStreamError(f"expected {char!r}, found {found}", self.offset())
        self._pos += 1

    def value(self) -> Any:
        """Decode and return the complete value at the cursor."""
        if not self.peek():
            raise JsonStreamError("unexpected end of file", self.offset())
        while True:
            try:
                val, end = self._decoder.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                # Either the value runs past the buffer (read more, doubling) or it is broken.
                if self._more(len(self._buf) - self._pos + 1):
                    continue
                raise JsonStreamError(exc.msg, self._base + exc.pos) from exc
            if end >= len(self._buf) and not isinstance(val, (dict, list, str)) and self._more():
                continue  # a number or literal at the buffer edge may continue
            self._pos = end
            return val

    def skip(self) -> None:
        """Consume the value at the cursor without keeping it."""
        self.value()

    def iter_object(self) -> Iterator[str]:
        """Yield each key of the object at the cursor; the caller consumes each value."""
        self._expect("{")
        if self.peek() == "}":
            self._pos += 1
            return
        while True:
            if self.peek() != '"':
                raise JsonStreamError("expected an object key", self.offset())
            key = self.value()
            self._expect(":")
            yield key
            char = self.peek()
            self._pos += 1
            if char == "}":
                return
            if char != ",":
                raise JsonStreamError(
                    f"expected ',' or '}}' after a value, found {char!r}"
                    if char
                    else "unexpected end of file inside an object",
                    self.offset(),
                )

    def iter_array(self) -> Iterator[int]:
        """Yield the index of each element of the array at the cursor; the caller consumes it."""
        self._expect("[")
        if self.peek() == "]":
            self._pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            char = self.peek()
            self._pos += 1
            if char == "]":
                return
            if char != ",":
                raise JsonStreamError(
                    f"expected ',' or ']' after an element, found {char!r}"
                    if char
                    else "unexpected end of file inside an array",
                    self.offset(),
                )

    def end(self) -> None:
        """Check that nothing but whitespace follows the top-level value."""
        char = self.peek()
        if char:
            raise JsonStreamError(f"unexpected data after the document: {char!r}", self.offset())


def escape_pointer(token: str | int) -> str:
    """Escape one JSON Pointer reference token (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")
