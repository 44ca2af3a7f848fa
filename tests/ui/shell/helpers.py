"""Building the real app for shell tests: a data dir per test, a real server URL or a dead port."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Callable

from tui.app import MixApp
from tui.config import Config, resolve_paths


def dead_url() -> str:
    """A loopback URL where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def make_app(data_dir: Path, server: str = "", **config: object) -> MixApp:
    cfg = Config(server=server)
    for key, value in config.items():
        setattr(cfg, key, value)
    return MixApp(config=cfg, paths=resolve_paths(data_dir))


async def wait_for(pilot, condition: Callable[[], object], timeout: float = 5.0, what: str = "condition") -> None:
    """Let the app run until `condition()` is true (polling every 20 ms)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


def notifications(app: MixApp) -> list[str]:
    return [n.message for n in app._notifications]


async def wait_notified(pilot, app: MixApp, condition: Callable[[str], object], timeout: float = 5.0,
                        what: str = "the notification") -> str:
    """Wait for a toast whose text passes `condition` and return it. `notify` posts a message, so a
    toast lands a moment after the code that raised it has moved on: asserting at once races it."""
    await wait_for(pilot, lambda: any(condition(n) for n in notifications(app)), timeout=timeout, what=what)
    return next(n for n in notifications(app) if condition(n))
