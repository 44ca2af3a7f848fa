"""The floor for opening a long session: the least a Textual app can do to show its end.

A bare `VerticalScroll` that follows the bottom (`anchor()`); opening fetches the session's messages
from the same server over the same client layer as the app (`MixClient.list_messages`, which parses
every message), then mounts only the last `MOUNTED` of them, each as one Textual `Markdown` widget.
Timed like the app: from the call to the frame that paints the last message's needle.
"""

from __future__ import annotations

import time
from typing import Any

from textual.app import App, ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Markdown

from benchmarks import mixwire
from benchmarks.frames import FrameRecorder

MOUNTED = 40  # messages given a widget


class LongSessionFloorApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VerticalScroll()

    def on_mount(self) -> None:
        self.query_one(VerticalScroll).anchor()


async def run(params: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.long_session import LAST_MESSAGE

    client = mixwire.client(params["url"])
    app = LongSessionFloorApp()
    async with app.run_test(size=(120, 40)) as pilot:
        rec = FrameRecorder(app).install()
        await mixwire.list_sessions(client)  # the connection is up, as the app's is once its session list shows
        await pilot.pause(0.2)
        scroll = app.query_one(VerticalScroll)
        last = rec.watch(LAST_MESSAGE)
        c0 = time.process_time()
        t0 = time.perf_counter()
        messages = await mixwire.messages(client, params["session_id"])
        await scroll.mount_all([Markdown(m.text) for m in messages[-MOUNTED:]])
        t_last = await last.wait(30)
        cpu_open = time.process_time() - c0
        if t_last is None:
            raise TimeoutError("the floor did not paint the last message within 30 s")
    await mixwire.close(client)
    return {"open_s": t_last - t0, "open_cpu_s": cpu_open, "messages": len(messages)}
