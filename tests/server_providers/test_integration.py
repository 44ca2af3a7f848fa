"""The embedded server's own agent choice, credentials and preferences with real providers (fakes)."""

from __future__ import annotations

import socket

import pytest

from tests.fakes import anthropic_server as fa
from tests.fakes import openai_server as fo
from tests.fixtures.mix_server import running_server
from tui.config import Config
from tui.server.providers.models import KEY_HELP


@pytest.fixture
def anthropic_fake(monkeypatch):
    with fa.running_fake_anthropic() as fake:
        monkeypatch.setenv("MIX_TUI_ANTHROPIC_BASE_URL", fake.base_url)
        yield fake


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send(c, sid: str, text: str) -> dict:
    r = c.post(f"/api/sessions/{sid}/messages", json={"text": text})
    assert r.status_code in (200, 500), r.text
    return r.json()


def test_nothing_configured_the_offline_answer_says_how_to_add_a_key(tmp_path):
    with running_server(tmp_path) as server, server.client() as c:
        sid = server.create_session()["id"]
        answer = send(c, sid, "hello there")["assistantResponse"]
        assert "offline agent" in answer and KEY_HELP in answer
        assert c.get("/api/preferences").json()["preferences"]["preferred_provider"] == "offline"


def test_env_key_is_used_from_the_first_start(tmp_path, anthropic_fake, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", fa.API_KEY)
    anthropic_fake.script(fa.Reply.say("Hi from Claude (fake)."))
    with running_server(tmp_path) as server, server.client() as c:
        prefs = c.get("/api/preferences").json()["preferences"]
        assert prefs["preferred_provider"] == "anthropic" and prefs["main_agent_model"] == "claude-4-sonnet"
        sid = server.create_session()["id"]
        assert send(c, sid, "hi")["assistantResponse"] == "Hi from Claude (fake)."
        session = c.get(f"/api/sessions/{sid}").json()
        assert session["promptTokens"] == 120 and session["completionTokens"] == 30 and session["cost"] > 0
        row = server.app.state.store.get_session(sid)
        assert (row.provider, row.model) == ("anthropic", "claude-4-sonnet")
        status = c.get("/api/auth/status").json()["providers"]["anthropic"]
        assert status["authenticated"] is True and status["display_name"] == "Anthropic ⭐"
    assert anthropic_fake.requests[0].headers["x-api-key"] == fa.API_KEY
    assert anthropic_fake.requests[0].body["model"] == "claude-sonnet-4-0"  # Mix's name, sent as the API's id


def test_key_added_through_the_api_is_checked_chosen_used_and_removed(tmp_path, anthropic_fake):
    anthropic_fake.script(fa.Reply.say("Answer from the fake."))
    with running_server(tmp_path) as server, server.client() as c:
        secrets_file = server.settings.data_dir / "secrets.json"
        r = c.post("/api/auth/api-key", json={"provider": "anthropic", "api_key": "sk-ant-api03-refused-refused-refused"})
        assert r.status_code == 400 and r.json()["error"]["reason"] == "INVALID_API_KEY"
        assert "refused" in r.json()["error"]["message"] and not secrets_file.exists()
        r = c.post("/api/auth/api-key", json={"provider": "anthropic", "api_key": fa.API_KEY})
        assert r.status_code == 200 and r.json()["status"] == "success"
        assert r.json()["message"] == "anthropic API key stored: Anthropic accepted it" and fa.API_KEY not in r.text
        status = c.get("/api/auth/status").json()["providers"]["anthropic"]
        assert status == {"authenticated": True, "auth_method": "api_key", "display_name": "Anthropic"}
        providers = c.get("/api/preferences/providers").json()
        assert set(fa.MODELS) <= set(providers["anthropic"]["models"])  # what the key may use, learned
        sid = server.create_session()["id"]
        # available now, but the preferences still say offline: the offline agent says how to switch
        assert "Anthropic can be used: choose one of its models" in send(c, sid, "hello")["assistantResponse"]
        r = c.post("/api/preferences", json={"preferred_provider": "anthropic", "main_agent_model": "claude-haiku-4-5"})
        assert r.status_code == 200, r.text
        assert send(c, sid, "hi")["assistantResponse"] == "Answer from the fake."
        assert c.get("/api/auth/status").json()["providers"]["anthropic"]["display_name"] == "Anthropic ⭐"
        r = c.delete("/api/auth/anthropic")
        assert r.status_code == 200 and "new messages use the offline agent" in r.json()["message"]
        assert not c.get("/api/auth/status").json()["providers"]["anthropic"]["authenticated"]
        assert c.get("/api/preferences").json()["preferences"]["preferred_provider"] == "offline"
        assert KEY_HELP in send(c, sid, "hello")["assistantResponse"]
    assert len(anthropic_fake.requests) == 1 and anthropic_fake.requests[0].body["model"] == "claude-haiku-4-5"


def test_key_is_stored_with_a_format_check_when_the_provider_is_unreachable(tmp_path, monkeypatch):
    monkeypatch.setenv("MIX_TUI_OPENAI_BASE_URL", f"http://127.0.0.1:{closed_port()}/v1")
    with running_server(tmp_path) as server, server.client() as c:
        r = c.post("/api/auth/api-key", json={"provider": "openai", "api_key": "sk-proj-" + "k" * 40})
        assert r.status_code == 200
        assert r.json()["message"].startswith("openai API key stored, but only its format was checked")
        assert "could not reach OpenAI" in r.json()["message"]
        assert c.get("/api/auth/status").json()["providers"]["openai"]["authenticated"] is True


def test_ollama_from_the_config_file(tmp_path):
    with fo.running_fake_openai(api_key="", models=["qwen3:8b"]) as fake:
        fake.script(fo.Reply.say("Local answer."))
        with running_server(tmp_path, config=Config(ollama_base_url=fake.base_url)) as server, server.client() as c:
            status = c.get("/api/auth/status").json()["providers"]
            assert status["ollama"]["authenticated"] is True
            assert c.get("/api/preferences/providers").json()["ollama"]["models"] == ["qwen3:8b"]
            r = c.post("/api/preferences", json={"preferred_provider": "ollama"})
            assert r.status_code == 200 and r.json()["main_agent_model"] == "qwen3:8b"
            sid = server.create_session()["id"]
            assert send(c, sid, "hi")["assistantResponse"] == "Local answer."
            session = c.get(f"/api/sessions/{sid}").json()
            assert session["promptTokens"] == 200 and session["cost"] == 0
        assert "authorization" not in fake.requests[0].headers


def test_preferences_only_accept_configured_providers_and_their_models(tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proj-" + "q" * 40)
    with running_server(tmp_path) as server, server.client() as c:
        r = c.post("/api/preferences", json={"preferred_provider": "openai", "main_agent_model": "o3"})
        assert r.status_code == 200 and (r.json()["preferred_provider"], r.json()["main_agent_model"]) == ("openai", "o3")
        r = c.post("/api/preferences", json={"preferred_provider": "openai", "main_agent_model": "claude-sonnet-4-5"})
        assert r.status_code == 400 and r.json()["error"]["reason"] == "INVALID_MODEL"
        r = c.post("/api/preferences", json={"preferred_provider": "ollama"})
        assert r.status_code == 400 and "not configured" in r.json()["error"]["message"]
        r = c.post("/api/preferences", json={"preferred_provider": "offline"})
        assert r.status_code == 200 and r.json()["main_agent_model"] == "offline-1"


async def test_default_server_runs_the_models_tool_calls_with_permission(tmp_path, monkeypatch):
    from tests.fixtures.mix_server import async_running_server
    from tests.server.sse import SSEReader

    with fo.running_fake_openai() as fake:
        monkeypatch.setenv("OPENAI_API_KEY", fo.API_KEY)
        monkeypatch.setenv("MIX_TUI_OPENAI_BASE_URL", fake.base_url)
        fake.script(fo.Reply.call("write", {"file_path": "src/hello.py", "content": "print('hi')\n"}),
                    fo.Reply.say("Wrote src/hello.py."))
        async with async_running_server(tmp_path, send_mode="async") as server:
            sid = server.create_session()["id"]
            async with server.async_client() as c, SSEReader(c, sid) as sse:
                await sse.next()
                await c.post(f"/api/sessions/{sid}/messages", json={"text": "write hello.py"})
                permission = (await sse.until("permission"))[-1].data
                assert permission["toolName"] == "write" and "src/hello.py" in permission["description"]
                await c.post(f"/api/permissions/{permission['id']}/grant")
                done = (await sse.until("complete", "error"))[-1]
                assert done.event == "complete" and done.data["content"] == "Wrote src/hello.py."
                tools = [t["provider"] for t in (await c.get("/api/tools/status")).json()["categories"]["agent"]["tools"]]
            assert (server.settings.storage_dir / sid / "src" / "hello.py").read_text() == "print('hi')\n"
            assert server.app.state.store.get_session(sid).model == "gpt-4.1"
        assert "write" in tools and "bash" in tools
        assert "Created src/hello.py" in fake.requests[1].tool_messages()[0]["content"]
