"""What it takes to start one configured MCP server, and the names its tools get.

`${NAME}` in `args`, `env` and `headers` is replaced when the server starts: first from the
environment, then from the server's secrets file (mode 0600). The resolved values are registered
with the log redactor and never put in a status or error message; what is shown is the template.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from tui.config import McpServerConfig, register_secret

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_NOT_IN_NAME = re.compile(r"[^A-Za-z0-9_-]+")
MAX_TOOL_NAME = 64  # what Anthropic and OpenAI accept (^[a-zA-Z0-9_-]{1,64}$)


class SpecError(Exception):
    """The server cannot be started as configured; the message says why (never a secret)."""


@dataclass
class ServerSpec:
    name: str
    command: str = ""
    args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    cwd: str = ""
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    read_only: bool = False
    timeout: float = 60.0

    @property
    def transport(self) -> str:
        return "stdio" if self.command else "http"


def shown_target(config: McpServerConfig) -> tuple[str, str]:
    """(command line, url) as configured, placeholders unexpanded: safe to show."""
    return " ".join([config.command, *config.args]).strip(), config.url


def resolve(config: McpServerConfig, lookup: Callable[[str], str | None]) -> ServerSpec:
    """The spec to start, with `${NAME}` filled in by `lookup`; SpecError when something is missing."""
    if config.command and config.url:
        raise SpecError("configure either command (a local server) or url (a remote one), not both")
    if not config.command and not config.url:
        raise SpecError("no command or url configured")
    if config.url and not re.match(r"^https?://", config.url):
        raise SpecError(f"url must start with http:// or https:// (got {config.url!r})")
    if config.cwd and not os.path.isdir(os.path.expanduser(config.cwd)):
        raise SpecError(f"cwd {config.cwd!r} is not a folder")
    if config.timeout <= 0:
        raise SpecError("timeout must be a positive number of seconds")

    def fill(value: str, where: str) -> str:
        def one(match: re.Match[str]) -> str:
            found = lookup(match.group(1))
            if not found:
                raise SpecError(f"{where} needs ${{{match.group(1)}}}: set it in the environment or the secrets file")
            register_secret(found)
            return found

        return _PLACEHOLDER.sub(one, value)

    return ServerSpec(
        name=config.name, command=fill(config.command, "command"),
        args=[fill(a, "args") for a in config.args],
        env={k: fill(v, f"env.{k}") for k, v in config.env.items()},
        cwd=os.path.expanduser(config.cwd) if config.cwd else "",
        url=fill(config.url, "url"), headers={k: fill(v, f"headers.{k}") for k, v in config.headers.items()},
        read_only=config.read_only, timeout=config.timeout,
    )


def secret_lookup(env: Mapping[str, str], stored: Callable[[str], str | None]) -> Callable[[str], str | None]:
    """`${NAME}` → the environment variable NAME, else the secrets file's entry NAME."""
    return lambda name: env.get(name) or stored(name)


def tool_name(server: str, tool: str, taken: set[str]) -> str:
    """`<server>_<tool>` (the Mix server's MCP naming), cut to what providers accept; a hash suffix
    when that name is already taken, so two servers (or a built-in tool) never clash."""
    base = _NOT_IN_NAME.sub("_", f"{server}_{tool}").strip("_") or "tool"
    name = base[:MAX_TOOL_NAME]
    if name in taken:
        digest = hashlib.sha1(f"{server}\0{tool}".encode()).hexdigest()[:6]
        name = f"{base[:MAX_TOOL_NAME - 7]}_{digest}"
    return name
