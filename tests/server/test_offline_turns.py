"""Full turns of the real offline agent through the server: SSE order, permission grant/deny, `!` commands."""

from __future__ import annotations

import asyncio

from tests.server.sse import SSEReader


async def _turn(c, sse, sid: str, text: str, answer: str | None, **body) -> list:
    """Send `text` (async task), answer the permission with `answer` ("grant"/"deny"/None), return all frames."""
    send = asyncio.create_task(c.post(f"/api/sessions/{sid}/messages", json={"text": text, **body}))
    frames = []
    if answer is not None:
        frames += await sse.until("permission", "complete", "error")
        assert frames[-1].event == "permission", [f.event for f in frames]
        await c.post(f"/api/permissions/{frames[-1].data['id']}/{answer}")
    frames += await sse.until("complete", "error")
    reply = await send
    assert reply.status_code == 200, reply.text
    return frames


async def test_offline_write_granted_then_denied(mix_server):
    sid = mix_server.create_session()["id"]
    folder = mix_server.settings.storage_dir / sid
    async with mix_server.async_client() as c, SSEReader(c, sid) as sse:
        await sse.next()
        frames = await _turn(c, sse, sid, "create a file hello.txt containing hello world", "grant")
        events = [f.event for f in frames]
        perm_at = events.index("permission")
        assert events[perm_at - 1] == "tool_execution_start"
        assert events[perm_at + 1] == "tool_execution_complete" and frames[perm_at + 1].data["success"] is True
        assert events[-1] == "complete"
        assert frames[perm_at].data["toolName"].lower() == "write"
        assert (folder / "hello.txt").read_text().startswith("hello world")

        frames = await _turn(c, sse, sid, "create a file other.txt containing nope", "deny")
        events = [f.event for f in frames]
        done = frames[events.index("tool_execution_complete")]
        assert done.data["success"] is False and "permission denied" in done.data["progress"]
        assert events[-1] == "complete"
        assert not (folder / "other.txt").exists()
        decisions = [d["decision"] for d in mix_server.app.state.store.permission_decisions(sid)]
        assert decisions == ["granted", "denied"]
        roles = [m["role"] for m in (await c.get(f"/api/sessions/{sid}/messages")).json()]
        assert roles[0] == "user" and "tool" in roles and roles[-1] == "assistant"


async def test_shell_passthrough_allowed_and_denied(mix_server):
    sid = mix_server.create_session()["id"]
    async with mix_server.async_client() as c, SSEReader(c, sid) as sse:
        await sse.next()
        frames = await _turn(c, sse, sid, "!echo passthrough-ok", "grant")
        assert frames[-1].event == "complete" and "passthrough-ok" in frames[-1].data["content"]
        assert frames[0].data["params"]["command"] == "echo passthrough-ok"
        frames = await _turn(c, sse, sid, "!touch denied.txt", "deny")
        assert frames[-1].data["content"].startswith("Error: permission denied")
        assert not (mix_server.settings.storage_dir / sid / "denied.txt").exists()


async def test_plan_mode_reaches_the_agent(mix_server):
    sid = mix_server.create_session()["id"]
    async with mix_server.async_client() as c, SSEReader(c, sid) as sse:
        await sse.next()
        frames = await _turn(c, sse, sid, "!echo hi", None, plan_mode=True)
        assert [f.event for f in frames] == ["complete"] and "plan mode" in frames[0].data["content"]
        # the seed key with plan_mode beside it works too
        r = await c.post(f"/api/sessions/{sid}/messages", json={"content": "!echo hi", "plan_mode": True})
        assert "plan mode" in r.json()["assistantResponse"]
        assert "plan mode" in (await sse.until("complete"))[-1].data["content"]


async def test_plain_answer_streams_thinking_then_content(mix_server):
    sid = mix_server.create_session()["id"]
    async with mix_server.async_client() as c, SSEReader(c, sid) as sse:
        await sse.next()
        frames = await _turn(c, sse, sid, "hello there", None)
        events = [f.event for f in frames]
        assert events[0] == "thinking" and "content" in events and events[-1] == "complete"
        assert events.index("content") > max(i for i, e in enumerate(events) if e == "thinking")
        text = "".join(f.data["content"] for f in frames if f.event == "content")
        assert frames[-1].data["content"] and frames[-1].data["content"] in text


async def test_cancel_the_offline_agent_mid_answer(tmp_path):
    import sqlite3

    from tests.fixtures.mix_server import async_running_server

    async with async_running_server(tmp_path, agent_delay=0.02) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            send = asyncio.create_task(c.post(f"/api/sessions/{sid}/messages", json={"text": "hello, what can you do?"}))
            await sse.until("content")
            await c.post(f"/api/sessions/{sid}/cancel")
            frames = await sse.until("error", "complete")
            assert frames[-1].event == "error" and frames[-1].data == {"error": "request cancelled by user"}
            assert (await send).status_code == 500
            db = sqlite3.connect(server.settings.db_path)
            rows = db.execute("SELECT role, finish_reason FROM messages ORDER BY position").fetchall()
            db.close()
            assert rows[0] == ("user", "") and rows[-1] == ("assistant", "canceled")
            # the session goes on: the next turn completes
            r = await c.post(f"/api/sessions/{sid}/messages", json={"text": "/status"})
            assert r.status_code == 200
