"""The last lines a local MCP server wrote to its stderr, kept to explain why it failed.

A pipe per start: the write end goes to the child (the SDK's `errlog`), the read end is read by
the event loop without a thread. Only the last lines are kept, each cut and redacted.
"""

from __future__ import annotations

import asyncio
import os
from collections import deque
from typing import IO

from tui.config import redact

KEPT_LINES = 20
LINE_LIMIT = 300  # characters per kept line


class _Collect(asyncio.Protocol):
    def __init__(self, tail: "StderrTail") -> None:
        self.tail = tail

    def data_received(self, data: bytes) -> None:
        self.tail.feed(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.tail.feed(b"\n")
        self.tail.ended.set()


class StderrTail:
    def __init__(self, keep: int = KEPT_LINES) -> None:
        self._lines: deque[str] = deque(maxlen=keep)
        self._partial = b""
        self._writer: IO[str] | None = None
        self._transport: asyncio.ReadTransport | None = None
        self.ended = asyncio.Event()  # the child (and whatever inherited the pipe) closed it

    def feed(self, data: bytes) -> None:
        *complete, self._partial = (self._partial + data).split(b"\n")
        for raw in complete:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            if line.strip():
                self._lines.append(redact(line if len(line) <= LINE_LIMIT else line[:LINE_LIMIT - 1] + "…"))
        if len(self._partial) > 64 * 1024:  # a line without end: keep its start only
            self.feed(b"\n")

    def lines(self) -> list[str]:
        return list(self._lines)

    async def open(self) -> IO[str]:
        """A fresh pipe for the next start; returns the end to hand to the child."""
        await self.close()
        self._lines.clear()
        self._partial = b""
        self.ended = asyncio.Event()
        read_fd, write_fd = os.pipe()
        reader = os.fdopen(read_fd, "rb", buffering=0)
        self._writer = os.fdopen(write_fd, "w", encoding="utf-8")
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.connect_read_pipe(lambda: _Collect(self), reader)
        return self._writer

    def spawned(self) -> None:
        """The child has its copy of the write end; close ours so the pipe ends when the child does."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    async def settle(self, timeout: float = 0.5) -> None:
        """Give a child that just exited a moment to have its last lines read."""
        if self._transport is not None:
            try:
                await asyncio.wait_for(self.ended.wait(), timeout)
            except asyncio.TimeoutError:
                pass

    async def close(self) -> None:
        self.spawned()
        if self._transport is not None:
            self._transport.close()
            self._transport = None
            await asyncio.sleep(0)  # let connection_lost run
