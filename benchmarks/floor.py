"""The floor: the least a Textual app can do to show the same stream.

One `Markdown` widget in a `VerticalScroll` that follows the bottom (`anchor()`), fed through
`Markdown.get_stream()` with one `write` per content delta, exactly as Textual's docs show. The
deltas come from the same server, over the same client layer (`MixClient.stream`) as the app's.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from benchmarks import mixwire, profiling
from benchmarks.appkit import StallMonitor
from benchmarks.corpus import ANSWER_NEEDLES, LAST_LINE
from benchmarks.frames import FrameRecorder, screen_lines

PROMPT = "Please review the design."


class FloorApp(App[None]):
    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()


async def stream_answer(client: Any, session_id: str, md: Markdown, connected: asyncio.Event) -> int:
    """The session's stream into the Markdown widget, one `write` per content delta, until the turn
    completes; sets `connected` once the stream is up. Returns the number of deltas."""
    from tui.api import events as ev

    deltas = 0
    stream = Markdown.get_stream(md)
    try:
        async for event in mixwire.stream(client, session_id):
            kind = type(event)
            if kind is ev.ContentDelta:
                deltas += 1
                await stream.write(event.content)
            elif kind is ev.Connected or (kind is ev.ConnectionChanged and event.state == "connected"):
                connected.set()
            elif kind is ev.Complete or kind is ev.Error:
                break
    finally:
        await stream.stop()
    return deltas


async def run(params: dict[str, Any]) -> dict[str, Any]:
    """One floor run: send, then stream into the Markdown widget until the last line is painted."""
    timeout = float(params.get("timeout", 120))
    client = mixwire.client(params["url"])
    app = FloorApp()
    async with app.run_test(size=(120, 40)) as pilot:
        rec = FrameRecorder(app).install()
        md = app.query_one(Markdown)
        session_id = await mixwire.create_session(client, "floor")
        connected = asyncio.Event()
        done = asyncio.Event()
        deltas = 0

        async def consume() -> None:
            nonlocal deltas
            try:
                deltas = await stream_answer(client, session_id, md, connected)
            finally:
                done.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(connected.wait(), 15)
        await pilot.pause(0.1)
        first = rec.watch(ANSWER_NEEDLES)
        last = rec.watch(LAST_LINE)
        monitor = StallMonitor().start()
        profiling.start()
        c0 = time.process_time()
        t0 = time.perf_counter()
        await mixwire.send(client, session_id, PROMPT)
        t_last = await last.wait(timeout)
        cpu = time.process_time() - c0
        profiling.stop()
        stall = monitor.stop()
        await asyncio.wait_for(done.wait(), timeout)
        t_stream_end = time.perf_counter()
        await pilot.pause(0.05)
        follows = t_last is not None and LAST_LINE in "\n".join(screen_lines(app))
        task.cancel()
        end = t_last if t_last is not None else time.perf_counter()
        result = {
            "total_s": end - t0,
            "cpu_s": cpu,
            "first_token_s": (first.found_at - t0) if first.found_at else None,
            "frames": rec.frames_between(t0, end),
            "follows": follows,
            "deltas": deltas,
            "stream_end_s": t_stream_end - t0,
            "bytes_out": rec.bytes_out,
            "longest_stall_s": stall,
        }
    await mixwire.close(client)
    return result
