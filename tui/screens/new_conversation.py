"""Choose the backend of a new conversation: Mix always, MixerLead when a key is configured.

A backend without a key is listed disabled, with the sentence saying how to add one, so the user
learns it exists and what it takes. Dismisses with the chosen backend's name, or None (esc).
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.backends import BackendOption


def option_prompt(option: BackendOption, current: str) -> Content:
    head = Content.assemble((option.label, "bold"), ("  · last used" if option.name == current and option.available else "", "$text-muted"))
    if not option.available:
        head = Content.assemble((option.label, "bold"), ("  · not configured", "$text-warning"))
    return Content.assemble(head, "\n", (option.detail, "$text-muted"))


class NewConversationScreen(ModalScreen[str | None]):
    DEFAULT_CSS = """
    #new-conversation-options { height: auto; max-height: 14; border: none; }
    #new-conversation-options > .option-list--option { padding: 0 1 1 1; }
    """

    HELP = """\
## New conversation

- `up`/`down` then `enter`: start the next conversation on that backend (it is created when you send)
- a backend marked "not configured" needs an API key: the line under it says where to put it
- `escape`: keep the current conversation
"""

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=False)]

    def __init__(self, options: list[BackendOption], current: str = "") -> None:
        super().__init__(classes="dialog-screen")
        self.options = options
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog", id="new-conversation"):
            yield Static("New conversation on…", classes="dialog-title")
            yield OptionList(
                *[Option(option_prompt(o, self.current), id=o.name, disabled=not o.available) for o in self.options],
                id="new-conversation-options",
            )
            yield Static("enter chooses · esc cancels", classes="dialog-hint")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        names = [o.name for o in self.options if o.available]
        start = self.current if self.current in names else (names[0] if names else None)
        if start is not None:
            options.highlighted = [o.name for o in self.options].index(start)
        options.focus()

    @on(OptionList.OptionSelected, "#new-conversation-options")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id and not event.option.disabled:
            self.dismiss(event.option.id)

    def action_cancel(self) -> None:
        self.dismiss(None)
