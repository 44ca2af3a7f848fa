from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _no_provider_keys_from_the_environment(monkeypatch):
    """The offline agent answers; tests must not depend on the developer's keys."""
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(var, raising=False)
