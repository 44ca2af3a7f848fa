"""The paths that keep long answers and long sessions quick: Home to the first message of a long
session, and a long answer drawn over several frames (each frame draws a bounded part)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets import Transcript
from tui.widgets.streaming_markdown import CATCH_UP_CHARS, FIRST_PART_CHARS, StreamingMarkdown

from tests.support.host import wait_until

from .host import HostApp
from .test_scrolling import page


async def test_home_loads_everything_older_at_once_without_widgets_and_shows_the_first_message() -> None:
    app = HostApp()
    async with app.run_test(size=(80, 24)) as pilot:
        t = app.transcript
        total = 500
        t.show_history(page(total - 50, total, total))
        await wait_until(pilot, lambda: len(t.message_widgets) == 50, failure="the window filled")
        t.focus()
        await pilot.press("home")
        await pilot.pause()
        await pilot.press("home")  # held down: no second request while the first is on its way
        await pilot.pause()
        (request,) = app.of_type(Transcript.LoadOlder)
        assert request.before == total - 50 and request.limit == total - 50  # all that is older, in one request
        assert len(t.message_widgets) == 50  # no widget made for the messages in between
        t.prepend_history(page(max(0, request.before - request.limit), request.before, total))
        await wait_until(pilot, lambda: len(t.message_widgets) == Transcript.WINDOW, failure="the window filled below the top")
        assert len(app.of_type(Transcript.LoadOlder)) == 1
        assert t.loaded_count == total
        assert [w.index for w in t.message_widgets] == list(range(Transcript.WINDOW))
        assert t.scroll_y == 0 and not t.following
        assert t.message_widgets[0].region.y == t.region.y  # the first message is on screen
        await pilot.press("end")  # back to the newest output
        await pilot.pause(0.05)
        assert t.message_widgets[-1].index == total - 1 and t.following


class MarkdownHost(App[None]):
    def compose(self) -> ComposeResult:
        yield StreamingMarkdown()


async def test_a_long_text_is_drawn_over_several_frames_in_bounded_parts() -> None:
    text = "".join(f"Paragraph {i} with some words to fill a line of the answer.\n\n" for i in range(200))
    app = MarkdownHost()
    async with app.run_test(size=(80, 24)) as pilot:
        md = app.query_one(StreamingMarkdown)
        shown: list[int] = []
        show = md._show
        md._show = lambda part: (shown.append(len(part)), show(part))  # type: ignore[method-assign]
        await md.sync_text(text)
        assert shown[0] <= FIRST_PART_CHARS and md.behind and md.written == text
        for _ in range(100):
            if not md.behind:
                break
            await pilot.pause(0.04)
        assert md.shown == text and len(shown) > 3
        assert all(0 < b - a <= CATCH_UP_CHARS for a, b in zip(shown, shown[1:]))
        await pilot.pause(0.05)
        frozen = "".join(chunk.source for chunk in md.chunks if chunk is not md.chunks[-1])
        assert text.startswith(frozen) and len(md.chunks) > 10  # finished blocks went into frozen chunks
