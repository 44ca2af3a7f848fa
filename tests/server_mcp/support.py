"""Helpers for the MCP tests: real MCP servers (tests/fakes/mcp_server.py, built with the SDK) run by a real embedded server.

Each stdio server start imports the SDK (1–3 s on a busy machine), so the servers most tests share
run in one embedded server per module (`mcp_host`); tests that stop or break servers start their own.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from tests.fixtures.mix_server import RunningServer, running_server
from tests.server.sse import Frame, SSEReader
from tui.config import Config, McpServerConfig

FAKE = str(Path(__file__).resolve().parents[1] / "fakes" / "mcp_server.py")
QUICK = {"backoff": (0.2, 0.4), "connect_timeout": 20.0}  # retries soon; starts may be slow under load
START_TIMEOUT = 30.0  # seconds for a fake to connect (the SDK's imports on a loaded 2-core machine)


def stdio(name: str, mode: str = "stdio", **fields: Any) -> McpServerConfig:
    return McpServerConfig(name=name, command=sys.executable, args=[FAKE, mode], **fields)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_entry(client: httpx.Client, name: str) -> dict:
    return next(s for s in client.get("/api/mcp").json() if s["name"] == name)


def wait_for(client: httpx.Client, name: str, condition: Callable[[dict], bool], timeout: float = START_TIMEOUT,
             what: str = "") -> dict:
    """Poll GET /api/mcp until the server's entry meets `condition`; fail with its last entry."""
    deadline = time.monotonic() + timeout
    while True:
        entry = server_entry(client, name)
        if condition(entry):
            return entry
        if time.monotonic() > deadline:
            raise AssertionError(f"MCP server {name} never {what or 'got there'}: {entry}")
        time.sleep(0.05)


def connected(client: httpx.Client, name: str) -> dict:
    return wait_for(client, name, lambda s: s["connected"], what="connected")


@pytest.fixture(scope="module")
def mcp_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """`demo` (asks first, calls time out after 2 s) and `reader` (read-only), both connected."""
    config = Config(mcp_servers=[stdio("demo", timeout=2.0), stdio("reader", read_only=True)])
    with running_server(tmp_path_factory.mktemp("mcp-host"), config=config, send_mode="async",
                        mcp_options=QUICK) as server, server.client() as c:
        connected(c, "demo")
        connected(c, "reader")
        yield server


@pytest.fixture
def http_fake() -> Iterator[str]:
    """The fake over streamable HTTP on a free loopback port; yields its URL once it answers."""
    port = free_port()
    process = subprocess.Popen([sys.executable, FAKE, "http", str(port)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the HTTP MCP fake did not start")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        process.wait(10)


class Turn:
    """One turn sent over HTTP and followed on the session's SSE stream; permissions answered on request."""

    def __init__(self, server: RunningServer) -> None:
        self.server = server

    async def run(self, text: str, *, answer: bool | None = None, session: str | None = None,
                  plan_mode: bool = False) -> list[Frame]:
        sid = session or self.server.create_session()["id"]
        self.session = sid
        frames: list[Frame] = []
        async with self.server.async_client(timeout=30) as c, SSEReader(c, sid) as sse:
            await sse.next()
            r = await c.post(f"/api/sessions/{sid}/messages", json={"text": text, "plan_mode": plan_mode})
            assert r.status_code == 202, r.text
            while True:
                frame = await sse.next(timeout=START_TIMEOUT)
                assert frame is not None, "the stream ended before the turn did"
                frames.append(frame)
                if frame.event == "permission":
                    assert answer is not None, f"unexpected permission request: {frame.data}"
                    await c.post(f"/api/permissions/{frame.data['id']}/{'grant' if answer else 'deny'}")
                if frame.event in ("complete", "error"):
                    return frames

    def stored(self) -> list[dict]:
        with self.server.client() as c:
            return c.get(f"/api/sessions/{self.session}/messages").json()


def of(frames: list[Frame], event: str) -> list[dict]:
    return [f.data for f in frames if f.event == event]


async def until(condition: Callable[[], bool], timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)
