"""Perf probe (not a test): stream a ~13 kB Markdown answer in ~2,800 chunks through our Transcript
and through the floor (one Textual `Markdown` fed per delta by `Markdown.get_stream`), and print
times and the ratio. Run: `.venv/bin/python -m tests.ui.transcript.perf_probe [runs] [burst]`
(burst: our feeder yields to the event loop every N chunks; 1 = after every chunk, the worst case).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from tui.api import events as ev
from tui.api.turn import TurnModel
from tui.themes import themes_dir
from tui.widgets.transcript import Transcript


IDLE_BEFORE = 1.0  # both apps idle a moment after start-up, as a user would before sending


def sample_answer(target: int = 13_000) -> str:
    parts: list[str] = ["# Streaming benchmark answer\n\nThis answer mixes **every** block the pane must render.\n"]
    section = 0
    while sum(map(len, parts)) < target:
        section += 1
        parts.append(f"\n## Section {section}: notes and details\n\n")
        parts.append(
            "Here is a paragraph with `inline code`, *emphasis* and a [link](https://example.com). "
            "It goes on long enough to wrap over a couple of lines in a 120-column terminal, "
            "which is what real answers do most of the time.\n\n"
        )
        parts.append("- first point about the design\n- second point, a bit longer than the first\n- third point\n\n")
        parts.append(
            f"```python\ndef handler_{section}(event):\n    \"\"\"Handle one event.\"\"\"\n"
            f"    total = sum(x * {section} for x in range(10))\n    return {{'section': {section}, 'total': total}}\n```\n\n"
        )
        if section % 3 == 0:
            parts.append("| name | value | note |\n| --- | ---: | --- |\n")
            for row in range(4):
                parts.append(f"| row {row} | {row * section} | fine |\n")
            parts.append("\n")
        parts.append("1. numbered step\n2. another step\n\n")
    return "".join(parts)


def chunks_of(text: str, count: int = 2_836) -> list[str]:
    bounds = [round(i * len(text) / count) for i in range(count + 1)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


class FramesMixin:
    """Timestamps of painted frames (the compositor produced an update for the screen)."""

    first_text_frame: float | None = None

    def shows_text(self) -> bool:
        raise NotImplementedError

    def _install_frame_hook(self) -> None:
        self.frames: list[float] = []
        original = self._display

        def display(screen, renderable) -> None:  # type: ignore[no-untyped-def]
            if renderable is not None and not self._batch_count:
                now = time.perf_counter()
                self.frames.append(now)
                if self.first_text_frame is None and self.shows_text():
                    self.first_text_frame = now
            original(screen, renderable)

        self._display = display  # type: ignore[method-assign]


class FloorApp(App[None], FramesMixin):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown()

    def on_mount(self) -> None:
        self._install_frame_hook()
        self.query_one(VerticalScroll).anchor()

    def shows_text(self) -> bool:
        return any(block.region.height for block in self.query_one(Markdown).children)


class OurApp(App[None], FramesMixin):
    CSS_PATH = [themes_dir() / "transcript.tcss"]

    def compose(self) -> ComposeResult:
        yield Transcript()

    def on_mount(self) -> None:
        self._install_frame_hook()

    def shows_text(self) -> bool:
        views = self.query("AssistantMessage")
        if not views:
            return False
        view = views.last()
        return any(chunk.region.height for md in view.query("StreamingMarkdown") for chunk in md.children)


def first_frame_after(frames: list[float], t: float) -> float:
    return next((f for f in frames if f >= t), float("nan"))


async def run_floor(doc: str, pieces: list[str]) -> dict[str, float]:
    app = FloorApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await asyncio.sleep(IDLE_BEFORE)
        md = app.query_one(Markdown)
        scroller = app.query_one(VerticalScroll)
        t0 = time.perf_counter()
        first_seen: float | None = None
        stream = Markdown.get_stream(md)
        for piece in pieces:
            await stream.write(piece)
            if first_seen is None and md.children:
                first_seen = time.perf_counter()
        await stream.stop()
        while md.source != doc:
            await asyncio.sleep(0.001)
        await pilot.pause()
        done = time.perf_counter()
        await pilot.pause()
        end = first_frame_after(app.frames, done - 0.05) if app.frames else done
        at_bottom = scroller.scroll_y >= scroller.max_scroll_y - 1
        first = app.first_text_frame or float("nan")
        return {"total": max(done, app.frames[-1]) - t0, "first": first - t0, "frames": len([f for f in app.frames if f >= t0]), "bottom": at_bottom}


async def run_ours(doc: str, pieces: list[str], burst: int = 1) -> dict[str, float]:
    app = OurApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await asyncio.sleep(IDLE_BEFORE)
        transcript = app.query_one(Transcript)
        transcript.add_user_message("benchmark")
        turn = TurnModel()
        transcript.start_turn(turn)
        await pilot.pause()
        t0 = time.perf_counter()
        for i, piece in enumerate(pieces):
            turn.apply(ev.ContentDelta(piece))
            if i % burst == 0:  # burst > 1: several events per network read, as an SSE client sees them
                await asyncio.sleep(0)
        turn.apply(ev.Complete(content=doc))
        while True:
            view = transcript.live_view or transcript.message_widgets[-1]
            mds = view.query("StreamingMarkdown")
            if view.finished and mds and mds.last().written == doc:
                break
            await asyncio.sleep(0.001)
        await pilot.pause()
        done = time.perf_counter()
        await pilot.pause()
        at_bottom = transcript.scroll_y >= transcript.max_scroll_y - 1
        first = app.first_text_frame or float("nan")
        return {"total": max(done, app.frames[-1]) - t0, "first": first - t0, "frames": len([f for f in app.frames if f >= t0]), "bottom": at_bottom}


async def main(runs: int, burst: int = 1) -> None:
    doc = sample_answer()
    pieces = chunks_of(doc)
    print(f"answer {len(doc)} chars in {len(pieces)} chunks, {runs} runs each, ours yields every {burst} chunk(s)")
    floors, ours = [], []
    for _ in range(runs):
        floors.append(await run_floor(doc, pieces))
        ours.append(await run_ours(doc, pieces, burst))
    for name, results in (("floor", floors), ("ours", ours)):
        totals = [r["total"] for r in results]
        firsts = [r["first"] * 1000 for r in results]
        frames = [r["frames"] for r in results]
        print(
            f"{name:5}: total median {statistics.median(totals):.3f} s (runs {', '.join(f'{t:.3f}' for t in totals)}), "
            f"first frame {statistics.median(firsts):.1f} ms, frames {statistics.median(frames):.0f}, "
            f"at bottom {all(r['bottom'] for r in results)}"
        )
    ratio = statistics.median(r["total"] for r in ours) / statistics.median(r["total"] for r in floors)
    print(f"ratio ours/floor: {ratio:.3f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3, int(sys.argv[2]) if len(sys.argv) > 2 else 1))
