"""Live turns fed from the reference transcripts: thinking, tool cards, permissions, endings."""

from __future__ import annotations

from textual.widgets import Static

from tui.api import events as ev
from tui.api.turn import ToolStatus, TurnModel
from tui.widgets import AssistantMessage, PermissionAnswered, ThinkingView, ToolCard, Transcript
from tui.widgets.message import CancelledMark, ErrorCard, RateLimitCard
from tui.widgets.streaming_markdown import StreamingMarkdown

from .host import HostApp
from .sse import load_events


def text_of(widget) -> str:
    return str(widget.render())


async def feed(pilot, turn: TurnModel, events: list[ev.Event]) -> None:
    for event in events:
        turn.apply(event)
        await pilot.pause(0.04)  # a bit more than one frame, so each state gets drawn


async def start(app: HostApp, pilot) -> TurnModel:
    turn = TurnModel(clock=app.clock)
    app.transcript.add_user_message("hello")
    app.transcript.start_turn(turn)
    await pilot.pause()
    return turn


async def test_thinking_streams_then_collapses_when_the_answer_starts() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        events = load_events("02-answer-with-thinking.sse")
        thinking_events = [e for e in events if isinstance(e, ev.ThinkingDelta)]
        await feed(pilot, turn, thinking_events)
        view = app.transcript.live_view
        assert view is not None
        thinking = view.query_one(ThinkingView)
        assert not thinking.collapsed
        assert thinking.text == turn.thinking
        assert "Thinking" in text_of(thinking.query_one(".thinking-header", Static))
        await feed(pilot, turn, [e for e in events if not isinstance(e, ev.ThinkingDelta)])
        await pilot.pause(0.1)
        assert thinking.collapsed
        answer = view.query_one(StreamingMarkdown)
        assert answer.written == turn.final_text != ""
        assert app.transcript.live_view is None  # polling stopped once the turn finished
        assert view.finished


async def test_thinking_and_answer_in_one_frame_still_fold_the_thinking() -> None:
    """The look must not depend on how the events were split between frames."""
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        events = load_events("02-answer-with-thinking.sse")
        first_text = next(i for i, e in enumerate(events) if isinstance(e, ev.ContentDelta))
        for event in events[: first_text + 1]:  # all of it before the next frame
            turn.apply(event)
        await pilot.pause(0.1)
        view = app.transcript.live_view
        assert view is not None and not turn.status.finished
        thinking = view.query_one(ThinkingView)
        assert thinking.collapsed
        assert text_of(thinking.query_one(".thinking-header", Static)).startswith("▸")


async def test_what_arrives_during_a_sync_is_drawn_by_a_second_pass() -> None:
    """A sync asked for while another one is drawing must not be dropped: the answer's last text
    and the turn's end arrive while a tool card redraws, and both end up on screen."""
    import asyncio

    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        events = load_events("03-tool-permission-granted.sse")
        after_tool = next(i for i, e in enumerate(events) if isinstance(e, ev.ContentDelta) and i > 2)
        await feed(pilot, turn, events[:2])
        view = app.transcript.live_view
        assert view is not None
        app.transcript._stop_live()  # this test drives the syncs itself
        for event in events[2:after_tool]:
            turn.apply(event)
        await view.sync()
        card = view.query_one(ToolCard)
        redraw = card.refresh_view

        async def slow_redraw() -> None:  # a redraw that yields (as a plan card's Markdown does)
            await asyncio.sleep(0.01)
            await redraw()

        card.refresh_view = slow_redraw
        for event in events[6:after_tool]:
            turn.apply(event)  # the tool finished: the card redraws (slowly)
        drawing = asyncio.create_task(view.sync())
        await asyncio.sleep(0)
        assert view._syncing, "the first sync should be drawing (suspended) now"
        for event in events[after_tool:]:
            turn.apply(event)  # the last text and `complete` arrive meanwhile
        assert turn.status.finished
        await view.sync(final=True)
        await drawing
        await pilot.pause(0.05)
        assert view.finished
        texts = [md.written for md in view.query(StreamingMarkdown)]
        assert texts == ["I'll create the file.", "Created `draft.md`."]
        assert "done" in text_of(card.query_one(".tool-header", Static))


async def test_the_answer_widget_waits_mounted_and_takes_the_first_words() -> None:
    """The first token only sets text: the widget for it is there (one empty line) before it arrives."""
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        view = app.transcript.live_view
        assert view is not None
        waiting = view.query_one(StreamingMarkdown)
        assert waiting.written == "" and waiting.region.height == 1
        await feed(pilot, turn, load_events("01-plain-answer.sse"))
        await pilot.pause(0.1)
        assert view.query_one(StreamingMarkdown) is waiting
        assert waiting.written == turn.final_text != ""


async def test_a_tool_first_keeps_the_answer_below_it() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        events = load_events("03-tool-permission-granted.sse")
        tool_at = next(i for i, e in enumerate(events) if isinstance(e, ev.ToolSnapshot))
        await feed(pilot, turn, events[tool_at:])  # the tool before any text
        await pilot.pause(0.1)
        view = app.transcript.live_view or app.transcript.message_widgets[-1]
        kinds = [type(w).__name__ for w in view.children if isinstance(w, (ToolCard, StreamingMarkdown))]
        assert kinds == ["ToolCard", "StreamingMarkdown"]
        assert view.query_one(StreamingMarkdown).written == "Created `draft.md`."


