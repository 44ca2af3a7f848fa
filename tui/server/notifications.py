"""Agent-to-user questions (the latest spec's `notification` event) and their answers.

An agent asks through `NotificationBroker.ask` (the offline agent for "ask me …", real models through
the `ask_user` tool); the question goes out as a `notification` event and the turn waits until
`POST /api/notifications/{id}/respond` answers it or its timeout passes. Under the seed protocol
there is no such event, so a question is answered at once with "no answer".
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tui.server import errors

RESPONSE_TYPES = ("acknowledge", "text", "choice")
NOTIFICATION_TYPES = ("info", "warning", "error", "question")


@dataclass
class Answer:
    type: str
    value: str = ""


@dataclass
class _Pending:
    session_id: str
    response_type: str
    choices: tuple[str, ...]
    future: asyncio.Future


class NotificationBroker:
    def __init__(self, timeout: float, enabled: bool = True) -> None:
        self.timeout = timeout
        self.enabled = enabled  # False: the protocol has no notification event
        self._pending: dict[str, _Pending] = {}

    async def ask(
        self, session_id: str, *, title: str, message: str, response_type: str = "text",
        choices: list[str] | None = None, notification_type: str = "question",
        emit: Callable[[str, dict], Awaitable[Any]],
    ) -> Answer | None:
        """The user's answer, or None (timeout, cancelled turn, or a protocol without questions)."""
        if not self.enabled:
            return None
        if response_type not in RESPONSE_TYPES:
            response_type = "text"
        options = tuple(str(c) for c in choices or ())
        if response_type == "choice" and not options:
            response_type = "text"
        nid = str(uuid.uuid4())
        future = asyncio.get_running_loop().create_future()
        self._pending[nid] = _Pending(session_id, response_type, options, future)
        data: dict[str, Any] = {
            "type": "notification", "id": nid, "sessionId": session_id,
            "notificationType": notification_type if notification_type in NOTIFICATION_TYPES else "question",
            "title": title, "message": message, "responseType": response_type, "timeout": int(self.timeout),
            "createdAt": int(time.time()),
        }
        if options:
            data["choices"] = list(options)
        try:
            await emit("notification", data)
            try:
                return await asyncio.wait_for(asyncio.shield(future), self.timeout)
            except asyncio.TimeoutError:
                return None
        finally:
            self._pending.pop(nid, None)

    def respond(self, notification_id: str, answer: Answer) -> str | None:
        """None when accepted; else why not ("not_found" or a validation message)."""
        pending = self._pending.get(notification_id)
        if pending is None or pending.future.done():
            return "not_found"
        if pending.response_type == "choice" and answer.type == "choice" and answer.value not in pending.choices:
            return f"value must be one of: {', '.join(pending.choices)}"
        pending.future.set_result(answer)
        return None

    def cancel_session(self, session_id: str) -> None:
        for p in list(self._pending.values()):
            if p.session_id == session_id and not p.future.done():
                p.future.set_result(None)


async def respond(request: Request) -> Response:
    from tui.server.app import strict_body

    body = await strict_body(request, {"type", "value"})
    if isinstance(body, Response):
        return body
    kind, value = body.get("type"), body.get("value", "")
    if kind not in RESPONSE_TYPES:
        return errors.validation("type", f"type must be one of {', '.join(RESPONSE_TYPES)}")
    if not isinstance(value, str):
        return errors.validation("value", "must be a string")
    if kind in ("text", "choice") and not value:
        return errors.validation("value", f"value is required for a {kind} response")
    nid = request.path_params["id"]
    problem = request.app.state.runner.notifications.respond(nid, Answer(kind, value))
    if problem == "not_found":
        return errors.error(404, f"Notification with ID '{nid}' not found or already answered", "not_found")
    if problem:
        return errors.validation("value", problem)
    return Response(status_code=204)


def routes() -> list[Route]:
    return [Route("/api/notifications/{id}/respond", respond, methods=["POST"])]
