"""The management views' host: the shared host App with the app's and the views' styles, and
helpers that put files and keys in the real server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.support.host import ScreenHost, settle, text_of, wait_until
from tui.themes import themes_dir

__all__ = ["FIXED_TIME", "Host", "put_file", "settle", "store_key", "text_of", "wait_until"]

FIXED_TIME = 1_767_225_600  # 2026-01-01 00:00 UTC: stable dates for snapshots


class Host(ScreenHost):
    CSS_PATH = [themes_dir() / "app.tcss", themes_dir() / "views.tcss"]

    def __init__(self, make_screen: Any) -> None:
        super().__init__(make_screen)
        self.models_shown: list[str] = []  # what PreferencesChanged would put in the status bar

    def on_models_screen_preferences_changed(self, message: Any) -> None:
        self.models_shown.append(message.model)


def put_file(server: Any, session_id: str, name: str, data: bytes, *, when: float = FIXED_TIME) -> Path:
    """A file straight in the server's session folder, with a fixed modification time."""
    folder = server.settings.storage_dir / session_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    os.utime(path, (when, when))
    return path


def store_key(server: Any, provider: str = "anthropic", key: str = "sk-ant-" + "a" * 30) -> None:
    with server.client() as c:
        c.post("/api/auth/api-key", json={"provider": provider, "api_key": key}).raise_for_status()
