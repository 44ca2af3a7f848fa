"""Small helpers shared by the app benchmarks (run inside a child process)."""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import Any, Callable

from textual import events
from textual.app import App


def press(app: App, key: str, char: str | None = None) -> None:
    """Deliver a key the way the terminal driver does (no waiting for the screen, unlike Pilot.press)."""
    if char is None and len(key) == 1:
        char = key
    event = events.Key(key, char)
    event.set_sender(app)
    app._driver.send_message(event)  # type: ignore[union-attr]


async def wait_until(condition: Callable[[], Any], timeout: float, what: str, step: float = 0.002) -> float:
    """Poll `condition` until true; the perf_counter time it became true. Raises TimeoutError naming `what`."""
    deadline = time.perf_counter() + timeout
    while True:
        value = condition()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return time.perf_counter()
        if time.perf_counter() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(step)


async def maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def close(obj: Any) -> None:
    for name in ("aclose", "close"):
        fn = getattr(obj, name, None)
        if fn is not None:
            await maybe_await(fn())
            return


def result_times(t0: float, **points: float | None) -> dict[str, float | None]:
    return {k: (v - t0 if v is not None else None) for k, v in points.items()}



class StallMonitor:
    """The longest time the event loop was blocked: a task that wakes every `period` seconds and
    records how late each wake-up came. While the loop runs one long callback, keys wait and no
    frame is painted, so this is where a frozen UI shows up."""

    def __init__(self, period: float = 0.005) -> None:
        self.period = period
        self.longest = 0.0
        self._task: asyncio.Task | None = None

    def start(self) -> "StallMonitor":
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    async def _run(self) -> None:
        period = self.period
        last = time.perf_counter()
        while True:
            await asyncio.sleep(period)
            now = time.perf_counter()
            late = now - last - period
            if late > self.longest:
                self.longest = late
            last = now

    def stop(self) -> float:
        if self._task is not None:
            self._task.cancel()
        return self.longest
