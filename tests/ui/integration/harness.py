"""The real MixApp as `make run` builds it, pointed at test servers through its config:
the embedded Mix server (tests/fixtures/mix_server.py) as `config.server`, the MixerLead and
Mixpeek fakes as `config.mixerlead.base_url` / `config.mixpeek.base_url`. Keys come from the
environment or from a secrets file in the app's own config dir, as for a user."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from tests.fixtures.mix_server import RunningServer, async_running_server
from tests.support.host import wait_until
from tui.app import MixApp
from tui.config import Config, MixerLeadConfig, MixpeekConfig, resolve_paths

SIZE = (130, 36)
KEY_VARS = ("MIXERLEAD_API_KEY", "MIXPEEK_API_KEY")


def write_secrets(config_dir: Path, **keys: str) -> Path:
    """The user's secrets file (mode 0600), as the app reads it."""
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "secrets.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(keys, fh)
    return path


@contextlib.asynccontextmanager
async def integrated_app(tmp_path: Path, *, mixerlead: Any = None, mixpeek: Any = None,
                         size: tuple[int, int] = SIZE) -> AsyncIterator[tuple[MixApp, Any, RunningServer]]:
    """A real Mix server, the app connected to it, and (when given) the fakes wired in by config."""
    async with async_running_server(tmp_path / "server") as server:
        config = Config(server=server.url)
        if mixerlead is not None:
            config.mixerlead = MixerLeadConfig(base_url=mixerlead.base_url)
        if mixpeek is not None:
            config.mixpeek = MixpeekConfig(base_url=mixpeek.base_url, namespace="research")
        app = MixApp(config=config, paths=resolve_paths(tmp_path / "client", env={}))
        try:
            async with app.run_test(size=size) as pilot:
                await wait_for(pilot, lambda: app.chat.connection == "connected" and app.chat.sessions.loaded,
                               what="the app to connect")
                yield app, pilot, server
        finally:
            await asyncio.to_thread(_cancel_all, server)


def _cancel_all(server: RunningServer) -> None:
    """End running Mix turns so the server stops at once."""
    with server.client(timeout=5) as c:
        for session in c.get("/api/sessions").json() or []:
            c.post(f"/api/sessions/{session['id']}/cancel")


async def wait_for(pilot: Any, condition: Callable[[], object], timeout: float = 8.0, what: str = "condition") -> None:
    await wait_until(pilot, condition, timeout, step=0.02, failure=f"timed out waiting for {what}")


async def send(pilot: Any, app: MixApp, text: str) -> None:
    app.chat.composer.focus()
    app.chat.composer.load(text)
    await pilot.press("enter")


def turn_done(app: MixApp) -> bool:
    current = app.chat.current
    return current is not None and current.turn is not None and current.turn.status.finished


async def send_and_wait(pilot: Any, app: MixApp, text: str, timeout: float = 10.0) -> Any:
    """Send `text` and wait until its turn ended; returns the TurnModel."""
    before = app.chat.current.turn if app.chat.current is not None else None
    await send(pilot, app, text)
    await wait_for(pilot, lambda: turn_done(app) and app.chat.current.turn is not before, timeout=timeout, what=f"the answer to {text!r}")
    return app.chat.current.turn


def notifications(app: MixApp) -> list[str]:
    return [n.message for n in app._notifications]


def screen_name(app: MixApp) -> str:
    return type(app.screen).__name__


async def palette(pilot: Any, app: MixApp, query: str, expect: str) -> None:
    """Open the command palette, type `query`, wait for a first hit containing `expect`, run it."""
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: bool(app.screen.query("CommandList")), what="the palette")
    await pilot.press(*query)

    def first_hit() -> str:
        lists = app.screen.query("CommandList")
        if not lists or not lists.first().option_count:
            return ""
        return str(lists.first().get_option_at_index(0).prompt)

    await wait_for(pilot, lambda: expect in first_hit(), what=f"the palette entry {expect!r}")
    await pilot.press("enter")
