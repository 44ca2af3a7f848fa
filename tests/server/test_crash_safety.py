"""Nothing the user saw is lost: the answer is stored as it streams, kept on cancel, closed on a crash."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time

import pytest

from tests.fixtures.mix_server import async_running_server
from tests.server.sse import SSEReader
from tests.support.serve_process import answering, start_serve, stored_after_restart
from tui.server.drafts import FLUSH_INTERVAL


class ForgetfulAgent:
    """Streams thinking, words and a tool call, then waits; stores nothing itself, even when cancelled."""

    async def run_turn(self, ctx, text: str) -> None:
        await ctx.emit("thinking", {"type": "thinking", "content": "Let me think."})
        for word in ("Partial ", "answer ", "so ", "far"):
            await ctx.emit("content", {"type": "content", "content": word})
        await ctx.emit("tool", {"type": "tool", "name": "read", "input": "", "id": "toolu_1", "status": "running"})
        await asyncio.Event().wait()


async def test_the_streaming_answer_is_stored_within_the_flush_interval_and_kept_on_cancel(tmp_path):
    async with async_running_server(tmp_path, agent_factory=ForgetfulAgent, send_mode="async") as server:
        store = server.app.state.store
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "go"})
            await sse.until("tool")
            seen_at = time.monotonic()

            def draft():
                rows = [m for m in store.list_messages(sid, with_streaming=True) if m.role == "assistant"]
                return rows[0] if rows and rows[0].text == "Partial answer so far" and rows[0].tool_calls else None

            while draft() is None:
                assert time.monotonic() - seen_at < FLUSH_INTERVAL + 0.5, "draft not stored in time"
                await asyncio.sleep(0.01)
            row = draft()
            assert row.reasoning == "Let me think." and row.finish_reason == "streaming"
            # a reload mid-turn shows only finished messages (the live stream carries the rest)
            assert [m["role"] for m in (await c.get(f"/api/sessions/{sid}/messages")).json()] == ["user"]

            await c.post(f"/api/sessions/{sid}/cancel")
            await sse.until("error")
            stored = (await c.get(f"/api/sessions/{sid}/messages")).json()
            assert [m["role"] for m in stored] == ["user", "assistant"]
            answer = stored[1]
            assert answer["assistantResponse"] == "Partial answer so far" and answer["reasoning"] == "Let me think."
            assert answer["finishReason"] == "canceled"
            assert answer["toolCalls"][0]["id"] == "toolu_1" and answer["toolCalls"][0]["isError"] is True


def test_a_server_killed_mid_turn_keeps_what_was_seen_and_closes_the_turn(tmp_path):
    data = tmp_path / "data"
    server = start_serve(data, agent_delay=0.02)
    try:
        sid, events = answering(server, "crash")
        killed_at = time.monotonic()
        server.kill()
        events.close()
        seen_early = events.text("content", before=killed_at - FLUSH_INTERVAL - 0.1)
        seen_all = events.text("content")
        thought = events.text("thinking")
        assert seen_early and thought
    finally:
        server.stop()
    stored = stored_after_restart(data, sid)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    answer = stored[1]
    assert answer["finishReason"] == "interrupted"
    text = answer["assistantResponse"]
    assert text.startswith(seen_early), (seen_early[-80:], text[-80:])
    assert text.startswith(seen_all) or seen_all.startswith(text)  # never something the user did not get
    assert answer["reasoning"] == thought
    db = sqlite3.connect(data / "server.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert db.execute("SELECT COUNT(*) FROM messages WHERE finish_reason = 'streaming'").fetchone() == (0,)
    db.close()


def test_a_server_stopped_mid_turn_keeps_the_answer_as_interrupted_not_cancelled(tmp_path):
    """Quitting the app stops its server under a running turn: nobody cancelled it, and a reopened
    session must not say "cancelled by you"."""
    data = tmp_path / "data"
    server = start_serve(data, agent_delay=0.02)
    try:
        sid, events = answering(server, "quit")
        server.stop()  # SIGTERM: a clean shutdown
        events.close()
        seen = events.text("content")
    finally:
        server.stop()
    stored = stored_after_restart(data, sid)
    assert [m["role"] for m in stored] == ["user", "assistant"]
    assert stored[1]["finishReason"] == "interrupted"
    assert stored[1]["assistantResponse"].startswith(seen)  # a clean stop keeps every word that went out


async def test_a_stream_that_joins_mid_turn_first_gets_what_already_streamed(tmp_path):
    from tui.api.mix.stream import decode_event

    async with async_running_server(tmp_path, agent_factory=ForgetfulAgent, send_mode="async") as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c:
            async with SSEReader(c, sid) as first:
                await first.next()
                await c.post(f"/api/sessions/{sid}/messages", json={"content": "go"})
                await first.until("tool_use_start", "tool")
            async with SSEReader(c, sid) as spec_client:  # a client that did not ask gets only the spec's events
                assert (await spec_client.next()).event == "connected"
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(spec_client.until("turn_in_progress"), 0.3)
            async with SSEReader(c, sid, params={"resume": "1"}) as joined:
                assert (await joined.next()).event == "connected"
                frame = await joined.next()
            assert frame.event == "turn_in_progress"
            user = next(m for m in server.app.state.store.list_messages(sid) if m.role == "user")
            assert frame.data["messageId"] == user.id and frame.data["content"] == "go"
            assert frame.data["answer"] == "Partial answer so far" and frame.data["thinking"] == "Let me think."
            live_name = server.app.state.protocol.tool_name("read")  # named as the live events name it
            assert frame.data["tools"] == [{"id": "toolu_1", "name": live_name, "input": ""}]
            event = decode_event("turn_in_progress", json.dumps(frame.data))
            assert event.answer == "Partial answer so far" and [t.id for t in event.tools] == ["toolu_1"]
            await c.post(f"/api/sessions/{sid}/cancel")
            ends_by = time.monotonic() + 5
            while server.app.state.runner.is_running(sid):
                assert time.monotonic() < ends_by, "the cancelled turn did not end"
                await asyncio.sleep(0.01)
            async with SSEReader(c, sid) as after:  # the turn is over: nothing to join
                assert (await after.next()).event == "connected"
                with pytest.raises(asyncio.TimeoutError):
                    await after.next(timeout=0.3)
