"""Standing answers to permission requests, an extension of this server (Mix servers ask every time).

A rule allows one tool without asking, either for the rest of a session (kept while the server runs)
or always in one folder (kept in `permission_rules.json` beside the server's data, mode 0600). The
broker consults `match` before it asks; a request answered by a rule is recorded as "granted by rule".

Routes:
- `POST /api/permissions/{id}/remember` `{"scope": "session" | "always"}`: grant a waiting request and
  keep the rule → `{status, id, rule}`; 404 when nothing waits under that id.
- `GET /api/permission-rules` → `{"rules": [{id, tool, scope, sessionId?, folder?, createdAt}]}`.
- `DELETE /api/permission-rules/{id}` → 204, or 404.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tui.server import errors

log = logging.getLogger("tui.server")

SCOPES = ("session", "always")


@dataclass(frozen=True)
class Rule:
    id: str
    tool: str
    scope: str  # "session" | "always"
    session_id: str = ""  # scope "session"
    folder: str = ""  # scope "always"
    created_at: float = 0.0

    def matches(self, session_id: str, tool: str, folder: str) -> bool:
        if self.tool.lower() != tool.lower():
            return False
        return self.session_id == session_id if self.scope == "session" else self.folder == folder

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "tool": self.tool, "scope": self.scope, "createdAt": int(self.created_at)}
        if self.scope == "session":
            data["sessionId"] = self.session_id
        else:
            data["folder"] = self.folder
        return data


class PermissionRules:
    """Session rules in memory, folder rules in a JSON file (rewritten whole on each change)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._rules: list[Rule] = self._load()

    def _load(self) -> list[Rule]:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:  # a broken file must not stop the server: it asks again
            log.warning("ignoring unreadable %s: %s", self.path.name, exc)
            return []
        rules = []
        for item in raw.get("rules", []) if isinstance(raw, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("tool"), str) and isinstance(item.get("folder"), str):
                rules.append(Rule(str(item.get("id") or uuid.uuid4()), item["tool"], "always",
                                  folder=item["folder"], created_at=float(item.get("createdAt") or 0)))
        return rules

    def _save(self) -> None:
        kept = [r.to_json() for r in self._rules if r.scope == "always"]
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump({"rules": kept}, fh, indent=1)
        os.replace(tmp, self.path)

    def rules(self) -> list[Rule]:
        with self._lock:
            return list(self._rules)

    def match(self, session_id: str, tool: str, folder: str) -> Rule | None:
        with self._lock:
            return next((r for r in self._rules if r.matches(session_id, tool, folder)), None)

    def add(self, scope: str, tool: str, session_id: str, folder: str) -> Rule:
        if scope not in SCOPES:
            raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
        with self._lock:
            same = next((r for r in self._rules if r.scope == scope and r.matches(session_id, tool, folder)), None)
            if same is not None:
                return same
            rule = Rule(str(uuid.uuid4()), tool, scope, session_id if scope == "session" else "",
                        folder if scope == "always" else "", time.time())
            self._rules.append(rule)
            if scope == "always":
                self._save()
            return rule

    def remove(self, rule_id: str) -> bool:
        with self._lock:
            found = next((r for r in self._rules if r.id == rule_id), None)
            if found is None:
                return False
            self._rules.remove(found)
            if found.scope == "always":
                self._save()
            return True


# ---------------------------------------------------------------- routes


def _broker(request: Request) -> Any:
    return request.app.state.runner.permissions


async def remember(request: Request) -> Response:
    pid = request.path_params["id"]
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        return errors.validation("body", "invalid JSON")
    scope = body.get("scope") if isinstance(body, dict) else None
    if scope not in SCOPES:
        return errors.validation("scope", f"must be one of {', '.join(SCOPES)}")
    broker = _broker(request)
    waiting = broker.waiting(pid)
    if waiting is None:
        return errors.not_found("Permission request", pid)
    rule = broker.rules.add(scope, waiting["toolName"], waiting["sessionId"], waiting["path"])
    broker.resolve(pid, True)
    return JSONResponse({"status": "granted", "id": pid, "rule": rule.to_json()})


async def list_rules(request: Request) -> Response:
    return JSONResponse({"rules": [r.to_json() for r in _broker(request).rules.rules()]})


async def delete_rule(request: Request) -> Response:
    rule_id = request.path_params["id"]
    if not _broker(request).rules.remove(rule_id):
        return errors.not_found("Permission rule", rule_id)
    return Response(status_code=204)


def routes() -> list[Route]:
    return [
        Route("/api/permissions/{id}/remember", remember, methods=["POST"]),
        Route("/api/permission-rules", list_rules, methods=["GET"]),
        Route("/api/permission-rules/{id}", delete_rule, methods=["DELETE"]),
    ]
