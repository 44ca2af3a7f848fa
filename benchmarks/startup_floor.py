"""The start-up floor: the least a Textual app shows when it starts, in the same pseudo-terminal.

`python -m benchmarks.startup_floor`: a bare Textual app with the chat screen's empty-state line
and a focused `TextArea`, nothing else (no stylesheets, no store, no server). startup.py times it
exactly as it times `python -m tui`, so the two figures differ only by what mix-tui does.
"""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import Static, TextArea


class StartupFloorApp(App[None]):
    BINDINGS = [("ctrl+q", "quit", "Quit")]

    def compose(self) -> ComposeResult:
        yield Static("No session open.")
        yield TextArea()

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()


if __name__ == "__main__":
    StartupFloorApp().run()
