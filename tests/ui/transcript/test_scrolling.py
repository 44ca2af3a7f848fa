"""Following the bottom, the "new output below" marker, loading older messages and the window bound."""

from __future__ import annotations

from tui.api import events as ev
from tui.api.backend import ChatMessage, MessagePage
from tui.api.turn import TurnModel
from tui.widgets import Transcript

from tests.support.host import wait_until

from .host import HostApp


def messages(start: int, stop: int) -> list[ChatMessage]:
    out = []
    for i in range(start, stop):
        role = "user" if i % 2 == 0 else "assistant"
        text = f"message {i}\n\nline two of {i}" if role == "assistant" else f"question {i}"
        out.append(ChatMessage(id=f"m{i}", role=role, text=text, index=i))
    return out


def page(start: int, stop: int, total: int) -> MessagePage:
    return MessagePage(messages=messages(start, stop), start=start, total=total)


def at_bottom(t: Transcript) -> bool:
    return t.scroll_y >= t.max_scroll_y - 1


async def test_follows_the_answer_to_its_last_line() -> None:
    app = HostApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.transcript
        t.show_history(page(0, 10, 10))
        await pilot.pause()
        turn = TurnModel(clock=app.clock)
        t.start_turn(turn)
        for i in range(60):
            turn.apply(ev.ContentDelta(f"line {i} of a long answer\n\n"))
            if i % 10 == 0:
                await pilot.pause(0.04)
        turn.apply(ev.Complete(content=turn.final_text + "THE END"))
        await pilot.pause(0.2)
        assert t.max_scroll_y > 0
        assert at_bottom(t)
        assert not t.new_output_below


async def test_scrolled_up_stays_put_and_shows_the_marker() -> None:
    app = HostApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.transcript
        t.show_history(page(0, 20, 20))
        await pilot.pause()
        turn = TurnModel(clock=app.clock)
        t.start_turn(turn)
        turn.apply(ev.ContentDelta("first line\n\n"))
        await pilot.pause(0.1)
        assert at_bottom(t)
        t.scroll_to(y=5, animate=False)  # the user scrolls up (this releases the anchor)
        await pilot.pause()
        assert not t.following
        for i in range(30):
            turn.apply(ev.ContentDelta(f"more output {i}\n\n"))
        await pilot.pause(0.15)
        assert t.scroll_y == 5
        assert t.new_output_below
        t.focus()
        await pilot.press("end")
        await pilot.pause(0.1)
        assert at_bottom(t) and t.following
        assert not t.new_output_below
        turn.apply(ev.ContentDelta("and even more\n\n" * 5))
        await pilot.pause(0.15)
        assert at_bottom(t)


async def test_marker_click_jumps_back() -> None:
    app = HostApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.transcript
        t.show_history(page(0, 20, 20))
        await pilot.pause()
        turn = TurnModel(clock=app.clock)
        t.start_turn(turn)
        await pilot.pause(0.05)
        t.scroll_to(y=0, animate=False)
        await pilot.pause()
        turn.apply(ev.ContentDelta("new text\n\n" * 10))
        await pilot.pause(0.15)
        assert t.new_output_below
        await pilot.click(".new-output-marker")
        await pilot.pause(0.1)
        assert at_bottom(t) and not t.new_output_below


async def test_scroll_to_top_posts_load_older_and_prepend_keeps_position() -> None:
    app = HostApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.transcript
        t.show_history(page(150, 200, 200))
        await wait_until(pilot, lambda: t.max_scroll_y > 0 and at_bottom(t) and len(t.message_widgets) == 50,
                         failure="the view at the bottom, every loaded message with its widget")
        t.scroll_to(y=0, animate=False)
        await wait_until(pilot, lambda: app.of_type(Transcript.LoadOlder), failure="a LoadOlder request")
        await pilot.pause(0.05)
        requests = app.of_type(Transcript.LoadOlder)
        assert len(requests) == 1 and requests[0].before == 150
        first = t.message_widgets[0]
        row_before = first.region.y
        t.prepend_history(page(100, 150, 200))
        await wait_until(pilot, lambda: t.loaded_count == 100 and t.scroll_y > 0, failure="the older page in place")
        await pilot.pause(0.05)
        assert t.loaded_count == 100
        assert t.message_widgets[0].index == 100
        assert first.region.y == row_before  # what the user was reading did not move
        assert t.scroll_y > 0


async def test_window_stays_bounded_for_two_thousand_messages() -> None:
    app = HostApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.transcript
        total = 2000
        t.show_history(page(total - 50, total, total))
        await wait_until(pilot, lambda: len(t.message_widgets) == Transcript.WINDOW, failure="the window filled")
        t.scroll_to(y=0, animate=False)
        await pilot.pause()
        await pilot.pause()
        (request,) = app.of_type(Transcript.LoadOlder)
        t.prepend_history(page(0, request.before, total))  # everything older in one page
        await pilot.pause()
        assert t.loaded_count == total
        counts = [len(t.message_widgets)]
        for _ in range(6):  # keep scrolling up: widgets come from memory, the window slides
            t.scroll_to(y=0, animate=False)
            await pilot.pause()
            await pilot.pause()
            counts.append(len(t.message_widgets))
        assert len(app.of_type(Transcript.LoadOlder)) == 1  # nothing more asked from the server
        assert t.message_widgets[0].index < total - 50 - 6 * Transcript.STEP + 50
        assert max(counts) <= Transcript.MAX_MOUNTED
        assert len(t.children) <= Transcript.MAX_MOUNTED + 1  # plus the marker
        # jumping back to the newest output re-creates the tail from memory
        t.focus()
        await pilot.press("end")
        await pilot.pause(0.1)
        assert t.message_widgets[-1].index == total - 1
        assert at_bottom(t)
        assert len(t.message_widgets) <= Transcript.MAX_MOUNTED


async def test_a_long_page_paints_about_two_screens_first_then_fills_the_window_at_the_bottom() -> None:
    app = HostApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.transcript
        t.show_history(page(0, 200, 200))
        first = len(t.message_widgets)  # mounted with the page: what the first frame shows
        assert 0 < first < Transcript.WINDOW
        await wait_until(pilot, lambda: len(t.message_widgets) == Transcript.WINDOW, failure="the window filled")
        await pilot.pause()
        assert [w.index for w in t.message_widgets] == list(range(150, 200))  # in order, the newest last
        assert at_bottom(t) and t.following  # filling above never moved the view
