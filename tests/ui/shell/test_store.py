"""The client store on real SQLite files."""

from __future__ import annotations

import sqlite3

from tui.store import MIGRATIONS, ClientStore


def test_schema_versioned_and_wal(tmp_path):
    store = ClientStore(tmp_path / "client.db")
    assert store.schema_version == len(MIGRATIONS)
    mode = sqlite3.connect(tmp_path / "client.db").execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    store.close()
    # Opening again does not re-run migrations (they would fail on existing tables).
    again = ClientStore(tmp_path / "client.db")
    assert again.schema_version == len(MIGRATIONS)
    tables = {r[0] for r in sqlite3.connect(tmp_path / "client.db").execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert all(t.startswith("ui_") or t.startswith("sqlite_") for t in tables), tables


def test_drafts_are_written_on_flush_and_survive_reopen(tmp_path):
    store = ClientStore(tmp_path / "c.db")
    store.set_draft("mix:a", "half a thought")
    assert store.draft("mix:a") == "half a thought"  # visible before the write
    assert ClientStore(tmp_path / "c.db").draft("mix:a") == ""  # not written yet
    store.flush()
    assert ClientStore(tmp_path / "c.db").draft("mix:a") == "half a thought"
    store.set_draft("mix:a", "   ")
    store.flush()
    assert ClientStore(tmp_path / "c.db").draft("mix:a") == ""  # blank drafts are dropped


def test_prompt_history_per_app_oldest_first_without_repeats(tmp_path):
    store = ClientStore(tmp_path / "c.db")
    for text in ["one", "two", "two", " ", "three"]:
        store.add_prompt("mix", text)
    store.add_prompt("mixerlead", "other")
    assert store.prompts("mix") == ["one", "two", "three"]
    assert store.prompts("mixerlead") == ["other"]


def test_settings_titles_unseen_and_forget(tmp_path):
    store = ClientStore(tmp_path / "c.db")
    assert store.setting("theme") is None
    store.set_setting("theme", "mix-light")
    store.set_setting("theme", "mix-dark")
    assert store.setting("theme") == "mix-dark"
    store.set_title("mix:a", "Local title")
    store.mark_unseen("mix:a")
    store.set_draft("mix:a", "x")
    store.flush()
    assert store.titles() == {"mix:a": "Local title"}
    assert store.unseen() == {"mix:a"}
    store.forget("mix:a")
    assert store.title("mix:a") is None and store.unseen() == set() and store.draft("mix:a") == ""
