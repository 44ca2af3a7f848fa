"""All configured MCP servers of one embedded server: their live status, and their tools offered to
the agents (`tui.server.agent.tools.ExternalTools`) under names that cannot clash.

    manager = McpManager(config.mcp_servers, lookup)
    manager.start()          # in the running loop; returns at once, servers connect in the background
    manager.status()         # the /api/mcp and /mcp shapes
    await manager.stop()     # every server stopped cleanly, in parallel
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Callable, Iterable

from tui.config import McpServerConfig
from tui.server.agent.tools import TOOL_SPECS, PreparedCall, ToolError, ToolResult, ToolSpec
from tui.server.mcp.connection import CONNECTED, McpConnection, McpTool
from tui.server.mcp.spec import shown_target, tool_name


class McpManager:
    def __init__(self, configs: Iterable[McpServerConfig], lookup: Callable[[str], str | None],
                 **connection_options: Any) -> None:
        self.connections: dict[str, McpConnection] = {
            c.name: McpConnection(c, lookup, **connection_options) for c in configs}

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        for connection in self.connections.values():
            connection.start()

    async def stop(self) -> None:
        await asyncio.gather(*(c.stop() for c in self.connections.values()))

    def restart(self, name: str) -> bool:
        connection = self.connections.get(name)
        if connection is None:
            return False
        connection.restart()
        return True

    # ------------------------------------------------------------------ status

    def status(self) -> list[dict]:
        """Every server, live: `name, connected, status, tools` (the spec's fields; tools null unless
        connected) and ours: `command, url, error, stderr, readOnly, retryIn`."""
        out = []
        now = time.monotonic()
        for c in self.connections.values():
            command, url = shown_target(c.config)
            entry: dict[str, Any] = {
                "name": c.name, "connected": c.connected, "status": c.status,
                "tools": [{"name": t.name, "description": t.description} for t in c.tools] if c.connected else None,
                "command": command, "url": url, "error": c.error, "stderr": c.stderr.lines() if c.error else [],
                "readOnly": c.read_only,
            }
            if c.retry_at is not None:
                entry["retryIn"] = max(0, round(c.retry_at - now))
            out.append(entry)
        return out

    # ------------------------------------------------------------------ tools (ExternalTools)

    def _table(self) -> dict[str, tuple[McpConnection, McpTool]]:
        """Offered name → (server, tool), over every tool each server last listed. Deterministic (config
        order, then the server's order), so the names a model saw still resolve when it calls."""
        taken = {spec.name for spec in TOOL_SPECS}
        table: dict[str, tuple[McpConnection, McpTool]] = {}
        for connection in self.connections.values():
            for tool in connection.tools:
                name = tool_name(connection.name, tool.name, taken)
                taken.add(name)
                table[name] = (connection, tool)
        return table

    def specs(self) -> list[ToolSpec]:
        return [ToolSpec(name, _description(c, t), t.input_schema, c.read_only)
                for name, (c, t) in self._table().items() if c.status == CONNECTED]

    def prepare(self, name: str, params: dict) -> PreparedCall | None:
        found = self._table().get(name)
        if found is None:
            return None
        connection, tool = found
        if not connection.connected:
            raise ToolError(f"MCP server {connection.name} is not connected ({connection.status}"
                            + (f": {connection.error}" if connection.error else "") + "); the tool was not run")
        arguments = json.dumps(params, ensure_ascii=False, separators=(",", ":"))

        async def perform() -> ToolResult:
            result = await connection.call(tool.name, params)
            result.metadata.setdefault("mcp", {"server": connection.name, "tool": tool.name})
            return result

        return PreparedCall(f"Call {tool.name} on the MCP server {connection.name}", "call",
                            {"server": connection.name, "tool": tool.name, "arguments": arguments}, perform,
                            asks_permission=not connection.read_only)

    def resolve(self, requested: str) -> tuple[str | None, list[str]]:
        """The offered name for what a person typed: the offered name itself, `server.tool`,
        `server/tool`, or a tool name only one connected server has. (None, candidates) otherwise."""
        table = {n: v for n, v in self._table().items() if v[0].connected}
        if requested in table:
            return requested, []
        server, sep, tool = requested.replace("/", ".").partition(".")
        matches = [n for n, (c, t) in table.items()
                   if (sep and c.name == server and t.name == tool) or (not sep and t.name == requested)]
        if len(matches) == 1:
            return matches[0], []
        return None, matches or sorted(table)


def _description(connection: McpConnection, tool: McpTool) -> str:
    head = f"[MCP server {connection.name}] "
    return head + (tool.description or f"The {tool.name} tool.")
