"""Connection life of `MixClient.stream`: a dropped or silent connection is replaced, the state is
announced with ConnectionChanged, and after each reconnect the messages are fetched again."""

from __future__ import annotations

import asyncio
import socket

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.api.mix.loopback import read_until, serve
from tui.api import events as ev
from tui.api.errors import AuthRequired, ConnectionFailed
from tui.api.mix import MixClient, ReconnectPolicy
from tui.api.turn import ToolStatus

SID = "11111111-2222-4333-8444-555555555555"
FAST = ReconnectPolicy(base=0.02, cap=0.05, jitter=0.5)

HISTORY = [
    {"id": "u1", "sessionId": SID, "role": "user", "userInput": "list files"},
    {"id": "a1", "sessionId": SID, "role": "assistant", "userInput": "Looking.", "assistantResponse": "Looking.",
     "toolCalls": [{"id": "t1", "name": "bash", "input": "{\"command\":\"ls\"}", "type": "tool_use", "finished": True}]},
    {"id": "r1", "sessionId": SID, "role": "tool", "userInput": "", "assistantResponse": "",
     "toolCalls": [{"id": "t1", "name": "bash", "input": "", "type": "tool_result", "finished": True, "result": "a.txt", "isError": False}]},
    {"id": "a2", "sessionId": SID, "role": "assistant", "userInput": "One file.", "assistantResponse": "One file."},
]


def frame(n: int, name: str, data: str) -> bytes:
    return f"id: {n}\nevent: {name}\ndata: {data}\nretry: 30000\n\n".encode()


def stream_app(first_connection) -> tuple[Starlette, dict]:
    state = {"connections": 0, "message_fetches": 0}

    async def stream(request: Request) -> Response:
        state["connections"] += 1
        number = state["connections"]

        async def body():
            yield frame(1, "connected", f'{{"sessionId":"{SID}"}}')
            if number == 1:
                async for piece in first_connection():
                    yield piece
            else:
                while True:  # later connections stay open quietly, with heartbeats
                    await asyncio.sleep(0.05)
                    yield frame(2, "heartbeat", '{"type":"ping"}')

        return StreamingResponse(body(), media_type="text/event-stream")

    async def messages(request: Request) -> Response:
        state["message_fetches"] += 1
        return JSONResponse(HISTORY)

    app = Starlette(routes=[Route("/stream", stream), Route("/api/sessions/{id}/messages", messages)])
    return app, state


async def collect_until_resynced(client: MixClient, **kw) -> list[ev.Event]:
    return await read_until(client.stream(SID, reconnect=FAST, **kw), ev.Resynced)


def assert_reconnected_and_resynced(seen: list[ev.Event], state: dict, reason_part: str) -> None:
    changes = [e for e in seen if isinstance(e, ev.ConnectionChanged)]
    assert changes[0].state == "connected"
    assert changes[1].state == "reconnecting" and changes[1].attempt == 1
    assert 0 < changes[1].delay <= FAST.cap
    assert reason_part in changes[1].reason
    assert changes[2].state == "connected"
    assert [type(e).__name__ for e in seen[-3:]] == ["ConnectionChanged", "Connected", "Resynced"]
    assert state["connections"] == 2 and state["message_fetches"] == 1
    resynced = seen[-1]
    assert resynced.session_id == SID and resynced.error == ""
    messages = resynced.messages
    assert [(m.id, m.role, m.text, m.index) for m in messages] == [
        ("u1", "user", "list files", 0), ("a1", "assistant", "Looking.", 1), ("a2", "assistant", "One file.", 3),
    ]
    call = messages[1].tool_calls[0]  # the tool message's result merged into the assistant's call
    assert (call.id, call.result, call.is_error, call.status, call.params) == ("t1", "a.txt", False, ToolStatus.DONE, {"command": "ls"})


async def test_dropped_connection_mid_turn_reconnects_and_refetches():
    async def first():
        yield frame(2, "content", '{"type":"content","content":"Half an"}')
        await asyncio.sleep(0.05)
        yield frame(3, "content", '{"type":"content","content":" answer"}')
        raise RuntimeError("connection torn down mid-turn")  # uvicorn aborts the chunked body

    app, state = stream_app(first)
    with serve(app) as url:
        async with MixClient(url, timeout=5) as client:
            seen = await collect_until_resynced(client, heartbeat=5)
    assert [e.content for e in seen if isinstance(e, ev.ContentDelta)] == ["Half an", " answer"]
    assert_reconnected_and_resynced(seen, state, "dropped")


async def test_server_closing_the_stream_reconnects_and_refetches():
    async def first():
        yield frame(2, "content", '{"type":"content","content":"bye"}')

    app, state = stream_app(first)
    with serve(app) as url:
        async with MixClient(url, timeout=5) as client:
            seen = await collect_until_resynced(client, heartbeat=5)
    assert_reconnected_and_resynced(seen, state, "closed")


