from __future__ import annotations

import socket

import pytest

PROVIDERS = ("ANTHROPIC", "OPENAI", "OPENROUTER")


def dead_url() -> str:
    """A loopback URL where nothing listens: a key check there fails at once, offline."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


@pytest.fixture(autouse=True)
def _providers_never_reach_the_internet(monkeypatch):
    """Keys come from each test, and the server's key checks go to loopback (a fake or nothing)."""
    for name in PROVIDERS:
        monkeypatch.delenv(f"{name}_API_KEY", raising=False)
        monkeypatch.setenv(f"MIX_TUI_{name}_BASE_URL", dead_url())
    monkeypatch.delenv("MIX_TUI_OLLAMA_BASE_URL", raising=False)
