"""Health, commands, MCP, tools, auth keys, OAuth refusal, preferences."""

from __future__ import annotations

import os
import stat
import uuid

from tests.fixtures.mix_server import running_server
from tui.config import Config, McpServerConfig

ANTHROPIC_KEY = "sk-ant-api03-" + "a" * 40
OPENAI_KEY = "sk-proj-" + "b" * 40
OPENROUTER_KEY = "sk-or-v1-" + "c" * 40


def test_health(mix_server):
    with mix_server.client() as c:
        body = c.get("/health").json()
        assert body["status"] == "ok" and body["version"] == "0.1.0"
        assert body["services"] == {"backend": "healthy", "database": "connected"}
        assert c.post("/health").status_code == 405


def test_commands(mix_server):
    with mix_server.client() as c:
        listed = c.get("/api/commands").json()
        names = [x["name"] for x in listed]
        assert names == sorted(names)
        assert {"help", "clear", "session", "sessions", "tools", "mcp", "context", "status", "login", "logout"} == set(names)
        assert all(x["type"] == "builtin" and x["description"] for x in listed)
        assert c.get("/api/commands/help").json()["usage"] == "/help"
        r = c.get("/api/commands/nope")
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"


def test_mcp_reports_configured_servers_honestly(tmp_path):
    config = Config(mcp_servers=[McpServerConfig(name="files", command="mcp-files", args=["--root", "."]),
                                 McpServerConfig(name="empty")])
    with running_server(tmp_path, config=config) as server, server.client() as c:
        assert c.get("/api/mcp").json() == [
            {"name": "files", "connected": False, "status": "not started"},
            {"name": "empty", "connected": False, "status": "failed"},
        ]
        sid = server.create_session()["id"]
        import json
        content = json.loads(c.post(f"/api/sessions/{sid}/messages", json={"content": "/mcp"}).json()["assistantResponse"])
        assert content["servers"][0]["command"] == "mcp-files --root ." and content["servers"][0]["tools"] == []
    with running_server(tmp_path / "none") as server, server.client() as c:
        assert c.get("/api/mcp").json() == []


def test_tools_status_lists_the_agent_tools(mix_server):
    with mix_server.client() as c:
        categories = c.get("/api/tools/status").json()["categories"]
        agent_tools = {t["provider"]: t for t in categories["agent"]["tools"]}
        assert {"read", "write", "bash"} <= set(agent_tools)
        assert agent_tools["write"]["requires_permission"] is True and agent_tools["read"]["requires_permission"] is False
        assert {t["provider"] for t in categories["llm"]["tools"]} == {"offline", "anthropic", "openai", "openrouter"}


def test_api_keys_store_validate_status_delete(mix_server):
    secrets_file = mix_server.settings.data_dir / "secrets.json"
    with mix_server.client() as c:
        status = c.get("/api/auth/status").json()["providers"]
        assert status["offline"] == {"authenticated": True, "auth_method": "none", "display_name": "Offline agent ⭐"}
        assert status["anthropic"]["authenticated"] is False
        for body, kind in (({"api_key": "x"}, "MISSING_PROVIDER"), ({"provider": "anthropic"}, "MISSING_API_KEY"),
                           ({"provider": "gemini", "api_key": "k"}, "INVALID_PROVIDER"),
                           ({"provider": "anthropic", "api_key": "sk-wrong"}, "INVALID_API_KEY_FORMAT"),
                           ({"provider": "openai", "api_key": ANTHROPIC_KEY}, "INVALID_API_KEY_FORMAT"),
                           ({"provider": "openai", "api_key": OPENROUTER_KEY}, "INVALID_API_KEY_FORMAT")):
            r = c.post("/api/auth/api-key", json=body)
            assert r.status_code == 400 and r.json()["error"]["reason"] == kind, body
        r = c.post("/api/auth/api-key", content=b"{", headers={"content-type": "application/json"})
        assert r.json()["error"]["reason"] == "INVALID_JSON"
        assert not secrets_file.exists()
        for provider, key in (("anthropic", ANTHROPIC_KEY), ("openai", OPENAI_KEY), ("openrouter", OPENROUTER_KEY)):
            r = c.post("/api/auth/api-key", json={"provider": provider, "api_key": key})
            assert r.status_code == 200 and r.json()["status"] == "success" and key not in r.text
        assert stat.S_IMODE(os.stat(secrets_file).st_mode) == 0o600
        status = c.get("/api/auth/status").json()["providers"]
        assert status["anthropic"] == {"authenticated": True, "auth_method": "api_key", "display_name": "Anthropic"}
        r = c.delete("/api/auth/anthropic")
        assert r.status_code == 200 and r.json()["provider"] == "anthropic"
        assert c.get("/api/auth/status").json()["providers"]["anthropic"]["authenticated"] is False
        assert c.delete("/api/auth/nope").json()["error"]["reason"] == "INVALID_PROVIDER"
        validate = c.get("/api/auth/validate").json()
        assert validate == {"valid": True, "provider": "offline", "auth_method": "none", "message": "offline is ready"}


def test_oauth_is_refused_clearly(mix_server):
    with mix_server.client() as c:
        for r in (c.post("/api/auth/oauth/anthropic"),
                  c.post("/api/auth/oauth-callback", json={"provider": "anthropic", "code": "c", "state": "s"})):
            assert r.status_code == 400
            assert r.json()["error"]["reason"] == "OAUTH_NOT_SUPPORTED"
            assert "not available in the offline server" in r.json()["error"]["message"]


def test_preferences(mix_server):
    with mix_server.client() as c:
        body = c.get("/api/preferences").json()
        prefs = body["preferences"]
        assert prefs["preferred_provider"] == "offline" and prefs["main_agent_model"] == "offline-1"
        assert body["available_providers"]["offline"] == {"display_name": "Offline agent", "models": ["offline-1"]}
        assert c.get("/api/preferences/providers").json() == body["available_providers"]
        r = c.post("/api/preferences", json={"main_agent_max_tokens": 2000, "main_agent_reasoning_effort": "high", "junk": 1})
        assert r.status_code == 200 and r.json()["main_agent_max_tokens"] == 2000
        assert isinstance(r.json()["updated_at"], int)
        for body, kind in (({"preferred_provider": "nope"}, "INVALID_PROVIDER"), ({"main_agent_model": "gpt-99"}, "INVALID_MODEL"),
                           ({"sub_agent_max_tokens": 0}, "INVALID_TOKEN_COUNT"),
                           ({"main_agent_reasoning_effort": "extreme"}, "INVALID_REASONING_EFFORT")):
            r = c.post("/api/preferences", json=body)
            assert r.status_code == 400 and r.json()["error"]["reason"] == kind, body
        assert c.post("/api/preferences", content=b"[", headers={"content-type": "application/json"}).status_code == 400
        assert c.get("/api/preferences").json()["preferences"]["main_agent_max_tokens"] == 2000
        reset = c.post("/api/preferences/reset").json()
        assert reset["main_agent_max_tokens"] == 4096 and reset["preferred_provider"] == "offline"


def test_unknown_paths_and_methods(mix_server):
    with mix_server.client() as c:
        assert c.get("/api/nothing").status_code == 404
        assert c.put(f"/api/sessions/{uuid.uuid4()}").status_code == 405
