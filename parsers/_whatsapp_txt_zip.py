"""The iOS WhatsApp share: a zip holding ``_chat.txt`` and the media, read in place.

Nothing is extracted to disk. Members are checked before use: a name that climbs
out of the archive (``../``, absolute, drive letter), an encrypted member, an
absurd declared size or compression ratio is never read. ``zipfile`` itself stops
decompressing at the declared size and checks the CRC, so a member cannot grow
beyond what the directory says.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib

from atlas.errors import SourceError
from atlas.parsing import NotThisFormat

CHAT_MEMBER = "_chat.txt"
LOCAL_HEADER = b"PK\x03\x04"
MAX_MEMBER_BYTES = 4 << 30
"""No chat text or phone media item comes near 4 GiB; a larger declared size is a trap."""
MAX_RATIO = 200
"""Text deflates about 5-20 times; a member above 1 MiB expanding more than this is a bomb."""
_RATIO_FLOOR = 1 << 20
_SPLIT = re.compile(r"[\\/]")


def sniff_zip(head: bytes) -> bool:
    """Return True when a local file header in ``head`` names ``_chat.txt`` at the root."""
    for found in re.finditer(re.escape(LOCAL_HEADER), head):
        pos = found.start()
        if pos + 30 > len(head):
            break
        name_len = int.from_bytes(head[pos + 26:pos + 28], "little")
        name = head[pos + 30:pos + 30 + name_len]
        if name == CHAT_MEMBER.encode():  # root only: a UFDR may hold a nested copy
            return True
    return False


def unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    """Return why a member must not be read, or None when it is safe."""
    name = info.filename
    parts = _SPLIT.split(name)
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return f"member {name!r} has an absolute path"
    if ".." in parts:
        return f"member {name!r} climbs out of the archive (path traversal)"
    if info.flag_bits & 0x1:
        return f"member {name!r} is encrypted"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"member {name!r} declares {info.file_size} bytes, more than {MAX_MEMBER_BYTES}"
    if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
        return (f"member {name!r} expands {info.file_size} bytes from {info.compress_size}: "
                f"compression ratio above {MAX_RATIO} (zip bomb?)")
    return None


def chat_member(zf: zipfile.ZipFile, display_path: str) -> zipfile.ZipInfo:
    """Return the one safe ``_chat.txt`` member, or raise."""
    found = [i for i in zf.infolist() if _SPLIT.split(i.filename)[-1] == CHAT_MEMBER]
    if not found:
        raise NotThisFormat(f"zip has no member named {CHAT_MEMBER}")
    if len(found) > 1:
        names = ", ".join(repr(i.filename) for i in found)
        raise SourceError(display_path, None,
                          f"zip holds {len(found)} members named {CHAT_MEMBER} ({names}); "
                          "cannot tell which is the chat")
    reason = unsafe_reason(found[0])
    if reason:
        raise SourceError(display_path, None, f"unsafe {CHAT_MEMBER}: {reason}")
    return found[0]


class MemberHasher:
    """Hash media members named in the chat, streamed from inside the zip, once each."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self._zf = zf
        # Media sit at the archive root beside _chat.txt, named as the chat names them.
        # A name held twice maps to None: which copy the chat meant cannot be told.
        self._members: dict[str, zipfile.ZipInfo | None] = {}
        for info in zf.infolist():
            if not info.is_dir():
                key = info.filename
                self._members[key] = None if key in self._members else info
        self._done: dict[str, tuple[str | None, str | None]] = {}

    def record(self, names: tuple[str, ...], extra: dict[str, object], flags: list[str]) -> None:
        """Put the SHA-256 of each named attachment found in the zip into ``extra``."""
        hashes: dict[str, str] = {}
        unhashed: dict[str, str] = {}
        for name in names:
            digest, problem = self.lookup(name)
            if digest:
                hashes[name] = digest
            elif problem:
                unhashed[name] = problem
        if hashes:
            extra["attachment_sha256"] = hashes
        if unhashed:
            extra["attachment_not_hashed"] = unhashed
            flags.append("attachment_not_hashed")

    def lookup(self, name: str) -> tuple[str | None, str | None]:
        """Return (sha256, None) for a present safe member, (None, reason) or (None, None)."""
        if name in self._done:
            return self._done[name]
        if name not in self._members:
            result: tuple[str | None, str | None] = (None, None)
        elif (info := self._members[name]) is None:
            result = (None, f"several members named {name!r}")
        else:
            reason = unsafe_reason(info)
            result = (None, reason) if reason else self._hash(info)
        self._done[name] = result
        return result

    def _hash(self, info: zipfile.ZipInfo) -> tuple[str | None, str | None]:
        digest = hashlib.sha256()
        try:
            with self._zf.open(info) as fh:
                while block := fh.read(1 << 20):
                    digest.update(block)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            # A damaged photo must not cost the chat: the message keeps its name, unhashed.
            return None, f"member {info.filename!r} unreadable: {exc}"
        return digest.hexdigest(), None
