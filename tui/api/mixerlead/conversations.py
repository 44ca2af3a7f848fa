"""Local store of MixerLead conversations and their messages (stdlib sqlite3).

The API has no endpoint to list conversations or read their history, so the app keeps both
itself, in the client's own SQLite file (shared with tui/store.py, whose tables are `ui_`; ours
are `ml_`). A conversation has a local id (what the UI uses) and, once MixerLead gave one, the
server's `conversationId`, which is sent back to continue it. `continuity` records what we learned:
"unknown" before the first reply, "yes" when the server gave an id, "no" when it did not.

A user message is written before it is sent (status "pending"), so it survives any failure; its
status then becomes "sent" or "failed". An assistant message is written once its reply ends (with
status "complete", "interrupted" or "cancelled"), never per streamed piece.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from tui.sqlite_schema import migrate, open_db, schema_version

# Each entry migrates from version i to i+1; never edit an old one, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE ml_conversations (
        id TEXT PRIMARY KEY,
        server_id TEXT,
        title TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '',
        project_id TEXT NOT NULL DEFAULT '',
        continuity TEXT NOT NULL DEFAULT 'unknown',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX ml_conversations_project ON ml_conversations(project_id, updated_at);
    CREATE TABLE ml_messages (
        id TEXT PRIMARY KEY,
        conversation_id TEXT NOT NULL REFERENCES ml_conversations(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        role TEXT NOT NULL,
        text TEXT NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        model TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        UNIQUE (conversation_id, idx)
    );
    """,
]

CONTINUITY_STATES = ("unknown", "yes", "no")


@dataclass
class StoredConversation:
    id: str
    title: str
    server_id: str | None = None
    model: str = ""
    project_id: str = ""
    continuity: str = "unknown"
    created_at: float = 0.0
    updated_at: float = 0.0
    message_count: int = 0
    preview: str = ""

    @property
    def created(self) -> datetime:
        return datetime.fromtimestamp(self.created_at, tz=timezone.utc)


@dataclass
class StoredMessage:
    id: str
    conversation_id: str
    index: int
    role: str  # "user" | "assistant"
    text: str
    status: str  # user: pending | sent | failed | cancelled; assistant: complete | interrupted | cancelled
    error: str | None = None
    model: str = ""
    created_at: float = 0.0


