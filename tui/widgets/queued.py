"""Messages typed while the agent works: queued, shown above the composer, sent one by one when
the running turn ends.

`MessageQueue` is the plain list (per session, no Textual); `QueuedMessages` draws one and lets the
user take a message back into the composer (`e` or Enter) or drop it (`x` or Delete). Esc still
cancels the running turn: the screen owns that key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

PREVIEW_CHARS = 90


@dataclass
class MessageQueue:
    """Texts waiting for the running turn to end, oldest first."""

    texts: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.texts)

    def add(self, text: str) -> None:
        if text.strip():
            self.texts.append(text)

    def take(self, index: int) -> str | None:
        """Remove and return one message (to edit it, or to drop it)."""
        return self.texts.pop(index) if 0 <= index < len(self.texts) else None

    def next(self) -> str | None:
        """The message to send now that the turn has ended."""
        return self.take(0)


def preview(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= PREVIEW_CHARS else line[: PREVIEW_CHARS - 1] + "…"


class QueuedMessages(OptionList):
    """The queue of the open session; hidden while it is empty."""

    DEFAULT_CSS = """
    QueuedMessages { display: none; height: auto; max-height: 6; border: round $warning 50%; border-title-color: $text-warning; }
    """

    HELP = """\
## Queued messages

Typed while the agent was answering; each is sent when the running answer ends, oldest first.

- `e` or `enter`: take the message back into the composer to edit it (send it again to re-queue)
- `x` or `delete`: drop the message
- `escape` still stops the running answer (the queue then waits for your next send)
"""

    BINDINGS = [
        Binding("e,enter", "edit", "Edit"),
        Binding("x,delete", "drop", "Drop"),
    ]

    class Edit(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    class Drop(Message):
        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def show(self, queue: MessageQueue | None) -> None:
        texts = queue.texts if queue is not None else []
        was = self.highlighted or 0  # (clearing forgets it)
        self.clear_options()
        self.add_options([Option(Content.assemble(("⏳ queued  ", "$text-warning"), preview(t))) for t in texts])
        self.display = bool(texts)
        if texts:
            self.highlighted = min(was, len(texts) - 1)
        self.border_title = f"{len(texts)} queued · sent when the answer ends · e edit · x drop" if texts else None

    def action_edit(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Edit(self.highlighted))

    def action_drop(self) -> None:
        if self.highlighted is not None:
            self.post_message(self.Drop(self.highlighted))
