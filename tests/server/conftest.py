from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.fixtures.mix_server import RunningServer, mix_server, running_server  # noqa: F401
from tests.server.agents import EchoAgent


@pytest.fixture
def echo_server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(tmp_path / "srv", agent_factory=EchoAgent) as server:
        yield server


@pytest.fixture(autouse=True)
def _seed_protocol(monkeypatch):
    """These tests pin the seed-era wire (synchronous send, `tool` snapshots, /stream/{id}/message);
    the latest spec is driven by tests/conformance."""
    from tests.fixtures import mix_server as fixture_module

    monkeypatch.setattr(fixture_module, "DEFAULT_PROTOCOL", "seed")


@pytest.fixture(autouse=True)
def _no_provider_keys_from_the_environment(monkeypatch):
    """Auth status reads env keys too (tui.config.Secrets); tests must not depend on the developer's."""
    for var in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY"):
        monkeypatch.delenv(var, raising=False)
