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
import bisect
import contextlib
from typing import Any, AsyncIterator, Callable, Mapping

from tui.api import events as ev
from tui.api.backend import Capabilities, ChatBackend, ChatMessage, Conversation, MessagePage
from tui.api.errors import ApiError, NotFound
from tui.api.mix.client import MixClient
from tui.api.mix.errors import MethodNotAllowed
from tui.api.mix.models import SendResult, to_chat_messages

_END = object()
_TERMINAL = (ev.Complete, ev.Error, ev.RateLimitError)
PUMP_SLICE = 64  # events decoded between two turns of the event loop


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
        self._background: set[asyncio.Task] = set()
        self._history: dict[str, tuple[list[ChatMessage], int]] = {}  # merged messages, stored count

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

    async def current_model(self) -> str:
        prefs = (await self.client.get_preferences()).preferences
        return prefs.main_agent_model if prefs else ""

    # ------------------------------------------------------------------ messages

    async def load_messages(self, conversation_id: str, *, before: int | None = None, limit: int = 50) -> MessagePage:
        """Pages cut locally (the API returns all messages). `before`, `start` and `ChatMessage.index`
        all count stored messages, tool-result messages included (what fork counts), although those
        are folded into their calls and not returned themselves."""
        cached = self._history.get(conversation_id) if before is not None else None
        if cached is None:
            raw = await self.client.list_messages(conversation_id)
            cached = (to_chat_messages(raw), len(raw))
            self._history[conversation_id] = cached
        messages, total = cached
        end = len(messages) if before is None else bisect.bisect_left([m.index for m in messages], before)
        page = messages[max(0, end - max(1, limit)):end]
        return MessagePage(messages=page, start=page[0].index if page else 0, total=total)

    async def send(self, conversation_id: str, text: str, *, plan_mode: bool = False) -> None:
        seen = self._terminals.get(conversation_id, 0)
        task = asyncio.create_task(self.client.send_message(conversation_id, text, plan_mode=plan_mode),
                                   name=f"mix-send-{conversation_id}")
        done, _ = await asyncio.wait({task}, timeout=self.accept_window)
        if task in done:
            self._after_send(conversation_id, task.result(), seen)  # raises what the server said
            return
        self._background.add(task)
        task.add_done_callback(lambda t: self._sent_in_background(conversation_id, t, seen))

    def _sent_in_background(self, conversation_id: str, task: asyncio.Task, seen: int) -> None:
        self._background.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is None:
            self._after_send(conversation_id, task.result(), seen)
        elif self._terminals.get(conversation_id, 0) == seen:
            # The stream has not ended the turn: this error is the only word the UI will get.
            message = str(exc) if isinstance(exc, ApiError) else f"sending failed: {exc}"
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
        terminals = self._terminals
        stream = self.client.stream(conversation_id)
        count = 0
        try:
            async for event in stream:
                if type(event) in _TERMINAL and not event.parent_tool_call_id:  # type: ignore[union-attr]
                    terminals[conversation_id] = terminals.get(conversation_id, 0) + 1
                elif type(event) is ev.Resynced:
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

    async def answer_permission(self, request_id: str, granted: bool) -> None:
        try:
            if granted:
                await self.client.grant_permission(request_id)
            else:
                await self.client.deny_permission(request_id)
        except NotFound:
            # Spec servers: nothing waits on it any more (timed out, answered, the turn ended).
            # Go servers said 200 here; either way the request is over and there is nothing to tell.
            return

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
