"""Sending messages and running turns: both body shapes, sync/async, permissions, cancel, errors."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid

from tests.fixtures.mix_server import async_running_server, running_server
from tests.server.agents import BrokenAgent, EchoAgent, SilentAgent, SlowAgent, WriterAgent
from tests.server.sse import SSEReader


def test_send_content_and_text_shapes(echo_server):
    sid = echo_server.create_session()["id"]
    with echo_server.client() as c:
        r = c.post(f"/api/sessions/{sid}/messages", json={"content": "seed"})
        assert r.status_code == 200
        body = r.json()
        assert body["role"] == "assistant" and body["sessionId"] == sid
        assert body["userInput"] == "seed" and body["assistantResponse"] == "You said: seed"
        assert body["reasoning"] == "Reading the request." and body["reasoningDuration"] == 500  # ms, as the spec says
        r = c.post(f"/api/sessions/{sid}/messages", json={"text": "later", "plan_mode": True})
        assert r.status_code == 200 and r.json()["assistantResponse"] == "You said: later"
        stored = c.get(f"/api/sessions/{sid}/messages").json()
        assert [(m["role"], m["userInput"]) for m in stored] == [
            ("user", "seed"), ("assistant", "You said: seed"), ("user", "later"), ("assistant", "You said: later")]
        assert stored[1]["model"] == "test-1" and stored[1]["assistantResponse"] == "You said: seed"
        assert "assistantResponse" not in stored[0]


def test_send_validation(echo_server):
    sid = echo_server.create_session()["id"]
    with echo_server.client() as c:
        cases = [
            ({"content": "a", "media": []}, 'json: unknown field "media"'),
            ({"content": "a", "text": "b"}, "not both"),
            ({"content": ""}, "content is required"),
            ({"text": 5}, "text is required"),
            ({}, "content is required"),
            ({"text": "x", "plan_mode": "yes"}, "plan_mode"),
        ]
        for body, fragment in cases:
            r = c.post(f"/api/sessions/{sid}/messages", json=body)
            assert r.status_code == 400, body
            assert r.json()["error"]["type"] == "validation_error" and fragment in r.json()["error"]["message"]
        r = c.post(f"/api/sessions/{uuid.uuid4()}/messages", json={"content": "x"})
        assert r.status_code == 404
        assert c.get(f"/api/sessions/{sid}/messages").json() == []


async def test_async_mode_answers_202_and_streams(tmp_path):
    async with async_running_server(tmp_path, agent_factory=EchoAgent, send_mode="async") as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            r = await c.post(f"/api/sessions/{sid}/messages", json={"text": "hi"})
            assert r.status_code == 202 and r.json() == {"status": "processing", "sessionId": sid}
            assert (await sse.until("complete"))[-1].data["content"] == "You said: hi"


async def test_permission_granted_turn(tmp_path):
    async with async_running_server(tmp_path, agent_factory=WriterAgent, send_mode="async") as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "granted text"})
            before = await sse.until("permission")
            assert [f.event for f in before] == ["tool", "tool", "tool_execution_start", "permission"]
            perm = before[-1].data
            assert perm["sessionId"] == sid and perm["toolName"] == "write" and uuid.UUID(perm["id"])
            assert perm["params"] == {"file_path": "note.txt", "content": "granted text"}
            r = await c.post(f"/api/permissions/{perm['id']}/grant")
            assert r.json() == {"granted": True, "status": "granted", "id": perm["id"],
                                "message": "Permission granted successfully"}
            after = await sse.until("complete")
            assert [f.event for f in after] == ["tool_execution_complete", "tool", "content", "complete"]
            assert after[0].data["success"] is True
            assert (server.settings.storage_dir / sid / "note.txt").read_text() == "granted text"
            decisions = server.app.state.store.permission_decisions(sid)
            assert [(d["id"], d["decision"], d["tool_name"]) for d in decisions] == [(perm["id"], "granted", "write")]


async def test_permission_denied_turn(tmp_path):
    async with async_running_server(tmp_path, agent_factory=WriterAgent, send_mode="async") as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "nope"})
            perm = (await sse.until("permission"))[-1].data
            r = await c.post(f"/api/permissions/{perm['id']}/deny")
            assert r.json() == {"denied": True, "status": "denied", "id": perm["id"],
                                "message": "Permission denied successfully"}
            after = await sse.until("complete")
            assert after[0].event == "tool_execution_complete" and after[0].data["success"] is False
            assert after[-1].data["content"] == "Permission was denied; nothing written."
            assert not (server.settings.storage_dir / sid / "note.txt").exists()
            # a permission is answered once: a second answer is refused (404) and changes nothing
            again = await c.post(f"/api/permissions/{perm['id']}/grant")
            assert again.status_code == 404 and again.json()["error"]["message"].endswith("was already answered")
            assert server.app.state.store.permission_decisions(sid)[0]["decision"] == "denied"


async def test_unanswered_permission_is_denied_after_timeout(tmp_path):
    async with async_running_server(tmp_path, agent_factory=WriterAgent, permission_timeout=0.2) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            r = await c.post(f"/api/sessions/{sid}/messages", json={"content": "wait"})
            assert r.status_code == 200 and r.json()["assistantResponse"] == "Permission was denied; nothing written."
            events = await sse.until("complete")
            assert "permission" in [f.event for f in events]
            assert server.app.state.store.permission_decisions(sid)[0]["decision"] == "timeout"


def test_grant_and_deny_unknown_ids_are_404(mix_server):
    with mix_server.client() as c:  # the spec's 404 (Go answers 200 whatever the id)
        for verb in ("grant", "deny"):
            r = c.post(f"/api/permissions/nope/{verb}")
            assert r.status_code == 404, verb
            assert r.json() == {"error": {"code": 404, "message": "Permission with ID 'nope' not found", "type": "not_found"}}
        sid = mix_server.create_session()["id"]
        assert c.post(f"/api/sessions/{uuid.uuid4()}/cancel").status_code == 404
        assert c.post(f"/api/sessions/{sid}/cancel").json() == {"cancelled": False, "status": "cancelled", "sessionId": sid}


async def test_cancel_mid_turn(tmp_path):
    async with async_running_server(tmp_path, agent_factory=SlowAgent) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            send = asyncio.create_task(c.post(f"/api/sessions/{sid}/messages", json={"content": "long job"}))
            assert (await sse.until("content"))[-1].data["content"] == "Working"
            r = await c.post(f"/api/sessions/{sid}/cancel")
            assert r.json() == {"cancelled": True, "status": "cancelled", "sessionId": sid}
            end = await sse.until("error")
            assert end[-1].data == {"error": "request cancelled by user"} and end[-1].retry == 750
            response = await send
            assert response.status_code == 500 and response.json()["error"]["message"] == "request cancelled by user"
            stored = (await c.get(f"/api/sessions/{sid}/messages")).json()
            assert [(m["role"], m["userInput"]) for m in stored] == [("user", "long job"), ("assistant", "Working")]
            db = sqlite3.connect(server.settings.db_path)
            assert db.execute("SELECT finish_reason FROM messages WHERE role='assistant'").fetchone() == ("canceled",)
            db.close()
            # idle cancel is fine too, and the session takes new turns
            assert (await c.post(f"/api/sessions/{sid}/cancel")).status_code == 200


async def test_broken_and_silent_agents_end_with_error(tmp_path):
    for agent, message in ((BrokenAgent, "failed to process events: tool exploded"),
                           (SilentAgent, "the agent ended the turn without an answer")):
        async with async_running_server(tmp_path / agent.__name__, agent_factory=agent) as server:
            sid = server.create_session()["id"]
            async with server.async_client() as c, SSEReader(c, sid) as sse:
                await sse.next()
                r = await c.post(f"/api/sessions/{sid}/messages", json={"content": "x"})
                assert r.status_code == 500 and r.json()["error"]["type"] == "internal_error"
                assert (await sse.until("error"))[-1].data == {"error": message}


async def test_turns_of_one_session_run_in_order(tmp_path):
    async with async_running_server(tmp_path, agent_factory=EchoAgent) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c:
            replies = await asyncio.gather(*(c.post(f"/api/sessions/{sid}/messages", json={"content": f"m{i}"}) for i in range(4)))
            assert all(r.status_code == 200 for r in replies)
            stored = (await c.get(f"/api/sessions/{sid}/messages")).json()
            # every user message is directly followed by its own answer
            pairs = [(stored[i]["userInput"], stored[i + 1]["userInput"]) for i in range(0, 8, 2)]
            assert all(answer == f"You said: {q}" for q, answer in pairs)


async def test_stream_message_endpoint(tmp_path):
    async with async_running_server(tmp_path, agent_factory=EchoAgent) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            inner = json.dumps({"text": "inner json", "plan_mode": False})
            r = await c.post(f"/stream/{sid}/message", json={"content": inner})
            assert r.json() == {"status": "broadcasted", "sessionId": sid}
            assert (await sse.until("complete"))[-1].data["content"] == "You said: inner json"
            await c.post(f"/stream/{sid}/message", json={"content": "plain text"})
            assert (await sse.until("complete"))[-1].data["content"] == "You said: plain text"
            await c.post(f"/stream/{sid}/message", json={"content": json.dumps({"text": "/help"})})
            help_content = json.loads((await sse.until("complete"))[-1].data["content"])
            assert help_content["type"] == "help"
            r = await c.post(f"/stream/{sid}/message", content=b"nope")
            assert r.status_code == 400 and "Invalid JSON in request body" in r.json()["error"]["message"]
            r = await c.post(f"/stream/{sid}/message", json={"text": "x"})
            assert r.status_code == 400 and "Missing content parameter" in r.json()["error"]["message"]
            r = await c.post(f"/stream/{uuid.uuid4()}/message", json={"content": "x"})
            assert r.status_code == 404


def test_data_survives_restart(tmp_path):
    with running_server(tmp_path, agent_factory=WriterAgent, permission_timeout=0.05) as server, server.client() as c:
        sid = server.create_session("kept")["id"]
        c.post(f"/api/sessions/{sid}/messages", json={"content": "remember me"})
        c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("kept.txt", b"data")})
        c.post("/api/preferences", json={"main_agent_max_tokens": 1234})
        before = c.get(f"/api/sessions/{sid}/messages").json()
    with running_server(tmp_path) as server, server.client() as c:
        assert c.get(f"/api/sessions/{sid}").json()["title"] == "kept"
        assert c.get(f"/api/sessions/{sid}/messages").json() == before
        assert [f["name"] for f in c.get(f"/api/sessions/{sid}/files").json()] == ["kept.txt"]
        assert c.get("/api/preferences").json()["preferences"]["main_agent_max_tokens"] == 1234
        assert server.app.state.store.permission_decisions(sid)[0]["decision"] == "timeout"


async def test_stopping_mid_turn_keeps_the_partial_answer(tmp_path):
    async with async_running_server(tmp_path, agent_factory=SlowAgent, send_mode="async") as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "long"})
            await sse.until("content")
    async with async_running_server(tmp_path) as server, server.async_client() as c:
        stored = (await c.get(f"/api/sessions/{sid}/messages")).json()
        assert [(m["role"], m["userInput"]) for m in stored] == [("user", "long"), ("assistant", "Working")]
