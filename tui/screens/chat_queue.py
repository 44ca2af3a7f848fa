"""Messages sent while the agent is still answering are queued, per session, and go out one by one
when the answer ends; they are shown above the composer, where they can be taken back to edit or
dropped. A mixin of `ChatScreen` (the queue itself is tui/widgets/queued.py)."""

from __future__ import annotations

from typing import Any

from tui.api.turn import TurnStatus
from tui.controllers.session import SessionController
from tui.widgets.queued import MessageQueue, QueuedMessages


class ChatQueue:
    """Mixed into ChatScreen: `self` is the screen."""

    app: Any
    current: SessionController | None

    def _queues(self) -> dict[str, MessageQueue]:
        if not hasattr(self, "_queue_by_session"):
            self._queue_by_session: dict[str, MessageQueue] = {}
        return self._queue_by_session

    def queue_of(self, session_id: str) -> MessageQueue:
        return self._queues().setdefault(session_id, MessageQueue())

    def show_queue(self) -> None:
        view = self.current
        self.query_one(QueuedMessages).show(self._queues().get(view.id) if view is not None else None)

    def queue_message(self, view: SessionController, text: str) -> None:
        """The agent is still answering: this goes out when it is done (Esc still stops it)."""
        queue = self.queue_of(view.id)
        queue.add(text)
        self.show_queue()
        self.notify(f"Queued ({len(queue)}): sent when the answer ends. Esc stops the answer.", timeout=4)

    def send_queued(self, view: SessionController) -> None:
        """The turn ended: a finished answer sends the next queued message; a cancelled or failed one
        leaves the queue waiting (it goes after the next message the user sends)."""
        queue = self._queues().get(view.id)
        if not queue:
            return
        turn = view.turn
        if turn is None or turn.status is not TurnStatus.COMPLETE:
            self.notify(f"{len(queue)} queued message{'s' if len(queue) != 1 else ''} wait{'s' if len(queue) == 1 else ''}: "
                        "they go after your next message (e edits, x drops).", severity="warning")
            return
        text = queue.next()
        if self.current is view:
            self.show_queue()
        if text:
            self.run_background(self._send_next(view, text), "send")

    async def _send_next(self, view: SessionController, text: str) -> None:
        turn, sending = await view.start_send(text, self.composer.plan_mode)
        await view.finish_send(turn, sending)

    def on_queued_messages_edit(self, event: QueuedMessages.Edit) -> None:
        event.stop()
        view = self.current
        text = self.queue_of(view.id).take(event.index) if view is not None else None
        if text is None:
            return
        typed = self.composer.text
        self.composer.load(f"{text}\n{typed}" if typed.strip() else text)  # nothing typed is lost
        self.composer.focus()
        self.show_queue()

    def on_queued_messages_drop(self, event: QueuedMessages.Drop) -> None:
        event.stop()
        view = self.current
        if view is not None and self.queue_of(view.id).take(event.index) is not None:
            self.show_queue()
