"""History: finished messages render once, with thinking, tool cards and results."""

from __future__ import annotations

from textual.widgets import Static

from tui.api.backend import ChatMessage, MessagePage
from tui.api.turn import ToolCall, ToolStatus
from tui.widgets import AssistantMessage, ThinkingView, ToolCard, Transcript, UserMessage
from tui.widgets.markdown_render import MarkdownChunk

from .host import HostApp


def history_page() -> MessagePage:
    bash = ToolCall(id="t1", name="bash", input='{"command": "ls -la"}', status=ToolStatus.DONE, result="total 0\ndraft.md", success=True)
    edit = ToolCall(
        id="t2",
        name="edit",
        input='{"file_path": "app.py", "old_string": "x = 1\\n", "new_string": "x = 2\\n"}',
        status=ToolStatus.DONE,
        result="ok",
    )
    messages = [
        ChatMessage(id="m0", role="user", text="List the files", index=0),
        ChatMessage(id="m1", role="assistant", text="Here you go:\n\n```python\nprint('hi')\n```\n", reasoning="Use ls.", reasoning_duration=1.5, tool_calls=[bash, edit], index=1),
    ]
    return MessagePage(messages=messages, start=0, total=2)


async def test_history_renders_user_assistant_and_tool_cards() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 40)) as pilot:
        app.transcript.show_history(history_page())
        await pilot.pause()
        widgets = app.transcript.message_widgets
        assert [type(w) for w in widgets] == [UserMessage, AssistantMessage]
        thinking = widgets[1].query_one(ThinkingView)
        assert thinking.collapsed and thinking.text == "Use ls."
        assert "Thought for 1.5 s" in str(thinking.query_one(".thinking-header", Static).render())
        cards = widgets[1].query(ToolCard)
        assert [c.tool.name for c in cards] == ["bash", "edit"]
        bash_body = cards[0].body_text()
        assert bash_body.startswith("$ ls -la")
        assert "draft.md" in bash_body
        diff = cards[1].body_text()
        assert diff.startswith("✎ app.py") and "-x = 1" in diff and "+x = 2" in diff
        answer = widgets[1].query_one(MarkdownChunk)
        assert "print('hi')" in answer.source


async def test_copy_and_fork_keys_post_upward() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 40)) as pilot:
        app.transcript.show_history(history_page())
        await pilot.pause()
        assistant = app.transcript.message_widgets[1]
        assistant.focus()
        await pilot.press("c", "f")
        await pilot.pause()
        copies = app.of_type(Transcript.CopyRequested)
        forks = app.of_type(Transcript.ForkRequested)
        assert copies and copies[0].text.startswith("Here you go")
        assert forks and forks[0].message_index == 1


async def test_tool_card_toggles_with_enter() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 40)) as pilot:
        app.transcript.show_history(history_page())
        await pilot.pause()
        card = app.transcript.query(ToolCard).first()
        assert not card.collapsed
        card.focus()
        await pilot.press("enter")
        assert card.collapsed
        await pilot.pause()
        assert card.query_one(".tool-body").display is False
        await pilot.press("enter")
        await pilot.pause()
        assert not card.collapsed and card.query_one(".tool-body").display is True


async def test_clicks_and_enter_fold_thinking_and_cards() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 40)) as pilot:
        app.transcript.show_history(history_page())
        await pilot.pause()
        assistant = app.transcript.message_widgets[1]
        thinking = assistant.query_one(ThinkingView)
        card = assistant.query(ToolCard).first()
        await pilot.click(thinking.query_one(".thinking-header"))
        assert not thinking.collapsed
        await pilot.click(card.query_one(".tool-header"))
        assert card.collapsed
        assistant.focus()
        await pilot.press("enter")  # follows the first foldable (thinking, now open): fold everything
        assert thinking.collapsed and all(c.collapsed for c in assistant.query(ToolCard))
        await pilot.press("enter")
        assert not thinking.collapsed and not any(c.collapsed for c in assistant.query(ToolCard))


async def test_copy_code_block_and_tool_result() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 40)) as pilot:
        app.transcript.show_history(history_page())
        await pilot.pause()
        assistant = app.transcript.message_widgets[1]
        assistant.focus()
        await pilot.press("C")
        card = assistant.query(ToolCard).first()
        card.focus()
        await pilot.press("c")
        await pilot.pause()
        copies = [m.text for m in app.of_type(Transcript.CopyRequested)]
        assert copies == ["print('hi')", "total 0\ndraft.md"]


async def test_a_message_that_was_not_sent_says_so_beside_the_text_not_as_raw_markdown() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 20)) as pilot:
        app.transcript.show_history(MessagePage(messages=[
            ChatMessage(id="u1", role="user", text="use the paid model", note="not sent: not on your plan", index=0)],
            start=0, total=1))
        await pilot.pause()
        [user] = app.transcript.message_widgets
        shown = str(user.render())
        assert shown == "use the paid model\n⚠ not sent: not on your plan" and "_(" not in shown
        assert user.copy_text() == "use the paid model"
