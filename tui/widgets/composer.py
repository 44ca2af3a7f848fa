"""The composer: a multi-line TextArea where Enter sends and ctrl+j starts a new line.

↑ on the first line and ↓ on the last recall earlier prompts (the client store's history).
Every change is given to the store as the session's draft; the store writes at most every 300 ms.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import TextArea

from tui.widgets import input_priority

DRAFT_DEBOUNCE = 0.3  # seconds


class Composer(TextArea):
    HELP = """\
## Composer

- `enter`: send
- `ctrl+j`: new line
- `↑` on the first line / `↓` on the last line: earlier prompts
- `shift+tab`: plan mode on/off (the agent may only read and answers with a plan)
- your unsent text is saved as you type and comes back after a restart
"""

    BINDINGS = [Binding("shift+tab", "toggle_plan_mode", "Plan mode", show=False)]

    plan_mode: reactive[bool] = reactive(False, init=False)

    class PlanModeChanged(Message):
        """Plan mode was switched (sends carry `plan_mode` while it is on)."""

        def __init__(self, plan_mode: bool) -> None:
            super().__init__()
            self.plan_mode = plan_mode

    class Submitted(Message):
        def __init__(self, composer: "Composer", text: str) -> None:
            super().__init__()
            self.composer = composer
            self.text = text

    class DraftChanged(Message):
        """Debounced: the text settled for DRAFT_DEBOUNCE seconds."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, soft_wrap=True, show_line_numbers=False, tab_behavior="focus",
                         compact=True, highlight_cursor_line=False)
        self.prompt_history: list[str] = []
        self._history_pos: int | None = None  # index into history while recalling
        self._stashed = ""  # what was typed before recalling
        self._draft_timer = None
        self._loading = False
        self.completion = None  # a ComposerCompletion (tui/widgets/completion.py) once the chat wires one

    # ------------------------------------------------------------------ text in and out

    def load(self, text: str) -> None:
        """Replace the text without it counting as typing (no draft write)."""
        self._loading = True
        self.text = text
        self._loading = False
        self.move_cursor(self.document.end)
        self._history_pos = None

    def take(self) -> str:
        text = self.text
        self.load("")
        return text

    # ------------------------------------------------------------------ plan mode

    def action_toggle_plan_mode(self) -> None:
        self.plan_mode = not self.plan_mode

    def watch_plan_mode(self, plan_mode: bool) -> None:
        # Visible for as long as it is on: the border and its title (and the status bar, via the screen).
        self.set_class(plan_mode, "-plan-mode")
        self.border_title = "⏸ plan mode · the agent only reads · shift+tab to leave" if plan_mode else None
        self.post_message(self.PlanModeChanged(plan_mode))

    # ------------------------------------------------------------------ keys

    async def _on_key(self, event: events.Key) -> None:
        input_priority.key_pressed()  # a streaming answer's next redraw waits for this key's frame
        if self.completion is not None and self.completion.handle_key(event.key):
            event.stop()  # the open completion popup used the key (move, accept, close)
            event.prevent_default()
            return
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            if self.text.strip():
                self.post_message(self.Submitted(self, self.text))
            return
        if event.key == "ctrl+j":
            event.stop()
            event.prevent_default()
            start, end = self.selection
            self._replace_via_keyboard("\n", start, end)
            return
        await super()._on_key(event)

    def action_cursor_up(self, select: bool = False) -> None:
        if not select and self.completion is not None and self.completion.handle_key("up"):
            return
        if not select and self.cursor_location[0] == 0 and self.prompt_history:
            self._recall(-1)
            return
        super().action_cursor_up(select)

    def action_cursor_down(self, select: bool = False) -> None:
        if not select and self.completion is not None and self.completion.handle_key("down"):
            return
        if not select and self.cursor_location[0] == self.document.line_count - 1 and self._history_pos is not None:
            self._recall(+1)
            return
        super().action_cursor_down(select)

    def _recall(self, step: int) -> None:
        if self._history_pos is None:
            if step > 0:
                return
            self._stashed = self.text
            pos = len(self.prompt_history) - 1
        else:
            pos = self._history_pos + step
        if pos < 0:
            return
        if pos >= len(self.prompt_history):
            text, self._history_pos = self._stashed, None
        else:
            text, self._history_pos = self.prompt_history[pos], pos
        self._loading = True
        self.text = text
        self._loading = False
        self.move_cursor(self.document.end if step > 0 else (0, len(self.document.get_line(0))))
        if self._history_pos is None:
            self.move_cursor(self.document.end)

    # ------------------------------------------------------------------ drafts

    def on_text_area_changed(self, event: TextArea.Changed) -> None:
        if self.completion is not None:
            if self._loading:
                self.completion.popup.close()
            else:
                self.completion.refresh()
        if self._loading:
            return
        if self._draft_timer is not None:
            self._draft_timer.stop()
        self._draft_timer = self.set_timer(DRAFT_DEBOUNCE, self._settled)

    def _settled(self) -> None:
        self._draft_timer = None
        self.post_message(self.DraftChanged(self.text))
