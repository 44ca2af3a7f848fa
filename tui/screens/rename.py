"""Ask for a new session title. Dismisses with the title, or None when cancelled."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

MAX_TITLE = 200


class RenameScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, current: str) -> None:
        super().__init__(classes="dialog-screen")
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Rename session", classes="dialog-title")
            yield Input(self.current, id="rename-input", max_length=MAX_TITLE)
            yield Static("enter saves · esc cancels", classes="dialog-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        title = " ".join(event.value.split())
        if not title:
            self.query_one(".dialog-hint", Static).update("a title cannot be empty · esc cancels")
            return
        self.dismiss(title)

    def action_cancel(self) -> None:
        self.dismiss(None)
