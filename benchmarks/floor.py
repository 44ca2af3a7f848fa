"""The floor: the least a Textual app can do to send a message and show the streamed answer.

One `Markdown` widget in a `VerticalScroll` that follows the bottom (`anchor()`), fed through
`Markdown.get_stream()` with one `write` per content delta, exactly as Textual's docs show, and an
`Input` under it: Enter clears it and POSTs the message. The session's stream is open before the
message is sent, as in the app. Deltas and the POST go to the same server over the same client
layer (`MixClient`) as the app's, and the clock starts at the same point as the app's: the Enter
key delivered to the focused input (appkit.press), so Enter → POST is part of both figures.

`python -m benchmarks.floor --server URL --session ID` runs the same app in a real terminal
(first_words_tmux.py drives it in tmux); ctrl+q quits.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Input, Markdown

from benchmarks import mixwire, profiling
from benchmarks.appkit import StallMonitor, press
from benchmarks.corpus import ANSWER_NEEDLES, LAST_LINE
from benchmarks.frames import FrameRecorder, screen_lines
from benchmarks.streaming import SETTLE

PROMPT = "Please review the design."


class FloorApp(App[None]):
    CSS = "VerticalScroll { height: 1fr; }"

    def __init__(self, client: Any = None, session_id: str | None = None) -> None:
        super().__init__()
        self.client = client
        self.session_id = session_id
        self.connected = asyncio.Event()  # the session's stream is up
        self.done = asyncio.Event()  # the turn is over (or the stream failed)
        self.deltas = 0

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown()
        yield Input(placeholder="Message")

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()
        self.query_one(Input).focus()
        if self.client is not None and self.session_id is not None:
            self.run_worker(self._consume(), exit_on_error=False)

    async def _consume(self) -> None:
        try:
            self.deltas = await stream_answer(self.client, self.session_id, self.query_one(Markdown), self.connected)
        finally:
            self.done.set()

    async def on_input_submitted(self, event: Input.Submitted) -> None:
        text = event.value
        event.input.clear()
        await mixwire.send(self.client, self.session_id, text)


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
    """One floor run: Enter, then stream into the Markdown widget until the last line is painted."""
    timeout = float(params.get("timeout", 120))
    client = mixwire.client(params["url"])
    session_id = await mixwire.create_session(client, "floor")
    app = FloorApp(client, session_id)
    async with app.run_test(size=(120, 40)) as pilot:
        rec = FrameRecorder(app).install()
        await asyncio.wait_for(app.connected.wait(), 15)
        app.query_one(Input).value = PROMPT
        await pilot.pause(float(params.get("settle", SETTLE)))
        first = rec.watch(ANSWER_NEEDLES)
        last = rec.watch(LAST_LINE)
        monitor = StallMonitor().start()
        profiling.start()
        c0 = time.process_time()
        t0 = time.perf_counter()
        press(app, "enter")
        t_last = await last.wait(timeout)
        cpu = time.process_time() - c0
        profiling.stop()
        stall = monitor.stop()
        await asyncio.wait_for(app.done.wait(), timeout)
        t_stream_end = time.perf_counter()
        await pilot.pause(0.05)
        follows = t_last is not None and LAST_LINE in "\n".join(screen_lines(app))
        end = t_last if t_last is not None else time.perf_counter()
        result = {
            "total_s": end - t0,
            "cpu_s": cpu,
            "first_token_s": (first.found_at - t0) if first.found_at else None,
            "frames": rec.frames_between(t0, end),
            "follows": follows,
            "deltas": app.deltas,
            "stream_end_s": t_stream_end - t0,
            "bytes_out": rec.bytes_out,
            "longest_stall_s": stall,
        }
    await mixwire.close(client)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.floor", description="the floor app in a real terminal")
    parser.add_argument("--server", required=True, metavar="URL")
    parser.add_argument("--session", required=True, metavar="ID", help="the session to stream and send to")
    args = parser.parse_args()
    FloorApp(mixwire.client(args.server), args.session).run()  # the process's end closes the connections


if __name__ == "__main__":
    main()
