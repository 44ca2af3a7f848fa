"""GET /api/mcp tells the truth about real MCP servers: connected with tools, failed with the reason and
the server's last stderr lines, disconnected and restarted, stopped with the embedded server."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

from tests.fixtures.mix_server import running_server
from tests.server_mcp.support import QUICK, START_TIMEOUT, Turn, connected, of, stdio, wait_for
from tui.config import Config, McpServerConfig

SHOUT = {"name": "shout", "description": "Return the text in capitals, with an exclamation mark."}


def answer_of(server, sid: str, text: str) -> str:
    """A slash command's answer on a server that sends asynchronously (202): the stream's completion."""
    frames = asyncio.run(Turn(server).run(text, session=sid))
    return of(frames, "complete")[0]["content"]


def test_stdio_server_is_connected_with_its_tools_in_the_spec_shape(mcp_host):
    with mcp_host.client() as c:
        demo = connected(c, "demo")
        assert demo["status"] == "connected" and demo["error"] == "" and demo["stderr"] == []
        assert demo["tools"][0] == SHOUT
        assert [t["name"] for t in demo["tools"]] == ["shout", "fail", "hang", "freeze", "quit", "picture", "whoami",
                                                      "count"]
        assert demo["command"].endswith("mcp_server.py stdio") and demo["readOnly"] is False
        assert connected(c, "reader")["readOnly"] is True
        # /mcp prints the same servers as a card
        sid = mcp_host.create_session()["id"]
        card = json.loads(answer_of(mcp_host, sid, "/mcp"))
        assert card["type"] == "mcp" and [s["name"] for s in card["servers"]] == ["demo", "reader"]
        assert card["servers"][0]["tools"][0] == SHOUT
        status = json.loads(answer_of(mcp_host, sid, "/status"))
        assert status["mcpServers"] == 2
        tools = json.loads(answer_of(mcp_host, sid, "/tools"))
        by_name = {t["name"]: t for t in tools["tools"]}
        assert by_name["demo_shout"]["requiresPermission"] is True and by_name["reader_shout"]["readOnly"] is True
        assert by_name["demo_shout"]["description"].startswith("[MCP server demo] Return the text")


def test_streamable_http_server_with_headers_from_the_environment(tmp_path, http_fake, monkeypatch):
    monkeypatch.setenv("MIX_TEST_MCP_TOKEN", "tok-" + "s" * 20)
    config = Config(mcp_servers=[McpServerConfig(name="remote", url=http_fake, read_only=True,
                                                 headers={"Authorization": "Bearer ${MIX_TEST_MCP_TOKEN}"})])
    with running_server(tmp_path, config=config, mcp_options=QUICK) as server, server.client() as c:
        remote = connected(c, "remote")
        assert remote["tools"][0] == SHOUT and remote["url"] == http_fake and remote["command"] == ""
        assert "tok-" not in json.dumps(c.get("/api/mcp").json())
        sid = server.create_session()["id"]
        answer = c.post(f"/api/sessions/{sid}/messages", json={"text": "call whoami"}).json()["assistantResponse"]
        assert "Bearer tok-" + "s" * 20 in answer  # the header reached the server, resolved


def test_start_up_does_not_wait_for_mcp_servers(tmp_path):
    # A server that never answers must not hold the embedded server's start: it is up and answering
    # while the MCP server is still starting.
    config = Config(mcp_servers=[stdio("mute", "mute")])
    started = time.monotonic()
    with running_server(tmp_path, config=config, mcp_options={**QUICK, "connect_timeout": 60.0}) as server, \
            server.client() as c:
        assert c.get("/health").status_code == 200
        assert c.get("/api/mcp").json()[0]["status"] == "starting"
        assert time.monotonic() - started < 5


def test_failures_say_why(tmp_path, monkeypatch):
    monkeypatch.delenv("MIX_TEST_MISSING_TOKEN", raising=False)
    config = Config(mcp_servers=[
        stdio("crashy", "crash"),
        McpServerConfig(name="nowhere", command="mix-tui-no-such-mcp-server"),
        McpServerConfig(name="nothing"),
        McpServerConfig(name="needs-secret", url="http://127.0.0.1:9/mcp",
                        headers={"Authorization": "Bearer ${MIX_TEST_MISSING_TOKEN}"}),
        stdio("mute", "mute"),
    ])
    with running_server(tmp_path, config=config, mcp_options={**QUICK, "connect_timeout": 1.0}) as server, \
            server.client() as c:
        failed = lambda s: s["status"] == "failed"  # noqa: E731
        crashy = wait_for(c, "crashy", failed, what="failed")
        assert crashy["connected"] is False and "tools" not in crashy  # not connected: no tools key (see list_mcp)
        assert crashy["error"] == "the server exited while initializing"
        assert crashy["stderr"] == ["fatal: the test server was told to crash"]
        assert crashy["retryIn"] >= 0
        assert wait_for(c, "nowhere", failed)["error"] == "command not found: mix-tui-no-such-mcp-server"
        assert wait_for(c, "nothing", failed)["error"] == "no command or url configured"
        secret = wait_for(c, "needs-secret", failed)["error"]
        assert "${MIX_TEST_MISSING_TOKEN}" in secret and "environment or the secrets file" in secret
        assert wait_for(c, "mute", failed)["error"] == "no answer within 1 s while initializing"


def test_a_crashed_server_is_restarted_and_the_restart_route(mcp_host_private):
    server, c = mcp_host_private
    first = connected(c, "solo")
    assert first["tools"] is not None
    sid = server.create_session()["id"]
    # The quit tool ends the process mid-call: the call fails, the server is restarted by itself.
    reply = c.post(f"/api/sessions/{sid}/messages", json={"text": 'call solo.quit'})
    assert "solo_quit" in reply.json()["assistantResponse"]
    wait_for(c, "solo", lambda s: s["status"] in ("disconnected", "starting"), what="lost")
    again = connected(c, "solo")
    assert again["tools"] == first["tools"]
    # An explicit restart starts a new process (count starts over).
    for expected in ("1", "2"):
        answer = c.post(f"/api/sessions/{sid}/messages", json={"text": "call solo_count"}).json()["assistantResponse"]
        assert f"```\n{expected}\n```" in answer
    r = c.post("/api/mcp/solo/restart")
    assert r.status_code == 202 and r.json() == {"name": "solo", "status": "restarting"}
    wait_for(c, "solo", lambda s: not s["connected"], what="restarted")
    connected(c, "solo")
    answer = c.post(f"/api/sessions/{sid}/messages", json={"text": "call solo_count"}).json()["assistantResponse"]
    assert "```\n1\n```" in answer
    r = c.post("/api/mcp/nobody/restart")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"


def test_a_server_that_stops_answering_is_noticed_and_replaced(tmp_path):
    config = Config(mcp_servers=[stdio("frozen", read_only=True, timeout=1.0)])
    options = {**QUICK, "ping_interval": 0.3, "ping_timeout": 1.0}
    with running_server(tmp_path, config=config, mcp_options=options) as server, \
            server.client(timeout=START_TIMEOUT) as c:
        connected(c, "frozen")
        sid = server.create_session()["id"]
        answer = c.post(f"/api/sessions/{sid}/messages", json={"text": "call freeze"}).json()["assistantResponse"]
        assert "did not answer within 1 s" in answer
        lost = wait_for(c, "frozen", lambda s: s["status"] == "disconnected", what="noticed as frozen")
        assert lost["error"] == "the server stopped answering (no ping reply in 1 s)"
        connected(c, "frozen")  # a new process
        answer = c.post(f"/api/sessions/{sid}/messages", json={"text": "call count"}).json()["assistantResponse"]
        assert "```\n1\n```" in answer


def test_stopping_the_embedded_server_stops_its_mcp_servers(tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    monkeypatch.setenv("MIX_TEST_PIDFILE", str(pids))  # reaches the servers only through their env table
    env = {"MCP_FAKE_PIDFILE": "${MIX_TEST_PIDFILE}"}
    config = Config(mcp_servers=[stdio("one", env=env), stdio("two", env=env, read_only=True)])
    with running_server(tmp_path / "srv", config=config, mcp_options=QUICK) as server, server.client() as c:
        connected(c, "one")
        connected(c, "two")
        running = [int(p) for p in pids.read_text().split()]
        assert len(running) == 2 and all(_alive(p) for p in running)
        stopping = time.monotonic()
    took = time.monotonic() - stopping
    assert not any(_alive(p) for p in running)
    assert took < 10, f"stopping took {took:.1f} s"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "zombie" not in Path(f"/proc/{pid}/status").read_text().lower()


@pytest.fixture
def mcp_host_private(tmp_path):
    config = Config(mcp_servers=[stdio("solo", read_only=True)])
    with running_server(tmp_path, config=config, mcp_options=QUICK) as server, server.client(timeout=START_TIMEOUT) as c:
        yield server, c
