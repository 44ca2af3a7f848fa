"""The embedded server's supervisor (tui/server/supervisor.py), without Textual: real child servers,
killed with SIGKILL, stopped with SIGSTOP, or failing to start; the restart budget on a manual clock."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import httpx
import pytest

from tui.config import resolve_paths
from tui.server.launcher import EmbeddedServer
from tui.server.supervisor import (
    RestartBudget,
    RestartPolicy,
    ServerDied,
    ServerGaveUp,
    ServerRestarted,
    ServerSupervisor,
    exit_reason,
)

FAST = RestartPolicy(first_delay=0.05, max_delay=0.4, poll_interval=0.05, health_interval=0.3, health_timeout=0.5,
                     health_failures=2)


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_budget_backs_off_from_half_a_second_and_allows_five_a_minute():
    clock = ManualClock()
    budget = RestartBudget(RestartPolicy(), clock)
    delays = []
    while (delay := budget.next_delay()) is not None:
        delays.append(delay)
        budget.record()
        clock.now += 1
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0]
    clock.now += 55.5  # the first restart leaves the one-minute window
    assert budget.next_delay() == 8.0 and budget.count == 4
    budget.reset()
    assert budget.next_delay() == 0.5


def test_exit_reasons_read_like_a_sentence():
    assert exit_reason(-signal.SIGKILL) == "killed by SIGKILL"
    assert exit_reason(1) == "exited with code 1"
    assert exit_reason(None) == "stopped answering"


@pytest.fixture
async def server(tmp_path):
    srv = EmbeddedServer(tmp_path / "srv", paths=resolve_paths(tmp_path / "home", env={}), agent_delay=0)
    await srv.start()
    yield srv
    await srv.stop()


async def wait_report(reports: list, kind: type, timeout: float = 15.0):
    deadline = time.monotonic() + timeout
    while not any(isinstance(r, kind) for r in reports):
        assert time.monotonic() < deadline, f"no {kind.__name__} in {reports}"
        await asyncio.sleep(0.02)
    return next(r for r in reports if isinstance(r, kind))


async def supervise(server, policy=FAST):
    reports: list = []
    supervisor = ServerSupervisor(server, reports.append, policy=policy)
    return supervisor, reports, asyncio.create_task(supervisor.run())


async def stop_task(task: asyncio.Task) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def auth(server) -> dict:
    return {"Authorization": f"Bearer {server.token}"}


async def test_a_killed_server_is_restarted_on_the_same_url_and_data(server):
    async with httpx.AsyncClient(base_url=server.url, headers=auth(server)) as c:
        created = (await c.post("/api/sessions", json={"title": "survives", "browserMode": "local-browser-service"})).json()
    supervisor, reports, task = await supervise(server)
    try:
        old_pid, old_url = server.pid, server.url
        started = time.monotonic()
        os.kill(old_pid, signal.SIGKILL)
        restarted = await wait_report(reports, ServerRestarted)
        took = time.monotonic() - started
        assert isinstance(reports[0], ServerDied) and reports[0].reason == "killed by SIGKILL"
        assert restarted.url == old_url and not restarted.url_changed and server.pid != old_pid
        assert took < 10 and "killed by SIGKILL" in restarted.line
        async with httpx.AsyncClient(base_url=server.url, headers=auth(server)) as c:
            sessions = (await c.get("/api/sessions")).json()
        assert created["id"] in [s["id"] for s in sessions]
    finally:
        await stop_task(task)


async def test_a_hung_server_counts_as_dead_and_is_replaced(server):
    supervisor, reports, task = await supervise(server)
    hung = server.pid
    try:
        os.kill(hung, signal.SIGSTOP)
        restarted = await wait_report(reports, ServerRestarted)
        assert restarted.reason == "stopped answering"
        assert server.pid != hung and await server.healthy()
    finally:
        await stop_task(task)
        try:
            os.kill(hung, signal.SIGKILL)
        except ProcessLookupError:
            pass


async def test_gives_up_after_the_budget_and_retries_on_request(server):
    db = server.data_dir / "server.db"
    supervisor, reports, task = await supervise(server, RestartPolicy(
        first_delay=0.01, max_delay=0.02, max_restarts=3, poll_interval=0.05, health_interval=60))
    try:
        # Every restart will fail: the database path is a folder, the child exits at once.
        db.unlink(missing_ok=True)
        db.mkdir()
        os.kill(server.pid, signal.SIGKILL)
        gave_up = await wait_report(reports, ServerGaveUp, timeout=30)
        assert gave_up.restarts == 3 and supervisor.gave_up
        assert gave_up.log_tail and len(gave_up.log_tail.splitlines()) <= 6
        assert not any(isinstance(r, ServerRestarted) for r in reports)
        db.rmdir()
        supervisor.retry()
        await wait_report(reports, ServerRestarted)
        assert await server.healthy() and not supervisor.gave_up
    finally:
        await stop_task(task)


async def test_when_the_old_port_is_taken_the_new_server_gets_another_and_clients_move(server):
    import socket

    from tui.api.mix.client import MixClient

    client = MixClient(server.url, token=server.token)
    supervisor, reports, task = await supervise(server)
    port = int(server.url.rsplit(":", 1)[1])
    try:
        with socket.socket() as squatter:
            squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            os.kill(server.pid, signal.SIGKILL)
            await wait_report(reports, ServerDied)
            squatter.bind(("127.0.0.1", port))  # someone else takes the port before the restart
            squatter.listen()
            restarted = await wait_report(reports, ServerRestarted)
            assert restarted.url_changed and restarted.url == server.url and not server.url.endswith(f":{port}")
            client.move_to(restarted.url)
            assert (await client.health()).status == "ok"
    finally:
        await client.aclose()
        await stop_task(task)


async def test_server_back_wakes_streams_waiting_out_their_backoff(server):
    from tui.api import events as ev
    from tui.api.mix.client import MixClient
    from tui.api.mix.stream import ReconnectPolicy

    client = MixClient(server.url, token=server.token, reconnect=ReconnectPolicy(base=30.0, jitter=0.0))
    session = await client.create_session("wakes")
    events = client.stream(session.id)
    try:
        assert isinstance(await anext(events), ev.ConnectionChanged)  # connected
        os.kill(server.pid, signal.SIGKILL)
        while True:  # until the stream says it waits 30 s before the next try
            event = await asyncio.wait_for(anext(events), 10)
            if isinstance(event, ev.ConnectionChanged) and event.state != "connected":
                assert event.delay == 30.0
                break
        await server.restart()
        client.server_back()
        started = time.monotonic()
        while True:
            event = await asyncio.wait_for(anext(events), 10)  # far less than the 30 s backoff
            if isinstance(event, ev.ConnectionChanged) and event.state == "connected":
                break
        assert time.monotonic() - started < 5
    finally:
        await events.aclose()
        await client.aclose()
