"""The user's MCP servers (`[mcp.servers.NAME]` in config.toml), run by the embedded server with the
official `mcp` SDK: one supervised connection per server (`connection`), the manager that offers
their tools to the agents and reports their status (`manager`), the config resolution (`spec`).
The SDK is imported only once a server starts, in a worker thread."""

from tui.server.mcp.manager import McpManager

__all__ = ["McpManager"]
