"""Standing permission answers as the embedded server keeps them (`/api/permission-rules`, an
extension: a Mix server answers 404, and the client then offers "allow once" only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

SCOPES = ("session", "always")


@dataclass(frozen=True)
class PermissionRule:
    id: str
    tool: str
    scope: str  # "session": for one session, while the server runs · "always": for the tool in one folder
    session_id: str = ""
    folder: str = ""
    created_at: datetime | None = None

    @classmethod
    def from_json(cls, data: Any) -> "PermissionRule":
        d = data if isinstance(data, dict) else {}
        created = d.get("createdAt")
        return cls(
            id=str(d.get("id") or ""), tool=str(d.get("tool") or ""), scope=str(d.get("scope") or ""),
            session_id=str(d.get("sessionId") or ""), folder=str(d.get("folder") or ""),
            created_at=datetime.fromtimestamp(created, timezone.utc) if isinstance(created, (int, float)) else None,
        )

    @property
    def where(self) -> str:
        """Where the rule applies, in words."""
        return f"this session ({self.session_id[:8]})" if self.scope == "session" else f"folder {self.folder}"
