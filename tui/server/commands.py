"""Slash commands: `/help`, `/session`, … answered with one `complete` whose content is a JSON string.

Each command's content is an object with a `type` naming the command and fields made for
rendering (PROTOCOL §5.6). The shapes:

  help      {"type":"help","commands":[{"name","description","usage"}]}
  clear     {"type":"clear","sessionId","message"}       — the client opens a new session
  session   {"type":"session","session":{id,title,createdAt,messageCount,userMessageCount,
             assistantMessageCount,toolCallCount,promptTokens,completionTokens,cost,
             parentSessionId,workingDirectory,fileCount}}
  sessions  {"type":"sessions","currentSessionId","sessions":[{id,title,createdAt,messageCount,
             cost,parentSessionId,current}]}
  tools     {"type":"tools","tools":[{name,description,readOnly,requiresPermission,available}]}
  mcp       {"type":"mcp","servers":[{name,command,url,connected,status,error,stderr,readOnly,retryIn?,
             tools:[{name,description}] or null}]}
  context   {"type":"context","model","used","limit","percent","level":"ok"|"warning"|"critical",
             "messages","files"}
  status    {"type":"status","version","provider","model","sessionId","providers":[…auth…],
             "mcpServers","runningTurn"}
  login     {"type":"login","providers":[{provider,displayName,authenticated,authMethod,keyFormat}],
             "message"}
  logout    {"type":"logout","provider","loggedOut","message","providers":[…]}
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from tui import __version__
from tui.server import catalog

CONTEXT_WARNING = 70.0  # percent of the context window
CONTEXT_CRITICAL = 90.0


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    usage: str
    run: Callable[[Any, str, str], dict]


@dataclass
class Outcome:
    """What a slash command produced: the SSE event to send and its data."""

    name: str
    ok: bool
    event: str
    data: dict = field(default_factory=dict)


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts)).astimezone().isoformat()


def _help(state: Any, sid: str, args: str) -> dict:
    return {"type": "help", "commands": [{"name": c.name, "description": c.description, "usage": c.usage} for c in COMMANDS.values()]}


def _clear(state: Any, sid: str, args: str) -> dict:
    return {"type": "clear", "sessionId": sid, "message": "Start a new session to begin with an empty context."}


def _session(state: Any, sid: str, args: str) -> dict:
    s = state.store.get_session(sid)
    folder = state.settings.storage_dir / sid
    files = sum(1 for p in folder.iterdir() if p.name != ".thumbnails") if folder.is_dir() else 0
    return {
        "type": "session",
        "session": {
            "id": s.id, "title": s.title, "createdAt": _iso(s.created_at),
            "messageCount": s.user_messages + s.assistant_messages + s.tool_messages,
            "userMessageCount": s.user_messages, "assistantMessageCount": s.assistant_messages,
            "toolCallCount": s.tool_messages, "promptTokens": s.prompt_tokens,
            "completionTokens": s.completion_tokens, "cost": s.cost,
            "parentSessionId": s.parent_session_id, "workingDirectory": s.working_directory,
            "fileCount": files,
        },
    }


def _sessions(state: Any, sid: str, args: str) -> dict:
    return {
        "type": "sessions",
        "currentSessionId": sid,
        "sessions": [
            {"id": s.id, "title": s.title, "createdAt": _iso(s.created_at),
             "messageCount": s.user_messages + s.assistant_messages + s.tool_messages, "cost": s.cost,
             "parentSessionId": s.parent_session_id, "current": s.id == sid}
            for s in state.store.list_sessions()
        ],
    }


def _tools(state: Any, sid: str, args: str) -> dict:
    return {"type": "tools", "tools": catalog.agent_tools(state.runner.agent, state.mcp.specs())}


def mcp_servers(state: Any) -> list[dict]:
    """The configured MCP servers as they are now (tui.server.mcp.McpManager.status)."""
    return state.mcp.status()


def _mcp(state: Any, sid: str, args: str) -> dict:
    return {"type": "mcp", "servers": mcp_servers(state)}


def context_usage(state: Any, sid: str) -> dict:
    """Estimated tokens in the session (about 4 characters a token) against the model's window."""
    messages = state.store.list_messages(sid)
    chars = sum(len(m.text) + len(m.reasoning) + len(json.dumps(m.tool_calls)) for m in messages)
    used = (chars + 3) // 4
    prefs = state.store.get_preferences() or catalog.default_preferences()
    provider = catalog.available_providers().get(prefs.get("preferred_provider", ""), catalog.available_providers()[catalog.OFFLINE])
    limit = provider.context_limit
    percent = round(100.0 * used / limit, 1) if limit else 0.0
    level = "critical" if percent >= CONTEXT_CRITICAL else "warning" if percent >= CONTEXT_WARNING else "ok"
    return {"type": "context", "model": prefs.get("main_agent_model", catalog.OFFLINE_MODEL), "used": used,
            "limit": limit, "percent": percent, "level": level, "messages": len(messages)}


