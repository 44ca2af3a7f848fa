"""Context attached to the next message (a Mixpeek search result, ...), shown as one line above the composer.

Attaching never touches what the user typed: the context waits here, visibly, and is put in front
of the text only when the message is sent (`wrap`). A key removes the last attachment.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from tui.keymap import display_key, key_for


@dataclass(frozen=True)
class Attachment:
    text: str
    source: str

    def block(self) -> str:
        """How the context goes out in front of the message (same shape as AttachContext.as_context)."""
        return f"[context from {self.source}]\n{self.text.strip()}\n[end of context]"


class AttachedContext(Static):
    DEFAULT_CSS = """
    AttachedContext { height: auto; max-height: 3; padding: 0 1; color: $text-accent; background: $boost; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)
        self.attachments: list[Attachment] = []
        self._drawn: Content | None = None

    def on_mount(self) -> None:
        self._draw()

    def add(self, text: str, source: str) -> Attachment:
        attachment = Attachment(text=text, source=source or "attachment")
        self.attachments.append(attachment)
        self._draw()
        return attachment

    def remove_last(self) -> Attachment | None:
        removed = self.attachments.pop() if self.attachments else None
        self._draw()
        return removed

    def clear(self) -> None:
        self.attachments.clear()
        self._draw()

    def wrap(self, text: str) -> str:
        """The message as it is sent: every attached context, then what the user typed."""
        if not self.attachments:
            return text
        return "\n\n".join([a.block() for a in self.attachments] + [text])

    @property
    def text(self) -> str:
        return self._content().plain

    def _content(self) -> Content:
        if not self.attachments:
            return Content("")
        names = ", ".join(f"{a.source} ({len(a.text.strip())} chars)" for a in self.attachments)
        count = len(self.attachments)
        label = "attached context" if count == 1 else f"{count} attached contexts"
        key = display_key(key_for("remove_attachment", getattr(self.app, "keymap_overrides", None)))
        return Content.assemble(("📎 ", ""), (label, "bold"), f": {names}", (f" · goes with your next message · {key} removes", "$text-muted"))

    def _draw(self) -> None:
        content = self._content()
        if content == self._drawn and self.display == bool(self.attachments):
            return  # nothing to change (every send clears it): no layout of the screen for nothing
        self.display = bool(self.attachments)
        if self.is_attached:  # (from on_mount on: is_mounted is still False inside it)
            self._drawn = content
            self.update(content)
