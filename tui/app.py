"""The mix-tui application."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Footer, Header, Static

from tui.config import Config, Paths
from tui.themes import themes_dir


class MixApp(App[None]):
    TITLE = "mix-tui"
    CSS_PATH = [themes_dir() / "app.tcss"]

    def __init__(self, config: Config | None = None, paths: Paths | None = None) -> None:
        super().__init__()
        self.config = config or Config()
        self.paths = paths

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("mix-tui", id="welcome")
        yield Footer()
