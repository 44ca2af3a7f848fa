"""The floor for key latency: a bare Textual `TextArea` beside a `Markdown` fed by `MarkdownStream`.

The least a Textual app can do to stream an answer while the user types: floor.py's `Markdown` in
a `VerticalScroll` that follows the bottom, with a `TextArea` under it, fed from the same server
stream over the same client layer. The same typist (keys.Typist) presses the same keys with the
same timing and the latency is read the same way (the frame that paints the TextArea's line), so
the two figures differ only by what the app does between a key and its frame.
"""

from __future__ import annotations

import asyncio
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown, TextArea

from benchmarks import mixwire
from benchmarks.corpus import LAST_LINE
from benchmarks.floor import stream_answer
from benchmarks.frames import FrameRecorder
from benchmarks.keys import PAINT_TIMEOUT, PROMPT, Typist, summary


class FloorComposer(TextArea):
    def load(self, text: str) -> None:  # what Typist calls to clear a line (the app's Composer.load)
        self.load_text(text)


class KeysFloorApp(App[None]):
    CSS = "VerticalScroll { height: 1fr; } FloorComposer { height: 5; }"

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown()
        yield FloorComposer()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()
        self.query_one(FloorComposer).focus()


async def run(params: dict[str, Any]) -> dict[str, Any]:
    """Same shape as keys.run: idle reference keys, then keys during turns until enough samples."""
    want = int(params.get("samples", 80))
    idle_n = int(params.get("idle_samples", 20))
    max_turns = int(params.get("max_turns", 20))
    client = mixwire.client(params["url"])
    app = KeysFloorApp()
    turns = 0
    async with app.run_test(size=(120, 40)) as pilot:
        rec = FrameRecorder(app).install()
        md = app.query_one(Markdown)
        composer = app.query_one(FloorComposer)
        await pilot.pause(0.1)
        typist = Typist(app, rec, composer)
        typist.start()
        try:
            idle_latencies = await typist.type_idle(idle_n)
            while len(typist.latencies) < want and turns < max_turns:
                turns += 1
                await md.update("")  # the last answer's last line must not be on screen already
                composer.load("")
                typist.reset_line()
                await pilot.pause(0.1)
                session_id = await mixwire.create_session(client, f"keys floor {turns}")
                connected = asyncio.Event()
                consumer = asyncio.create_task(stream_answer(client, session_id, md, connected))
                await asyncio.wait_for(connected.wait(), 15)
                last = rec.watch(LAST_LINE)
                typist.in_turn = lambda last=last: last.found_at is None
                await mixwire.send(client, session_id, PROMPT)
                typist.watch_composer()
                typist.active.set()
                if await last.wait(120) is None:
                    raise TimeoutError("the answer's last line was never painted")
                typist.active.clear()
                await asyncio.to_thread(typist.idle.wait, PAINT_TIMEOUT + 1)
                consumer.cancel()
        finally:
            typist.stopped = True
            typist.active.clear()
        await asyncio.to_thread(typist.join, PAINT_TIMEOUT + 1)
    await mixwire.close(client)
    return summary(typist, idle_latencies, turns)
