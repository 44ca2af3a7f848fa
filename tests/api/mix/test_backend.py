"""MixBackend: the ChatBackend the UI uses, against the embedded server (and two loopback servers
for what it cannot do: a send failing after the accept window, and a seed server mirroring nothing)."""

from __future__ import annotations

import asyncio
import functools
import json
import socket
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.api.mix.loopback import serve
from tests.fixtures.mix_server import async_running_server
from tests.support.listener import Listener as SharedListener
from tui.api import events as ev
from tui.api.errors import ConnectionFailed, NotFound
from tui.api.mix import MixBackend, MixClient, ReconnectPolicy
from tui.api.turn import ToolStatus, TurnModel, TurnStatus

TOKEN = "launch-token"


# Folds every event into `listener.turn`, as the transcript would.
Listener = functools.partial(SharedListener, fold=True)


async def connected(listener: SharedListener) -> SharedListener:
    await asyncio.wait_for(listener.connected.wait(), 5)
    return listener


async def listening(backend: MixBackend, title: str) -> tuple[Any, SharedListener]:
    """A new conversation and a listener already connected to its events."""
    conv = await backend.create_conversation(title)
    return conv, await connected(Listener(backend, conv.id))


@pytest.fixture
async def server(tmp_path):
    async with async_running_server(tmp_path / "srv", token=TOKEN, agent_delay=0.002) as srv:
        yield srv


@pytest.fixture
async def backend(server):
    b = MixBackend(server.url, token=TOKEN, accept_window=0.05)
    yield b
    await b.close()


async def test_identity_and_capabilities(backend, server):
    assert backend.name == "mix" and backend.base_url == server.url
    caps = backend.capabilities
    assert all([caps.fork, caps.files, caps.permissions, caps.cancel, caps.thinking, caps.tools, caps.plan_mode,
                caps.slash_commands, caps.continuity])
    assert await backend.current_model() == "offline-1"


async def test_conversations(backend):
    conv = await backend.create_conversation("First")
    assert conv.backend == "mix" and conv.title == "First"
    await backend.rename_conversation(conv.id, "Renamed")
    listed = await backend.list_conversations()
    assert [(c.id, c.title) for c in listed] == [(conv.id, "Renamed")]
    await backend.delete_conversation(conv.id)
    assert await backend.list_conversations() == []
    with pytest.raises(NotFound):
        await backend.delete_conversation(conv.id)
    with pytest.raises(NotFound):
        await backend.rename_conversation(conv.id, "gone")  # a missing session is not "cannot rename"


async def test_local_titles_override(server):
    backend = MixBackend(server.url, token=TOKEN, local_titles=lambda: {})
    conv = await backend.create_conversation("Server title")
    backend._local_titles = lambda: {conv.id: "My title"}
    assert [c.title for c in await backend.list_conversations()] == ["My title"]
    await backend.close()


async def test_send_streams_a_turn_and_returns_before_it_ends(backend):
    conv, listener = await listening(backend, "Chat")
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await backend.send(conv.id, "hello there")
    assert loop.time() - t0 < 1.0
    await listener.wait(lambda: listener.turn.status.finished)
    turn = listener.turn
    assert turn.status is TurnStatus.COMPLETE
    assert "offline agent" in turn.final_text
    assert turn.thinking
    assert isinstance(listener.events[0], ev.ConnectionChanged) and listener.events[0].state == "connected"
    page = await backend.load_messages(conv.id)
    assert [m.role for m in page.messages] == ["user", "assistant"]
    assert page.messages[1].text == turn.final_text
    await listener.stop()


async def test_permission_grant_through_the_backend(backend):
    conv, listener = await listening(backend, "Tools")
    await backend.send(conv.id, "run `echo granted-output`")
    await listener.wait(lambda: listener.turn.pending_permissions)
    request = listener.turn.pending_permissions[0].request
    assert request.tool_name.lower() == "bash" and "echo granted-output" in json.dumps(request.params)
    listener.turn.answer_permission(request.id, True)
    await backend.answer_permission(request.id, True)
    await listener.wait(lambda: listener.turn.status.finished)
    tool = listener.turn.tool_calls[0]
    assert tool.status is ToolStatus.DONE and tool.permission.answer is True
    assert listener.turn.status is TurnStatus.COMPLETE
    history = (await backend.load_messages(conv.id)).messages
    calls = [c for m in history for c in m.tool_calls]
    assert calls and "granted-output" in (calls[0].result or "")
    await listener.stop()


async def test_deny_and_cancel(backend):
    conv, listener = await listening(backend, "Deny")
    await backend.send(conv.id, "run `echo nope`")
    await listener.wait(lambda: listener.turn.pending_permissions)
    await backend.answer_permission(listener.turn.pending_permissions[0].request.id, False)
    await listener.wait(lambda: listener.turn.status.finished)
    assert listener.turn.tool_calls[0].status is ToolStatus.FAILED

    listener.turn = TurnModel()
    await backend.send(conv.id, "run `sleep 5`")
    await listener.wait(lambda: listener.turn.pending_permissions)
    request_id = listener.turn.pending_permissions[0].request.id
    listener.turn.answer_permission(request_id, True)  # what the UI records before telling the server
    await backend.answer_permission(request_id, True)
    await listener.wait(lambda: any(t.status is ToolStatus.RUNNING for t in listener.turn.tool_calls))
    await backend.cancel(conv.id)
    await listener.wait(lambda: listener.turn.status.finished)
    assert listener.turn.status is TurnStatus.CANCELLED
    await listener.stop()


