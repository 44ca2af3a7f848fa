"""One turn of a run: subscribe to the session's events, send the prompt, fold the events into a
`TurnModel` (the app's own), write them out, and answer permission prompts by the run's rules.

Nobody is there to answer a prompt, so a tool that asks is refused unless `--allow-all` or
`--allow TOOL` names it; every refusal is reported on stderr. The turn ends with the first
`complete` / `error` of the main agent (what `TurnModel` calls finished), however the server
delivers it (a 200 after the whole turn, or a 202 and everything on the stream).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any, TextIO

from tui.api import events as ev
from tui.api.errors import ApiError
from tui.api.turn import TurnModel, TurnStatus, tool_kind
from tui.scripting.output import JsonLines, PlainText, Progress, summary

CONNECT_TIMEOUT = 15.0  # seconds for the event stream to open before the prompt is sent anyway
STREAM_GRACE = 1.0  # seconds the stream gets to end a turn whose send failed, before the send's error is used
CANCEL_WAIT = 5.0  # seconds the server gets to confirm a cancel before the run stops waiting


@dataclass(frozen=True)
class PermissionRules:
    allow_all: bool = False
    allow: frozenset[str] = frozenset()  # tool names, lower case

    def allows(self, tool_name: str) -> bool:
        return self.allow_all or tool_kind(tool_name) in {tool_kind(name) for name in self.allow}


@dataclass
class Outcome:
    status: TurnStatus
    error: str = ""
    refused: list[str] = field(default_factory=list)  # "tool target" of each refused call
    interrupted: bool = False


class ScriptedTurn:
    def __init__(self, backend: Any, session_id: str, text: str, *, plan_mode: bool, rules: PermissionRules,
                 err: TextIO, answer: PlainText | None = None, json_lines: JsonLines | None = None,
                 progress: Progress | None = None) -> None:
        self.backend = backend
        self.session_id = session_id
        self.text = text
        self.plan_mode = plan_mode
        self.rules = rules
        self.err = err
        self.answer = answer
        self.json = json_lines
        self.progress = progress or Progress(err, False)
        self.turn = TurnModel(user_text=text)
        self.refused: list[str] = []
        self._refused_tools: set[str] = set()
        self._connected = asyncio.Event()
        self._done = asyncio.Event()
        self._answers: set[asyncio.Task] = set()
        self._interrupted = False

    # ------------------------------------------------------------------ the turn

    async def run(self) -> Outcome:
        consumer = asyncio.create_task(self._consume(), name="run-events")
        try:
            await self._wait_any(self._connected.wait(), consumer, timeout=CONNECT_TIMEOUT)
            if not self._done.is_set():
                try:
                    await self.backend.send(self.session_id, self.text, plan_mode=self.plan_mode)
                except ApiError as exc:
                    # The stream may be a moment behind the reply, and it says more: give it a moment.
                    await self._wait_any(self._done.wait(), consumer, timeout=STREAM_GRACE)
                    if not self.turn.status.finished:
                        self.turn.fail(str(exc) if self.turn.version else f"not sent: {exc}")
                        if self.json is not None:
                            self.json.event(self.turn.error)
                        self._done.set()
            await self._wait_any(self._done.wait(), consumer)
            if consumer.done() and not self._done.is_set():
                consumer.result()  # re-raises what ended the stream
        finally:
            consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await consumer
            for task in list(self._answers):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(task, 2)
        if self.answer is not None:
            self.answer.finish()
        turn = self.turn
        error = turn.error.error if turn.error is not None else ""
        return Outcome(turn.status, error, list(self.refused), self._interrupted)

    @staticmethod
    async def _wait_any(awaitable: Any, consumer: asyncio.Task, timeout: float | None = None) -> None:
        waiter = asyncio.ensure_future(awaitable)
        try:
            await asyncio.wait({waiter, consumer}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()

    async def _consume(self) -> None:
        try:
            async for event in self.backend.events(self.session_id):
                self._on_event(event)
                if self.turn.status.finished:
                    self._done.set()
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 — the stream gave up: the turn failed, say why
            self.turn.fail(f"lost the connection to the server: {exc}")
            if self.json is not None:
                self.json.event(self.turn.error)
        self._done.set()

    async def interrupt(self) -> None:
        """Ctrl+C: cancel the turn on the server and wait (briefly) for it to say so."""
        self._interrupted = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.backend.cancel(self.session_id), CANCEL_WAIT)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._done.wait(), CANCEL_WAIT)
        self.turn.mark_cancelled()
        self._done.set()

    @property
    def stdout_closed(self) -> bool:
        sink = self.json.out if self.json is not None else (self.answer.out if self.answer is not None else None)
        return bool(sink is not None and sink.closed)

    # ------------------------------------------------------------------ events

    def _on_event(self, event: Any) -> None:
        if self.json is not None:
            self.json.event(event)
        if self.stdout_closed and not self._interrupted:
            # Nobody reads the answer any more (`| head`): stop the turn rather than run it for nothing.
            self._interrupted = True
            task = asyncio.ensure_future(self.interrupt())
            self._answers.add(task)
            task.add_done_callback(self._answers.discard)
            return
        cls = type(event)
        if cls is ev.Connected or (cls is ev.ConnectionChanged and event.state == "connected"):
            self._connected.set()
            return
        main = not getattr(event, "parent_tool_call_id", None)
        streamed_final = self.turn.final_text if cls is ev.Complete and main else ""
        self.turn.apply(event)
        if not main:
            return
        if cls is ev.ContentDelta:
            self.progress.answering()
            if self.answer is not None:
                self.answer.text(event.content)
        elif cls is ev.ThinkingDelta:
            self.progress.thinking()
        elif cls in (ev.ToolUseStart, ev.ToolSnapshot, ev.ToolExecutionStart):
            if self.answer is not None:
                self.answer.tool_call()
        elif cls is ev.ToolExecutionComplete:
            tool = self.turn.tools.get(event.tool_call_id)
            if tool is not None:
                self.progress.tool_done(tool, refused=tool.id in self._refused_tools)
        elif cls is ev.PermissionRequest:
            self._permission(event)
        elif cls is ev.Complete and self.answer is not None:
            final = self.turn.final_text
            if final.startswith(streamed_final) and len(final) > len(streamed_final):
                self.answer.text(final[len(streamed_final):])  # what the deltas did not bring

    def _permission(self, request: ev.PermissionRequest) -> None:
        tool = next((t for t in self.turn.tools.values() if t.permission and t.permission.request is request), None)
        name = request.tool_name or (tool.name if tool else "") or "tool"
        granted = self.rules.allows(name)
        self.turn.answer_permission(request.id, granted)
        target = summary(request.params, request.path) or (summary(tool) if tool else "") or request.path or request.description
        if not granted:
            name = tool_kind(name)  # what --allow takes: write, bash, ls (the wire may say Write, mix_ls)
            what = f"{name} {target}".strip()
            self.refused.append(what)
            if tool is not None:
                self._refused_tools.add(tool.id)
            self.err.write(f"mix-tui run: refused {what}: nobody can answer a permission prompt in a run "
                           f"(allow it with --allow {name} or --allow-all)\n")
            self.err.flush()
        if self.json is not None:
            self.json.write({"type": "permission_answer", "id": request.id, "tool_name": name, "granted": granted})
        task = asyncio.create_task(self._answer(request.id, granted), name=f"run-permission-{request.id}")
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer(self, request_id: str, granted: bool) -> None:
        try:
            await self.backend.answer_permission(request_id, granted)
        except ApiError as exc:  # the server settles it itself (denied after its timeout)
            self.err.write(f"mix-tui run: could not answer the permission prompt: {exc}\n")
            self.err.flush()
