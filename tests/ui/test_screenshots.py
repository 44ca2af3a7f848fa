"""Write SVG screenshots of the app's main states into screenshots/ (also `make screenshots`).

Each state is reached by driving the real app against the real embedded server, as the shell's
snapshot tests do; README.md shows screenshots/main.svg.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from tests.fixtures.mix_server import async_running_server, running_server
from tests.ui.shell import states
from tests.ui.shell.agents import HoldingAgent, RateLimitedAgent
from tests.ui.shell.helpers import make_app
from tests.ui.shell.live import cancel_all

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SIZE = (120, 36)

CASES = {
    "main": (states.main, {}),
    "empty": (states.empty, {}),
    "streaming": (states.streaming, {"agent_factory": HoldingAgent}),
    "tool-card": (states.tool_card, {}),
    "permission": (states.permission, {}),
    "error": (states.error, {"agent_factory": RateLimitedAgent}),
    "help": (states.help_screen, {}),
}


@pytest.mark.parametrize("name", list(CASES))
async def test_screenshot(name, tmp_path):
    drive, settings = CASES[name]
    async with async_running_server(tmp_path / "server", **settings) as server:
        app = make_app(tmp_path / "client", server=server.url)
        states.freeze(app)
        async with app.run_test(size=SIZE) as pilot:
            await drive(pilot, app)
            path = Path(app.save_screenshot(f"{name}.svg", path=str(SCREENSHOTS)))
        await asyncio.to_thread(cancel_all, server)
    assert path.exists() and path.stat().st_size > 10_000
    assert "mix-tui" in path.read_text("utf-8")


async def test_screenshot_reconnecting(tmp_path):
    stack = contextlib.ExitStack()
    server = await asyncio.to_thread(stack.enter_context, running_server(tmp_path / "server"))
    app = make_app(tmp_path / "client", server=server.url)
    states.freeze(app)

    async def stop_server() -> None:
        await asyncio.to_thread(stack.close)

    try:
        async with app.run_test(size=SIZE) as pilot:
            await states.reconnecting(pilot, app, stop_server)
            path = Path(app.save_screenshot("reconnecting.svg", path=str(SCREENSHOTS)))
    finally:
        await asyncio.to_thread(stack.close)
    assert "Connection lost" in path.read_text("utf-8").replace("&#160;", " ")
