"""The SSE stream: framing, ids, retry, heartbeats, fan-out, session events, max age."""

from __future__ import annotations

import asyncio
import uuid

import httpx

from tests.fixtures.mix_server import async_running_server
from tests.server.agents import ChattyAgent, EchoAgent
from tests.server.sse import SSEReader


async def test_connected_first_with_id_and_retry(mix_server):
    sid = mix_server.create_session()["id"]
    async with mix_server.async_client() as c, SSEReader(c, sid) as sse:
        assert sse.response.status_code == 200
        assert sse.response.headers["content-type"].startswith("text/event-stream")
        assert sse.response.headers["cache-control"] == "no-cache"
        assert "access-control-allow-origin" not in sse.response.headers
        frame = await sse.next()
        assert (frame.id, frame.event, frame.data, frame.retry) == (1, "connected", {"sessionId": sid}, 30000)


async def test_missing_session_id_is_400_and_unknown_is_404(mix_server):
    async with mix_server.async_client() as c:
        r = await c.get("/stream")
        assert r.status_code == 400 and r.json()["error"]["type"] == "validation_error"
        missing = str(uuid.uuid4())
        r = await c.get("/stream", params={"sessionId": missing})  # both specs: 404 (Go: one error event)
        assert r.status_code == 404 and r.json()["error"]["message"] == f"Session with ID '{missing}' not found"


async def test_heartbeat_every_interval(tmp_path):
    async with async_running_server(tmp_path, heartbeat=0.05) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            assert (await sse.next()).event == "connected"
            beats = [await sse.next(1), await sse.next(1)]
            assert [(f.id, f.event, f.data, f.retry) for f in beats] == [
                (2, "heartbeat", {"type": "ping"}, 45000), (3, "heartbeat", {"type": "ping"}, 45000)]


async def test_max_age_ends_the_stream(tmp_path):
    async with async_running_server(tmp_path, stream_max_age=0.1) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            assert (await sse.next()).event == "connected"
            assert await sse.next(2) is None


async def test_two_clients_see_every_event_with_their_own_ids(tmp_path):
    async with async_running_server(tmp_path, agent_factory=EchoAgent) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as one:
            await one.next()
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "warm up"})
            await one.until("complete")
            async with SSEReader(c, sid) as two:
                await two.next()
                r = await c.post(f"/api/sessions/{sid}/messages", json={"content": "hello"})
                assert r.status_code == 200
                a, b = await one.until("complete"), await two.until("complete")
                assert [(f.event, f.data) for f in a] == [(f.event, f.data) for f in b]
                assert [f.event for f in a] == ["thinking", "content", "content", "content", "complete"]
                assert [f.id for f in b] == [2, 3, 4, 5, 6]
                assert a[0].id == 7  # the first connection's counter continued from its earlier turn
                assert a[-1].data["content"] == "You said: hello" and a[-1].data["messageId"] == r.json()["id"]


async def test_session_created_and_deleted_reach_all_connections(tmp_path):
    async with async_running_server(tmp_path, protocol="latest") as server:  # the seed spec has neither event
        await _created_and_deleted_reach(server)


async def _created_and_deleted_reach(mix_server):
    watched = mix_server.create_session("watched")["id"]
    async with mix_server.async_client() as c, SSEReader(c, watched) as sse:
        await sse.next()
        created = (await c.post("/api/sessions", json={"title": "new one", **mix_server.session_body_extra})).json()
        frame = (await sse.until("session_created"))[-1]
        assert frame.data["sessionId"] == created["id"] and frame.data["title"] == "new one"
        assert isinstance(frame.data["createdAt"], int)
        await c.delete(f"/api/sessions/{created['id']}")
        frame = (await sse.until("session_deleted"))[-1]
        assert frame.data == {"type": "session_deleted", "sessionId": created["id"]}


async def test_deleting_the_watched_session_ends_its_stream(mix_server):
    sid = mix_server.create_session()["id"]
    async with mix_server.async_client() as c, SSEReader(c, sid) as sse:
        await sse.next()
        await c.delete(f"/api/sessions/{sid}")
        assert await sse.next(2) is None  # no session_deleted first: the seed spec has no such event


async def test_three_thousand_deltas_arrive_in_order(tmp_path):
    async with async_running_server(tmp_path, agent_factory=ChattyAgent) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "go"})
            frames = await sse.until("complete", timeout=10)
            deltas = [f.data["content"] for f in frames if f.event == "content"]
            assert deltas == [f"w{i} " for i in range(3000)]
            assert [f.id for f in frames] == list(range(2, 3003))


async def test_token_needed_on_stream(tmp_path):
    async with async_running_server(tmp_path, token="s3cret") as server:
        sid = server.create_session()["id"]
        async with httpx.AsyncClient(base_url=server.url) as bare:
            r = await bare.get("/stream", params={"sessionId": sid})
            assert r.status_code == 401 and r.json()["error"]["type"] == "unauthorized"
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            assert (await sse.next()).event == "connected"


async def test_server_stop_ends_open_streams(tmp_path):
    async with async_running_server(tmp_path) as server:
        sid = server.create_session()["id"]
        c = server.async_client()
        sse = SSEReader(c, sid)
        await sse.__aenter__()
        await sse.next()
    # leaving the context stopped the server; the stream must have ended rather than hung
    assert await asyncio.wait_for(sse._frame(), 3) is None
    await sse.__aexit__(None, None, None)
    await c.aclose()