def _context(state: Any, sid: str, args: str) -> dict:
    return context_usage(state, sid)


def _auth_list(state: Any) -> list[dict]:
    prefs = state.store.get_preferences() or catalog.default_preferences()
    status = catalog.auth_status(state.settings.data_dir, "")
    providers = catalog.available_providers()
    return [
        {"provider": name, "displayName": providers[name].display_name, "authenticated": entry["authenticated"],
         "authMethod": entry["auth_method"], "keyFormat": providers[name].key_format,
         "preferred": name == prefs.get("preferred_provider")}
        for name, entry in status.items()
    ]


def _status(state: Any, sid: str, args: str) -> dict:
    prefs = state.store.get_preferences() or catalog.default_preferences()
    return {
        "type": "status", "version": __version__, "provider": prefs["preferred_provider"],
        "model": prefs["main_agent_model"], "sessionId": sid, "providers": _auth_list(state),
        "mcpServers": len(state.settings.mcp_servers), "runningTurn": state.runner.is_running(sid),
    }


def _login(state: Any, sid: str, args: str) -> dict:
    return {
        "type": "login", "providers": _auth_list(state),
        "message": "The offline agent needs no login. To add a provider key, send it to POST /api/auth/api-key "
                   "(mix-tui: the credentials screen).",
    }


def _logout(state: Any, sid: str, args: str) -> dict:
    provider = args.strip().lower()
    if not provider:
        return {"type": "logout", "provider": "", "loggedOut": False,
                "message": f"Name a provider to log out of: {', '.join(catalog.KEYED_PROVIDERS)}", "providers": _auth_list(state)}
    if provider not in catalog.KEYED_PROVIDERS:
        return {"type": "logout", "provider": provider, "loggedOut": False,
                "message": f"Unknown provider '{provider}'", "providers": _auth_list(state)}
    removed = catalog.secrets(state.settings.data_dir).delete(provider)
    message = f"Removed the stored {provider} key" if removed else f"No stored {provider} key"
    providers = getattr(state, "providers", None)
    if providers is not None:
        from tui.server.providers import service

        if service.after_key_removed(providers, state.store, provider):
            message += "; new messages use the offline agent"
    return {"type": "logout", "provider": provider, "loggedOut": bool(removed), "message": message,
            "providers": _auth_list(state)}


COMMANDS: dict[str, Command] = {
    c.name: c
    for c in sorted(
        [
            Command("help", "List the available commands", "/help", _help),
            Command("clear", "Start over in a new session", "/clear", _clear),
            Command("session", "Details of this session", "/session", _session),
            Command("sessions", "List all sessions", "/sessions", _sessions),
            Command("tools", "The agent's tools and whether they ask first", "/tools", _tools),
            Command("mcp", "Configured MCP servers and their tools", "/mcp", _mcp),
            Command("context", "How much of the model's context this session uses", "/context", _context),
            Command("status", "Server, provider and model status", "/status", _status),
            Command("login", "How to sign in to a provider", "/login", _login),
            Command("logout", "Remove a provider's stored key", "/logout <provider>", _logout),
        ],
        key=lambda c: c.name,
    )
}


def names() -> list[str]:
    return list(COMMANDS)


def command_json(c: Command) -> dict:
    # All of ours are built into the server (Go labels some "file"; we say what they are).
    return {"name": c.name, "description": c.description, "type": "builtin", "usage": c.usage}


def run_slash(state: Any, session_id: str, text: str) -> Outcome:
    head, _, args = text[1:].partition(" ")
    name = head.strip().lower()
    command = COMMANDS.get(name)
    if command is None:
        return Outcome(name, False, "error", {"error": f"Invalid slash command: /{name}"})
    try:
        content = command.run(state, session_id, args)
    except Exception as exc:  # a broken command must still end the exchange with a clear message
        return Outcome(name, False, "error", {"error": f"Command execution failed: {exc}"})
    return Outcome(name, True, "complete", {"type": "complete", "content": json.dumps(content, ensure_ascii=False), "done": True})
