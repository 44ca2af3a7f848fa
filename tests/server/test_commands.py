"""Slash commands over REST and SSE: one `complete` with structured JSON content per command."""

from __future__ import annotations

import json

from tests.fixtures.mix_server import async_running_server, running_server
from tests.server.agents import EchoAgent
from tests.server.sse import SSEReader


def _run(c, sid: str, text: str) -> dict:
    r = c.post(f"/api/sessions/{sid}/messages", json={"text": text})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"].startswith("cmd-") and body["role"] == "assistant" and body["userInput"] == text
    return json.loads(body["assistantResponse"])


def test_each_command_has_its_shape(tmp_path):
    with running_server(tmp_path, agent_factory=EchoAgent) as server, server.client() as c:
        parent = server.create_session("parent")["id"]
        c.post(f"/api/sessions/{parent}/messages", json={"content": "hello " * 50})
        sid = c.post(f"/api/sessions/{parent}/fork", json={"messageIndex": 2, "title": "child"}).json()["id"]

        help_ = _run(c, sid, "/help")
        assert help_["type"] == "help" and {"name": "logout", "description": "Remove a provider's stored key",
                                            "usage": "/logout <provider>"} in help_["commands"]
        assert _run(c, sid, "/clear") == {"type": "clear", "sessionId": sid,
                                          "message": "Start a new session to begin with an empty context."}
        session = _run(c, sid, "/session")["session"]
        assert session["id"] == sid and session["parentSessionId"] == parent and session["messageCount"] == 2
        assert {"promptTokens", "completionTokens", "cost", "userMessageCount", "fileCount"} <= set(session)
        sessions = _run(c, sid, "/sessions")
        assert sessions["currentSessionId"] == sid
        assert [(s["title"], s["current"]) for s in sessions["sessions"]] == [("child", True), ("parent", False)]
        tools = _run(c, sid, "/tools")["tools"]
        assert {t["name"]: t["requiresPermission"] for t in tools}["bash"] is True
        context = _run(c, sid, "/context")
        assert context["type"] == "context" and context["limit"] == 32000 and context["level"] == "ok"
        assert 0 < context["used"] < context["limit"] and context["percent"] == round(100 * context["used"] / 32000, 1)
        status = _run(c, sid, "/status")
        assert status["provider"] == "offline" and status["model"] == "offline-1" and status["runningTurn"] is False
        assert _run(c, sid, "/mcp") == {"type": "mcp", "servers": []}
        login = _run(c, sid, "/login")
        assert {p["provider"]: p["authenticated"] for p in login["providers"]} == {
            "offline": True, "anthropic": False, "openai": False, "openrouter": False}
        assert _run(c, sid, "/logout")["loggedOut"] is False
        c.post("/api/auth/api-key", json={"provider": "openai", "api_key": "sk-" + "z" * 40})
        out = _run(c, sid, "/logout openai")
        assert out["loggedOut"] is True and out["provider"] == "openai"
        # commands are not stored as messages
        assert len(c.get(f"/api/sessions/{sid}/messages").json()) == 2


def test_context_warning_levels(tmp_path):
    with running_server(tmp_path, agent_factory=EchoAgent) as server, server.client() as c:
        sid = server.create_session()["id"]
        c.post(f"/api/sessions/{sid}/messages", json={"content": "x" * 50_000})  # ~25k tokens with the echo
        assert _run(c, sid, "/context")["level"] == "warning"
        c.post(f"/api/sessions/{sid}/messages", json={"content": "x" * 20_000})
        ctx = _run(c, sid, "/context")
        assert ctx["level"] == "critical" and ctx["percent"] >= 90


async def test_commands_on_sse_and_unknown_command(tmp_path):
    async with async_running_server(tmp_path) as server:
        sid = server.create_session()["id"]
        async with server.async_client() as c, SSEReader(c, sid) as sse:
            await sse.next()
            await c.post(f"/api/sessions/{sid}/messages", json={"content": "/status"})
            frame = await sse.next()
            assert frame.event == "complete" and frame.data["done"] is True and "messageId" not in frame.data
            assert json.loads(frame.data["content"])["type"] == "status"
            r = await c.post(f"/api/sessions/{sid}/messages", json={"content": "/frobnicate now"})
            assert r.status_code == 404
            assert "Invalid slash command: /frobnicate" in r.json()["error"]["message"]
            assert "help" in r.json()["error"]["message"]
            frame = await sse.next()
            assert (frame.event, frame.data) == ("error", {"error": "Invalid slash command: /frobnicate"})