async def test_silent_connection_trips_the_watchdog():
    async def first():
        yield frame(2, "content", '{"type":"content","content":"then nothing"}')
        await asyncio.sleep(30)  # no bytes, not even heartbeats
        yield b""

    app, state = stream_app(first)
    with serve(app) as url:
        async with MixClient(url, timeout=5) as client:
            loop = asyncio.get_running_loop()
            t0 = loop.time()
            seen = await collect_until_resynced(client, heartbeat=0.1)  # watchdog: 0.2 s
            assert loop.time() - t0 < 5
    assert_reconnected_and_resynced(seen, state, "no data from the server for 0.2 s")


async def test_heartbeats_keep_a_quiet_connection_alive():
    async def first():
        for n in range(8):
            await asyncio.sleep(0.05)
            yield frame(2 + n, "heartbeat", '{"type":"ping"}')
        yield frame(20, "complete", '{"type":"complete","content":"ok","done":true}')

    app, state = stream_app(first)
    with serve(app) as url:
        async with MixClient(url, timeout=5) as client:
            seen = await read_until(client.stream(SID, heartbeat=0.1, reconnect=FAST), ev.Complete)
    assert not [e for e in seen if isinstance(e, ev.ConnectionChanged) and e.state != "connected"]
    assert state["connections"] == 1


async def test_a_slow_consumer_is_not_mistaken_for_a_silent_server():
    """The watchdog only times the wait for bytes, never the time the caller holds an event."""
    async def first():
        yield frame(2, "content", '{"type":"content","content":"a"}')
        yield frame(3, "complete", '{"type":"complete","content":"a","done":true}')

    app, state = stream_app(first)
    with serve(app) as url:
        async with MixClient(url, timeout=5) as client:
            stream = client.stream(SID, heartbeat=0.03, reconnect=FAST)
            # each event held far longer than the 0.06 s watchdog
            seen = await read_until(stream, ev.Complete, each=lambda _: asyncio.sleep(0.15), timeout=None)
            names = [type(event).__name__ for event in seen]
    assert names == ["ConnectionChanged", "Connected", "ContentDelta", "Complete"]
    assert state["connections"] == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_unreachable_server_goes_offline_then_gives_up_with_a_human_message():
    url = f"http://127.0.0.1:{_closed_port()}"
    policy = ReconnectPolicy(base=0.01, cap=0.02, offline_after=2, max_attempts=3)
    seen = []
    async with MixClient(url, timeout=2) as client:
        with pytest.raises(ConnectionFailed) as info:
            async for event in client.stream(SID, reconnect=policy):
                seen.append(event)
    assert [(e.state, e.attempt) for e in seen] == [("reconnecting", 1), ("offline", 2), ("offline", 3), ("offline", 4)]
    assert f"Mix server at {url} refused the connection" in seen[0].reason
    assert url in str(info.value)


async def test_wrong_token_is_not_retried():
    async def stream(request: Request) -> Response:
        return JSONResponse({"error": {"code": 401, "message": "Missing or invalid bearer token", "type": "unauthorized"}}, status_code=401)

    with serve(Starlette(routes=[Route("/stream", stream)])) as url:
        async with MixClient(url, token="wrong") as client:
            with pytest.raises(AuthRequired) as info:
                async for _ in client.stream(SID, reconnect=FAST):
                    pass
    assert "Missing or invalid bearer token" in str(info.value)
    assert info.value.status == 401


async def test_unknown_session_ends_the_stream_without_retrying():
    async def stream(request: Request) -> Response:
        sid = request.query_params["sessionId"]
        body = f'id: 1\nevent: error\ndata: {{"error":"Invalid session ID: {sid}"}}\nretry: 750\n\n'
        return Response(body, media_type="text/event-stream")

    with serve(Starlette(routes=[Route("/stream", stream)])) as url:
        async with MixClient(url) as client:
            seen = [e async for e in client.stream("nope", reconnect=FAST)]
    assert seen[0].state == "connected" and "not on the server" in seen[0].reason  # reachable, just no such session
    assert seen[1] == ev.Error("Invalid session ID: nope")
    assert len(seen) == 2


def test_backoff_grows_with_jitter_and_is_capped():
    policy = ReconnectPolicy()  # 0.5 s base, 30 s cap, half jitter
    assert [policy.delay(n, rng=lambda: 0.0) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]
    assert policy.delay(20, rng=lambda: 0.0) == 30.0
    assert policy.delay(20, rng=lambda: 1.0) == 15.0
    assert policy.delay(3, rng=lambda: 0.5) == 1.5
