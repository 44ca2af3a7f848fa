"""The launcher's child process and `mix-tui serve`: start, token, stop, die with the parent."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import httpx

from tui.config import resolve_paths
from tui.server.launcher import EmbeddedServer

REPO = Path(__file__).resolve().parents[2]


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return True
    return "\nState:\tZ" in state


def _wait_gone(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _gone(pid):
            return True
        time.sleep(0.05)
    return False


async def test_start_serves_with_token_and_stop_ends_the_child(tmp_path):
    server = EmbeddedServer(tmp_path / "srv", paths=resolve_paths(tmp_path / "home"), agent_delay=0)
    started = time.monotonic()
    await server.start()
    try:
        assert time.monotonic() - started < 5
        assert server.url.startswith("http://127.0.0.1:") and len(server.token) >= 20
        # The token reaches the child through its environment: argv shows in `ps` to every local user.
        assert server.token.encode() not in Path(f"/proc/{server.pid}/cmdline").read_bytes()
        async with httpx.AsyncClient(base_url=server.url) as c:
            assert (await c.get("/health")).status_code == 401
            r = await c.get("/health", headers={"Authorization": f"Bearer {server.token}"})
            assert r.status_code == 200 and r.json()["status"] == "ok"
        pid = server.pid
    finally:
        await server.stop()
    assert _wait_gone(pid, 1)
    assert not server.running
    assert not list((tmp_path / "srv").glob(".ready-*"))  # the ready file was consumed
    assert (tmp_path / "srv" / "server.log").exists()


async def test_spawned_before_start_is_waited_for_by_start(tmp_path):
    """The command line spawns the child before the UI's imports; the app's start() then only waits."""
    server = EmbeddedServer(tmp_path / "srv", paths=resolve_paths(tmp_path / "home"))
    server.spawn()
    pid = server.pid
    try:
        await server.start()
        assert server.pid == pid  # the same child, not a second one
        r = httpx.get(server.url + "/health", headers={"Authorization": f"Bearer {server.token}"})
        assert r.status_code == 200
    finally:
        await server.stop()
    assert _wait_gone(pid, 1)


def test_stopped_before_start_leaves_no_child_or_ready_file(tmp_path):
    server = EmbeddedServer(tmp_path / "srv", paths=resolve_paths(tmp_path / "home"))
    server.spawn()
    pid = server.pid
    server.stop_sync()
    assert _wait_gone(pid, 1) and not server.running
    assert not list((tmp_path / "srv").glob(".ready-*"))


def test_start_sync_and_stop_sync(tmp_path):
    server = EmbeddedServer(tmp_path / "srv", paths=resolve_paths(tmp_path / "home"))
    server.start_sync()
    pid = server.pid
    assert httpx.get(server.url + "/health", headers={"Authorization": f"Bearer {server.token}"}).status_code == 200
    server.stop_sync()
    assert _wait_gone(pid, 1) and not server.running
    server.stop_sync()  # stopping twice is harmless


def test_child_dies_when_the_parent_is_killed(tmp_path):
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from tui.config import resolve_paths
        from tui.server.launcher import EmbeddedServer
        s = EmbeddedServer(Path({str(tmp_path / 'srv')!r}), paths=resolve_paths({str(tmp_path / 'home')!r}))
        s.start_sync()
        print(s.pid, flush=True)
        time.sleep(60)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        child_pid = int(parent.stdout.readline())
        assert not _gone(child_pid)
        parent.send_signal(signal.SIGKILL)  # a crash: no cleanup code runs in the parent
        parent.wait()
        assert _wait_gone(child_pid), "the server outlived its parent"
    finally:
        parent.kill()
        parent.stdout.close()


def test_cli_serve_reports_port_and_exits_on_sigterm(tmp_path):
    ready = tmp_path / "ready.json"
    env = {**os.environ, "MIX_TUI_HOME": str(tmp_path / "home")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--port", "0", "--ready-file", str(ready), "--data-dir", str(tmp_path / "srv"),
         "--heartbeat", "5"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 10
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        info = json.loads(ready.read_text())
        assert info["pid"] == proc.pid
        r = httpx.post(f"http://127.0.0.1:{info['port']}/api/sessions", json={"title": "cli", "browserMode": "local-browser-service"})
        assert r.status_code == 201  # no token: plain `mix-tui serve` is open to loopback like Mix
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(5) in (0, -signal.SIGTERM)
    finally:
        proc.kill()
        proc.stderr.close()
    assert (tmp_path / "srv" / "server.db").exists()


def test_cli_serve_on_a_busy_port_says_why(tmp_path):
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = {**os.environ, "MIX_TUI_HOME": str(tmp_path / "home")}
        result = subprocess.run([sys.executable, "-m", "tui", "serve", "--port", str(port), "--data-dir", str(tmp_path / "srv")],
                                cwd=REPO, env=env, capture_output=True, text=True, timeout=20)
    assert result.returncode == 1
    assert f"could not listen on 127.0.0.1:{port}: Address already in use" in result.stderr
    assert "Traceback" not in result.stderr
