"""The SSE hub: who listens to which session, and how events are framed on the wire.

An event is serialised to JSON once in `publish` and queued for every connection of its session.
Each connection's writer drains everything queued since its last write and sends it as a single
chunk, so a burst of 3,000 small deltas costs a handful of socket writes, not 3,000.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import AsyncIterator

from tui.server.protocol import PROTOCOLS, Wire

# PROTOCOL §5.2: retry interval per event kind, in ms
RETRY_MS = {"heartbeat": 45000, "error": 750}
DEFAULT_RETRY_MS = 30000
# A client this far behind has stopped reading; drop it (it resynchronises over REST on reconnect).
MAX_BACKLOG = 50_000

_CLOSE = object()
_fast_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_ascii_dumps = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


def _dumps(data: dict) -> str:
    """Compact JSON that is always valid UTF-8: a lone surrogate anywhere (which would fail the
    stream's encoding and end it for every listener) is written as a JSON escape instead."""
    text = _fast_dumps(data)
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return _ascii_dumps(data)
    return text


def encode(data: dict) -> str:
    return _dumps(data)


class Connection:
    __slots__ = ("session_id", "queue", "next_id", "closed")

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.queue: asyncio.Queue = asyncio.Queue()
        self.next_id = 1
        self.closed = False

    def put(self, event: str, payload: str) -> None:
        if self.closed:
            return
        if self.queue.qsize() > MAX_BACKLOG:
            self.close()
            return
        self.queue.put_nowait((event, payload))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.queue.put_nowait(_CLOSE)

    def frame(self, event: str, payload: str) -> str:
        n = self.next_id
        self.next_id = n + 1
        return f"id: {n}\nevent: {event}\ndata: {payload}\nretry: {RETRY_MS.get(event, DEFAULT_RETRY_MS)}\n\n"


class Hub:
    def __init__(self, heartbeat: float = 45.0, max_age: float | None = None, wire: Wire | None = None) -> None:
        self.heartbeat = heartbeat
        self.max_age = max_age
        self.wire = wire or Wire(PROTOCOLS["latest"])  # what the agents emit -> the protocol's events
        self._by_session: dict[str, set[Connection]] = {}

    # ------------------------------------------------------------ publishing

    def publish(self, session_id: str, event: str, data: dict) -> None:
        conns = self._by_session.get(session_id)
        if not conns:
            return
        stale = None
        for wire_event, wire_data in self.wire.events(event, data):
            payload = _dumps(wire_data)
            for conn in conns:
                conn.put(wire_event, payload)
                if conn.closed:
                    stale = [*(stale or ()), conn]
        for conn in stale or ():
            self.unregister(conn)  # a stream that never started or fell too far behind

    def publish_all(self, event: str, data: dict) -> None:
        for session_id in list(self._by_session):
            self.publish(session_id, event, data)

    def listeners(self, session_id: str) -> int:
        return len(self._by_session.get(session_id, ()))

    def close_all(self) -> None:
        for conns in list(self._by_session.values()):
            for conn in list(conns):
                conn.close()

    def close_session(self, session_id: str) -> None:
        for conn in list(self._by_session.get(session_id, ())):
            conn.close()

    # ------------------------------------------------------------ one connection

    def register(self, session_id: str) -> Connection:
        conn = Connection(session_id)
        self._by_session.setdefault(session_id, set()).add(conn)
        return conn

    def unregister(self, conn: Connection) -> None:
        conn.closed = True
        conns = self._by_session.get(conn.session_id)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del self._by_session[conn.session_id]

    async def stream(self, conn: Connection) -> AsyncIterator[str]:
        """`connected`, then queued events as they come, heartbeats in the quiet gaps."""
        deadline = None if self.max_age is None else time.monotonic() + self.max_age
        try:
            yield conn.frame("connected", _dumps({"sessionId": conn.session_id}))
            queue = conn.queue
            while True:
                timeout = self.heartbeat
                if deadline is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return
                    timeout = min(timeout, left)
                try:
                    item = await asyncio.wait_for(queue.get(), timeout)
                except asyncio.TimeoutError:
                    if deadline is not None and time.monotonic() >= deadline:
                        return
                    yield conn.frame("heartbeat", '{"type":"ping"}')
                    continue
                parts = []
                while True:
                    if item is _CLOSE:
                        if parts:
                            yield "".join(parts)
                        return
                    parts.append(conn.frame(*item))
                    try:
                        item = queue.get_nowait()
                    except asyncio.QueueEmpty:
                        break
                yield "".join(parts)
        finally:
            self.unregister(conn)


def single_event_stream(event: str, data: dict) -> list[str]:
    """A stream that says one thing and ends (unknown session): one frame with id 1."""
    conn = Connection("")
    return [conn.frame(event, _dumps(data))]
