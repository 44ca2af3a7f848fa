"""The client's own store (stdlib sqlite3, WAL): drafts, prompt history, UI settings, local titles, unseen marks,
slash-command answers.

One SQLite file (`Paths.client_db`) is shared with the MixerLead conversation store written by
another module; every table of this one is prefixed `ui_` so the two never collide. The schema is
versioned in `ui_schema` and migrated forward step by step on open.

Drafts are written as the user types; `set_draft` only records the text and `flush` (called by
the composer's debounce timer, on session switch and on exit) writes it, so a burst of keystrokes
costs one write.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from tui.sqlite_schema import migrate, open_db, schema_version, set_aside_if_damaged

log = logging.getLogger(__name__)

HISTORY_LIMIT = 500  # prompts remembered per app

# Each entry migrates from version i to i+1; never edit an old one, append a new one.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE ui_drafts (
        conversation_key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE ui_prompt_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        app TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE INDEX ui_prompt_history_app ON ui_prompt_history(app, id);
    CREATE TABLE ui_settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE ui_titles (
        conversation_key TEXT PRIMARY KEY,
        title TEXT NOT NULL
    );
    CREATE TABLE ui_unseen (
        conversation_key TEXT PRIMARY KEY,
        marked_at REAL NOT NULL
    );
    """,
    # Slash-command answers: no server keeps them (PROTOCOL §5.6), so the client does (controllers/command_log).
    """
    CREATE TABLE ui_command_cards (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        conversation_key TEXT NOT NULL,
        command TEXT NOT NULL,
        output TEXT NOT NULL,
        after_id TEXT,
        after_index INTEGER,
        created_at REAL NOT NULL
    );
    CREATE INDEX ui_command_cards_key ON ui_command_cards(conversation_key, id);
    """,
]


