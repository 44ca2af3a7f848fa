"""The hub on its own: framing, batching of queued events, dropping stale connections."""

from __future__ import annotations

import asyncio

from tui.server import hub as hub_module
from tui.server.hub import Hub


async def test_queued_events_are_written_as_one_chunk_in_order():
    hub = Hub(heartbeat=10)
    conn = hub.register("s")
    stream = hub.stream(conn)
    assert await stream.__anext__() == 'id: 1\nevent: connected\ndata: {"sessionId":"s"}\nretry: 30000\n\n'
    for i in range(5):
        hub.publish("s", "content", {"type": "content", "content": f"c{i}<&>"})
    hub.publish("s", "error", {"error": "x"})
    chunk = await asyncio.wait_for(stream.__anext__(), 1)
    frames = chunk.split("\n\n")[:-1]
    assert len(frames) == 6
    assert frames[0] == 'id: 2\nevent: content\ndata: {"type":"content","content":"c0<&>"}\nretry: 30000'
    assert frames[-1] == 'id: 7\nevent: error\ndata: {"error":"x"}\nretry: 750'
    hub.close_all()
    assert [c async for c in stream] == []
    assert hub.listeners("s") == 0


async def test_a_connection_that_stops_reading_is_dropped(monkeypatch):
    monkeypatch.setattr(hub_module, "MAX_BACKLOG", 10)
    hub = Hub()
    reader = hub.register("s")
    idle = hub.register("s")  # its stream never starts, as when a client vanishes before the first byte
    stream = hub.stream(reader)
    await stream.__anext__()
    for i in range(20):
        hub.publish("s", "content", {"content": str(i)})
        if i % 5 == 0:
            await stream.__anext__()
    assert idle.closed and hub.listeners("s") == 1
    hub.publish_all("session_deleted", {"sessionId": "s"})
    assert hub.listeners("s") == 1
