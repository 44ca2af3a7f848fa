"""What one server instance is configured with. Kept apart from app.py so that importing it is cheap."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

from tui.config import Config, McpServerConfig

DEFAULT_UPLOAD_CAP = 100 * 1024 * 1024  # bytes; larger uploads get 413


def default_agent_factory() -> Any:
    """The offline agent (imported lazily: it is only needed once a turn runs)."""
    from tui.server.agent import OfflineAgent

    return OfflineAgent()


@dataclass
class ServerSettings:
    data_dir: Path
    token: str | None = None  # when set, every request needs `Authorization: Bearer <token>`
    heartbeat: float = 45.0  # seconds between SSE heartbeats
    permission_timeout: float = 30.0  # seconds before an unanswered permission is denied
    agent_delay: float = 0.012  # seconds between streamed chunks of the agent
    stream_max_age: float | None = None  # close SSE streams after this many seconds (None: never)
    config: Config = field(default_factory=Config)
    protocol: Literal["latest", "seed"] = "latest"  # the Mix spec spoken (tui.server.protocol)
    # POST …/messages: 200 after the turn ("sync") or 202 at once ("async"); None: as the protocol says
    send_mode: Literal["sync", "async"] | None = None
    extensions: bool = True  # routes in neither spec (PATCH rename; fork under latest); False: the spec only
    agent_factory: Callable[[], Any] = default_agent_factory
    max_upload_bytes: int = DEFAULT_UPLOAD_CAP

    @property
    def mcp_servers(self) -> list[McpServerConfig]:
        return self.config.mcp_servers

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "storage"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "server.db"

    @property
    def secrets_path(self) -> Path:
        return self.data_dir / "secrets.json"
