"""A stand-in for asyncio.sleep in retry policies and pollers: it remembers each wait and waits
(almost) nothing, so backoff is asserted without slowing the tests. No Textual here."""

from __future__ import annotations

import asyncio


class SleepRecorder:
    def __init__(self, pause: float = 0.0) -> None:
        self.waits: list[float] = []
        self.pause = pause  # a real (tiny) wait, where the UI needs a frame to pass

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(self.pause)


def instant_sleep() -> SleepRecorder:
    """The UI tests' sleeper: a millisecond, so workers still hand control to the app."""
    return SleepRecorder(pause=0.001)
