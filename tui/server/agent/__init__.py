"""Agents of the embedded server. The server's turn runner implements `TurnContext` and calls
`Agent.run_turn`; the tools are shared with any future model-backed agent."""

from tui.server.agent.base import Agent, TurnContext
from tui.server.agent.offline import OfflineAgent, run_shell_passthrough
from tui.server.agent.scripted import ScriptedAgent
from tui.server.agent.tools import TOOL_SPECS, ToolResult, ToolSpec, execute_tool, get_todos

__all__ = ["Agent", "TurnContext", "OfflineAgent", "ScriptedAgent", "run_shell_passthrough", "TOOL_SPECS",
           "ToolSpec", "ToolResult", "execute_tool", "get_todos"]
