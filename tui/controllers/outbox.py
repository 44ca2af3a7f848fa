"""Messages on their way. What goes to the server is the typed text with the attached context folded
in; a failed send must put back what the user typed and re-attach the context, not the folded text."""

from __future__ import annotations

from typing import Any

UNSENT_KEPT = 16  # messages in flight whose typed text and context are kept for a failed send


class Unsent:
    """By the text sent: (what the user typed, the attachments it carried). Only the newest few are
    kept: older ones were long delivered or failed."""

    def __init__(self, keep: int = UNSENT_KEPT) -> None:
        self.keep = keep
        self._items: dict[str, tuple[str, list[Any]]] = {}

    def __len__(self) -> int:
        return len(self._items)

    def remember(self, sent: str, typed: str, attachments: list[Any]) -> None:
        """Only needed when the text sent differs from the typed text or carries context."""
        if sent == typed and not attachments:
            return
        self._items.pop(sent, None)
        self._items[sent] = (typed, list(attachments))
        while len(self._items) > self.keep:
            del self._items[next(iter(self._items))]  # the oldest

    def typed(self, sent: str) -> str:
        """What the user typed for this message (for the prompt history: never the folded context)."""
        return self._items.get(sent, (sent, []))[0]

    def take(self, sent: str) -> tuple[str, list[Any]]:
        """The typed text and attachments of a failed message, forgotten now that they go back."""
        return self._items.pop(sent, (sent, []))

    def delivered(self, sent: str) -> None:
        self._items.pop(sent, None)
