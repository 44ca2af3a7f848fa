"""Providers as people configure and run them: the standard base-URL variables, Ollama's whole
parallel tool calls and its refusal of reasoning for models that do not think, OpenRouter's
reasoning_details on tool turns, and `serve --data-dir D` reading D/config.toml."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fakes import anthropic_server as fa
from tests.fakes import openai_server as fo
from tests.fixtures.mix_server import async_running_server
from tests.server_providers.test_agent_loop import text_of, turn
from tui.config import Config, Secrets
from tui.server.agent.tools import TOOL_SPECS
from tui.server.providers.agent import ProviderAgent
from tui.server.providers.anthropic import request_body as anthropic_body
from tui.server.providers.base import ChatMessage, TextDelta
from tui.server.providers.openai_compat import OLLAMA, OPENROUTER, OpenAICompatProvider
from tui.server.providers.registry import ProviderRegistry, ollama_host_url

REPO = Path(__file__).resolve().parents[2]


def registry(tmp_path, env: dict, config: Config | None = None) -> ProviderRegistry:
    return ProviderRegistry(Secrets(tmp_path / "secrets.json", env=env), config or Config(), env=env)


# ------------------------------------------------------------------------------ base URLs


def test_the_standard_variables_are_read_and_ours_still_win(tmp_path):
    field = {"ANTHROPIC_BASE_URL": "https://gateway.example/anthropic/", "OPENAI_BASE_URL": "https://proxy.example/v1",
             "OPENROUTER_BASE_URL": "https://or-proxy.example/api/v1"}
    reg = registry(tmp_path, field)
    assert reg.base_url("anthropic") == "https://gateway.example/anthropic"
    assert reg.base_url("openai") == "https://proxy.example/v1"
    assert reg.base_url("openrouter") == "https://or-proxy.example/api/v1"
    ours = registry(tmp_path, {**field, "MIX_TUI_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert ours.base_url("openai") == "http://127.0.0.1:9/v1" and ours.base_url("anthropic") == "https://gateway.example/anthropic"
    assert registry(tmp_path, {}).base_url("anthropic") == "https://api.anthropic.com"


@pytest.mark.parametrize("value, url", [
    ("127.0.0.1:11500", "http://127.0.0.1:11500"),
    ("gpu-box", "http://gpu-box:11434"),
    (":9999", "http://127.0.0.1:9999"),
    ("https://ollama.example.com", "https://ollama.example.com:443"),
    ("http://[::1]:11434/", "http://[::1]:11434"),
    ("0.0.0.0", "http://0.0.0.0:11434"),
])
def test_ollama_host_is_read_as_ollama_reads_it(value, url):
    assert ollama_host_url(value) == url


def test_ollama_host_makes_ollama_available_and_config_and_ours_win(tmp_path):
    reg = registry(tmp_path, {"OLLAMA_HOST": "gpu-box:11500"})
    assert reg.is_available("ollama") and reg.base_url("ollama") == "http://gpu-box:11500/v1"
    assert reg.status("ollama").source == "env"
    configured = registry(tmp_path, {"OLLAMA_HOST": "gpu-box"}, Config(ollama_base_url="http://localhost:11434"))
    assert configured.base_url("ollama") == "http://localhost:11434/v1" and configured.status("ollama").source == "config"
    ours = registry(tmp_path, {"OLLAMA_HOST": "gpu-box", "MIX_TUI_OLLAMA_BASE_URL": "http://127.0.0.1:7/v1"},
                    Config(ollama_base_url="http://localhost:11434"))
    assert ours.base_url("ollama") == "http://127.0.0.1:7/v1"
    assert not registry(tmp_path, {}).is_available("ollama")


async def test_a_provider_built_from_anthropic_base_url_talks_to_it(tmp_path):
    with fa.running_fake_anthropic() as fake:
        reg = registry(tmp_path, {"ANTHROPIC_API_KEY": fa.API_KEY, "ANTHROPIC_BASE_URL": fake.base_url})
        fake.script(fa.Reply.say("through the gateway"))
        provider = reg.build("anthropic")
        events = [e async for e in provider.stream([ChatMessage("user", "hi")], model="claude-4-sonnet", tools=[],
                                                   system="", max_tokens=64)]
        await reg.aclose()
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "through the gateway"
    assert len(fake.requests) == 1


# ------------------------------------------------------------------------------ Ollama


async def test_ollama_whole_parallel_calls_at_index_0_stay_two_calls(tmp_path):
    with fo.running_fake_openai(api_key="", models=["qwen3:8b"], style="ollama") as fake:
        fake.script(fo.Reply.calls_of(fo.FunctionCall("ls", {}, id="call_1"),
                                      fo.FunctionCall("read", {"file_path": "a.md"}, id="call_2")),
                    fo.Reply.say("Both done."))
        factory = lambda: ProviderAgent(OpenAICompatProvider(OLLAMA, "", fake.base_url), "qwen3:8b")  # noqa: E731
        _, _, frames, messages, _ = await turn(tmp_path, factory, "look around")
        second = fake.requests[1]
    assert frames[-1].event == "complete" and text_of(frames) == "Both done."
    # both calls ran and both results went back (the fake refuses a call left without its result)
    assert [m["tool_call_id"] for m in second.tool_messages()] == ["call_1", "call_2"]
    calls = next(m for m in second.messages if m.get("tool_calls"))["tool_calls"]
    assert [(c["function"]["name"], json.loads(c["function"]["arguments"])) for c in calls] == [
        ("ls", {}), ("read", {"file_path": "a.md"})]
    assert second.status == 200


async def test_reasoning_goes_only_to_ollama_models_that_think():
    with fo.running_fake_openai(api_key="", models=["qwen3:8b", "llama3.2:latest"], style="ollama",
                                thinking_models=("qwen3:8b",)) as fake:
        # the fake refuses as Ollama does: reasoning for a model without thinking is a 400
        refused = httpx.post(f"{fake.base_url}/chat/completions", json={
            "model": "llama3.2:latest", "stream": True, "messages": [{"role": "user", "content": "hi"}],
            "reasoning_effort": "high"})
        assert refused.status_code == 400 and "does not support thinking" in refused.text
        provider = OpenAICompatProvider(OLLAMA, "", fake.base_url)
        for model in ("llama3.2:latest", "qwen3:8b", "llama3.2:latest"):
            fake.script(fo.Reply.think("hmm", "ok") if model == "qwen3:8b" else fo.Reply.say("ok"))
            events = [e async for e in provider.stream([ChatMessage("user", "hi")], model=model, tools=TOOL_SPECS,
                                                       system="", max_tokens=64, reasoning_effort="high")]
            assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "ok"
        await provider.aclose()
    sent = [r.body.get("reasoning_effort") for r in fake.requests[1:]]
    assert sent == [None, "high", None]
    assert fake.shown == ["llama3.2:latest", "qwen3:8b"]  # asked once per model


def test_anthropic_thinking_only_for_models_that_take_it():
    messages = [ChatMessage("user", "hi")]
    old = anthropic_body(messages, model="claude-3-5-haiku", tools=[], system="", max_tokens=100, reasoning_effort="high")
    new = anthropic_body(messages, model="claude-4-sonnet", tools=[], system="", max_tokens=100, reasoning_effort="high")
    assert "thinking" not in old and old["max_tokens"] == 100
    assert new["thinking"] == {"type": "enabled", "budget_tokens": 24576}


async def test_switching_provider_resets_the_reasoning_effort(tmp_path):
    with fo.running_fake_openai(api_key="", models=["qwen3:8b"], style="ollama") as fake:
        async with async_running_server(tmp_path / "srv", config=Config(ollama_base_url=fake.root_url)) as server:
            async with server.async_client() as c:
                r = await c.post("/api/preferences", json={"main_agent_reasoning_effort": "high"})
                assert r.status_code == 200 and r.json()["main_agent_reasoning_effort"] == "high"
                r = await c.post("/api/preferences", json={"preferred_provider": "ollama", "main_agent_model": "qwen3:8b"})
                assert r.status_code == 200, r.text
                assert r.json()["main_agent_reasoning_effort"] == ""
                r = await c.post("/api/preferences", json={"preferred_provider": "offline", "main_agent_model": "offline-1",
                                                            "main_agent_reasoning_effort": "low"})
                assert r.json()["main_agent_reasoning_effort"] == "low"  # said with the change: kept


# ------------------------------------------------------------------------------ OpenRouter


async def test_openrouter_reasoning_details_go_back_on_the_tool_turn(tmp_path):
    details = [{"type": "reasoning.text", "text": "I should list the folder first.", "format": "anthropic-claude-v1",
                "signature": "EqQBCkgIARABGAIiQL"},
               {"type": "reasoning.encrypted", "data": "gAAAAABopaque==", "format": "openai-responses-v1"}]
    with fo.running_fake_openai(style="openrouter") as fake:
        fake.script(fo.Reply.calls_of(fo.FunctionCall("ls", {}),
                                      reasoning_details=details),
                    fo.Reply.say("Listed."))
        factory = lambda: ProviderAgent(OpenAICompatProvider(OPENROUTER, fo.API_KEY, fake.base_url),  # noqa: E731
                                        "anthropic/claude-sonnet-4", reasoning_effort="medium")
        _, _, frames, _, _ = await turn(tmp_path, factory, "what is here")
    assert frames[-1].event == "complete"
    assert text_of(frames, "thinking") == "I should list the folder first."
    assistant = next(m for m in fake.requests[1].messages if m.get("tool_calls"))
    assert assistant["reasoning_details"] == [{**details[0], "index": 0}, {**details[1], "index": 1}]
    assert "reasoning_details" not in json.dumps(fake.requests[0].messages)


def test_other_openai_compatible_servers_get_no_reasoning_details():
    from tui.server.providers.base import ThinkingPart, ToolCall, ToolOutcome
    from tui.server.providers.openai_compat import OPENAI, request_body

    messages = [ChatMessage("user", "hi"),
                ChatMessage("assistant", "", tool_calls=[ToolCall("c1", "ls", {})],
                            thinking=[ThinkingPart(details=[{"type": "reasoning.text", "text": "x"}])]),
                ChatMessage("tool", results=[ToolOutcome("c1", "ls", "a.md")])]
    assert "reasoning_details" not in request_body(OPENAI, messages, model="gpt-4.1", tools=[], system="",
                                                   max_tokens=5)["messages"][1]
    assert request_body(OPENROUTER, messages, model="x/y", tools=[], system="",
                        max_tokens=5)["messages"][1]["reasoning_details"] == [{"type": "reasoning.text", "text": "x"}]


# ------------------------------------------------------------------------------ serve --data-dir


def test_serve_data_dir_reads_its_config_toml(tmp_path):
    data = tmp_path / "srv"
    data.mkdir()
    with fo.running_fake_openai(api_key="", models=["qwen3:8b"], style="ollama") as fake:
        (data / "config.toml").write_text(f'[ollama]\nbase_url = "{fake.root_url}"\n')
        ready = tmp_path / "ready.json"
        proc = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--port", "0", "--data-dir", str(data),
                                 f"--ready-file={ready}"], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 20
            port = None
            while port is None:
                assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
                try:
                    port = json.loads(ready.read_text())["port"]
                except (FileNotFoundError, ValueError):
                    time.sleep(0.02)  # polling for the ready file, as the launcher does
            providers = httpx.get(f"http://127.0.0.1:{port}/api/preferences/providers", timeout=10).json()
        finally:
            proc.terminate()
            proc.wait(10)
    assert providers["ollama"]["models"] == ["qwen3:8b"]
