"""Reading a live SSE stream of the test server, frame by frame, with timeouts."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass
class Frame:
    id: int | None
    event: str
    data: Any
    retry: int | None


class SSEReader:
    """`async with SSEReader(client, session_id) as sse: frame = await sse.next()`."""

    def __init__(self, client: httpx.AsyncClient, session_id: str, headers: dict | None = None,
                 params: dict | None = None) -> None:
        self.client = client
        self.session_id = session_id
        self.headers = headers or {}
        self.params = {"sessionId": session_id, **(params or {})}
        self.response: httpx.Response | None = None
        self._lines: Any = None
        self._cm: Any = None

    async def __aenter__(self) -> "SSEReader":
        self._cm = self.client.stream("GET", "/stream", params=self.params, headers=self.headers,
                                      timeout=httpx.Timeout(10, read=None))
        self.response = await self._cm.__aenter__()
        self._lines = self.response.aiter_lines()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._cm.__aexit__(*exc)

    async def _frame(self) -> Frame | None:
        fields: dict[str, str] = {}
        async for line in self._lines:
            if line == "":
                if fields:
                    return Frame(
                        int(fields["id"]) if "id" in fields else None,
                        fields.get("event", "message"),
                        json.loads(fields["data"]) if fields.get("data") else None,
                        int(fields["retry"]) if "retry" in fields else None,
                    )
                continue
            key, _, value = line.partition(":")
            fields[key] = value[1:] if value.startswith(" ") else value
        return None

    async def next(self, timeout: float = 5.0) -> Frame | None:
        """The next frame, or None when the stream ended."""
        return await asyncio.wait_for(self._frame(), timeout)

    async def until(self, *events: str, timeout: float = 5.0, skip_heartbeats: bool = True) -> list[Frame]:
        """Frames up to and including the first whose event is one of `events`."""
        out: list[Frame] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.next(max(0.01, deadline - loop.time()))
            if frame is None:
                raise AssertionError(f"stream ended before {events}; got {[f.event for f in out]}")
            if skip_heartbeats and frame.event == "heartbeat":
                continue
            out.append(frame)
            if frame.event in events:
                return out
