"""Local files and start-up (issue 19, item 6): private modes, no token in any command line, redacted
tracebacks, and a damaged or unwritable store that never stops the app. Real files, real processes."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import subprocess
from pathlib import Path

import httpx
import pytest

from tui.config import Paths, make_private_dir, resolve_paths, setup_logging
from tui.server.launcher import EmbeddedServer
from tui.sqlite_schema import damage, set_aside_if_damaged
from tui.store import ClientStore

from .ui.shell.helpers import dead_url, make_app, notifications, wait_for


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def healthy_store(path: Path) -> bytes:
    """A client.db with a draft and some history, checkpointed into the main file; its bytes."""
    store = ClientStore(path)
    for i in range(300):
        store.add_prompt("mix", f"prompt number {i} " * 20)
    store.set_draft("mix:s1", "a draft")
    store.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path.read_bytes()


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def scrambled(data: bytes) -> bytes:
    return bytes((b * 131 + 7) % 256 for b in data)  # no SQLite header, same size


@contextlib.contextmanager
def read_only(folder: Path):
    """The folder cannot be written. root ignores modes, so for root a read-only bind mount."""
    if os.geteuid() != 0:
        folder.chmod(0o500)
        try:
            yield
        finally:
            folder.chmod(0o700)
        return
    if subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True).returncode != 0:
        pytest.skip("cannot make a read-only folder here (root without mount)")
    try:
        subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], check=True, capture_output=True)
        yield
    finally:
        subprocess.run(["umount", str(folder)], check=True)


# ---------------------------------------------------------------- modes


def test_folders_databases_and_logs_are_private_even_when_they_existed_open(tmp_path):
    root = tmp_path / "home"
    (root / "log").mkdir(parents=True, mode=0o755)
    root.chmod(0o755)
    (root / "client.db").write_bytes(b"")
    (root / "client.db").chmod(0o644)  # as an older version left them
    (root / "log" / "mix-tui.log").write_text("old line\n")
    (root / "log" / "mix-tui.log").chmod(0o644)
    paths = resolve_paths(root, env={}).ensure()
    setup_logging(paths)
    store = ClientStore(paths.client_db)
    store.add_prompt("mix", "hello")
    assert {mode(root), mode(root / "log")} == {0o700}
    assert mode(paths.client_db) == 0o600 and mode(paths.log_file) == 0o600
    assert mode(paths.client_db.with_name("client.db-wal")) == 0o600
    store.close()
    fresh = make_private_dir(tmp_path / "new" / "deeper")
    assert mode(fresh) == 0o700


async def test_embedded_server_files_are_private_and_its_token_is_not_in_argv(tmp_path):
    server = EmbeddedServer(tmp_path / "srv", paths=resolve_paths(tmp_path / "home", env={}), agent_delay=0)
    await server.start()
    try:
        cmdline = Path(f"/proc/{server.pid}/cmdline").read_bytes()
        assert server.token.encode() not in cmdline
        assert b"serve" in cmdline  # it is the right process
        assert server.token.encode() in Path(f"/proc/{server.pid}/environ").read_bytes()
        assert await server.healthy()  # and the token it got that way works
        async with httpx.AsyncClient(base_url=server.url, headers={"Authorization": f"Bearer {server.token}"}) as c:
            assert (await c.post("/api/sessions", json={"title": "modes", "browserMode": "local-browser-service"})).status_code == 201
    finally:
        await server.stop()
    srv = tmp_path / "srv"
    assert mode(srv) == 0o700
    assert mode(srv / "server.db") == 0o600 and mode(srv / "server.log") == 0o600
    storage = srv / "storage"
    if storage.exists():
        assert mode(storage) == 0o700


def test_tracebacks_in_the_log_are_redacted(tmp_path):
    paths = Paths(tmp_path, tmp_path, tmp_path / "log").ensure()
    log_file = setup_logging(paths)
    try:
        raise RuntimeError("provider refused key sk-ant-api03-leakyleakyleaky")
    except RuntimeError:
        logging.getLogger("tui.test").exception("call failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_file.read_text()
    assert "Traceback" in text and "RuntimeError" in text
    assert "leakyleakyleaky" not in text and "[REDACTED]" in text


# ---------------------------------------------------------------- damaged databases


@pytest.mark.parametrize("spoil", [truncated, scrambled], ids=["truncated", "random"])
def test_a_damaged_database_is_set_aside_and_kept(tmp_path, spoil):
    path = tmp_path / "client.db"
    bad = spoil(healthy_store(path))
    path.write_bytes(bad)
    assert damage(path)
    note = set_aside_if_damaged(path)
    assert note and "client.db was damaged" in note and len(note.splitlines()) == 1
    kept = list(tmp_path.glob("client.db.damaged-*"))
    assert len(kept) == 1 and kept[0].read_bytes() == bad  # kept as it was, never deleted
    assert not path.exists()


def test_a_sound_database_is_left_alone(tmp_path):
    path = tmp_path / "client.db"
    data = healthy_store(path)
    assert damage(path) is None and set_aside_if_damaged(path) is None
    assert path.read_bytes() == data


@pytest.mark.parametrize("spoil", [truncated, scrambled], ids=["truncated", "random"])
async def test_app_starts_on_a_damaged_client_db_and_says_so(tmp_path, spoil):
    path = tmp_path / "client.db"
    path.write_bytes(spoil(healthy_store(path)))
    app = make_app(tmp_path, server=dead_url())
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: any("client.db was damaged" in n for n in notifications(app)), what="the note")
        await pilot.press(*"still typing")
        assert app.chat.composer.text == "still typing"
    assert list(tmp_path.glob("client.db.damaged-*"))
    assert ClientStore(path).prompts("mix") == []  # a new, working store


async def test_app_starts_on_a_read_only_data_dir(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with read_only(home):
        app = make_app(home, server=dead_url())
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: any("kept for this run only" in n for n in notifications(app)), what="the note")
            app.store.add_prompt("mix", "remembered in memory")
            assert app.store.prompts("mix") == ["remembered in memory"]
    assert not (home / "client.db").exists()


async def test_embedded_server_starts_on_a_damaged_server_db(tmp_path):
    srv = tmp_path / "srv"
    srv.mkdir()
    (srv / "server.db").write_bytes(scrambled(healthy_store(tmp_path / "model.db")))
    server = EmbeddedServer(srv, paths=resolve_paths(tmp_path / "home", env={}), agent_delay=0)
    await server.start()
    try:
        assert await server.healthy()
        assert len(server.notes) == 1 and "server.db was damaged" in server.notes[0]
    finally:
        await server.stop()
    assert list(srv.glob("server.db.damaged-*"))
    assert damage(srv / "server.db") is None


# ---------------------------------------------------------------- the whole command, on a terminal


def test_mix_tui_starts_with_a_config_that_is_not_utf8_and_says_so(tmp_path):
    from tests.support.terminal import Terminal, wait_until

    (tmp_path / "config.toml").write_bytes(b'theme = "mix-\xff"\n')
    term = Terminal(tmp_path, "--server", dead_url())
    try:
        wait_until(lambda: term.shows("UTF-8"), 30, "the note about the config")
        assert term.proc.poll() is None  # running, not stopped by its config
        term.type("typed anyway")
        wait_until(lambda: term.shows("typed anyway"), 10, "the composer echoing keys")
    finally:
        term.close()
    assert b"Traceback" not in term.output


async def test_embedded_server_in_a_read_only_folder_fails_with_one_line_and_the_app_runs(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    with read_only(home):
        app = make_app(home, server="")
        async with app.run_test(size=(100, 30)) as pilot:
            await wait_for(pilot, lambda: app.chat.connection == "offline", timeout=20, what="the failed start")
            line = next(n for n in notifications(app) if "could not start the server" in n)
            assert "cannot write" in line and "Traceback" not in line
            await pilot.press(*"kept")
            assert app.chat.composer.text == "kept"
