"""`mix-tui web`: the app served to browser tabs. This module is what a tab's app needs (kept light:
no aiohttp); the server itself is tui.web.server.

The web process starts one embedded Mix server and shares it between tabs: each tab's app gets its
URL and bearer token in the environment (never argv, which `ps` shows to every local user) and takes
them out again at once, so the tools it runs never inherit the token.
"""

from __future__ import annotations

import os
from typing import Any, MutableMapping

SERVER_URL_ENV = "MIX_TUI_WEB_SERVER_URL"
SERVER_TOKEN_ENV = "MIX_TUI_WEB_SERVER_TOKEN"


def take_shared_server(environ: MutableMapping[str, str] | None = None) -> tuple[str, str | None] | None:
    """(url, token) of the server `mix-tui web` shares with this tab's app, removed from the
    environment; None when this app was not started by `mix-tui web`."""
    environ = os.environ if environ is None else environ
    url = environ.pop(SERVER_URL_ENV, "")
    token = environ.pop(SERVER_TOKEN_ENV, "") or None
    return (url, token) if url else None


def join_shared_server(config: Any) -> str | None:
    """In a tab's app: point `config` at the shared server, tie this process's life to the web
    process's, and return the server's token; None (nothing changed) outside `mix-tui web`."""
    shared = take_shared_server()
    if shared is None:
        return None
    from tui.lifeline import die_with_parent

    die_with_parent()
    config.server = shared[0]
    return shared[1]
