"""Pick the message to fork at. Dismisses with the message index, or None."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.api.backend import ChatMessage


class ForkPickerScreen(ModalScreen[int | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, messages: list[ChatMessage]) -> None:
        super().__init__(classes="dialog-screen")
        self.messages = [m for m in messages if m.role in ("user", "assistant") and m.text.strip()]

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide"):
            yield Static("Fork at which message? The new session keeps everything up to it.", classes="dialog-title")
            options = [
                Option(f"{m.index + 1:>3} {m.role:<9} {' '.join(m.text.split())[:70]}", id=str(m.index))
                for m in self.messages
            ]
            yield OptionList(*options, id="fork-list")
            yield Static("enter forks · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        if options.option_count:
            options.highlighted = options.option_count - 1

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0))

    def action_cancel(self) -> None:
        self.dismiss(None)
