"""Drafts and prompt history survive kill -9 (issue 19, item 4, the app's side): a store writer killed
mid-write, and the real app in a terminal killed with SIGKILL, lose nothing they had written."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.support.terminal import Terminal, wait_until
from tui.store import ClientStore

REPO = Path(__file__).resolve().parents[1]


def read_only_rows(db: Path, sql: str) -> list[tuple]:
    """Read what another (live) process committed, without disturbing it."""
    if not db.exists():
        return []
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return con.execute(sql).fetchall()
    except sqlite3.OperationalError:
        return []  # the tables are not made yet
    finally:
        con.close()


def test_a_writer_killed_mid_write_keeps_every_acknowledged_draft_and_prompt(tmp_path):
    db = tmp_path / "client.db"
    writer = textwrap.dedent(f"""
        from tui.store import ClientStore
        store = ClientStore({str(db)!r})
        i = 0
        while True:
            i += 1
            store.set_draft("mix:s1", f"draft {{i}} " + "x" * 500)
            store.flush()
            store.add_prompt("mix", f"prompt {{i}}")
            print(i, flush=True)  # after both commits returned
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        acknowledged = 0
        while acknowledged < 300:
            acknowledged = int(proc.stdout.readline())
        proc.send_signal(signal.SIGKILL)  # while it is writing the next ones
        proc.wait()
    finally:
        proc.kill()
        proc.stdout.close()
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    store = ClientStore(db)
    assert int(store.draft("mix:s1").split()[1]) >= acknowledged
    numbers = [int(p.split()[1]) for p in store.prompts("mix")]
    assert numbers[0] == 1 and numbers[-1] >= acknowledged  # every prompt from the first, none missing
    assert numbers == list(range(1, numbers[-1] + 1))


def test_the_app_killed_with_sigkill_keeps_its_draft_and_prompt_history(tmp_path):
    db = tmp_path / "client.db"
    term = Terminal(tmp_path)
    try:
        wait_until(lambda: b"connected" in term.output, 30, "the app and its server")
        term.type("first question")
        term.type("\r")
        wait_until(lambda: read_only_rows(db, "SELECT text FROM ui_prompt_history") == [("first question",)], 15,
                   "the prompt in the history")
        term.type("a draft that was never sent")
        wait_until(lambda: ("a draft that was never sent",) in read_only_rows(db, "SELECT text FROM ui_drafts"), 15,
                   "the draft on disk")
        term.proc.send_signal(signal.SIGKILL)
        term.proc.wait()
    finally:
        term.close()
    store = ClientStore(db)
    assert store.prompts("mix") == ["first question"]
    drafts = [store.draft(key) for (key,) in read_only_rows(db, "SELECT conversation_key FROM ui_drafts")]
    assert drafts == ["a draft that was never sent"]
