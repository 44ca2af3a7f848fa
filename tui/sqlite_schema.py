"""Opening the client's SQLite file and moving a table family's schema forward (stdlib only).

The client store (`ui_` tables, tui/store.py) and the MixerLead conversation store (`ml_` tables,
tui/api/mixerlead/conversations.py) share one file; each keeps its own version table and its own
list of migrations, and both open and migrate it the same way through here."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable


def open_db(path: Path) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, NORMAL sync.
    check_same_thread=False: callers serialise use with their own lock, from any thread."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=5.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def statements(script: str) -> list[str]:
    """The statements of a migration script (split at `;`; the scripts hold no literal `;`)."""
    return [s.strip() for s in script.split(";") if s.strip()]


def migrate(db: sqlite3.Connection, version_table: str, migrations: list[str], *,
            begin: str = "BEGIN", too_new: Callable[[int], str] | None = None) -> None:
    """Run migrations[v:] in order, one transaction each, recording the version reached in
    `version_table` (created, at 0, when missing). Entry i moves a file from version i to i+1.
    `too_new(version)`: the RuntimeError's text when the file is ahead of `migrations` (None: open it anyway)."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {version_table} (version INTEGER NOT NULL)")
    row = db.execute(f"SELECT version FROM {version_table}").fetchone()
    if row is None:
        db.execute(f"INSERT INTO {version_table} (version) VALUES (0)")
    version = row[0] if row else 0
    if too_new is not None and version > len(migrations):
        raise RuntimeError(too_new(version))
    for target in range(version, len(migrations)):
        db.execute(begin)
        try:
            for statement in statements(migrations[target]):
                db.execute(statement)
            db.execute(f"UPDATE {version_table} SET version = ?", (target + 1,))
            db.execute("COMMIT")
        except Exception:
            db.execute("ROLLBACK")
            raise


def schema_version(db: sqlite3.Connection, version_table: str) -> int:
    return db.execute(f"SELECT version FROM {version_table}").fetchone()[0]
