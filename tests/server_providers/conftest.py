from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_provider_settings_from_the_environment(monkeypatch):
    """Keys and base URLs come from each test, never from the developer's shell."""
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "MIX_TUI_ANTHROPIC_BASE_URL",
                "MIX_TUI_OPENAI_BASE_URL", "MIX_TUI_OPENROUTER_BASE_URL", "MIX_TUI_OLLAMA_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture(autouse=True)
def _seed_protocol(monkeypatch):
    """These tests pin the seed-era wire (synchronous send, `tool` snapshots); tests/conformance drives latest."""
    from tests.fixtures import mix_server as fixture_module

    monkeypatch.setattr(fixture_module, "DEFAULT_PROTOCOL", "seed")
