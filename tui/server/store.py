"""The server's SQLite store: sessions, messages, preferences, permission decisions.

stdlib sqlite3 in WAL mode. Every call is one short transaction on a single connection guarded by
a lock, so calling it from the event loop costs well under a millisecond per call. The schema is
versioned: `MIGRATIONS` is an ordered list, `schema_version` records how far a file has come, and
opening an older file runs the missing steps.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable


def _script(db: sqlite3.Connection, sql: str) -> None:
    # executescript() would commit the migration's transaction; run statement by statement instead
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _m1_initial(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE sessions (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            working_directory TEXT NOT NULL DEFAULT '',
            parent_session_id TEXT,
            prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0,
            cost REAL NOT NULL DEFAULT 0
        );
        CREATE TABLE messages (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            role TEXT NOT NULL,
            text TEXT NOT NULL DEFAULT '',
            tool_calls TEXT NOT NULL DEFAULT '[]',
            reasoning TEXT NOT NULL DEFAULT '',
            reasoning_duration REAL,
            finish_reason TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            created_at REAL NOT NULL,
            UNIQUE (session_id, position)
        );
        CREATE INDEX messages_role_time ON messages(role, created_at);
        CREATE TABLE preferences (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            data TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE permission_decisions (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            tool_name TEXT NOT NULL,
            action TEXT NOT NULL,
            path TEXT NOT NULL,
            description TEXT NOT NULL,
            params TEXT NOT NULL,
            decision TEXT NOT NULL,
            requested_at REAL NOT NULL,
            decided_at REAL NOT NULL
        );
        """
    )


def _m2_session_model(db: sqlite3.Connection) -> None:
    # Which provider/model a session last used; empty until real providers are plugged in.
    db.execute("ALTER TABLE sessions ADD COLUMN provider TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE sessions ADD COLUMN model TEXT NOT NULL DEFAULT ''")


def _m3_session_options(db: sqlite3.Connection) -> None:
    # The latest spec's per-session settings (browserMode, cdpUrl, prompt, callbacks), as JSON.
    db.execute("ALTER TABLE sessions ADD COLUMN options TEXT NOT NULL DEFAULT '{}'")


STREAMING = "streaming"  # finish reason of an answer still being streamed (tui.server.drafts)
INTERRUPTED = "interrupted"  # ... of one whose server died mid-turn

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m1_initial, _m2_session_model, _m3_session_options]
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass
class SessionRow:
    id: str
    title: str
    created_at: float
    working_directory: str = ""
    parent_session_id: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0
    user_messages: int = 0
    assistant_messages: int = 0
    tool_messages: int = 0
    first_user_message: str = ""
    provider: str = ""
    model: str = ""
    options: dict = field(default_factory=dict)  # browserMode, cdpUrl, customSystemPrompt, promptMode, callbacks


@dataclass
class MessageRow:
    id: str
    session_id: str
    position: int
    role: str
    text: str
    tool_calls: list[dict] = field(default_factory=list)
    reasoning: str = ""
    reasoning_duration: float | None = None
    finish_reason: str = ""
    model: str = ""
    created_at: float = 0.0

    def as_history(self) -> dict:
        return {"role": self.role, "text": self.text, "tool_calls": self.tool_calls, "reasoning": self.reasoning}


_SESSION_SELECT = """
SELECT s.id, s.title, s.created_at, s.working_directory, s.parent_session_id, s.prompt_tokens,
       s.completion_tokens, s.cost,
       (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id AND m.role = 'user'),
       (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id AND m.role = 'assistant'),
       (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id AND m.role = 'tool'),
       COALESCE((SELECT m.text FROM messages m WHERE m.session_id = s.id AND m.role = 'user'
                 ORDER BY m.position LIMIT 1), ''),
       s.provider, s.model, s.options
FROM sessions s
"""


class Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._migrate()

    # ------------------------------------------------------------ plumbing

    def _migrate(self) -> None:
        with self._lock:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if row is None:
                self._db.execute("INSERT INTO schema_version (version) VALUES (0)")
            if version > SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} was written by a newer mix-tui (schema {version} > {SCHEMA_VERSION})"
                )
            for step in range(version, SCHEMA_VERSION):
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    MIGRATIONS[step](self._db)
                    self._db.execute("UPDATE schema_version SET version = ?", (step + 1,))
                    self._db.execute("COMMIT")
                except BaseException:
                    self._db.execute("ROLLBACK")
                    raise

    def schema_version(self) -> int:
        with self._lock:
            return self._db.execute("SELECT version FROM schema_version").fetchone()[0]

    def _tx(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = fn(self._db)
                self._db.execute("COMMIT")
                return result
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ sessions

    @staticmethod
    def _session(row: tuple) -> SessionRow:
        values = list(row)
        try:
            options = json.loads(values[-1] or "{}")
        except ValueError:
            options = {}
        values[-1] = options if isinstance(options, dict) else {}
        return SessionRow(*values)

    def create_session(self, title: str, *, working_directory: str = "", parent_session_id: str | None = None,
                       options: dict | None = None) -> SessionRow:
        sid = str(uuid.uuid4())
        now = time.time()
        self._tx(
            lambda db: db.execute(
                "INSERT INTO sessions (id, title, created_at, updated_at, working_directory, parent_session_id, options)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sid, title, now, now, working_directory, parent_session_id, json.dumps(options or {})),
            )
        )
        return self.get_session(sid)  # type: ignore[return-value]

    def update_session_options(self, session_id: str, changes: dict) -> SessionRow | None:
        session = self.get_session(session_id)
        if session is None:
            return None
        merged = {**session.options, **changes}
        self._tx(lambda db: db.execute("UPDATE sessions SET options = ?, updated_at = ? WHERE id = ?",
                                       (json.dumps(merged), time.time(), session_id)))
        return self.get_session(session_id)

    def rewind_session(self, session_id: str, message_id: str) -> MessageRow | None:
        """Delete every message after `message_id` (which stays); None when it is not in this session."""
        kept = self.get_message(message_id)
        if kept is None or kept.session_id != session_id:
            return None
        self._tx(lambda db: db.execute("DELETE FROM messages WHERE session_id = ? AND position > ?",
                                       (session_id, kept.position)))
        return kept

    def get_session(self, session_id: str) -> SessionRow | None:
        rows = self._query(_SESSION_SELECT + " WHERE s.id = ?", (session_id,))
        return self._session(rows[0]) if rows else None

    def session_exists(self, session_id: str) -> bool:
        return bool(self._query("SELECT 1 FROM sessions WHERE id = ?", (session_id,)))

    def list_sessions(self) -> list[SessionRow]:
        # rowid breaks ties between sessions created within the same clock tick
        return [self._session(r) for r in self._query(_SESSION_SELECT + " ORDER BY s.created_at DESC, s.rowid DESC")]

    def rename_session(self, session_id: str, title: str) -> bool:
        cur = self._tx(
            lambda db: db.execute("UPDATE sessions SET title = ?, updated_at = ? WHERE id = ?", (title, time.time(), session_id))
        )
        return cur.rowcount > 0

    def delete_session(self, session_id: str) -> bool:
        cur = self._tx(lambda db: db.execute("DELETE FROM sessions WHERE id = ?", (session_id,)))
        return cur.rowcount > 0

    def add_usage(self, session_id: str, prompt_tokens: int, completion_tokens: int, cost: float) -> None:
        """Seed semantics: tokens hold the last request's usage, cost accumulates."""
        self._tx(
            lambda db: db.execute(
                "UPDATE sessions SET prompt_tokens = ?, completion_tokens = ?, cost = cost + ? WHERE id = ?",
                (prompt_tokens, completion_tokens, cost, session_id),
            )
        )

    def set_session_model(self, session_id: str, provider: str, model: str) -> None:
        """Remember which provider and model answered the session's latest turn."""
        self._tx(lambda db: db.execute("UPDATE sessions SET provider = ?, model = ? WHERE id = ?",
                                       (provider, model, session_id)))

    # ------------------------------------------------------------ messages

    _MSG_COLS = "id, session_id, position, role, text, tool_calls, reasoning, reasoning_duration, finish_reason, model, created_at"

    @staticmethod
    def _message(row: tuple) -> MessageRow:
        values = list(row)
        values[5] = json.loads(values[5]) if values[5] else []
        return MessageRow(*values)

    def add_message(
        self,
        session_id: str,
        role: str,
        text: str,
        *,
        tool_calls: list[dict] | None = None,
        reasoning: str = "",
        reasoning_duration: float | None = None,
        finish_reason: str = "",
        model: str = "",
    ) -> str:
        mid = str(uuid.uuid4())
        calls = json.dumps(tool_calls or [], separators=(",", ":"))
        now = time.time()

        def insert(db: sqlite3.Connection) -> None:
            pos = db.execute("SELECT COALESCE(MAX(position), -1) + 1 FROM messages WHERE session_id = ?", (session_id,)).fetchone()[0]
            db.execute(
                f"INSERT INTO messages ({self._MSG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (mid, session_id, pos, role, text, calls, reasoning, reasoning_duration, finish_reason, model, now),
            )
            db.execute("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))

        self._tx(insert)
        return mid

    _UPDATABLE = ("text", "tool_calls", "reasoning", "reasoning_duration", "finish_reason", "model")

    def update_message(self, message_id: str, **fields: Any) -> None:
        """Rewrite some columns of one message (the streaming draft as it grows, then its final form)."""
        if "tool_calls" in fields:
            fields["tool_calls"] = json.dumps(fields["tool_calls"] or [], separators=(",", ":"))
        unknown = set(fields) - set(self._UPDATABLE)
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._tx(lambda db: db.execute(f"UPDATE messages SET {assignments} WHERE id = ?", (*fields.values(), message_id)))

    def delete_message(self, message_id: str) -> None:
        self._tx(lambda db: db.execute("DELETE FROM messages WHERE id = ?", (message_id,)))

    def close_interrupted(self) -> int:
        """At start: answers still `streaming` belong to a server that died mid-turn. Mark them
        interrupted (an empty one too: it is the record that the turn ended) and return how many."""
        cur = self._tx(lambda db: db.execute("UPDATE messages SET finish_reason = ? WHERE finish_reason = ?",
                                             (INTERRUPTED, STREAMING)))
        return cur.rowcount

    def list_messages(self, session_id: str, *, with_streaming: bool = False) -> list[MessageRow]:
        """The session's messages in order; the answer being streamed only when asked for (the live
        stream carries it; a client reloading mid-turn would otherwise see it twice)."""
        where = "" if with_streaming else f" AND finish_reason != '{STREAMING}'"
        rows = self._query(f"SELECT {self._MSG_COLS} FROM messages WHERE session_id = ?{where} ORDER BY position",
                           (session_id,))
        return [self._message(r) for r in rows]

    def get_message(self, message_id: str) -> MessageRow | None:
        rows = self._query(f"SELECT {self._MSG_COLS} FROM messages WHERE id = ?", (message_id,))
        return self._message(rows[0]) if rows else None

    def update_tool_calls(self, message_id: str, tool_calls: list[dict]) -> None:
        self._tx(lambda db: db.execute("UPDATE messages SET tool_calls = ? WHERE id = ?",
                                       (json.dumps(tool_calls, separators=(",", ":")), message_id)))

    def user_history(self, limit: int, offset: int) -> list[MessageRow]:
        rows = self._query(
            f"SELECT {self._MSG_COLS} FROM messages WHERE role = 'user' ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
            (limit, offset),
        )
        return [self._message(r) for r in rows]

    def fork_session(self, source_id: str, count: int, title: str) -> SessionRow | None:
        """A new session holding copies of the first `count` messages of the source (PROTOCOL §7).

        When the last copied message has tool calls and the next one is the `tool` message with their
        results, that one is copied too, so a fork never ends on unanswered calls.
        """
        source = self.get_session(source_id)
        if source is None:
            return None
        messages = self.list_messages(source_id)
        chosen = messages[:count]
        if chosen and chosen[-1].tool_calls and len(messages) > count and messages[count].role == "tool":
            chosen.append(messages[count])
        new_id = str(uuid.uuid4())
        now = time.time()

        def copy(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO sessions (id, title, created_at, updated_at, working_directory, parent_session_id,"
                " prompt_tokens, completion_tokens, cost, options) VALUES (?, ?, ?, ?, ?, ?, 0, 0, 0, ?)",
                (new_id, title, now, now, source.working_directory, source_id, json.dumps(source.options)),
            )
            for pos, m in enumerate(chosen):
                db.execute(
                    f"INSERT INTO messages ({self._MSG_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        str(uuid.uuid4()), new_id, pos, m.role, m.text, json.dumps(m.tool_calls, separators=(",", ":")),
                        m.reasoning, m.reasoning_duration, m.finish_reason, m.model, m.created_at,
                    ),
                )

        self._tx(copy)
        return self.get_session(new_id)

    # ------------------------------------------------------------ preferences

    def get_preferences(self) -> dict | None:
        rows = self._query("SELECT data, created_at, updated_at FROM preferences WHERE id = 1")
        if not rows:
            return None
        data = json.loads(rows[0][0])
        data["created_at"], data["updated_at"] = rows[0][1], rows[0][2]
        return data

    def save_preferences(self, values: dict) -> dict:
        now = int(time.time())
        data = json.dumps({k: v for k, v in values.items() if k not in ("created_at", "updated_at")})
        self._tx(
            lambda db: db.execute(
                "INSERT INTO preferences (id, data, created_at, updated_at) VALUES (1, ?, ?, ?)"
                " ON CONFLICT(id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
                (data, now, now),
            )
        )
        return self.get_preferences()  # type: ignore[return-value]

    # ------------------------------------------------------------ permission decisions

    def record_permission(
        self, *, id: str, session_id: str, tool_name: str, action: str, path: str, description: str,
        params: dict, decision: str, requested_at: float,
    ) -> None:
        self._tx(
            lambda db: db.execute(
                "INSERT OR REPLACE INTO permission_decisions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (id, session_id, tool_name, action, path, description, json.dumps(params, default=str), decision,
                 requested_at, time.time()),
            )
        )

    def permission_decisions(self, session_id: str | None = None) -> list[dict]:
        sql = "SELECT id, session_id, tool_name, action, path, description, params, decision, requested_at, decided_at FROM permission_decisions"
        rows = self._query(sql + (" WHERE session_id = ?" if session_id else "") + " ORDER BY decided_at", (session_id,) if session_id else ())
        keys = ("id", "session_id", "tool_name", "action", "path", "description", "params", "decision", "requested_at", "decided_at")
        out = []
        for r in rows:
            d = dict(zip(keys, r))
            d["params"] = json.loads(d["params"])
            out.append(d)
        return out
