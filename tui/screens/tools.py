"""The server's tools, MCP servers and standing permission answers, with their state; `r` asks again,
`R` restarts an MCP server, `x` revokes a standing answer.

`/api/tools/status` comes as a map of tools (Go) or an array (the spec); the client's model reads
both, so this screen only shows categories of tools. MCP servers can be slow to answer (the
server may spawn them), so the two lists load in separate workers. The MCP list is asked again
every second while the screen is shown, so a server starting, failing or coming back shows live.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.api.errors import NotFound
from tui.api.mix.models import McpServer, ToolProvider, ToolsStatus
from tui.api.mix.rules import PermissionRule
from tui.screens.files import error_text, mix_client_of
from tui.themes import themes_dir


def tool_state(tool: ToolProvider) -> str:
    if tool.authenticated:
        return "✓ ready"
    if tool.requires_key:
        return "✗ needs a key" + (f" ({tool.api_key_format})" if tool.api_key_format else "")
    return "✗ not ready"


MCP_POLL_SECONDS = 1.0
STDERR_SHOWN = 8  # lines of a failed server's stderr under the table


def mcp_state(server: McpServer) -> str:
    if server.connected:
        return "● connected" + (" · read-only" if server.read_only else "")
    mark = "✗" if server.status in ("failed", "disconnected") else "○"
    retry = f" · retry in {server.retry_in} s" if server.retry_in is not None else ""
    return f"{mark} {server.status or 'not connected'}{retry}"


def mcp_details(server: McpServer) -> str:
    """What the highlighted server offers, or why it does not."""
    if server.connected:
        if not server.tools:
            return f"{server.name}: connected, no tools."
        return f"{server.name}'s tools:\n" + "\n".join(
            f"  • {t.name}" + (f": {t.description}" if t.description else "") for t in server.tools)
    lines = [f"{server.name}: {server.status or 'not connected'}" + (f": {server.error}" if server.error else "")]
    if server.stderr:
        lines.append("last lines of its stderr:")
        lines += [f"  {line}" for line in server.stderr[-STDERR_SHOWN:]]
    if server.status != "starting":
        lines.append("R restarts it now.")
    return "\n".join(lines)


class ToolsScreen(Screen[None]):
    HELP = """\
## Tools and MCP servers

- the first table lists the server's tools by category with their state (✓ ready, ✗ needs a key…)
- the second lists the MCP servers with their live state; below, the highlighted one's tools, or why
  it failed with the last lines it wrote to stderr
