"""The paths that keep long answers and long sessions quick: Home to the first message of a long
session, and a long answer drawn over several frames (each frame draws a bounded part)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui.widgets import Transcript, input_priority
from tui.widgets import transcript as transcript_module
from tui.widgets.markdown_render import draw_markdown
from tui.widgets.streaming_markdown import (
    CATCH_UP_CHARS,
    CATCH_UP_CHARS_TYPING,
    FIRST_PART_CHARS,
    TYPING_WINDOW,
    StreamingMarkdown,
    catch_up_chars,
)
from tui.widgets.transcript import WARM_UP_AFTER_KEY

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


async def test_a_long_text_shows_its_end_at_once_and_draws_the_blocks_above_when_idle() -> None:
    """A text far ahead of what is drawn (a fast stream's burst): the first words, then the newest
    part, where a following view looks; the blocks in between are frozen undrawn (an estimated
    height) and drawn afterwards one chunk per idle step, each frame drawing a bounded part."""
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
        assert md.shown == text and len(shown) <= 4  # the first words, then the end in a step or two
        assert md.undrawn_parts > 5  # the blocks in between: parts with an estimated height
        assert len(md.part_sources[-1]) <= CATCH_UP_CHARS  # the tail: the only text drawn in that step
        for _ in range(200):
            if not md.undrawn_parts:
                break
            await pilot.pause(0.04)
        assert md.undrawn_parts == 0
        await pilot.pause(0.05)
        assert "".join(md.part_sources) == text and len(md.part_sources) > 10
        # Laid out at the drawn height, not the estimate, and drawn as if drawn whole.
        whole = draw_markdown(md, text, md.content_size.width, md.visual_style.rich_style)
        assert md.content_size.height == len(whole)
        assert [md.render_line(y).text.rstrip() for y in range(len(whole))] == [strip.text.rstrip() for strip in whole]


def test_a_frame_draws_less_while_the_user_types(monkeypatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(input_priority.time, "perf_counter", lambda: clock[0])
    input_priority.key_pressed()
    assert catch_up_chars() == CATCH_UP_CHARS_TYPING < CATCH_UP_CHARS
    clock[0] += TYPING_WINDOW + 0.01
    assert catch_up_chars() == CATCH_UP_CHARS


async def test_no_warm_up_step_while_the_user_types(monkeypatch) -> None:
    """A warm-up step compiles a lexer (up to 35 ms): it would hold the next key."""
    steps: list[int] = []
    monkeypatch.setattr(transcript_module, "warm_up_next", lambda: steps.append(1) or True)
    app = HostApp()
    async with app.run_test(size=(80, 24)):
        input_priority.key_pressed()
        app.transcript._warm_up()
        assert steps == []
        monkeypatch.setattr(input_priority, "_last_key", input_priority.time.perf_counter() - WARM_UP_AFTER_KEY - 0.01)
        app.transcript._warm_up()
        assert steps == [1]


async def test_text_that_comes_while_deferred_chunks_wait_to_be_drawn_is_drawn() -> None:
    """The idle step that draws undrawn parts also takes text that arrived meanwhile (it once
    dropped it: the answer's end stayed undrawn until the next change)."""
    text = "".join(f"Paragraph {i} with some words to fill a line of the answer.\n\n" for i in range(200))
    app = MarkdownHost()
    async with app.run_test(size=(80, 24)) as pilot:
        md = app.query_one(StreamingMarkdown)
        await md.sync_text(text)
        for _ in range(100):
            if not md.behind:
                break
            await pilot.pause(0.01)
        assert not md.behind and md._catch_up_timer is not None  # the idle drawing of undrawn parts is due
        await md.sync_text(text + "The last words.\n")
        for _ in range(100):
            if not md.behind:
                break
            await pilot.pause(0.02)
        assert md.shown.endswith("The last words.\n")


async def test_code_in_a_language_not_used_yet_is_coloured_once_the_user_pauses(monkeypatch) -> None:
    """Compiling a lexer takes 15-35 ms: while the user types, a fence in a new language is drawn
    without colours (no key waits for the compilation), and drawn with them in the next pause."""
    text = "Here:\n\n```fortran\nprogram hello\n  print *, 'hi'\nend program hello\n```\n\nDone.\n"
    app = MarkdownHost()
    async with app.run_test(size=(80, 24)) as pilot:
        md = app.query_one(StreamingMarkdown)
        await pilot.pause()
        input_priority.key_pressed()
        await md.sync_text(text)
        await wait_until(pilot, lambda: not md.behind, failure="the text drawn")
        assert md.uncoloured_parts == 1
        code = [md.render_line(y) for y in range(md.content_size.height)]
        plain_colours = {segment.style.color for strip in code for segment in strip if segment.style and segment.text.strip()}
        monkeypatch.setattr(input_priority, "_last_key", input_priority.time.perf_counter() - TYPING_WINDOW - 0.1)
        await wait_until(pilot, lambda: md.uncoloured_parts == 0, failure="the code coloured after the pause")
        coloured = [md.render_line(y) for y in range(md.content_size.height)]
        colours = {segment.style.color for strip in coloured for segment in strip if segment.style and segment.text.strip()}
        assert [strip.text for strip in coloured] == [strip.text for strip in code]  # the same lines, now in colour
        assert len(colours) > len(plain_colours)