class ClientStore:
    """Small synchronous store; every call is one short transaction on a local file."""

    def __init__(self, path: Path | None) -> None:
        self.path = Path(path) if path is not None else None  # None: in memory, for this run only
        # The app may flush from a worker thread on exit; a lock serialises use.
        self._db = open_db(self.path)
        self._lock = threading.Lock()
        self._pending_drafts: dict[str, str] = {}
        with self._lock:
            migrate(self._db, "ui_schema", MIGRATIONS)

    @classmethod
    def open_or_explain(cls, path: Path) -> tuple["ClientStore", str | None]:
        """The store at `path`, whatever state the file is in, and the one line to show when it was not usable:
        a damaged file is moved aside (kept) and a new one started; a place that cannot be written gives
        a store in memory, so the app still starts."""
        try:
            note = set_aside_if_damaged(path)
            return cls(path), note
        except (sqlite3.Error, OSError) as exc:
            log.warning("client store %s unusable: %s", path, exc)
            reason = getattr(exc, "strerror", None) or str(exc)
            return cls(None), f"cannot use {path} ({reason}): drafts and prompt history are kept for this run only"

    @property
    def schema_version(self) -> int:
        with self._lock:
            return schema_version(self._db, "ui_schema")

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------------ drafts

    def set_draft(self, key: str, text: str) -> None:
        """Remember the draft in memory; `flush` writes it (the composer debounces)."""
        self._pending_drafts[key] = text

    def flush(self) -> None:
        if not self._pending_drafts:
            return
        pending, self._pending_drafts = self._pending_drafts, {}
        now = time.time()
        with self._lock:
            self._db.execute("BEGIN")
            for key, text in pending.items():
                if text.strip():
                    self._db.execute(
                        "INSERT INTO ui_drafts (conversation_key, text, updated_at) VALUES (?, ?, ?) "
                        "ON CONFLICT(conversation_key) DO UPDATE SET text = excluded.text, updated_at = excluded.updated_at",
                        (key, text, now),
                    )
                else:
                    self._db.execute("DELETE FROM ui_drafts WHERE conversation_key = ?", (key,))
            self._db.execute("COMMIT")

    def draft(self, key: str) -> str:
        if key in self._pending_drafts:
            return self._pending_drafts[key]
        with self._lock:
            row = self._db.execute("SELECT text FROM ui_drafts WHERE conversation_key = ?", (key,)).fetchone()
        return row[0] if row else ""

    def clear_draft(self, key: str) -> None:
        self._pending_drafts.pop(key, None)
        with self._lock:
            self._db.execute("DELETE FROM ui_drafts WHERE conversation_key = ?", (key,))

    # ------------------------------------------------------------------ prompt history

    def add_prompt(self, app: str, text: str) -> None:
        text = text.strip()
        if not text:
            return
        with self._lock:
            last = self._db.execute(
                "SELECT text FROM ui_prompt_history WHERE app = ? ORDER BY id DESC LIMIT 1", (app,)
            ).fetchone()
            if last and last[0] == text:
                return  # pressing up should not show the same prompt twice in a row
            self._db.execute("INSERT INTO ui_prompt_history (app, text, created_at) VALUES (?, ?, ?)", (app, text, time.time()))
            self._db.execute(
                "DELETE FROM ui_prompt_history WHERE app = ? AND id NOT IN "
                "(SELECT id FROM ui_prompt_history WHERE app = ? ORDER BY id DESC LIMIT ?)",
                (app, app, HISTORY_LIMIT),
            )

    def prompts(self, app: str, limit: int = HISTORY_LIMIT) -> list[str]:
        """Earlier prompts, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT text FROM ui_prompt_history WHERE app = ? ORDER BY id DESC LIMIT ?", (app, limit)
            ).fetchall()
        return [r[0] for r in reversed(rows)]

    # ------------------------------------------------------------------ settings

    def setting(self, key: str, default: str | None = None) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM ui_settings WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_setting(self, key: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO ui_settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # ------------------------------------------------------------------ local titles

    def title(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT title FROM ui_titles WHERE conversation_key = ?", (key,)).fetchone()
        return row[0] if row else None

    def titles(self) -> dict[str, str]:
        with self._lock:
            return dict(self._db.execute("SELECT conversation_key, title FROM ui_titles").fetchall())

    def set_title(self, key: str, title: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO ui_titles (conversation_key, title) VALUES (?, ?) "
                "ON CONFLICT(conversation_key) DO UPDATE SET title = excluded.title",
                (key, title),
            )

    def forget(self, key: str) -> None:
        """Drop everything kept about a deleted conversation."""
        self._pending_drafts.pop(key, None)
        with self._lock:
            for table in ("ui_drafts", "ui_titles", "ui_unseen", "ui_command_cards"):
                self._db.execute(f"DELETE FROM {table} WHERE conversation_key = ?", (key,))

    # ------------------------------------------------------------------ slash-command answers

    def add_command_card(self, key: str, command: str, output: str, after_id: str | None, after_index: int | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO ui_command_cards (conversation_key, command, output, after_id, after_index, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)", (key, command, output, after_id, after_index, time.time()))

    def command_cards(self, key: str) -> list[tuple[int, str, str, str | None, int | None]]:
        """(id, command, output, after_id, after_index) of the conversation's commands, oldest first."""
        with self._lock:
            return self._db.execute(
                "SELECT id, command, output, after_id, after_index FROM ui_command_cards "
                "WHERE conversation_key = ? ORDER BY id", (key,)).fetchall()

    # ------------------------------------------------------------------ unseen markers

    def mark_unseen(self, key: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO ui_unseen (conversation_key, marked_at) VALUES (?, ?) "
                "ON CONFLICT(conversation_key) DO UPDATE SET marked_at = excluded.marked_at",
                (key, time.time()),
            )

    def mark_seen(self, key: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM ui_unseen WHERE conversation_key = ?", (key,))

    def unseen(self) -> set[str]:
        with self._lock:
            return {r[0] for r in self._db.execute("SELECT conversation_key FROM ui_unseen").fetchall()}