- the third lists the standing permission answers ("for this session", "always for this tool in this
  folder"); `x` on one revokes it, and the tool asks again
- `R` restarts the highlighted MCP server · `r` asks the server again · `tab` moves between the tables ·
  `escape` goes back
"""

    CSS_PATH = [themes_dir() / "views.tcss"]
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "refresh", "Reload"),
        Binding("R", "restart_mcp", "Restart MCP server"),
        Binding("x", "revoke_rule", "Revoke rule"),
    ]

    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = mix_client_of(client)
        self.status: ToolsStatus | None = None
        self.mcp: list[McpServer] = []
        self.rules: list[PermissionRule] = []

    def compose(self) -> ComposeResult:
        yield Static("Tools and MCP servers", id="tools-title", classes="view-title")
        yield Static("Tools", classes="view-section")
        yield DataTable(id="tools-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading the tools…", id="tools-status", classes="view-status", markup=False)
        yield Static("MCP servers", classes="view-section")
        yield DataTable(id="mcp-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading the MCP servers…", id="mcp-status", classes="view-status", markup=False)
        yield Static("", id="mcp-tools", classes="view-hint", markup=False)
        yield Static("Permission rules", classes="view-section")
        yield DataTable(id="rules-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading the permission rules…", id="rules-status", classes="view-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        tools = self.query_one("#tools-table", DataTable)
        for label in ("Category", "Tool", "State", "Description"):
            tools.add_column(label, key=label.lower())
        mcp = self.query_one("#mcp-table", DataTable)
        for label in ("Server", "State", "Tools"):
            mcp.add_column(label, key=label.lower())
        rules = self.query_one("#rules-table", DataTable)
        for label in ("Tool", "Allowed", "Where"):
            rules.add_column(label, key=label.lower())
        tools.focus()
        self.action_refresh()
        self.set_interval(MCP_POLL_SECONDS, self._load_mcp)

    def _say(self, which: str, text: str, *, error: bool = False) -> None:
        status = self.query_one(f"#{which}-status", Static)
        status.update(text)
        status.set_class(error, "view-error")

    def action_refresh(self) -> None:
        self._load_tools()
        self._load_mcp()
        self._load_rules()

    # ------------------------------------------------------------------ permission rules

    @work(group="rules-load", exclusive=True)
    async def _load_rules(self) -> None:
        try:
            rules = await self.client.list_permission_rules()
        except NotFound:
            self._say("rules", "This server asks every time: it keeps no permission rules.")
            return
        except Exception as exc:  # noqa: BLE001
            self._say("rules", error_text(exc, "list the permission rules"), error=True)
            return
        self.show_rules(rules)

    def show_rules(self, rules: list[PermissionRule]) -> None:
        self.rules = rules
        table = self.query_one("#rules-table", DataTable)
        table.clear()
        for rule in rules:
            allowed = "for this session" if rule.scope == "session" else "always"
            table.add_row(rule.tool, allowed, rule.where, key=rule.id)
        self._say("rules", f"{len(rules)} standing answer{'s' if len(rules) != 1 else ''} · x revokes the highlighted one"
                  if rules else "No standing answers: every tool that changes things asks first.")

    def action_revoke_rule(self) -> None:
        table = self.query_one("#rules-table", DataTable)
        if not self.rules or not 0 <= table.cursor_row < len(self.rules):
            self._say("rules", "Highlight a rule in the permission rules table first (tab moves there).")
            return
        self._revoke(self.rules[table.cursor_row])

    @work(group="rules-change", exclusive=True)
    async def _revoke(self, rule: PermissionRule) -> None:
        try:
            await self.client.delete_permission_rule(rule.id)
        except Exception as exc:  # noqa: BLE001
            self._say("rules", error_text(exc, "revoke the rule"), error=True)
            return
        self._load_rules()
        self.notify(f"{rule.tool} asks again ({rule.where}).")

    # ------------------------------------------------------------------ tools

    @work(group="tools-load", exclusive=True)
    async def _load_tools(self) -> None:
        try:
            status = await self.client.tools_status()
        except Exception as exc:  # noqa: BLE001
            self._say("tools", error_text(exc, "read the tools' status"), error=True)
            return
        self.show_tools(status)

    def show_tools(self, status: ToolsStatus) -> None:
        self.status = status
        table = self.query_one("#tools-table", DataTable)
        table.clear()
        count = ready = 0
        for category in status.categories.values():
            for tool in category.tools:
                count += 1
                ready += tool.authenticated
                description = tool.description if len(tool.description) <= 60 else tool.description[:59] + "…"
                table.add_row(category.display_name, tool.display_name or tool.provider, tool_state(tool), description,
                              key=f"{category.id}/{tool.provider}")
        summary = f"{count} tools in {len(status.categories)} categories · {ready} ready" if count \
            else "The server reports no tools."
        self._say("tools", summary + (f" · shell sandbox {status.sandbox}" if status.sandbox else ""))

    # ------------------------------------------------------------------ MCP

    @work(group="mcp-load", exclusive=True)
    async def _load_mcp(self) -> None:
        try:
            servers = await self.client.list_mcp_servers()
        except Exception as exc:  # noqa: BLE001
            self._say("mcp", error_text(exc, "list the MCP servers"), error=True)
            return
        self.show_mcp(servers)

    def show_mcp(self, servers: list[McpServer]) -> None:
        table = self.query_one("#mcp-table", DataTable)
        rows = [(s.name, mcp_state(s), str(len(s.tools)) if s.connected else "—") for s in servers]
        if [s.name for s in servers] == [s.name for s in self.mcp]:
            for name, state, tools in rows:  # the same servers: update in place, the cursor stays
                table.update_cell(name, "state", state)
                table.update_cell(name, "tools", tools)
        else:
            row = table.cursor_row
            table.clear()
            for name, state, tools in rows:
                table.add_row(name, state, tools, key=name)
            if rows:
                table.move_cursor(row=min(row, len(rows) - 1))
        self.mcp = servers
        connected = sum(1 for s in servers if s.connected)
        self._say("mcp", f"{len(servers)} MCP servers · {connected} connected" if servers
                  else "No MCP servers configured ([mcp.servers.NAME] with a command in config.toml adds one).")
        self._show_mcp_tools(table.cursor_row)

    @on(DataTable.RowHighlighted, "#mcp-table")
    def _mcp_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_mcp_tools(event.cursor_row)

    def _show_mcp_tools(self, index: int) -> None:
        box = self.query_one("#mcp-tools", Static)
        box.update(mcp_details(self.mcp[index]) if 0 <= index < len(self.mcp) else "")

    def action_restart_mcp(self) -> None:
        index = self.query_one("#mcp-table", DataTable).cursor_row
        if 0 <= index < len(self.mcp):
            self._restart(self.mcp[index].name)

    @work(group="mcp-restart", exclusive=True)
    async def _restart(self, name: str) -> None:
        try:
            await self.client.restart_mcp_server(name)
        except Exception as exc:  # noqa: BLE001
            self._say("mcp", error_text(exc, f"restart {name}"), error=True)
            return
        self._say("mcp", f"Restarting {name}…")
        self._load_mcp()

    def action_back(self) -> None:
        self.dismiss(None)
