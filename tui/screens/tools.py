"""The server's tools and MCP servers, with their state; `r` asks again.

`/api/tools/status` comes as a map of tools (Go) or an array (the spec); the client's model reads
both, so this screen only shows categories of tools. MCP servers can be slow to answer (the
server may spawn them), so the two lists load in separate workers.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.api.mix.models import McpServer, ToolProvider, ToolsStatus
from tui.screens.files import error_text, mix_client_of
from tui.themes import themes_dir


def tool_state(tool: ToolProvider) -> str:
    if tool.authenticated:
        return "✓ ready"
    if tool.requires_key:
        return "✗ needs a key" + (f" ({tool.api_key_format})" if tool.api_key_format else "")
    return "✗ not ready"


def mcp_state(server: McpServer) -> str:
    if server.connected:
        return "● connected"
    return f"○ {server.status or 'not connected'}"


class ToolsScreen(Screen[None]):
    HELP = """\
## Tools and MCP servers

- the first table lists the server's tools by category with their state (✓ ready, ✗ needs a key…)
- the second lists the MCP servers with their connection state; the highlighted one's tools show below
- `r` asks the server again · `tab` moves between the tables · `escape` goes back
"""

    CSS_PATH = [themes_dir() / "views.tcss"]
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("r", "refresh", "Reload"),
    ]

    def __init__(self, client: Any) -> None:
        super().__init__()
        self.client = mix_client_of(client)
        self.status: ToolsStatus | None = None
        self.mcp: list[McpServer] = []

    def compose(self) -> ComposeResult:
        yield Static("Tools and MCP servers", id="tools-title", classes="view-title")
        yield Static("Tools", classes="view-section")
        yield DataTable(id="tools-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading the tools…", id="tools-status", classes="view-status", markup=False)
        yield Static("MCP servers", classes="view-section")
        yield DataTable(id="mcp-table", cursor_type="row", zebra_stripes=True)
        yield Static("Loading the MCP servers…", id="mcp-status", classes="view-status", markup=False)
        yield Static("", id="mcp-tools", classes="view-hint", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        tools = self.query_one("#tools-table", DataTable)
        for label in ("Category", "Tool", "State", "Description"):
            tools.add_column(label, key=label.lower())
        mcp = self.query_one("#mcp-table", DataTable)
        for label in ("Server", "State", "Tools"):
            mcp.add_column(label, key=label.lower())
        tools.focus()
        self.action_refresh()

    def _say(self, which: str, text: str, *, error: bool = False) -> None:
        status = self.query_one(f"#{which}-status", Static)
        status.update(text)
        status.set_class(error, "view-error")

    def action_refresh(self) -> None:
        self._load_tools()
        self._load_mcp()

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
        self.mcp = servers
        table = self.query_one("#mcp-table", DataTable)
        table.clear()
        for s in servers:
            table.add_row(s.name, mcp_state(s), str(len(s.tools)) if s.connected else "—", key=s.name)
        connected = sum(1 for s in servers if s.connected)
        self._say("mcp", f"{len(servers)} MCP servers · {connected} connected" if servers
                  else "No MCP servers configured ([[mcp_servers]] in config.toml adds one).")
        self._show_mcp_tools(0)

    @on(DataTable.RowHighlighted, "#mcp-table")
    def _mcp_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_mcp_tools(event.cursor_row)

    def _show_mcp_tools(self, index: int) -> None:
        box = self.query_one("#mcp-tools", Static)
        if not 0 <= index < len(self.mcp):
            box.update("")
            return
        server = self.mcp[index]
        if not server.connected:
            box.update(f"{server.name}: not connected, so its tools are unknown.")
        elif not server.tools:
            box.update(f"{server.name}: connected, no tools.")
        else:
            box.update(f"{server.name}'s tools:\n" + "\n".join(
                f"  • {t.name}" + (f": {t.description}" if t.description else "") for t in server.tools))

    def action_back(self) -> None:
        self.dismiss(None)
