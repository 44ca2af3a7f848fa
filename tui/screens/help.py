"""F1: every key of the app, generated from the key table (with config overrides) and each widget's HELP."""

from __future__ import annotations

from typing import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keymap import ACTIONS, display_key, key_for


def help_markdown(keymap: dict[str, str], widget_classes: Iterable[type],
                  scopes: Iterable[str] = ("app", "chat", "integration")) -> str:
    """The help text: the key table (the actions of `scopes`, with `keymap`'s overrides), then each widget's HELP."""
    wanted = set(scopes)
    lines = ["## Keys", ""]
    for spec in ACTIONS:
        if spec.scope not in wanted:
            continue
        key = display_key(key_for(spec.id, keymap))
        sentence = spec.help[:1].upper() + spec.help[1:]  # some are written to follow "Files: " in the palette
        lines.append(f"- `{key}` {sentence} (`{spec.id}`)")
    lines += ["", "Rebind any of them in `config.toml` under `[keys]`, e.g. `new_session = \"alt+n\"`.", ""]
    for cls in widget_classes:
        text = getattr(cls, "HELP", None)
        if text:
            lines += [text.strip(), ""]
    return "\n".join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,f1,q", "close", "Close", show=False)]

    def __init__(self, markdown: str) -> None:
        super().__init__(classes="dialog-screen")
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box", classes="dialog dialog-wide"):
            yield Static("mix-tui help · esc closes", classes="dialog-title")
            with VerticalScroll(id="help-scroll"):
                # One Static drawing Rich's Markdown: a screenful of help appears at once
                # (Textual's Markdown widget builds one widget per block, which takes a second here).
                from rich.markdown import Markdown

                yield Static(Markdown(self.markdown), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def action_close(self) -> None:
        self.dismiss(None)
