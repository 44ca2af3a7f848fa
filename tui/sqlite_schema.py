"""Opening the client's SQLite file and moving a table family's schema forward (stdlib only).

The client store (`ui_` tables, tui/store.py) and the MixerLead conversation store (`ml_` tables,
tui/api/mixerlead/conversations.py) share one file; each keeps its own version table and its own
list of migrations, and both open and migrate it the same way through here."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Callable

from tui.config import make_private_dir, open_private, tighten

SIDE_FILES = ("-wal", "-shm")  # SQLite creates them with the database's own mode


def open_db(path: Path | None) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, NORMAL sync; the file 0600.
    check_same_thread=False: callers serialise use with their own lock, from any thread.

    A committed transaction is in the WAL file before COMMIT returns, so it survives a kill -9 of
    the process (NORMAL gives up only the fsync, which matters for a power cut, not a crash).
    `path` None: a database in memory (when the data folder cannot be written)."""
    if path is not None:
        make_private_db(path)
    db = sqlite3.connect(path or ":memory:", check_same_thread=False, isolation_level=None, timeout=5.0)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def make_private_db(path: Path) -> None:
    """The folder 0700, the database (created empty if missing) and its WAL files 0600."""
    make_private_dir(path.parent)
    os.close(open_private(path, os.O_RDONLY))
    for suffix in SIDE_FILES:
        tighten(path.with_name(path.name + suffix))


def damage(path: Path) -> str | None:
    """Why the database at `path` cannot be used ("file is not a database", "database disk image is
    malformed", the first quick_check finding), or None when it is sound or not there."""
    if not path.exists():
        return None
    try:
        db = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5.0)
        try:
            rows = db.execute("PRAGMA quick_check(1)").fetchall()
        finally:
            db.close()
    except sqlite3.OperationalError:
        return None  # cannot open, read-only, locked by another process: not damage (opening says what)
    except sqlite3.DatabaseError as exc:  # SQLITE_NOTADB, SQLITE_CORRUPT
        return str(exc)
    verdict = rows[0][0] if rows else "no answer from quick_check"
    return None if verdict == "ok" else verdict


def move_aside(path: Path) -> Path:
    """Rename a damaged database (and its WAL files) to `<name>.damaged-<time>`: kept, never deleted."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    os.replace(path, target)
    for suffix in SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


def set_aside_if_damaged(path: Path) -> str | None:
    """Check the database; a damaged one is moved aside (a new one starts empty). The one line to show, or None."""
    problem = damage(path)
    if problem is None:
        return None
    kept = move_aside(path)
    return f"{path.name} was damaged ({problem}); it is kept as {kept.name} and a new one was started"


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
