"""Counting painted frames and finding text in them, inside `App.run_test()`.

The hook: `App._display(screen, update)`. Every screen refresh ends in one call with the
compositor's update for that frame (`LayoutUpdate` for a full paint, `ChopsUpdate` for the
changed spans), after the widgets' lines were rendered; `None` or a batched call paints nothing.
It is the last point before bytes go to the terminal, so one call = one frame painted. (Timers
such as `screen._refresh_layout` fire also when nothing changed; the driver's write is skipped
in headless mode.) Headless mode skips encoding the update into terminal bytes, so the hook does
that work itself (`render_segments`): a benchmark frame costs what a real one costs.

Needles: a benchmark asks `watch(text)` and gets the time of the first frame whose update
contains `text` on one screen line, i.e. the moment that text was painted.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from textual._compositor import ChopsUpdate, LayoutUpdate
from textual.app import App


def update_lines(update: Any) -> list[tuple[int, str]]:
    """The text of each screen line an update paints (y, text); segments joined, styles dropped."""
    lines: list[tuple[int, str]] = []
    if isinstance(update, LayoutUpdate):
        for y, line in enumerate(update.strips, update.region.y):
            lines.append((y, "".join(strip.text for strip in line)))
    elif isinstance(update, ChopsUpdate):
        for y, _x1, _x2 in update.spans:
            chops = update.chops[y]
            lines.append((y, "".join(chops[x].text for x in sorted(chops) if chops[x] is not None)))
    return lines


def screen_lines(app: App) -> list[str]:
    """The whole screen as text, as it would be painted now."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


@dataclass
class _Watch:
    needle: str | tuple[str, ...]  # a tuple: any of these
    rows: tuple[int, int] | None  # only these screen rows (inclusive), e.g. the composer
    found_at: float | None = None
    callback: Callable[[float], None] | None = None
    event: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self, timeout: float) -> float | None:
        """The time the needle was painted, or None if it was not within `timeout` seconds."""
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except asyncio.TimeoutError:
            return None
        return self.found_at


@dataclass
class FrameRecorder:
    app: App
    encode: bool = True
    frames: list[float] = field(default_factory=list)
    bytes_out: int = 0
    _watches: list[_Watch] = field(default_factory=list)

    def install(self) -> "FrameRecorder":
        original = self.app._display
        console = self.app.console

        def display(screen: Any, update: Any) -> None:
            if update is not None and not self.app._batch_count:
                now = time.perf_counter()
                self.frames.append(now)
                if self.encode and hasattr(update, "render_segments"):
                    self.bytes_out += len(update.render_segments(console))
                if self._watches:
                    self._check(update, now)
            original(screen, update)

        self.app._display = display  # type: ignore[method-assign]
        return self

    def watch(self, needle: str | tuple[str, ...], rows: tuple[int, int] | None = None, callback: Callable[[float], None] | None = None) -> _Watch:
        w = _Watch(needle, rows, callback=callback)
        self._watches.append(w)
        return w

    def unwatch(self, w: _Watch) -> None:
        try:
            self._watches.remove(w)
        except ValueError:  # already found (the frame hook removed it)
            pass

    def _check(self, update: Any, now: float) -> None:
        lines = update_lines(update)
        for w in list(self._watches):
            for y, text in lines:
                if w.rows is not None and not (w.rows[0] <= y <= w.rows[1]):
                    continue
                if (w.needle in text) if isinstance(w.needle, str) else any(n in text for n in w.needle):
                    w.found_at = now
                    w.event.set()
                    self.unwatch(w)
                    if w.callback is not None:
                        w.callback(now)
                    break

    def frames_between(self, t0: float, t1: float) -> int:
        return sum(1 for f in self.frames if t0 <= f <= t1)
