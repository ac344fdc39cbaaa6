"""Cellebrite ``.ufdr`` container: member checks, the report stream, attachment hashes.

A ``.ufdr`` is an ordinary ZIP. Nothing is ever extracted to disk: the report
is read through ``ZipFile.open`` and attachments are hashed by streaming their
member. Every member name and size is checked before anything is read, so a
hostile container fails as a whole with the offending member named.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import zipfile
from typing import IO

from atlas.errors import SourceError

REPORT_NAMES = ("report.xml", "Report.xml")

MAX_MEMBER_BYTES = 1 << 40
"""1 TiB: far above the largest report seen (hundreds of MB) and any phone file."""
MAX_RATIO = 200
"""Real report XML deflates about 10-30:1; a far higher ratio on a big member is a zip bomb."""
RATIO_FLOOR_BYTES = 8 << 20
"""The ratio check applies only to members that inflate to more than this."""
HASH_CACHE_SIZE = 4096

_DRIVE = re.compile(r"^[A-Za-z]:")


def unsafe_name_reason(name: str) -> str | None:
    """Return why a member name is unsafe (absolute, drive letter, ``..``), or None."""
    text = name.replace("\\", "/")
    if text.startswith("/"):
        return "absolute path"
    if _DRIVE.match(text):
        return "drive-letter path"
    if ".." in text.split("/"):
        return "parent-directory ('..') component"
    if "\x00" in text:
        return "NUL byte in name"
    return None


def check_members(zf: zipfile.ZipFile, display_path: str) -> None:
    """Refuse the container if any member name or size is unsafe."""
    for info in zf.infolist():
        where = f"zip:{info.filename}"
        why = unsafe_name_reason(info.filename)
        if why:
            raise SourceError(display_path, where, f"unsafe member name '{info.filename}': {why}")
        if info.file_size > MAX_MEMBER_BYTES:
            raise SourceError(
                display_path,
                where,
                f"member '{info.filename}' declares {info.file_size} bytes, beyond the 1 TiB limit",
            )
        if info.file_size > RATIO_FLOOR_BYTES:
            ratio = info.file_size / max(info.compress_size, 1)
            if ratio > MAX_RATIO:
                raise SourceError(
                    display_path,
                    where,
                    f"member '{info.filename}' inflates {ratio:.0f}:1 "
                    f"(limit {MAX_RATIO}:1); refusing a possible zip bomb",
                )


def find_report(zf: zipfile.ZipFile) -> zipfile.ZipInfo | None:
    """Return the ``report.xml`` member at the root of the container, if any."""
    for name in REPORT_NAMES:
        try:
            return zf.getinfo(name)
        except KeyError:
            continue
    return None


def open_report(zf: zipfile.ZipFile, info: zipfile.ZipInfo, display_path: str) -> IO[bytes]:
    """Open the report member as a stream (never extracted)."""
    if info.flag_bits & 0x1:
        raise SourceError(display_path, f"zip:{info.filename}", "report.xml is encrypted")
    return zf.open(info, "r")


def normalise_member_path(raw: str) -> str | None:
    """Turn a report path such as ``files\\Image\\a.jpg`` into a member name, or None if unsafe."""
    # UFED writes Windows separators and sometimes pads path fragments with spaces.
    parts = [frag.strip() for frag in raw.replace("\\", "/").split("/")]
    text = "/".join(p for p in parts if p)
    if not text or unsafe_name_reason(raw) or unsafe_name_reason(text):
        return None
    return posixpath.normpath(text)


class AttachmentHasher:
    """Hash container members named by attachment paths, streaming, with a bounded cache."""

    def __init__(self, zf: zipfile.ZipFile | None) -> None:
        self._zf = zf
        self._names: dict[str, str] = {}
        if zf is not None:
            # Case-insensitive: Windows-made reports and their members differ in case.
            self._names = {name.lower(): name for name in zf.namelist()}
        self._cache: dict[str, str] = {}

    @property
    def active(self) -> bool:
        """Return True when there is a container to hash from."""
        return self._zf is not None

    def sha256(self, raw_path: str) -> str | None:
        """Return the SHA-256 of the member a report path points to, or None when absent."""
        if self._zf is None:
            return None
        member = normalise_member_path(raw_path)
        if member is None:
            return None
        name = self._names.get(member.lower())
        if name is None:
            return None
        if name in self._cache:
            return self._cache[name]
        digest = hashlib.sha256()
        with self._zf.open(name, "r") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        if len(self._cache) >= HASH_CACHE_SIZE:
            self._cache.pop(next(iter(self._cache)))
        self._cache[name] = digest.hexdigest()
        return self._cache[name]
