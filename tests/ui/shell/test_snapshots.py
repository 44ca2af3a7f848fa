"""Snapshots of the main screens, each reached by driving the real app against the real embedded server.

Update after an intended change with `pytest tests/ui/shell/test_snapshots.py --snapshot-update`
and look at the report before committing.
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.fixtures.mix_server import running_server

from . import states
from .agents import HoldingAgent, RateLimitedAgent
from .helpers import make_app
from .live import cancel_all

SIZE = (100, 30)


@contextlib.contextmanager
def app_on_server(tmp_path, **server_settings):
    with running_server(tmp_path / "server", **server_settings) as server:
        app = make_app(tmp_path / "client", server=server.url)
        states.freeze(app)
        try:
            yield app, server
        finally:
            cancel_all(server)


def test_empty(snap_compare, tmp_path):
    with app_on_server(tmp_path) as (app, _server):
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.empty(pilot, app))


def test_streaming(snap_compare, tmp_path):
    with app_on_server(tmp_path, agent_factory=HoldingAgent) as (app, _server):
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.streaming(pilot, app))


def test_tool_card(snap_compare, tmp_path):
    with app_on_server(tmp_path) as (app, _server):
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.tool_card(pilot, app))


def test_permission_prompt(snap_compare, tmp_path):
    with app_on_server(tmp_path) as (app, _server):
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.permission(pilot, app))


def test_queued_message(snap_compare, tmp_path):
    with app_on_server(tmp_path) as (app, _server):
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.queued(pilot, app))


def test_error(snap_compare, tmp_path):
    with app_on_server(tmp_path, agent_factory=RateLimitedAgent) as (app, _server):
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.error(pilot, app))


def test_wide_characters_in_session_titles(snap_compare, tmp_path):
    """✅ and 🇨🇭 take two cells: each row keeps its age on its own line."""
    with app_on_server(tmp_path) as (app, server):
        for title in ("plain title", "✅ Ship the release notes for Friday", "🇨🇭 Grüße aus Zürich und Bern 🎉🎉", "日本語のタイトルです長い"):
            server.create_session(title)
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.empty(pilot, app))


def test_reconnecting(snap_compare, tmp_path):
    stack = contextlib.ExitStack()
    server = stack.enter_context(running_server(tmp_path / "server"))
    app = make_app(tmp_path / "client", server=server.url)
    states.freeze(app)

    async def stop_server() -> None:
        await asyncio.to_thread(stack.close)

    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.reconnecting(pilot, app, stop_server))
    finally:
        stack.close()


def test_help(snap_compare, tmp_path):
    with app_on_server(tmp_path) as (app, _server):
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.help_screen(pilot, app))


@pytest.mark.parametrize("theme", ["mix-light"])
def test_light_theme(snap_compare, tmp_path, theme):
    with app_on_server(tmp_path) as (app, _server):
        app.theme = theme
        assert snap_compare(app, terminal_size=SIZE, run_before=lambda pilot: states.tool_card(pilot, app))
