"""The default start: the app launches its own embedded server (a child process) without blocking first paint."""

from __future__ import annotations

import os
import subprocess
import sys

from tui.config import EmbeddedServerConfig

from .helpers import make_app, wait_for


async def test_app_starts_its_own_server_and_stops_it_on_exit(tmp_path):
    app = make_app(tmp_path, server="", embedded=EmbeddedServerConfig(agent_delay=0.0))
    async with app.run_test(size=(100, 30)) as pilot:
        # First paint does not wait for the server: the composer is there and says what is happening.
        assert app.chat.composer.has_focus
        assert app.chat.connection in ("starting", "connecting", "connected")
        await pilot.press(*"typed while starting")
        await wait_for(pilot, lambda: app.chat.connection == "connected", timeout=20, what="the embedded server")
        pid = app.server.pid
        assert pid and app.server.running
        assert "token" not in app.chat.status.text.lower() and app.server.token not in app.chat.status.text
        assert app.chat.composer.text == "typed while starting"
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.turn is not None
                       and app.chat.current.turn.status.finished, timeout=15, what="the answer")
        assert app.chat.current.turn.answer
    # The server keeps its data in its own folder under the app's data dir, apart from the client's files.
    assert (tmp_path / "server" / "server.db").exists()
    assert not (tmp_path / "server.db").exists() and not (tmp_path / "storage").exists()
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        pass
    else:
        raise AssertionError("the embedded server is still running after the app quit")


def test_first_paint_does_not_import_the_network_or_server_stacks():
    code = "import sys, tui.app; print(sorted(m for m in ('httpx', 'starlette', 'uvicorn', 'tui.server.app') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"
