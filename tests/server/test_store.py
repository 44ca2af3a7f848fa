"""The SQLite store: WAL, versioned migrations, refusal of newer files."""

from __future__ import annotations

import sqlite3

import pytest

from tui.server import store as store_module
from tui.server.store import SCHEMA_VERSION, Store


def test_fresh_file_is_at_the_latest_schema_in_wal_mode(tmp_path):
    s = Store(tmp_path / "s.db")
    assert s.schema_version() == SCHEMA_VERSION
    s.close()
    db = sqlite3.connect(tmp_path / "s.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"schema_version", "sessions", "messages", "preferences", "permission_decisions"} <= tables
    db.close()


def test_older_file_is_migrated_and_keeps_its_data(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", 1)
    old = Store(path)
    # the v1 schema has no provider/model columns yet
    old._db.execute("INSERT INTO sessions (id, title, created_at, updated_at) VALUES ('s1', 'kept', 1, 1)")
    old.close()
    monkeypatch.undo()
    new = Store(path)
    assert new.schema_version() == SCHEMA_VERSION
    session = new.get_session("s1")
    assert session.title == "kept" and session.provider == "" and session.model == ""
    new.close()


def test_a_newer_file_is_refused(tmp_path):
    path = tmp_path / "new.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE schema_version SET version = 99")
    db.commit()
    db.close()
    with pytest.raises(RuntimeError, match="newer mix-tui"):
        Store(path)


def test_failed_migration_rolls_back(tmp_path, monkeypatch):
    def broken(db):
        db.execute("CREATE TABLE half (x)")
        raise sqlite3.OperationalError("boom")

    monkeypatch.setattr(store_module, "MIGRATIONS", [*store_module.MIGRATIONS, broken])
    monkeypatch.setattr(store_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(sqlite3.OperationalError):
        Store(tmp_path / "x.db")
    db = sqlite3.connect(tmp_path / "x.db")
    assert db.execute("SELECT version FROM schema_version").fetchone()[0] == SCHEMA_VERSION
    assert not db.execute("SELECT 1 FROM sqlite_master WHERE name='half'").fetchall()
    db.close()
