from __future__ import annotations

from pathlib import Path

import pytest

from tests.server_agent.context import RecordingContext


@pytest.fixture
def session_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "storage" / "3f2c9a1e-7b4d-4e2a-9c1f-5d8e6a0b7c12"
    folder.mkdir(parents=True)
    return folder


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the session folder holding a secret no tool may reach."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "secret.txt").write_text("top secret\n")
    return folder


@pytest.fixture
def ctx(session_dir: Path) -> RecordingContext:
    return RecordingContext(session_dir)


@pytest.fixture(autouse=True)
def _seed_protocol(monkeypatch):
    """These tests pin the seed-era wire (synchronous send, `tool` snapshots); tests/conformance drives latest."""
    from tests.fixtures import mix_server as fixture_module

    monkeypatch.setattr(fixture_module, "DEFAULT_PROTOCOL", "seed")
