"""The real app against a real embedded Mix server (in a thread, loopback HTTP, agent delay 0)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator, Iterator

from tests.fixtures.mix_server import RunningServer, async_running_server
from tui.app import MixApp

from .helpers import make_app, wait_for


@contextlib.asynccontextmanager
async def live_app(tmp_path: Path, *, size: tuple[int, int] = (110, 32), server_dir: Path | None = None,
                   **server_settings: Any) -> AsyncIterator[tuple[MixApp, Any, RunningServer]]:
    """A fresh server and the app connected to it (the app builds its own Mix backend from the URL)."""
    async with async_running_server(server_dir or tmp_path / "server", **server_settings) as server:
        app = make_app(tmp_path / "client", server=server.url)
        try:
            async with app.run_test(size=size) as pilot:
                await wait_for(pilot, lambda: app.chat.connection == "connected" and app.chat.sessions.loaded,
                               what="the app to connect")
                yield app, pilot, server
        finally:
            await asyncio.to_thread(cancel_all, server)


async def send(pilot, app: MixApp, text: str) -> None:
    app.chat.composer.focus()
    app.chat.composer.load(text)
    await pilot.press("enter")


async def wait_turn_done(pilot, app: MixApp, timeout: float = 10.0) -> None:
    await wait_for(pilot, lambda: app.chat.current is not None and app.chat.current.turn is not None
                   and app.chat.current.turn.status.finished, timeout=timeout, what="the turn to finish")


@contextlib.contextmanager
def server_on_port(data_dir: Path, port: int, **settings_overrides: Any) -> Iterator[RunningServer]:
    """Like running_server, but on a given port: a server that comes back where the old one was."""
    from tui.server.app import create_app
    from tui.server.run import MixUvicornServer, uvicorn_config
    from tui.server.settings import ServerSettings

    settings_overrides.setdefault("agent_delay", 0.0)
    settings = ServerSettings(data_dir=Path(data_dir), **settings_overrides)
    app = create_app(settings)
    ready = threading.Event()
    server = MixUvicornServer(uvicorn_config(app, "127.0.0.1", port), on_ready=lambda _port: ready.set())
    thread = threading.Thread(target=server.run, name="mix-server-again", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not ready.wait(0.01):
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the second server did not start")
    try:
        yield RunningServer(f"http://127.0.0.1:{port}", settings.token, settings, app, port)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.state.store.close()


async def start_on_port(data_dir: Path, port: int) -> tuple[contextlib.ExitStack, RunningServer]:
    stack = contextlib.ExitStack()
    server = await asyncio.to_thread(stack.enter_context, server_on_port(data_dir, port))
    return stack, server


def cancel_all(server: RunningServer) -> None:
    """End every running turn, so the server shuts down at once instead of waiting for held turns."""
    with server.client(timeout=5) as c:
        for session in c.get("/api/sessions").json() or []:
            c.post(f"/api/sessions/{session['id']}/cancel")
