"""A one-line notice of what MixerLead conversation continuity is known to be.

MixerLead's docs do not say how a new conversation's id comes back, so the app may not be able to
continue a conversation on the server. This says so plainly: nothing while continuity works, a
muted note before the first reply, a warning once a reply came back without an id. The chat
screen mounts it above the composer for MixerLead conversations and calls `show_for` when the
conversation changes or a turn ends (cheap: one local SQLite read)."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from tui.api.mixerlead.backend import CONTINUITY_MESSAGES


class ContinuityNotice(Static):
    HELP = """\
## MixerLead continuity

- a warning above the composer means MixerLead did not return a conversation id: each message then
  starts a new conversation on the server, which will not remember earlier messages
"""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False, classes="ml-continuity")
        self.state = "yes"

    def show_for(self, backend: Any, conversation_id: str | None) -> str:
        """Show the state of `conversation_id` on `backend` (a MixerLeadBackend); returns it."""
        state = backend.continuity_state(conversation_id) if conversation_id and hasattr(backend, "continuity_state") else "yes"
        self.state = state
        self.display = state != "yes"
        self.set_class(state == "no", "ml-warning")
        self.update(("⚠ " if state == "no" else "") + CONTINUITY_MESSAGES.get(state, ""))
        return state
