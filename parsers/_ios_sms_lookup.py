"""Chat, participant and attachment look-ups for ``ios_sms_db`` (a helper, not a parser).

The join tables are indexed by message id in real ``sms.db`` files
(``chat_message_join_idx_message_id``, ``message_attachment_join_idx_message_id``),
so one small query per message keeps the parse streaming. Chat participants are
cached per chat: a phone has far fewer chats than messages.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from atlas.identifiers import Ident
from parsers._phone_sqlite import address_ident, as_text, plain

# message.account prefixes naming the phone's own identity.
ACCOUNT_PREFIXES = ("e:", "p:")
CHAT_DETAILS = ("guid", "chat_identifier", "display_name", "service_name", "room_name", "style")


@dataclass
class Chat:
    """One chat a message belongs to, with its participants' raw handle ids."""

    chat_id: int
    identifier: str | None
    info: dict[str, Any]
    handles: list[str] = field(default_factory=list)

    def members(self, region: str) -> list[Ident]:
        """Return the chat's participants (other than the phone) as identifiers."""
        out = [address_ident(h, region) for h in self.handles]
        return [i for i in out if i is not None]


class ChatLookup:
    """Answer "which chats / attachments" for one message at a time."""

    def __init__(self, conn: sqlite3.Connection, tables: dict[str, frozenset[str]]) -> None:
        self._conn = conn
        self._has_chats = "chat_message_join" in tables and "chat" in tables
        self._has_members = "chat_handle_join" in tables
        self._has_attachments = "message_attachment_join" in tables and "attachment" in tables
        self._members: dict[int, list[str]] = {}

    def chats(self, message_id: int) -> list[Chat]:
        """Return the chats joined to ``message_id``, lowest chat id first."""
        if not self._has_chats:
            return []
        rows = self._conn.execute(
            'SELECT j.chat_id AS "__chat", c.* FROM chat_message_join j '
            "LEFT JOIN chat c ON c.rowid = j.chat_id WHERE j.message_id = ? ORDER BY j.chat_id",
            (message_id,)).fetchall()
        out = []
        for rec in rows:
            cols = rec.keys()
            info = {"chat_id": rec["__chat"]}
            for col in CHAT_DETAILS:
                if col in cols and rec[col] not in (None, ""):
                    info[col] = plain(rec[col])
            identifier = as_text(rec["chat_identifier"]) if "chat_identifier" in cols else None
            out.append(Chat(rec["__chat"], identifier, info, self._chat_handles(rec["__chat"])))
        return out

    def _chat_handles(self, chat_id: int) -> list[str]:
        if not self._has_members:
            return []
        if chat_id not in self._members:
            rows = self._conn.execute(
                "SELECT h.id FROM chat_handle_join j JOIN handle h ON h.rowid = j.handle_id "
                "WHERE j.chat_id = ? ORDER BY h.rowid", (chat_id,)).fetchall()
            self._members[chat_id] = [t for t in (as_text(r[0]) for r in rows) if t]
        return self._members[chat_id]

    def attachments(self, message_id: int) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
        """Return (names as given, details) of the attachments joined to ``message_id``."""
        if not self._has_attachments:
            return (), []
        rows = self._conn.execute(
            'SELECT j.attachment_id AS "__attachment", a.* FROM message_attachment_join j '
            "LEFT JOIN attachment a ON a.rowid = j.attachment_id "
            "WHERE j.message_id = ? ORDER BY j.attachment_id", (message_id,)).fetchall()
        names: list[str] = []
        details: list[dict[str, Any]] = []
        for rec in rows:
            cols = rec.keys()
            info = {"attachment_id": rec["__attachment"]}
            for col in ("guid", "filename", "transfer_name", "mime_type", "uti", "total_bytes",
                        "is_outgoing", "transfer_state"):
                if col in cols and rec[col] is not None:
                    info[col] = plain(rec[col])
            details.append(info)
            name = next((as_text(rec[c]) for c in ("filename", "transfer_name")
                         if c in cols and as_text(rec[c])), None)
            names.append(name or f"attachment {rec['__attachment']} (row missing or unnamed)")
        return tuple(names), details


def own_identity(rec: sqlite3.Row, region: str) -> Ident | None:
    """Return the phone's own number or address for this message, when the row names it."""
    cols = {c.lower() for c in rec.keys()}
    if "destination_caller_id" in cols:
        ident = address_ident(as_text(rec["destination_caller_id"]), region)
        if ident is not None:
            return ident
    account = as_text(rec["account"]) if "account" in cols else None
    if account and account[:2].lower() in ACCOUNT_PREFIXES:
        return address_ident(account[2:], region)
    return None
