"""The chat's controllers without Textual: a real embedded Mix server on loopback, the real MixBackend,
a real ClientStore in a temp dir; what the UI would draw is recorded by plain objects."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any, Callable

import pytest

from tests.fixtures.mix_server import async_running_server
from tests.server.agents import EchoAgent, SlowAgent, WriterAgent
from tui.api import events as ev
from tui.api.mix import MixBackend
from tui.controllers.session import SessionController
from tui.controllers.session_list import SessionList
from tui.store import ClientStore


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Display:
    """Stands where the transcript would: keeps what it was asked to draw, in order."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self.pages: list[Any] = []

    def expect_turn(self) -> None:
        self.calls.append(("expect_turn", None))

    def add_user_message(self, text: str) -> None:
        self.calls.append(("user", text))

    def start_turn(self, turn: Any) -> None:
        self.calls.append(("start", turn))

    def finish_turn(self) -> None:
        self.calls.append(("finish", None))

    def show_history(self, page: Any) -> None:
        self.pages.append(page)
        self.calls.append(("history", page))

    def prepend_history(self, page: Any) -> None:
        self.calls.append(("older", page))

    async def draw_live(self) -> None:
        self.calls.append(("draw_live", None))

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class Listener:
    """Stands where the chat screen would: records what a session reports, runs background work as tasks."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, Any]] = []
        self.tasks: list[asyncio.Task] = []
        self.changed = asyncio.Event()

    def _note(self, name: str, value: Any = None) -> None:
        self.reports.append((name, value))
        self.changed.set()

    def names(self) -> list[str]:
        return [name for name, _ in self.reports]

    def stream_connected(self, session) -> None:
        self._note("stream_connected", session.id)

    def connection_changed(self, session, event: ev.ConnectionChanged) -> None:
        self._note("connection_changed", event.state)

    def stream_lost(self, session, reason: str) -> None:
        self._note("stream_lost", reason)

    def connection_lost(self, reason: str) -> None:
        self._note("connection_lost", reason)

    def turn_started(self, session) -> None:
        self._note("turn_started", session.turn.user_text)

    def permission_arrived(self, session) -> None:
        self._note("permission_arrived", session.turn.pending_permissions[-1].request)

    def turn_finished(self, session) -> None:
        self._note("turn_finished", session.turn.status)

    def session_deleted(self, session_id: str) -> None:
        self._note("session_deleted", session_id)

    def sessions_changed(self) -> None:
        self._note("sessions_changed")

    def report_error(self, message: str) -> None:
        self._note("error", message)

    def run_background(self, work, group: str) -> asyncio.Task:
        task = asyncio.ensure_future(work)
        self.tasks.append(task)
        return task

    def teardown_error(self, exc: Exception) -> bool:
        return False

    async def wait(self, condition: Callable[[], object], timeout: float = 10.0) -> None:
        """Until `condition()` holds: checked on every report, and every 10 ms for what folds silently (deltas)."""
        async with asyncio.timeout(timeout):
            while not condition():
                self.changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 0.01)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


def closed_port_url() -> str:
    """A loopback address nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


AGENTS = {"echo": EchoAgent, "writer": WriterAgent, "slow": SlowAgent}


@pytest.fixture
def agent() -> str:
    return "echo"


@pytest.fixture
async def server(tmp_path, agent):
    async with async_running_server(tmp_path / "srv", agent_factory=AGENTS[agent], send_mode="async") as srv:
        yield srv


@pytest.fixture
async def backend(server):
    b = MixBackend(server.url, token=server.token)
    yield b
    await b.close()


@pytest.fixture
def store(tmp_path):
    s = ClientStore(tmp_path / "client.db")
    yield s
    s.close()


@pytest.fixture
def sessions(store, backend) -> SessionList:
    return SessionList(store, lambda: "mix", lambda: backend)


@pytest.fixture
async def open_session(backend):
    """`await open_session(title)`: a new conversation opened as the chat opens one (consumer running)."""
    opened: list[tuple[SessionController, Listener]] = []

    async def make(title: str = "test", *, connected: bool = True) -> tuple[SessionController, Display, Listener]:
        conversation = await backend.create_conversation(title)
        display, listener = Display(), Listener()
        session = SessionController(conversation, display, backend, listener, Clock(), permission_timeout=30.0)
        session.consumer = listener.run_background(session.consume(), "consumers")
        opened.append((session, listener))
        if connected:
            await asyncio.wait_for(session.connected.wait(), 10)
        return session, display, listener

    yield make
    for _, listener in opened:
        await listener.close()
