"""A backend's event stream consumed in the background, as the chat screen does, for the backend
tests: every event kept, optionally folded into one TurnModel, and ways to wait for what comes."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable

from tui.api import events as ev
from tui.api.turn import TurnModel


class Listener:
    def __init__(self, backend: Any, conversation_id: str, *, fold: bool = False) -> None:
        self.backend = backend
        self.events: list[ev.Event] = []
        self.turn = TurnModel()  # every event folded in, when `fold`
        self.fold = fold
        self.connected = asyncio.Event()
        self.changed = asyncio.Event()
        self.task = asyncio.create_task(self._run(conversation_id))

    async def _run(self, conversation_id: str) -> None:
        async for event in self.backend.events(conversation_id):
            self.events.append(event)
            if isinstance(event, ev.Connected):
                self.connected.set()
            if self.fold:
                self.turn.apply(event)
            self.changed.set()

    async def wait(self, condition: Callable[[], object], timeout: float = 10) -> None:
        """Until `condition()` holds, checked after each event."""
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                await self.changed.wait()

    async def wait_for(self, predicate: Callable[[ev.Event], bool], timeout: float = 5.0, start: int = 0) -> ev.Event:
        """The first event from index `start` on that matches `predicate`."""
        deadline = time.monotonic() + timeout
        seen = start
        while True:
            for event in self.events[seen:]:
                if predicate(event):
                    return event
            seen = len(self.events)
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no matching event; got {self.events}")
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass

    def since(self, start: int) -> list[ev.Event]:
        return self.events[start:]

    async def stop(self) -> None:
        self.task.cancel()
        try:
            await self.task
        except asyncio.CancelledError:
            pass
