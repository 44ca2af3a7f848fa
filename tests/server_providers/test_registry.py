"""Which providers are configured, where their keys and URLs come from, model choice, prices."""

from __future__ import annotations

import os
import stat

import pytest

from tests.fakes import openai_server as fo
from tui.config import Config, Secrets
from tui.server.providers.base import Usage
from tui.server.providers.models import OFFLINE
from tui.server.providers.pricing import cost_of
from tui.server.providers.registry import ProviderRegistry
from tui.server.providers.router import Choice, choose, pick_default


def registry(tmp_path, env=None, config=None) -> ProviderRegistry:
    env = dict(env or {})
    return ProviderRegistry(Secrets(tmp_path / "secrets.json", env=env), config or Config(), env=env)


def test_nothing_configured_means_offline_only(tmp_path):
    reg = registry(tmp_path)
    assert reg.available() == [OFFLINE]
    assert pick_default(reg) is None
    assert reg.status("anthropic").available is False and reg.status("anthropic").source == ""


def test_env_key_wins_over_the_file(tmp_path):
    reg = registry(tmp_path, env={"ANTHROPIC_API_KEY": "sk-ant-from-env-xxxxxxxxxxxxxxxx"})
    reg.secrets.set("anthropic", "sk-ant-from-file-xxxxxxxxxxxxxxx")
    reg.secrets.set("openai", "sk-from-file-xxxxxxxxxxxxxxxxxxxx")
    assert stat.S_IMODE(os.stat(tmp_path / "secrets.json").st_mode) == 0o600
    assert reg.key("anthropic") == "sk-ant-from-env-xxxxxxxxxxxxxxxx"
    assert reg.status("anthropic").source == "env" and reg.status("openai").source == "file"
    assert reg.available() == [OFFLINE, "anthropic", "openai"]
    assert pick_default(reg) == "anthropic"


def test_base_urls_from_env_and_config(tmp_path):
    reg = registry(tmp_path, env={"MIX_TUI_ANTHROPIC_BASE_URL": "http://127.0.0.1:9/"},
                   config=Config(ollama_base_url="http://localhost:11434"))
    assert reg.base_url("anthropic") == "http://127.0.0.1:9"
    assert reg.base_url("openai") == "https://api.openai.com/v1"
    assert reg.base_url("ollama") == "http://localhost:11434/v1"  # Ollama's address, chat API under /v1
    assert reg.is_available("ollama") and reg.status("ollama").source == "config"
    assert reg.build("anthropic").base_url == "http://127.0.0.1:9"
    assert reg.build("anthropic") is reg.build("anthropic")  # cached per key and URL


async def test_ollama_models_come_from_the_server(tmp_path):
    with fo.running_fake_openai(api_key="", models=["qwen3:8b"]) as fake:
        reg = registry(tmp_path, env={"MIX_TUI_OLLAMA_BASE_URL": fake.base_url})
        assert await reg.models("ollama") == ["qwen3:8b"]
        chosen = await choose(reg, {"preferred_provider": "ollama", "main_agent_model": "offline-1"})
        assert chosen == Choice("ollama", "qwen3:8b")
        await reg.aclose()


async def test_choice_follows_preferences_and_falls_back(tmp_path):
    reg = registry(tmp_path, env={"OPENAI_API_KEY": "sk-xxxxxxxxxxxxxxxxxxxxxxxx"})
    chosen = await choose(reg, {"preferred_provider": "openai", "main_agent_model": "o3"})
    assert (chosen.provider, chosen.model) == ("openai", "o3")
    chosen = await choose(reg, {"preferred_provider": "openai", "main_agent_model": "offline-1"})
    assert (chosen.provider, chosen.model) == ("openai", "gpt-4.1")  # not an OpenAI model: its default
    chosen = await choose(reg, {"preferred_provider": "anthropic", "main_agent_model": "claude-sonnet-4-5"})
    assert chosen.provider == OFFLINE and "not configured" in chosen.note
    assert (await choose(reg, None)).provider == OFFLINE


async def test_validation_learns_the_models(tmp_path):
    with fo.running_fake_openai(models=["gpt-4.1", "gpt-4.1-2025-04-14", "dall-e-3"]) as fake:
        reg = registry(tmp_path, env={"MIX_TUI_OPENAI_BASE_URL": fake.base_url})
        result = await reg.validate("openai", fo.API_KEY)
        assert result.ok and result.checked_online
        assert "gpt-4.1-2025-04-14" in reg.cached_models("openai") and "dall-e-3" not in reg.cached_models("openai")
        assert reg.known_model("openai", "gpt-4.1-2025-04-14")


def test_costs():
    cost, known = cost_of("anthropic", "claude-sonnet-4-5", Usage(1_000_000, 100_000, cache_read_tokens=1_000_000))
    assert known and cost == pytest.approx(3.0 + 1.5 + 0.3)
    cost, known = cost_of("openai", "gpt-4.1-mini", Usage(1_000_000, 1_000_000))
    assert known and cost == pytest.approx(0.4 + 1.6)
    assert cost_of("openrouter", "openai/gpt-4.1", Usage(10, 10, cost=0.5)) == (0.5, True)
    assert cost_of("openrouter", "openai/gpt-4.1", Usage(1_000_000, 0)) == (pytest.approx(2.0), True)
    assert cost_of("ollama", "qwen3:8b", Usage(999, 999)) == (0.0, True)
    assert cost_of("openai", "some-new-model", Usage(999, 999)) == (0.0, False)
