"""The Mix server as a tui.api.backend.ChatBackend.

How `send` starts a turn (the choice, and why): always the REST send, `POST /api/sessions/{id}/messages`,
run in a background task. It is the one path every generation has (`/stream/{id}/message` is gone
from v0.6.0 on, silently drops the message when no stream is open, and runs the turn twice with
two open streams). Latest servers answer 202 at once; seed-era servers (and the embedded server in
its default mode) answer only when the whole turn is over, so `send` waits at most `accept_window`
seconds: errors in that window (refused connection, 400, 404) are raised to the caller, who still
has the text; anything later arrives as an `Error` event in `events()`. A seed-era server that
mirrors nothing to SSE still ends the turn: if its 200 reply arrives and the stream brought no
`complete`/`error` within `complete_grace` seconds, a `Complete` built from the reply is injected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Callable, Mapping

from tui.api import events as ev
from tui.api.backend import Capabilities, ChatBackend, Conversation, MessagePage
from tui.api.errors import ApiError, ConnectionFailed, NotFound
from tui.api.mix.client import MixClient
from tui.api.mix.errors import MethodNotAllowed
from tui.api.mix.history import SessionHistory
from tui.api.mix.models import SendResult

log = logging.getLogger(__name__)

_END = object()
_TERMINAL = (ev.Complete, ev.Error, ev.RateLimitError)
_STEP_MOVED_ON = (ev.ContentDelta, ev.ThinkingDelta, ev.ToolUseStart)  # the finished calls' results are stored
PUMP_SLICE = 64  # events decoded between two turns of the event loop
RESULT_WAIT = 1.5  # seconds the end of a turn waits for the finished calls' results to be read back
PARSE_AHEAD_DELAY = 0.01  # seconds before a history's older messages are parsed ahead (a chunk at a time, beside the first paint)
PARSE_AHEAD_PAUSE = 0.01  # seconds between two chunks parsed ahead (one chunk: ~1 ms)


class _ToolResults:
    """Reads the output of finished tool calls back from the stored messages: the stream says only
    "Completed ls tool in 428µs". A read starts once the agent has moved on (the server stores the
    results before its next step) and again before the turn's last event, which waits for it, so the
    results reach the turn before it settles."""

    def __init__(self, client: MixClient, conversation_id: str, put: Callable[[Any], None]) -> None:
        self.client, self.conversation_id, self.put = client, conversation_id, put
        self.waiting: set[str] = set()
        self._read: asyncio.Task | None = None

    def finished(self, event: ev.ToolExecutionComplete) -> None:
        if not event.parent_tool_call_id:
            self.waiting.add(event.tool_call_id)

    def step_moved_on(self) -> None:
        if self._read is None or self._read.done():
            self._read = asyncio.create_task(self._read_back(), name=f"mix-tool-results-{self.conversation_id}")

    async def before_end(self) -> None:
        for _ in range(2):  # the read in flight may have started before the last results were stored
            if not self.waiting:
                return
            self.step_moved_on()
            assert self._read is not None
            await asyncio.wait({self._read}, timeout=RESULT_WAIT)

    def close(self) -> None:
        if self._read is not None:
            self._read.cancel()

    async def _read_back(self) -> None:
        try:
            messages = await self.client.list_messages(self.conversation_id)
        except Exception as exc:  # noqa: BLE001 — the card keeps its progress line; the history has the rest
            log.info("could not read tool results of %s: %s", self.conversation_id, type(exc).__name__)
            return
        for message in messages:
            if message.role != "tool":
                continue
            for call in message.tool_calls:
                if call.id in self.waiting and call.result is not None:
                    self.waiting.discard(call.id)
                    self.put(ev.ToolResult(tool_call_id=call.id, result=call.result, is_error=call.is_error))


class MixBackend(ChatBackend):
    name = "mix"
    label = "Mix"
    capabilities = Capabilities(
        fork=True, files=True, permissions=True, cancel=True, thinking=True, tools=True, plan_mode=True,
        slash_commands=True, continuity=True,
    )

    def __init__(
        self,
        client: MixClient | str,
        *,
        token: str | None = None,
        local_titles: Callable[[], Mapping[str, str]] | None = None,
        accept_window: float = 0.5,
        complete_grace: float = 1.5,
    ) -> None:
        self.client = client if isinstance(client, MixClient) else MixClient(client, token=token)
        self._local_titles = local_titles
        self.accept_window = accept_window
        self.complete_grace = complete_grace
        self._subscribers: dict[str, set[asyncio.Queue]] = {}
        self._terminals: dict[str, int] = {}  # terminal events seen per conversation (for the send fallback)
        self._received: dict[str, int] = {}  # events seen per conversation (did the answer start?)
        self._background: set[asyncio.Task] = set()
        self._history: dict[str, SessionHistory] = {}  # per session: what the server sent, parsed as far as shown

    @property
    def base_url(self) -> str:
        return self.client.base_url

    # ------------------------------------------------------------------ conversations

    async def list_conversations(self) -> list[Conversation]:
        sessions = await self.client.list_sessions()
        titles = dict(self._local_titles() or {}) if self._local_titles else {}
        out = []
        for s in sessions:
            if s.session_type == "subagent":
                continue  # a Task tool's helper session, shown inside its parent's tool call
            conv = s.to_conversation()
            if titles.get(s.id):
                conv.title = titles[s.id]
            out.append(conv)
        return out

    async def create_conversation(self, title: str) -> Conversation:
        return (await self.client.create_session(title or "New session")).to_conversation()

    async def rename_conversation(self, conversation_id: str, title: str) -> None:
        """PATCH where the server has it; NotImplementedError where it does not (keep the title locally)."""
        try:
            await self.client.rename_session(conversation_id, title)
        except MethodNotAllowed:
            raise NotImplementedError("this Mix server cannot rename sessions") from None
        except NotFound:
            await self.client.get_session(conversation_id)  # NotFound again: the session itself is gone
            raise NotImplementedError("this Mix server cannot rename sessions") from None

    async def delete_conversation(self, conversation_id: str) -> None:
        await self.client.delete_session(conversation_id)
        self._history.pop(conversation_id, None)

    async def fork(self, conversation_id: str, message_count: int, title: str | None = None) -> Conversation:
        return (await self.client.fork_session(conversation_id, message_count, title=title)).to_conversation()

    async def get_conversation(self, conversation_id: str) -> Conversation:
        """One session as it is now, its usage included (tokens of the last request, cost so far)."""
        conv = (await self.client.get_session(conversation_id)).to_conversation()
        titles = dict(self._local_titles() or {}) if self._local_titles else {}
        if titles.get(conversation_id):
            conv.title = titles[conversation_id]
        return conv

    async def current_model(self, conversation_id: str | None = None) -> str:
        """The server's main model (one for every session)."""
        prefs = (await self.client.get_preferences()).preferences
        return prefs.main_agent_model if prefs else ""

    # ------------------------------------------------------------------ messages

    async def load_messages(self, conversation_id: str, *, before: int | None = None, limit: int = 50) -> MessagePage:
        """Pages cut locally (the API returns all messages). `before`, `start` and `ChatMessage.index`
        all count stored messages, tool-result messages included (what fork counts), although those
        are folded into their calls and not returned themselves."""
        history = self._history.get(conversation_id) if before is not None else None
        if history is None:
            history = SessionHistory(await self.client.list_messages_json(conversation_id))
            self._history[conversation_id] = history
            self._parse_ahead(conversation_id, history)
        return history.page(before, limit)

    def _parse_ahead(self, conversation_id: str, history: SessionHistory) -> None:
        """The older messages parsed a chunk (~1 ms) at a time in the background, the UI running between."""

        async def run() -> None:
            await asyncio.sleep(PARSE_AHEAD_DELAY)
            while self._history.get(conversation_id) is history and history.parse_next():
                await asyncio.sleep(PARSE_AHEAD_PAUSE)

        task = asyncio.create_task(run(), name=f"mix-history-{conversation_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def send(self, conversation_id: str, text: str, *, plan_mode: bool = False,
                   on_sent: Callable[[], None] | None = None) -> None:
        seen = self._terminals.get(conversation_id, 0)
        received = self._received.get(conversation_id, 0)
        task = asyncio.create_task(self.client.send_message(conversation_id, text, plan_mode=plan_mode, on_sent=on_sent),
                                   name=f"mix-send-{conversation_id}")
        done, _ = await asyncio.wait({task}, timeout=self.accept_window)
        if task in done:
            self._after_send(conversation_id, task.result(), seen)  # raises what the server said
            return
        self._background.add(task)
        task.add_done_callback(lambda t: self._sent_in_background(conversation_id, t, seen, received))

    def _sent_in_background(self, conversation_id: str, task: asyncio.Task, seen: int, received: int) -> None:
        self._background.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            self._after_send(conversation_id, task.result(), seen)
        elif self._terminals.get(conversation_id, 0) == seen:
            # The stream has not ended the turn: this error is the only word the UI will get.
            message = str(exc) if isinstance(exc, ApiError) else f"sending failed: {exc}"
            if isinstance(exc, ConnectionFailed) and self._received.get(conversation_id, 0) > received:
                # A seed-era server holds the send open for the whole turn: the answer had started.
                message = (f"The connection to the Mix server at {self.base_url} dropped in the middle of the "
                           "answer; what arrived is kept")
            self._inject(conversation_id, ev.Error(error=message, type="send_failed"))

    def _after_send(self, conversation_id: str, result: SendResult, seen: int) -> None:
        if result.processing or result.message is None:
            return  # 202: the output comes on the stream
        waiter = asyncio.create_task(self._complete_if_silent(conversation_id, result, seen))
        self._background.add(waiter)
        waiter.add_done_callback(self._background.discard)

    async def _complete_if_silent(self, conversation_id: str, result: SendResult, seen: int) -> None:
        await asyncio.sleep(self.complete_grace)
        if self._terminals.get(conversation_id, 0) != seen:
            return
        m = result.message
        assert m is not None
        self._inject(conversation_id, ev.Complete(
            content=m.assistant_response or (m.user_input if m.role != "user" else ""),
            message_id=m.id or None, reasoning=m.reasoning, reasoning_duration=m.reasoning_duration,
        ))

    def _inject(self, conversation_id: str, event: ev.Event) -> None:
        for queue in self._subscribers.get(conversation_id, ()):
            queue.put_nowait(event)

    # ------------------------------------------------------------------ events

    async def events(self, conversation_id: str) -> AsyncIterator[ev.Event]:  # type: ignore[override]
        queue: asyncio.Queue = asyncio.Queue()
        self._subscribers.setdefault(conversation_id, set()).add(queue)
        pump = asyncio.create_task(self._pump(conversation_id, queue), name=f"mix-events-{conversation_id}")
        try:
            while True:
                item = await queue.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            subs = self._subscribers.get(conversation_id)
            if subs is not None:
                subs.discard(queue)
                if not subs:
                    del self._subscribers[conversation_id]
            pump.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump

    async def _pump(self, conversation_id: str, queue: asyncio.Queue) -> None:
        put = queue.put_nowait
        terminals, received = self._terminals, self._received
        stream = self.client.stream(conversation_id)
        results = _ToolResults(self.client, conversation_id, put)
        count = 0
        try:
            async for event in stream:
                cls = type(event)
                received[conversation_id] = received.get(conversation_id, 0) + 1
                if results.waiting and cls in _STEP_MOVED_ON:
                    results.step_moved_on()
                if cls in _TERMINAL and not event.parent_tool_call_id:  # type: ignore[union-attr]
                    await results.before_end()
                    terminals[conversation_id] = terminals.get(conversation_id, 0) + 1
                elif cls is ev.ToolExecutionComplete:
                    results.finished(event)  # type: ignore[arg-type]
                elif cls is ev.Resynced:
                    self._history.pop(conversation_id, None)
                put(event)
                count += 1
                if count % PUMP_SLICE == 0:
                    # One network read can hold a thousand events; decoding them all at once would
                    # hold the loop for several milliseconds (a frame, a key, the first words wait).
                    await asyncio.sleep(0)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 — handed to the consumer, who decides what to show
            put(exc)
            return
        finally:
            results.close()
            with contextlib.suppress(Exception):
                await stream.aclose()  # type: ignore[attr-defined]
        put(_END)

    # ------------------------------------------------------------------ actions

    async def cancel(self, conversation_id: str) -> None:
        await self.client.cancel_session(conversation_id)

    async def answer_notification(self, notification_id: str, response_type: str, value: str | None = None) -> None:
        await self.client.respond_notification(notification_id, response_type, value)

    async def rewind(self, conversation_id: str, message_count: int) -> Conversation:
        """Where the server has no fork (latest spec): keep the first `message_count` stored messages
        (what fork would copy, tool results of the last kept call included) and delete the rest."""
        stored = await self.client.list_messages(conversation_id)
        if not 0 < message_count <= len(stored):
            raise ValueError(f"there is no message {message_count} to rewind to")
        last = message_count - 1
        if stored[last].tool_calls and last + 1 < len(stored) and stored[last + 1].role == "tool":
            last += 1  # never end on calls without their results
        conv = (await self.client.rewind_session(conversation_id, stored[last].id)).to_conversation()
        self._history.pop(conversation_id, None)
        return conv

    async def answer_permission(self, request_id: str, granted: bool, remember: str | None = None) -> bool:
        """Answer one request; `remember` ("session" or "folder") keeps the answer where the server can.
        False when the server could not keep it (it was allowed this once)."""
        try:
            if granted and remember:
                try:
                    await self.client.remember_permission(request_id, remember)
                    return True
                except NotFound:  # a Mix server keeps no standing answers: allowed this once
                    await self.client.grant_permission(request_id)
                    return False
            if granted:
                await self.client.grant_permission(request_id)
            else:
                await self.client.deny_permission(request_id)
        except NotFound:
            # Spec servers: nothing waits on it any more (timed out, answered, the turn ended).
            # Go servers said 200 here; either way the request is over and there is nothing to tell.
            pass
        return True

    async def close(self) -> None:
        for task in list(self._background):
            task.cancel()
        await self.client.aclose()


def mix_client_of(source: Any, conversation_id: str | None = None) -> MixClient:
    """A MixClient, or the one behind a backend (MixBackend's `.client`; a RoutedBackend's Mix part)."""
    if isinstance(source, MixClient):
        return source
    client = getattr(source, "client", None)
    if isinstance(client, MixClient):
        return client
    backend_of = getattr(source, "backend_of", None)
    if backend_of is not None:
        inner = backend_of(conversation_id)
        if inner is not source:
            try:
                return mix_client_of(inner)
            except TypeError:
                pass
    for inner in getattr(source, "backends", {}).values():
        client = getattr(inner, "client", None)
        if isinstance(client, MixClient):
            return client
    raise TypeError("these views need a Mix server (the current backend is not one)")
