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