class ConversationStore:
    """Small synchronous store; each call is one short transaction on a local file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._db = open_db(self.path)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA foreign_keys=ON")
            migrate(self._db, "ml_schema", MIGRATIONS, begin="BEGIN IMMEDIATE",
                    too_new=lambda version: f"{self.path} was written by a newer mix-tui (MixerLead schema {version}); upgrade mix-tui.")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._db, "ml_schema")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ conversations

    _CONV_SELECT = (
        "SELECT c.id, c.title, c.server_id, c.model, c.project_id, c.continuity, c.created_at, c.updated_at, "
        "(SELECT COUNT(*) FROM ml_messages m WHERE m.conversation_id = c.id), "
        "COALESCE((SELECT m.text FROM ml_messages m WHERE m.conversation_id = c.id AND m.role = 'user' ORDER BY m.idx LIMIT 1), '') "
        "FROM ml_conversations c"
    )

    @staticmethod
    def _conv(row: tuple) -> StoredConversation:
        return StoredConversation(id=row[0], title=row[1], server_id=row[2], model=row[3], project_id=row[4], continuity=row[5],
                                  created_at=row[6], updated_at=row[7], message_count=row[8], preview=row[9][:200])

    def create(self, title: str, *, model: str = "", project_id: str = "") -> StoredConversation:
        now = time.time()
        conv_id = "ml-" + secrets.token_hex(8)
        with self._lock:
            self._db.execute(
                "INSERT INTO ml_conversations (id, title, model, project_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
                (conv_id, title, model, project_id or "", now, now),
            )
        return StoredConversation(id=conv_id, title=title, model=model, project_id=project_id or "", created_at=now, updated_at=now)

    def get(self, conversation_id: str) -> StoredConversation | None:
        with self._lock:
            row = self._db.execute(self._CONV_SELECT + " WHERE c.id = ?", (conversation_id,)).fetchone()
        return self._conv(row) if row else None

    def list(self, project_id: str | None = None) -> list[StoredConversation]:
        """Newest activity first; only those of `project_id` when given ("" is the default project)."""
        with self._lock:
            if project_id is None:
                rows = self._db.execute(self._CONV_SELECT + " ORDER BY c.updated_at DESC").fetchall()
            else:
                rows = self._db.execute(self._CONV_SELECT + " WHERE c.project_id = ? ORDER BY c.updated_at DESC", (project_id,)).fetchall()
        return [self._conv(r) for r in rows]

    def _update(self, conversation_id: str, column: str, value: object) -> None:
        with self._lock:
            self._db.execute(f"UPDATE ml_conversations SET {column} = ?, updated_at = ? WHERE id = ?", (value, time.time(), conversation_id))

    def rename(self, conversation_id: str, title: str) -> None:
        self._update(conversation_id, "title", title)

    def set_model(self, conversation_id: str, model: str) -> None:
        self._update(conversation_id, "model", model)

    def set_server_id(self, conversation_id: str, server_id: str | None) -> None:
        self._update(conversation_id, "server_id", server_id)

    def set_continuity(self, conversation_id: str, state: str) -> None:
        if state not in CONTINUITY_STATES:
            raise ValueError(f"continuity must be one of {CONTINUITY_STATES}")
        self._update(conversation_id, "continuity", state)

    def delete(self, conversation_id: str) -> None:
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("DELETE FROM ml_messages WHERE conversation_id = ?", (conversation_id,))
            self._db.execute("DELETE FROM ml_conversations WHERE id = ?", (conversation_id,))
            self._db.execute("COMMIT")

    # ------------------------------------------------------------ messages

    @staticmethod
    def _msg(row: tuple) -> StoredMessage:
        return StoredMessage(id=row[0], conversation_id=row[1], index=row[2], role=row[3], text=row[4], status=row[5],
                             error=row[6], model=row[7], created_at=row[8])

    _MSG_COLUMNS = "id, conversation_id, idx, role, text, status, error, model, created_at"

    def add_message(self, conversation_id: str, role: str, text: str, *, status: str, model: str = "", error: str | None = None) -> StoredMessage:
        now = time.time()
        message_id = "mlm-" + secrets.token_hex(8)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM ml_messages WHERE conversation_id = ?", (conversation_id,)).fetchone()
                index = row[0]
                self._db.execute(
                    f"INSERT INTO ml_messages ({self._MSG_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (message_id, conversation_id, index, role, text, status, error, model, now),
                )
                self._db.execute("UPDATE ml_conversations SET updated_at = ? WHERE id = ?", (now, conversation_id))
                self._db.execute("COMMIT")
            except Exception:
                self._db.execute("ROLLBACK")
                raise
        return StoredMessage(message_id, conversation_id, index, role, text, status, error, model, now)

    def update_message(self, message_id: str, *, text: str | None = None, status: str | None = None, error: str | None = None) -> None:
        sets, values = [], []
        if text is not None:
            sets.append("text = ?")
            values.append(text)
        if status is not None:
            sets.append("status = ?")
            values.append(status)
        if error is not None:
            sets.append("error = ?")
            values.append(error)
        if not sets:
            return
        with self._lock:
            self._db.execute(f"UPDATE ml_messages SET {', '.join(sets)} WHERE id = ?", (*values, message_id))

    def message(self, message_id: str) -> StoredMessage | None:
        with self._lock:
            row = self._db.execute(f"SELECT {self._MSG_COLUMNS} FROM ml_messages WHERE id = ?", (message_id,)).fetchone()
        return self._msg(row) if row else None

    def messages(self, conversation_id: str, *, before: int | None = None, limit: int = 50) -> tuple[list[StoredMessage], int, int]:
        """(the newest `limit` messages with index < before, index of the first one, total count)."""
        with self._lock:
            total = self._db.execute("SELECT COUNT(*) FROM ml_messages WHERE conversation_id = ?", (conversation_id,)).fetchone()[0]
            end = total if before is None else max(0, min(before, total))
            start = max(0, end - max(0, limit))
            rows = self._db.execute(
                f"SELECT {self._MSG_COLUMNS} FROM ml_messages WHERE conversation_id = ? AND idx >= ? AND idx < ? ORDER BY idx",
                (conversation_id, start, end),
            ).fetchall()
        return [self._msg(r) for r in rows], start, total
