"""Sessions, fork, rename, history over loopback HTTP."""

from __future__ import annotations

import json
import uuid

from tests.fixtures.mix_server import running_server
from tests.server.agents import EchoAgent, WriterAgent

SESSION_KEYS = {"id", "title", "userMessageCount", "assistantMessageCount", "toolCallCount", "promptTokens",
                "completionTokens", "cost", "createdAt"}


def test_create_get_list_newest_first(mix_server):
    with mix_server.client() as c:
        r = c.post("/api/sessions", json={"title": "first"})
        assert r.status_code == 201
        first = r.json()
        assert SESSION_KEYS <= set(first) and first["title"] == "first" and uuid.UUID(first["id"])
        second = c.post("/api/sessions", json={"title": "second", "workingDirectory": "/tmp/x"}).json()
        assert second["workingDirectory"] == "/tmp/x"
        listed = c.get("/api/sessions").json()
        assert [s["id"] for s in listed] == [second["id"], first["id"]]
        assert c.get(f"/api/sessions/{first['id']}").json()["title"] == "first"


def test_create_validation(mix_server):
    with mix_server.client() as c:
        for body in ({}, {"title": ""}, {"title": "  "}, {"title": 3}):
            r = c.post("/api/sessions", json=body)
            assert r.status_code == 400, body
            assert r.json()["error"]["type"] == "validation_error"
        r = c.post("/api/sessions", json={"title": "x", "browserMode": True})
        assert r.status_code == 400
        assert r.json()["error"]["message"] == "Validation error for field 'body': json: unknown field \"browserMode\""
        r = c.post("/api/sessions", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 400 and r.json()["error"]["code"] == 400
        assert c.get("/api/sessions").json() == []


def test_unknown_session_404(mix_server):
    with mix_server.client() as c:
        missing = str(uuid.uuid4())
        for method, path in (("GET", f"/api/sessions/{missing}"), ("DELETE", f"/api/sessions/{missing}"),
                             ("GET", f"/api/sessions/{missing}/messages"), ("PATCH", f"/api/sessions/{missing}")):
            r = c.request(method, path, json={"title": "t"} if method == "PATCH" else None)
            assert r.status_code == 404, path
            assert r.json()["error"] == {"code": 404, "message": f"Session with ID '{missing}' not found", "type": "not_found"}


def test_rename(mix_server):
    sid = mix_server.create_session("old")["id"]
    with mix_server.client() as c:
        r = c.patch(f"/api/sessions/{sid}", json={"title": "new name"})
        assert r.status_code == 200 and r.json()["title"] == "new name"
        assert c.get(f"/api/sessions/{sid}").json()["title"] == "new name"
        assert c.patch(f"/api/sessions/{sid}", json={"title": ""}).status_code == 400
        assert c.patch(f"/api/sessions/{sid}", json={"title": "a", "x": 1}).status_code == 400


def test_delete_removes_messages_and_folder(tmp_path):
    with running_server(tmp_path, agent_factory=EchoAgent) as server, server.client() as c:
        sid = server.create_session()["id"]
        assert c.post(f"/api/sessions/{sid}/messages", json={"content": "hi"}).status_code == 200
        c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("a.txt", b"x")})
        folder = server.settings.storage_dir / sid
        assert folder.is_dir()
        assert c.delete(f"/api/sessions/{sid}").status_code == 204
        assert not folder.exists()
        assert c.get(f"/api/sessions/{sid}").status_code == 404
        assert c.get("/api/messages/history").json() == []


def _conversation(c, sid: str) -> None:
    # WriterAgent stores assistant(tool call) + tool(result) + assistant(answer); no permission
    # answer arrives in time, so the turn is denied quickly via the short timeout.
    assert c.post(f"/api/sessions/{sid}/messages", json={"content": "one"}).status_code == 200


def test_fork_counts_messages_and_keeps_tool_results(tmp_path):
    with running_server(tmp_path, agent_factory=WriterAgent, permission_timeout=0.05) as server, server.client() as c:
        sid = server.create_session("source")["id"]
        _conversation(c, sid)
        roles = [m["role"] for m in c.get(f"/api/sessions/{sid}/messages").json()]
        assert roles == ["user", "assistant", "tool", "assistant"]

        r = c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": 1, "title": "fork one"})
        assert r.status_code == 201
        fork = r.json()
        assert fork["title"] == "fork one" and fork["id"] != sid and fork["parentSessionId"] == sid
        assert [m["role"] for m in c.get(f"/api/sessions/{fork['id']}/messages").json()] == ["user"]

        # index 2 ends on the assistant's tool call: its tool result comes along (N+1 messages)
        fork2 = c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": 2}).json()
        copied = c.get(f"/api/sessions/{fork2['id']}/messages").json()
        assert fork2["title"] == "Forked Session"
        assert [m["role"] for m in copied] == ["user", "assistant", "tool"]
        assert copied[1]["toolCalls"][0]["name"] == "write"
        original_ids = {m["id"] for m in c.get(f"/api/sessions/{sid}/messages").json()}
        assert not original_ids & {m["id"] for m in copied}

        empty = c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": 0}).json()
        assert c.get(f"/api/sessions/{empty['id']}/messages").json() == []
        everything = c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": 99}).json()
        assert everything["userMessageCount"] == 1 and everything["assistantMessageCount"] == 2


def test_fork_errors(mix_server):
    sid = mix_server.create_session()["id"]
    with mix_server.client() as c:
        assert c.post(f"/api/sessions/{sid}/fork", json={}).status_code == 400
        assert c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": -1}).status_code == 400
        assert c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": "2"}).status_code == 400
        assert c.post(f"/api/sessions/{sid}/fork", json={"messageIndex": 1, "extra": 1}).status_code == 400
        r = c.post(f"/api/sessions/{uuid.uuid4()}/fork", json={"messageIndex": 1})
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"


def test_history_newest_first_with_fallbacks(tmp_path):
    with running_server(tmp_path, agent_factory=EchoAgent) as server, server.client() as c:
        a = server.create_session("a")["id"]
        b = server.create_session("b")["id"]
        for sid, text in ((a, "one"), (b, "two"), (a, "three")):
            assert c.post(f"/api/sessions/{sid}/messages", json={"content": text}).status_code == 200
        history = c.get("/api/messages/history").json()
        assert [m["userInput"] for m in history] == ["three", "two", "one"]
        assert all(m["role"] == "user" for m in history)
        assert [m["userInput"] for m in c.get("/api/messages/history?limit=1&offset=1").json()] == ["two"]
        # unparsable / out-of-range values fall back to the defaults (50, 0)
        assert len(c.get("/api/messages/history?limit=abc&offset=-4").json()) == 3
        assert len(c.get("/api/messages/history?limit=0").json()) == 3


def test_first_user_message_is_parts_json(tmp_path):
    with running_server(tmp_path, agent_factory=EchoAgent) as server, server.client() as c:
        sid = server.create_session()["id"]
        c.post(f"/api/sessions/{sid}/messages", json={"content": "hello there"})
        listed = c.get("/api/sessions").json()[0]
        assert json.loads(listed["firstUserMessage"]) == [{"type": "text", "data": {"text": "hello there"}}]
        assert listed["userMessageCount"] == 1 and listed["assistantMessageCount"] == 1
        assert "firstUserMessage" not in c.get(f"/api/sessions/{sid}").json()
