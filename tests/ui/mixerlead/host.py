"""A small host App for the MixerLead screens: the mix themes and the shared dialog styles, one
screen pushed on mount, and what it was dismissed with."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tui.api.mixerlead import MixerLeadClient, RetryPolicy
from tui.theme_defs import THEMES
from tui.themes import themes_dir


class InstantSleep:
    """The retry policy's sleep: remembers each wait, waits (almost) nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0.001)


def fake_client(fake: Any, *, api_key: str | None = None, **kw: Any) -> MixerLeadClient:
    sleeper = InstantSleep()
    client = MixerLeadClient(api_key or fake.api_key, base_url=fake.base_url, retry=RetryPolicy(sleep=sleeper, jitter=0.0), **kw)
    client.sleeper = sleeper  # type: ignore[attr-defined]
    return client


class Host(App[None]):
    CSS_PATH = [themes_dir() / "app.tcss"]

    def __init__(self, make_screen: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = "mix-dark"
        self.make_screen = make_screen
        self.results: list[Any] = []
        self.shown: Screen[Any] | None = None

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
