"""Tools and MCP servers against the real embedded server over loopback."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from textual.widgets import DataTable, Static

from tests.fixtures.mix_server import running_server
from tests.server_mcp.support import START_TIMEOUT, stdio
from tests.ui.views.host import Host, settle, store_key, text_of, wait_until
from tui.api.mix import MixClient
from tui.api.mix.models import McpServer, ToolsStatus
from tui.config import Config, EmbeddedServerConfig, McpServerConfig
from tui.screens.tools import ToolsScreen

SIZE = (120, 36)
# Servers that fail before any process starts (so without retries): a stable picture for the snapshot.
MCP = Config(mcp_servers=[McpServerConfig(name="files", url="https://mcp.example/mcp",
                                          headers={"Authorization": "Bearer ${MIX_TEST_UNSET_TOKEN}"}),
                          McpServerConfig(name="broken")])


def table(app: Host, which: str) -> list[list[str]]:
    t = app.shown.query_one(f"#{which}-table", DataTable)
    return [[str(c) for c in t.get_row_at(i)] for i in range(t.row_count)]


def said(app: Host, which: str) -> str:
    return text_of(app.shown.query_one(f"#{which}-status", Static))


async def test_tools_with_their_state_and_refresh(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        client = MixClient(server.url)
        app = Host(lambda: ToolsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            rows = {r[1]: r for r in table(app, "tools")}
            assert rows["read"][0] == "Offline agent tools" and rows["read"][2] == "✓ ready"
            assert rows["Anthropic"][2].startswith("✗ needs a key")
            assert "categories" in said(app, "tools")
            sandbox = server.app.state.runner.sandbox
            assert said(app, "tools").endswith(f" · shell sandbox {sandbox.describe()}")
            store_key(server)
            await pilot.press("r")
            await settle(pilot, app)
            rows = {r[1]: r for r in table(app, "tools")}
            assert rows["Anthropic"][2] == "✓ ready"  # refreshed from the server
        await client.aclose()


async def test_mcp_servers_with_connection_state(tmp_path: Path) -> None:
    with running_server(tmp_path / "server", config=MCP) as server:
        client = MixClient(server.url)
        app = Host(lambda: ToolsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            await wait_until(pilot, lambda: table(app, "mcp") == [["files", "✗ failed", "—"], ["broken", "✗ failed", "—"]])
            assert said(app, "mcp") == "2 MCP servers · 0 connected"
            assert text_of(app.shown.query_one("#mcp-tools")) == (
                "files: failed: headers.Authorization needs ${MIX_TEST_UNSET_TOKEN}: set it in the environment or "
                "the secrets file\nR restarts it now.")
        await client.aclose()


async def test_mcp_state_is_live_with_stderr_of_a_failed_server_and_restart(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    config = Config(mcp_servers=[stdio("good", env={"MCP_FAKE_PIDFILE": str(pids)}), stdio("crashy", "crash")])
    with running_server(tmp_path / "server", config=config, mcp_options={"backoff": (600.0,)}) as server:
        client = MixClient(server.url)
        app = Host(lambda: ToolsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            # nothing pressed: the screen follows the servers as they start and fail
            await wait_until(pilot, lambda: [r[1] for r in table(app, "mcp")][:1] == ["● connected"], START_TIMEOUT,
                             failure="the good server never showed as connected")
            await wait_until(pilot, lambda: table(app, "mcp")[1][1].startswith("✗ failed · retry in"), START_TIMEOUT)
            assert table(app, "mcp")[0] == ["good", "● connected", "8"]
            assert "good's tools:\n  • shout: Return the text in capitals" in text_of(app.shown.query_one("#mcp-tools"))
            app.shown.query_one("#mcp-table", DataTable).focus()
            await pilot.press("down")
            await wait_until(pilot, lambda: "fatal:" in text_of(app.shown.query_one("#mcp-tools")))
            assert text_of(app.shown.query_one("#mcp-tools")) == (
                "crashy: failed: the server exited while initializing\nlast lines of its stderr:\n"
                "  fatal: the test server was told to crash\nR restarts it now.")
            await pilot.press("up", "R")  # restart the good one: a new process, connected again
            await wait_until(pilot, lambda: len(pids.read_text().split()) == 2, START_TIMEOUT)
            await wait_until(pilot, lambda: table(app, "mcp")[0][1] == "● connected", START_TIMEOUT)
        await client.aclose()


async def test_no_mcp_servers_names_the_real_config_syntax(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        client = MixClient(server.url)
        app = Host(lambda: ToolsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert "[mcp.servers.NAME]" in said(app, "mcp") and "[[mcp_servers]]" not in said(app, "mcp")
        await client.aclose()


async def test_go_shaped_tools_map_and_connected_mcp_tools_are_shown(tmp_path: Path) -> None:
    # The Go server's shapes (PROTOCOL §3.1): tools keyed by provider; an MCP server with tools.
    go_status = ToolsStatus.from_json({"categories": {"search": {"display_name": "Web search", "tools": {
        "brave": {"authenticated": False, "display_name": "Brave", "requires_key": True, "api_key_format": "BSA…"},
        "exa": {"authenticated": True, "display_name": "Exa"}}}}})
    connected = McpServer.from_json({"name": "git", "connected": True, "status": "connected",
                                     "tools": [{"name": "log", "description": "Show commits"}, {"name": "diff"}]})
    with running_server(tmp_path / "server") as server:
        client = MixClient(server.url)
        app = Host(lambda: ToolsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            app.shown.show_tools(go_status)
            app.shown.show_mcp([connected])
            await pilot.pause()
            assert table(app, "tools") == [["Web search", "Brave", "✗ needs a key (BSA…)", ""],
                                           ["Web search", "Exa", "✓ ready", ""]]
            assert table(app, "mcp") == [["git", "● connected", "2"]]
            assert text_of(app.shown.query_one("#mcp-tools")) == "git's tools:\n  • log: Show commits\n  • diff"
        await client.aclose()


async def test_server_errors_are_shown_plainly(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        url = server.url
    client = MixClient(url)
    app = Host(lambda: ToolsScreen(client))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert said(app, "tools") == (f"Could not read the tools' status: Mix server at {url} refused the connection "
                                      "while reading the tools' status: is it running?")
        assert said(app, "mcp").startswith("Could not list the MCP servers: Mix server at")
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None]
    await client.aclose()


def test_snapshot_of_the_tools_screen(snap_compare, tmp_path: Path) -> None:
    # the sandbox turned off, so the picture does not depend on whether this machine has bwrap
    config = dataclasses.replace(MCP, embedded=EmbeddedServerConfig(shell_sandbox=False))
    with running_server(tmp_path / "server", config=config) as server:
        server.app.state.runner.permissions.rules.add("always", "write", "", "/work/project")
        client = MixClient(server.url)

        async def loaded(pilot) -> None:
            await settle(pilot, pilot.app)
            await wait_until(pilot, lambda: [r[1] for r in table(pilot.app, "mcp")] == ["✗ failed", "✗ failed"])
            await pilot.pause()

        assert snap_compare(Host(lambda: ToolsScreen(client)), terminal_size=SIZE, run_before=loaded)


async def test_permission_rules_are_listed_and_revoked_with_x(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        rules = server.app.state.runner.permissions.rules
        sid = server.create_session()["id"]
        rules.add("session", "bash", sid, "")
        rules.add("always", "write", sid, "/work/project")
        client = MixClient(server.url)
        app = Host(lambda: ToolsScreen(client))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert table(app, "rules") == [["bash", "for this session", f"this session ({sid[:8]})"],
                                           ["write", "always", "folder /work/project"]]
            app.shown.query_one("#rules-table", DataTable).focus()
            await pilot.press("down", "x")
            await settle(pilot, app)
            assert table(app, "rules") == [["bash", "for this session", f"this session ({sid[:8]})"]]
            assert [r.tool for r in rules.rules()] == ["bash"]
            assert '"rules": []' in (tmp_path / "server" / "permission_rules.json").read_text()
        await client.aclose()
