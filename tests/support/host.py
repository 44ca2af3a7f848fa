"""Host apps and waiting helpers the UI test areas share: a themed app showing a stand-in for the
chat, one that pushes a screen on mount and keeps what it was dismissed with, a transcript host
recording posted messages, and waits for real network work to finish."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from textual.app import App, ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Static

from tui.theme_defs import THEMES
from tui.themes import themes_dir
from tui.widgets import Transcript


class ThemedHost(App[None]):
    """The mix themes registered, mix-dark on, and a placeholder where the chat would be."""

    def __init__(self) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = "mix-dark"

    def compose(self) -> ComposeResult:
        yield Static("chat would be here", id="host-chat")


class ScreenHost(ThemedHost):
    """Pushes `make_screen()` on mount; `results` gets what the screen is dismissed with."""

    def __init__(self, make_screen: Callable[[], Screen[Any]]) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.results: list[Any] = []
        self.shown: Any = None

    def on_mount(self) -> None:
        self.shown = self.make_screen()
        self.push_screen(self.shown, self.results.append)


class TranscriptHost(App[None]):
    """A transcript's styles and clock; subclasses compose the widgets and record into `posted`."""

    CSS_PATH = [themes_dir() / "transcript.tcss"]

    def __init__(self, clock: Callable[[], float]) -> None:
        super().__init__()
        self.clock = clock
        self.posted: list[Message] = []

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    def of_type(self, kind: type) -> list:
        return [m for m in self.posted if isinstance(m, kind)]


async def wait_until(pilot: Any, condition: Callable[[], object], timeout: float = 10.0, *,
                     step: float = 0.01, failure: str = "condition not met in time") -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(failure)
        await pilot.pause(step)


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


def text_of(widget: Any) -> str:
    return str(widget.render())
