"""Running turns: one at a time per session, cancellable, with a permission broker.

`TurnRunner.submit(session_id, text, plan_mode)` queues a turn and returns its task; the task's
result is a `TurnResult`. Turns of one session run in order (a second send waits for the first).
The agent sees the world through `SessionTurnContext` (the TurnContext of tui.server.agent.base).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tui.server.sandbox import UNCONFINED, Sandbox
from tui.server.drafts import AnswerDraft
from tui.server.hub import Hub
from tui.server.notifications import Answer, NotificationBroker
from tui.server.store import INTERRUPTED, Store

log = logging.getLogger("tui.server")

CANCELLED_ERROR = "request cancelled by user"
TERMINAL_EVENTS = ("complete", "error", "rate_limit_error")
ANSWERED_MEMORY = 1000


@dataclass
class TurnResult:
    """How a turn ended: `event` is "complete", "error" or "rate_limit_error" with its data."""

    event: str = ""
    data: dict = field(default_factory=dict)
    message_ids: list[str] = field(default_factory=list)
    streamed_text: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.event == "complete"


# ---------------------------------------------------------------- permissions


@dataclass
class PendingPermission:
    id: str
    session_id: str
    future: asyncio.Future
    request: dict
    requested_at: float


class PermissionBroker:
    def __init__(self, store: Store, hub: Hub, timeout: float) -> None:
        self.store = store
        self.hub = hub
        self.timeout = timeout
        self._pending: dict[str, PendingPermission] = {}
        self.rules: Any = None  # tui.server.permission_rules.PermissionRules: standing answers, asked first
        self._answered: dict[str, None] = {}  # recently answered ids, oldest first, so a replay gets 409

    def waiting(self, permission_id: str) -> dict | None:
        """The request still waiting under this id (its event data), or None."""
        pending = self._pending.get(permission_id)
        return pending.request if pending is not None and not pending.future.done() else None

    def pending(self, session_id: str | None = None) -> list[dict]:
        return [p.request for p in self._pending.values() if session_id is None or p.session_id == session_id]

    async def request(
        self, session_id: str, *, tool_name: str, description: str, action: str, path: str, params: dict,
        emit: Callable[[str, dict], Any],
    ) -> bool:
        pid = str(uuid.uuid4())
        rule = self.rules.match(session_id, tool_name, path) if self.rules is not None else None
        if rule is not None:  # allowed by a standing answer: nobody is asked
            self._record(pid, session_id, tool_name, action, path, description, params, f"granted by rule {rule.id}", time.time())
            return True
        data = {
            "type": "permission", "id": pid, "sessionId": session_id, "toolName": tool_name,
            "description": description, "action": action, "path": path, "params": params,
        }
        future = asyncio.get_running_loop().create_future()
        pending = PendingPermission(pid, session_id, future, data, time.time())
        self._pending[pid] = pending
        decision = "timeout"
        try:
            await emit("permission", data)
            try:
                granted = await asyncio.wait_for(asyncio.shield(future), self.timeout)
                decision = "granted" if granted else "denied"
                return granted
            except asyncio.TimeoutError:
                return False
        except asyncio.CancelledError:
            decision = "cancelled"
            raise
        finally:
            self._pending.pop(pid, None)
            self._remember(pid)  # timed out or cancelled counts as answered too
            self._record(pid, session_id, tool_name, action, path, description, params, decision, pending.requested_at)

    def _record(self, pid: str, session_id: str, tool_name: str, action: str, path: str, description: str,
                params: dict, decision: str, requested_at: float) -> None:
        try:
            self.store.record_permission(
                id=pid, session_id=session_id, tool_name=tool_name, action=action, path=path,
                description=description, params=params, decision=decision, requested_at=requested_at,
            )
        except Exception:  # a lost audit row must not break the turn
            log.exception("could not record permission decision")

    def resolve(self, permission_id: str, granted: bool) -> str:
        """Answer a pending request once: "ok", "answered" (a second answer) or "unknown"."""
        pending = self._pending.get(permission_id)
        if pending is None:
            return "answered" if permission_id in self._answered else "unknown"
        if pending.future.done():
            return "answered"
        pending.future.set_result(granted)
        self._remember(permission_id)
        return "ok"

    def _remember(self, permission_id: str) -> None:
        self._answered[permission_id] = None
        while len(self._answered) > ANSWERED_MEMORY:
            del self._answered[next(iter(self._answered))]

    def cancel_session(self, session_id: str) -> None:
        for p in list(self._pending.values()):
            if p.session_id == session_id and not p.future.done():
                p.future.set_result(False)


# ---------------------------------------------------------------- the context an agent sees


class SessionTurnContext:
    """Implements tui.server.agent.base.TurnContext for one turn."""

    def __init__(
        self, runner: "TurnRunner", session_id: str, session_dir: Path, plan_mode: bool, history: list[dict],
        result: TurnResult,
    ) -> None:
        self.session_id = session_id
        self.session_dir = session_dir
        self.plan_mode = plan_mode
        self.chunk_delay = runner.chunk_delay
        self.history = history
        self.external_tools = runner.external_tools  # the MCP servers' tools (agent.tools.ExternalTools)
        self._runner = runner
        self._result = result
        self.draft = AnswerDraft(runner.store, session_id)
        self.sandbox = runner.sandbox  # how the shell tool confines commands

    async def emit(self, event: str, data: dict) -> None:
        result = self._result
        if result.event:
            return  # the turn already ended; nothing may follow its terminal event
        if event == "content":
            result.streamed_text.append(data.get("content", ""))
        elif event in TERMINAL_EVENTS:
            result.event, result.data = event, data
        self.draft.observe(event, data)
        self._runner.hub.publish(self.session_id, event, data)

    async def request_permission(self, *, tool_name: str, description: str, action: str, path: str, params: dict) -> bool:
        return await self._runner.permissions.request(
            self.session_id, tool_name=tool_name, description=description, action=action, path=path,
            params=params, emit=self.emit,
        )

    async def ask_user(self, *, title: str, message: str, response_type: str = "text",
                       choices: list[str] | None = None) -> Answer | None:
        """A question to the user (`notification`); their answer, or None without one."""
        return await self._runner.notifications.ask(
            self.session_id, title=title, message=message, response_type=response_type, choices=choices,
            emit=self.emit,
        )

    def store_message(
        self, role: str, text: str, *, tool_calls: list[dict] | None = None, reasoning: str = "",
        reasoning_duration: float | None = None, finish_reason: str = "", model: str = "",
    ) -> str:
        store = self._runner.store
        if finish_reason == "canceled" and self._runner.stopping:
            finish_reason = INTERRUPTED  # nobody cancelled: the server is shutting down under the turn
        mid = self.draft.adopt() if role == "assistant" else None
        if mid is not None:  # the streamed draft becomes the stored answer, in its place
            store.update_message(mid, text=text, tool_calls=tool_calls, reasoning=reasoning,
                                 reasoning_duration=reasoning_duration, finish_reason=finish_reason, model=model)
        else:
            mid = store.add_message(
                self.session_id, role, text, tool_calls=tool_calls, reasoning=reasoning,
                reasoning_duration=reasoning_duration, finish_reason=finish_reason, model=model,
            )
        self._result.message_ids.append(mid)
        if role == "tool" and tool_calls:
            self._runner.after_tools(self.session_id, mid, self.session_dir)
        return mid

    def record_usage(self, prompt_tokens: int, completion_tokens: int, cost: float) -> None:
        """Extension for real providers: token usage of the last request and its cost (USD)."""
        self._runner.store.add_usage(self.session_id, prompt_tokens, completion_tokens, cost)


# ---------------------------------------------------------------- the runner


class TurnRunner:
    def __init__(
        self, store: Store, hub: Hub, storage_dir: Path, *, agent_factory: Callable[[], Any],
        chunk_delay: float, permission_timeout: float, sandbox: Sandbox = UNCONFINED,
    ) -> None:
        self.sandbox = sandbox
        self.store = store
        self.hub = hub
        self.storage_dir = storage_dir
        self.agent_factory = agent_factory
        self.chunk_delay = chunk_delay
        self.permissions = PermissionBroker(store, hub, permission_timeout)
        self.external_tools: Any = None  # set by create_app: the MCP manager
        self.notifications = NotificationBroker(permission_timeout, enabled="notification" in hub.wire.protocol.events)
        self._agent: Any = None
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: dict[str, set[asyncio.Task]] = {}
        self._callback_tasks: set[asyncio.Task] = set()
        self._running: dict[str, tuple[str, str, AnswerDraft]] = {}  # session -> (user message id, text, draft)
        self.stopping = False  # shutdown() ends the running turns: they were interrupted, not cancelled

    def in_progress(self, session_id: str) -> dict | None:
        """The running turn of a session as a client that connects now needs it (`turn_in_progress`):
        its question and the answer streamed so far, exactly up to the next event it will receive."""
        running = self._running.get(session_id)
        if running is None:
            return None
        user_id, text, draft = running
        return {"type": "turn_in_progress", "sessionId": session_id, "messageId": user_id, "content": text,
                "answer": draft.text, "thinking": draft.reasoning,
                "tools": [{"id": c["id"], "name": c["name"], "input": c["input"]} for c in draft.calls.values()]}

    @property
    def agent(self) -> Any:
        if self._agent is None:
            self._agent = self.agent_factory()
        return self._agent

    def session_dir(self, session_id: str) -> Path:
        path = self.storage_dir / session_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def is_running(self, session_id: str) -> bool:
        return bool(self._tasks.get(session_id))

    def submit(self, session_id: str, text: str, plan_mode: bool = False) -> "asyncio.Task[TurnResult]":
        task = asyncio.get_running_loop().create_task(self._run(session_id, text, plan_mode), name=f"turn-{session_id}")
        self._tasks.setdefault(session_id, set()).add(task)
        task.add_done_callback(lambda t: self._forget(session_id, t))
        return task

    def _forget(self, session_id: str, task: asyncio.Task) -> None:
        tasks = self._tasks.get(session_id)
        if tasks is not None:
            tasks.discard(task)
            if not tasks:
                del self._tasks[session_id]

    def after_tools(self, session_id: str, tool_message_id: str, session_dir: Path) -> None:
        """Run the session's callbacks for the tool results just stored (tui.server.callbacks)."""
        from tui.server import callbacks

        session = self.store.get_session(session_id)
        if session is None or not session.options.get("callbacks"):
            return
        task = asyncio.get_running_loop().create_task(
            callbacks.run_for_message(self, session, tool_message_id, session_dir), name=f"callbacks-{session_id}")
        self._callback_tasks.add(task)
        task.add_done_callback(self._callback_tasks.discard)

    def cancel(self, session_id: str) -> bool:
        """Cancel the running turn and any queued ones of this session; True if there was any."""
        tasks = list(self._tasks.get(session_id, ()))
        for task in tasks:
            task.cancel()
        return bool(tasks)

    async def shutdown(self) -> None:
        self.stopping = True
        tasks = [t for ts in self._tasks.values() for t in ts] + list(self._callback_tasks)
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=2)

    async def _run(self, session_id: str, text: str, plan_mode: bool) -> TurnResult:
        lock = self._locks.setdefault(session_id, asyncio.Lock())
        result = TurnResult()
        started = False
        ctx: SessionTurnContext | None = None
        try:
            async with lock:
                started = True
                history = [m.as_history() for m in self.store.list_messages(session_id)]
                ctx = SessionTurnContext(self, session_id, self.session_dir(session_id), plan_mode, history, result)
                try:
                    if not self.store.session_exists(session_id):
                        raise LookupError(f"session {session_id} no longer exists")
                    user_id = self.store.add_message(session_id, "user", text)
                    result.message_ids.append(user_id)
                    ctx.draft.open()
                    self._running[session_id] = (user_id, text, ctx.draft)
                    await ctx.emit("user_message_created",
                                   {"type": "user_message_created", "messageId": user_id, "content": text})
                    if text.startswith("!"):
                        from tui.server.agent import run_shell_passthrough

                        await run_shell_passthrough(ctx, text[1:].strip())
                    else:
                        await self.agent.run_turn(ctx, text)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the agent broke: end the turn with an error the client shows
                    log.exception("turn failed in session %s", session_id)
                    await ctx.emit("error", {"error": f"failed to process events: {exc}"})
                if not result.event:
                    await ctx.emit("error", {"error": "the agent ended the turn without an answer"})
        except asyncio.CancelledError:
            self.permissions.cancel_session(session_id)
            self.notifications.cancel_session(session_id)
            if started and not result.event:
                result.event, result.data = "error", {"error": CANCELLED_ERROR}
                self.hub.publish(session_id, "error", result.data)
            elif not started:
                result.event, result.data = "error", {"error": CANCELLED_ERROR}
            # Swallow the cancellation: the turn is over and callers await its result.
        finally:
            if ctx is not None and self._running.get(session_id, (None, None, None))[2] is ctx.draft:
                del self._running[session_id]
            if ctx is not None:  # what streamed and was not stored by the agent is kept, marked
                cancelled = result.data.get("error") == CANCELLED_ERROR
                ctx.draft.close(INTERRUPTED if cancelled and self.stopping else "canceled" if cancelled else "error")
        return result
