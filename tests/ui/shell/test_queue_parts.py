"""The message queue's pure part and its widget's keys (the chat wiring is in test_first_day.py)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets.queued import MessageQueue, QueuedMessages, preview


def test_queue_keeps_order_and_ignores_blank_text():
    queue = MessageQueue()
    for text in ("first", "  ", "second", "third"):
        queue.add(text)
    assert queue.texts == ["first", "second", "third"]
    assert queue.take(1) == "second" and queue.take(7) is None
    assert queue.next() == "first" and queue.next() == "third" and queue.next() is None


def test_preview_is_one_short_line():
    assert preview("a\n  b\tc") == "a b c"
    assert len(preview("x" * 500)) == 90 and preview("x" * 500).endswith("…")


class QueueHost(App[None]):
    def __init__(self) -> None:
        super().__init__()
        self.posted: list[tuple[str, int]] = []

    def compose(self) -> ComposeResult:
        yield QueuedMessages()

    def on_queued_messages_edit(self, m: QueuedMessages.Edit) -> None:
        self.posted.append(("edit", m.index))

    def on_queued_messages_drop(self, m: QueuedMessages.Drop) -> None:
        self.posted.append(("drop", m.index))


async def test_the_widget_hides_when_empty_and_posts_edit_and_drop():
    app = QueueHost()
    async with app.run_test() as pilot:
        widget = app.query_one(QueuedMessages)
        assert not widget.display  # nothing queued yet: no empty box
        widget.show(MessageQueue())
        assert not widget.display
        widget.show(MessageQueue(["one", "two"]))
        assert widget.display and widget.option_count == 2 and "2 queued" in str(widget.border_title)
        widget.focus()
        await pilot.press("down", "x", "e")
        assert app.posted == [("drop", 1), ("edit", 1)]