async def test_permission_prompt_allows_by_key() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        events = load_events("03-tool-permission-granted.sse")
        cut = next(i for i, e in enumerate(events) if isinstance(e, ev.PermissionRequest)) + 1
        await feed(pilot, turn, events[:cut])
        await pilot.pause(0.1)
        changed = app.of_type(Transcript.PermissionsChanged)
        assert changed and [p.request.id for p in changed[-1].pending] == [events[cut - 1].id]
        card = app.transcript.query_one(ToolCard)
        assert card.tool.status is ToolStatus.WAITING_PERMISSION
        assert "waiting for permission" in text_of(card.query_one(".tool-header", Static))
        prompt = app.prompt
        assert prompt.display
        assert "touch draft.md" in text_of(prompt.query_one(".permission-what", Static))
        assert "auto-deny in 30 s" in text_of(prompt.query_one(".permission-title", Static))
        await pilot.press("y")
        answers = app.of_type(PermissionAnswered)
        assert [(a.request_id, a.granted) for a in answers] == [(events[cut - 1].id, True)]
        assert not prompt.display
        turn.answer_permission(answers[0].request_id, True)
        await feed(pilot, turn, events[cut:])
        await pilot.pause(0.1)
        assert card.tool.status is ToolStatus.DONE
        assert "done" in text_of(card.query_one(".tool-header", Static))
        assert app.of_type(Transcript.PermissionsChanged)[-1].pending == []


async def test_permission_prompt_denies_by_key_and_queues() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        turn.apply(ev.PermissionRequest(id="p1", tool_name="bash", params={"command": "rm -rf build"}))
        turn.apply(ev.PermissionRequest(id="p2", tool_name="write", description="Create file notes.md", params={"file_path": "notes.md", "diff": "--- a\n+++ b\n@@ -0,0 +1 @@\n+hello\n"}))
        await pilot.pause(0.1)
        prompt = app.prompt
        assert "1 of 2" in text_of(prompt.query_one(".permission-title", Static))
        app.clock.advance(12)
        await pilot.pause(0.3)
        assert "auto-deny in 18 s" in text_of(prompt.query_one(".permission-title", Static))
        await pilot.press("n")
        assert "notes.md" in text_of(prompt.query_one(".permission-what", Static))
        assert "+hello" in text_of(prompt.query_one(".permission-body", Static))
        await pilot.press("d")
        answers = [(a.request_id, a.granted) for a in app.of_type(PermissionAnswered)]
        assert answers == [("p1", False), ("p2", False)]
        assert not prompt.display


async def test_latest_server_tool_turn_streams_parameters_into_the_card() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        events = load_events("07-latest-server-tool-turn.sse")
        cut = next(i for i, e in enumerate(events) if isinstance(e, ev.ToolExecutionStart)) + 1
        await feed(pilot, turn, events[:cut])
        card = app.transcript.query_one(ToolCard)
        assert card.tool.status is ToolStatus.RUNNING
        assert "$ mkdir out" in card.body_text()
        assert "running" in text_of(card.query_one(".tool-header", Static))
        app.clock.advance(2.0)
        await pilot.pause(0.2)
        assert "2.0 s" in text_of(card.query_one(".tool-header", Static))  # the running duration ticks
        await feed(pilot, turn, events[cut:])
        await pilot.pause(0.1)
        view = app.transcript.query(AssistantMessage).last()
        kinds = [type(c).__name__ for c in view.children]
        assert kinds[:3] == ["ThinkingView", "StreamingMarkdown", "ToolCard"]
        assert view.query(StreamingMarkdown).last().written == "Done: `out/` exists."


async def test_cancelled_turn_keeps_the_partial_answer_and_is_marked() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        await feed(pilot, turn, load_events("06-cancel.sse"))
        await pilot.pause(0.1)
        view = app.transcript.query(AssistantMessage).last()
        assert view.query_one(StreamingMarkdown).written == "Running the long job now."
        assert view.query(CancelledMark)
        assert view.has_class("-cancelled")
        card = view.query_one(ToolCard)
        assert card.tool.status is ToolStatus.FAILED
        assert "context canceled" in card.body_text()


async def test_error_ends_the_turn_with_an_error_card() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        events = load_events("05-error.sse")
        await feed(pilot, turn, events)
        await pilot.pause(0.1)
        view = app.transcript.query(AssistantMessage).last()
        card = view.query_one(ErrorCard)
        error = next(e for e in events if isinstance(e, ev.Error))
        assert error.error in text_of(card)
        assert view.query_one(StreamingMarkdown).written == turn.answer != ""


async def test_rate_limit_card_records_the_attempt_and_the_wait() -> None:
    app = HostApp()
    async with app.run_test(size=(100, 30)) as pilot:
        turn = await start(app, pilot)
        await feed(pilot, turn, [ev.RateLimitError("Too many requests", retry_after=30, attempt=2, max_attempts=5)])
        await pilot.pause(0.1)
        card = app.transcript.query_one(RateLimitCard)
        assert "attempt 2 of 5" in text_of(card)
        assert "the turn stopped; the provider asked to wait 30 s" in text_of(card)
        assert "Too many requests" in text_of(card)
        app.clock.advance(10)
        await pilot.pause(0.3)
        # The card is the turn's record; the live countdown is the screen's banner.
        assert "the provider asked to wait 30 s" in text_of(card)