async def test_paging_and_fork(tmp_path):
    async with async_running_server(tmp_path / "seed", token=TOKEN, protocol="seed") as seed:
        backend = MixBackend(seed.url, token=TOKEN, accept_window=0.05)
        try:
            await _paging_and_fork(backend)
        finally:
            await backend.close()


async def _paging_and_fork(backend):
    conv = await backend.create_conversation("Pages")
    for n in range(3):
        await backend.client.send_message(conv.id, f"message {n}")  # seed: returns after each turn
    last = await backend.load_messages(conv.id, limit=2)
    assert (last.start, last.total, last.has_older) == (4, 6, True)
    assert [m.index for m in last.messages] == [4, 5]
    older = await backend.load_messages(conv.id, before=last.start, limit=3)
    assert (older.start, [m.index for m in older.messages]) == (1, [1, 2, 3])
    first = await backend.load_messages(conv.id, before=1, limit=50)
    assert first.start == 0 and not first.has_older and first.messages[0].text == "message 0"
    forked = await backend.fork(conv.id, 2, title="Branch")
    assert forked.title == "Branch"
    assert [m.text for m in (await backend.load_messages(forked.id)).messages][0] == "message 0"
    assert (await backend.load_messages(forked.id)).total == 2


async def test_send_errors_within_the_window_are_raised(server):
    # A generous window: the point is that an early refusal is raised, however loaded the machine.
    backend = MixBackend(server.url, token=TOKEN, accept_window=10.0)
    try:
        with pytest.raises(NotFound):
            await backend.send("00000000-0000-4000-8000-000000000000", "hi")
    finally:
        await backend.close()


def late_failure_app(*, fail: bool) -> Starlette:
    """A seed-like server: the send answers after the turn (late); the stream mirrors nothing."""

    async def stream(request: Request) -> Response:
        async def body():
            yield b'id: 1\nevent: connected\ndata: {"sessionId":"s"}\nretry: 30000\n\n'
            await asyncio.sleep(30)

        return StreamingResponse(body(), media_type="text/event-stream")

    async def send(request: Request) -> Response:
        await asyncio.sleep(0.3)
        if fail:
            return JSONResponse({"error": {"code": 500, "message": "Internal error during agent run: boom", "type": "internal_error"}},
                                status_code=500)
        return JSONResponse({"id": "m9", "sessionId": "", "role": "user", "userInput": "hi", "assistantResponse": "All done.",
                             "reasoning": "r", "reasoningDuration": 1000})

    return Starlette(routes=[Route("/stream", stream), Route("/api/sessions/{id}/messages", send, methods=["POST"])])


async def test_a_late_send_failure_arrives_as_an_error_event():
    with serve(late_failure_app(fail=True)) as url:
        backend = MixBackend(MixClient(url), accept_window=0.05)
        listener = await connected(Listener(backend, "s"))
        await backend.send("s", "hi")  # returns after the window; the failure comes later
        await listener.wait(lambda: listener.turn.status.finished)
        assert listener.turn.status is TurnStatus.ERROR
        assert listener.turn.error.type == "send_failed"
        assert "Internal error during agent run: boom" in listener.turn.error.error
        await listener.stop()
        await backend.close()


async def test_a_seed_server_that_mirrors_nothing_still_completes_the_turn():
    with serve(late_failure_app(fail=False)) as url:
        backend = MixBackend(MixClient(url), accept_window=0.05, complete_grace=0.1)
        listener = await connected(Listener(backend, "s"))
        await backend.send("s", "hi")
        await listener.wait(lambda: listener.turn.status.finished)
        turn = listener.turn
        assert turn.status is TurnStatus.COMPLETE and turn.final_text == "All done." and turn.message_id == "m9"
        assert turn.blocks[0].duration == 1.0
        await listener.stop()
        await backend.close()


async def test_events_end_with_the_error_when_the_server_is_gone_for_good():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    backend = MixBackend(MixClient(url, reconnect=ReconnectPolicy(base=0.01, cap=0.01, max_attempts=2)))
    seen = []
    with pytest.raises(ConnectionFailed):
        async for event in backend.events("s"):
            seen.append(event)
    assert [e.state for e in seen] == ["reconnecting", "reconnecting", "offline"]
    assert backend._subscribers == {}
    await backend.close()


async def test_paging_counts_stored_messages_with_tool_results_folded_in():
    from tests.api.mix.test_reconnect import HISTORY, SID

    async def messages(request: Request) -> Response:
        return JSONResponse(HISTORY)  # user, assistant with a call, its tool-result message, assistant

    with serve(Starlette(routes=[Route("/api/sessions/{id}/messages", messages)])) as url:
        backend = MixBackend(MixClient(url))
        newest = await backend.load_messages(SID, limit=1)
        assert ([m.id for m in newest.messages], newest.start, newest.total, newest.has_older) == (["a2"], 3, 4, True)
        middle = await backend.load_messages(SID, before=newest.start, limit=1)
        assert ([m.id for m in middle.messages], middle.start) == (["a1"], 1)
        assert middle.messages[0].tool_calls[0].result == "a.txt"
        oldest = await backend.load_messages(SID, before=middle.start, limit=5)
        assert ([m.id for m in oldest.messages], oldest.start, oldest.has_older) == (["u1"], 0, False)
        everything = await backend.load_messages(SID)
        assert [m.index for m in everything.messages] == [0, 1, 3] and everything.start == 0
        await backend.close()
