"""A small host App for the management views: the mix themes, the app's and the views' styles,
one screen pushed on mount, and helpers to wait for the real network calls."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any, Callable

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tui.theme_defs import THEMES
from tui.themes import themes_dir

FIXED_TIME = 1_767_225_600  # 2026-01-01 00:00 UTC: stable dates for snapshots


class Host(App[None]):
    CSS_PATH = [themes_dir() / "app.tcss", themes_dir() / "views.tcss"]

    def __init__(self, make_screen: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = "mix-dark"
        self.make_screen = make_screen
        self.results: list[Any] = []
        self.shown: Any = None
        self.models_shown: list[str] = []  # what PreferencesChanged would put in the status bar

    def on_models_screen_preferences_changed(self, message: Any) -> None:
        self.models_shown.append(message.model)

    def compose(self) -> ComposeResult:
        yield Static("chat would be here", id="host-chat")

    def on_mount(self) -> None:
        self.shown = self.make_screen()
        self.push_screen(self.shown, self.results.append)


async def settle(pilot: Any, app: App[Any], timeout: float = 10.0) -> None:
    """Wait until every worker has finished (the network calls are real)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    await pilot.pause()
    while any(w.is_running for w in app.workers):
        if loop.time() > deadline:
            raise AssertionError(f"workers still running: {[w.name for w in app.workers if w.is_running]}")
        await pilot.pause(0.01)
    await pilot.pause()


async def wait_until(pilot: Any, condition: Callable[[], bool], timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


def put_file(server: Any, session_id: str, name: str, data: bytes, *, when: float = FIXED_TIME) -> Path:
    """A file straight in the server's session folder, with a fixed modification time."""
    folder = server.settings.storage_dir / session_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (when, when))
    return path


def store_key(server: Any, provider: str = "anthropic", key: str = "sk-ant-" + "a" * 30) -> None:
    with server.client() as c:
        c.post("/api/auth/api-key", json={"provider": provider, "api_key": key}).raise_for_status()


def text_of(widget: Any) -> str:
    return str(widget.render())
