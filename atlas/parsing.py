"""What a parser is given and what it declares.

A parser module ends with ``PARSER = ParserSpec(...)`` naming plain functions:
``sniff(head, filename) -> bool`` and ``parse(source, options)`` yielding
``EventDraft`` or ``Rejection`` in file order. A parser reads; the ingest core
records (``atlas.ingest``).
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from atlas.errors import NotThisFormat  # noqa: F401 - re-exported for parsers
from atlas.events import EventDraft, Rejection

FAMILIES = ("chat", "phone", "social", "location", "telecoms", "generic", "email", "diary")


@dataclass(frozen=True, kw_only=True)
class ParseOptions:
    """Per-ingest settings a parser may use; all are recorded in the analysis log."""

    region: str = "GB"
    """Default region for phone numbers written without a country code."""
    source_tz: str = "Europe/London"
    """IANA zone assumed for local times that carry no offset."""
    date_order: str | None = None
    """Force ``dmy``, ``mdy`` or ``ymd`` for numeric dates; None lets the parser infer."""
    default_date_order: str = "dmy"
    """Order used when the file does not settle it (UK day-first)."""
    mapping: dict[str, Any] | None = None
    """A parsed TOML mapping file: table_mapping columns, a cdr_csv profile, cell_sites columns."""
    mapping_path: str | None = None
    """Path of that mapping file, for messages."""
    apply_wal: bool = True
    """Apply a ``-wal`` file beside an SQLite database (on a private copy); False reads the main file alone."""

    def as_log(self) -> dict[str, Any]:
        """Return the options as plain JSON-able values for the analysis log.

        ``apply_wal`` is written only when it is not the default, so the records of
        ingests made before the option existed stay as they were.
        """
        out: dict[str, Any] = {
            "region": self.region,
            "source_tz": self.source_tz,
            "date_order": self.date_order,
            "default_date_order": self.default_date_order,
            "mapping_path": self.mapping_path,
        }
        if not self.apply_wal:
            out["apply_wal"] = False
        return out


class _CountingReader(io.RawIOBase):
    """A read-only raw stream that counts bytes read, for the progress bar."""

    def __init__(self, fh: IO[bytes], counter: list[int]) -> None:
        self._fh = fh
        self._counter = counter

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        n = self._fh.readinto(buffer)
        self._counter[0] += n or 0
        return n

    def seekable(self) -> bool:
        return self._fh.seekable()

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()
        super().close()


@dataclass
class Source:
    """A read-only handle on one source file.

    It gives the parser bytes or text and the display path, and deliberately
    not the exhibit reference: provenance is the core's job.
    """

    path: str
    """Absolute path on disk (read-only use)."""
    display_path: str
    """Path relative to the case, for messages and locators."""
    size: int = 0
    bytes_read: list[int] = field(default_factory=lambda: [0])
    companions: list[dict[str, Any]] = field(default_factory=list)
    """Files beside the source that the parser also read (an SQLite ``-wal``), each as
    ``{"path", "size", "sha256"}`` of the bytes read, the path relative like ``display_path``.
    Filled by ``copy_to`` and ``note_companion``; the ingest records them in the manifest and re-checks them."""

    @classmethod
    def from_path(cls, path: str, display_path: str | None = None) -> Source:
        """Make a Source for a file on disk."""
        return cls(path=path, display_path=display_path or os.path.basename(path),
                   size=os.path.getsize(path))

    def open_binary(self) -> IO[bytes]:
        """Open the file for reading bytes (never for writing)."""
        raw = open(self.path, "rb")  # noqa: SIM115 - returned to the caller's with-block
        return io.BufferedReader(_CountingReader(raw, self.bytes_read), buffer_size=1 << 16)

    def open_text(self, encoding: str = "utf-8-sig", newline: str | None = None,
                  errors: str = "strict") -> IO[str]:
        """Open the file for reading text."""
        return io.TextIOWrapper(self.open_binary(), encoding=encoding, newline=newline, errors=errors)

    def head(self, n: int = 65536) -> bytes:
        """Return the first ``n`` bytes."""
        with open(self.path, "rb") as fh:
            return fh.read(n)

    def companion_size(self, suffix: str) -> int | None:
        """Return the size of the regular file named like the source plus ``suffix``, or None."""
        companion = self.path + suffix
        if not os.path.isfile(companion):
            return None
        return os.path.getsize(companion)

    def copy_to(self, dest: str, suffix: str = "") -> int:
        """Copy the source (or, with ``suffix`` such as ``-wal``, the companion file beside it)
        to the new file ``dest`` and return the number of bytes copied.

        The source is only read. A companion is recorded in ``companions`` with the
        SHA-256 of exactly the bytes copied, so the evidence record names what was used.
        """
        digest = hashlib.sha256()
        copied = 0
        with open(self.path + suffix, "rb") as fin, open(dest, "xb") as fout:
            while chunk := fin.read(1 << 20):
                digest.update(chunk)
                fout.write(chunk)
                copied += len(chunk)
        if suffix:
            self.companions.append({"path": self.display_path + suffix, "size": copied,
                                    "sha256": digest.hexdigest()})
        return copied

    def note_companion(self, suffix: str) -> None:
        """Record the size and SHA-256 of the companion file named like the source plus
        ``suffix`` without using its content (its presence alone changed the output, e.g. a
        ``-wal`` not applied)."""
        digest = hashlib.sha256()
        size = 0
        with open(self.path + suffix, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
        self.companions.append({"path": self.display_path + suffix, "size": size,
                                "sha256": digest.hexdigest()})


Item = EventDraft | Rejection


@dataclass(frozen=True, kw_only=True)
class ParserSpec:
    """The declaration a parser module ends with."""

    name: str
    version: str
    family: str
    summary: str
    sniff: Callable[[bytes, str], bool]
    parse: Callable[[Source, ParseOptions], Iterator[Item]]
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"parser {self.name}: family {self.family!r} not in {FAMILIES}")
