"""MixerLead as a ChatBackend: the same TurnModel and transcript render it as a Mix session.

MixerLead has no event stream and no conversation list: a turn is one `POST /api/chat` whose body
is the reply. So `send` starts the request in a task and `events` delivers what that task produces
(ContentDelta per piece, then Complete, or Error); conversations and messages live in the local
ConversationStore.

`send` returns once MixerLead accepted the message (a 2xx status arrived, after any automatic
retries), and raises the typed error when it did not (401, 403, 413, 429 beyond what is retried
automatically, a connection that never came up): the caller can then put the text back. With
`errors_as_events=True` it returns at once and those errors arrive as Error / RateLimitError events
instead. Either way the user's text was stored locally before anything was sent.

While an automatic retry waits, `events` yields ConnectionChanged("reconnecting", delay=...) so
the UI can show a countdown, and ConnectionChanged("connected") when the wait is over.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Callable

from tui.api import events as ev
from tui.api.backend import Capabilities, ChatBackend, ChatMessage, Conversation, MessagePage
from tui.api.errors import ApiError, ConnectionFailed, NotFound, RateLimited
from tui.api.mixerlead.client import MixerLeadClient
from tui.api.mixerlead.conversations import ConversationStore, StoredConversation, StoredMessage
from tui.api.mixerlead.errors import StreamInterrupted
from tui.api.mixerlead.models import AUTO_MODEL_ID, ChatDone, ChatStarted, Model
from tui.api.mixerlead.retry import RetryNotice

log = logging.getLogger("tui.api.mixerlead")

CAPABILITIES = Capabilities(fork=False, files=False, permissions=False, cancel=False, thinking=False, tools=False,
                            plan_mode=False, slash_commands=False, continuity=True)

CONTINUITY_MESSAGES = {
    "unknown": "MixerLead has not answered in this conversation yet, so it is not known whether it will remember earlier messages.",
    "yes": "MixerLead returned a conversation id, so each message continues this conversation on the server.",
    "no": ("MixerLead did not return a conversation id (its API does not document one), so each message starts a "
           "new conversation on the server: it will not remember earlier messages."),
}
CANCELLED_TEXT = "request cancelled by user"  # what TurnModel recognises as a cancel


def _when(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc)


class MixerLeadBackend(ChatBackend):
    name = "mixerlead"
    label = "MixerLead"

    def __init__(
        self,
        client: MixerLeadClient,
        store: ConversationStore | str | Path,
        *,
        model: str = AUTO_MODEL_ID,
        errors_as_events: bool = False,
        on_retry: Callable[[str, RetryNotice], Any] | None = None,
    ) -> None:
        self.client = client
        self.store = store if isinstance(store, ConversationStore) else ConversationStore(store)
        self._owns_store = not isinstance(store, ConversationStore)
        self.model = model or AUTO_MODEL_ID
        self.errors_as_events = errors_as_events
        self.on_retry = on_retry  # (conversation id, notice), besides the ConnectionChanged event
        self.capabilities = CAPABILITIES
        self.models: list[Model] = []  # filled by list_models()
        self._subscribers: dict[str, list[asyncio.Queue[ev.Event]]] = {}
        self._turns: dict[str, asyncio.Task[None]] = {}
        self.waiting: dict[str, RetryNotice] = {}  # conversation id -> the retry being waited for
        self.probe_delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 10.0)  # then 10 s each, until reachable
        self._probe: asyncio.Task[None] | None = None

    @classmethod
    def from_settings(cls, config: Any, secrets: Any, paths: Any, **kw: Any) -> "MixerLeadBackend":
        """From tui.config's Config, Secrets and Paths: the key from MIXERLEAD_API_KEY or the secrets
        file, base URL and project from `[mixerlead]`, conversations in the client store file."""
        return cls(MixerLeadClient.from_settings(config, secrets), paths.client_db, **kw)

    @property
    def base_url(self) -> str:
        return self.client.base_url

    @property
    def project_id(self) -> str:
        return self.client.project_id or ""

    # ------------------------------------------------------------ models

    async def list_models(self) -> list[Model]:
        self.models = await self.client.list_models()
        return self.models

    def set_model(self, model_id: str, conversation_id: str | None = None) -> None:
        """The model for new conversations, and for `conversation_id` when given."""
        self.model = model_id or AUTO_MODEL_ID
        if conversation_id is not None:
            self.store.set_model(conversation_id, self.model)

    def model_for(self, conversation_id: str | None) -> str:
        conv = self.store.get(conversation_id) if conversation_id else None
        return (conv.model if conv and conv.model else self.model) or AUTO_MODEL_ID

    async def current_model(self, conversation_id: str | None = None) -> str:
        """A short label for the status bar: the model `conversation_id` uses (its stored choice, what
        the picker marks current), or the one for new conversations."""
        model_id = self.model_for(conversation_id)
        if model_id != AUTO_MODEL_ID and not self.models:
            with contextlib.suppress(Exception):  # the id is shown instead of the name
                await self.list_models()
        found = next((m for m in self.models if m.id == model_id), None)
        return f"MixerLead · {found.label if found else ('Auto' if model_id == AUTO_MODEL_ID else model_id)}"

    # ------------------------------------------------------------ continuity

    def continuity_state(self, conversation_id: str) -> str:
        """"unknown" | "yes" | "no", as learned from the server's replies in this conversation."""
        conv = self.store.get(conversation_id)
        return conv.continuity if conv else "unknown"

    def continuity_message(self, conversation_id: str) -> str:
        return CONTINUITY_MESSAGES[self.continuity_state(conversation_id)]

    # ------------------------------------------------------------ conversations (local)

    def _conversation(self, conv: StoredConversation) -> Conversation:
        return Conversation(id=conv.id, title=conv.title, backend=self.name, created_at=_when(conv.created_at),
                            message_count=conv.message_count, preview=conv.preview)

    async def list_conversations(self) -> list[Conversation]:
        return [self._conversation(c) for c in self.store.list(self.project_id)]

    async def create_conversation(self, title: str) -> Conversation:
        conv = self.store.create(title or "MixerLead conversation", model=self.model, project_id=self.project_id)
        return self._conversation(conv)

    async def rename_conversation(self, conversation_id: str, title: str) -> None:
        self._require(conversation_id)
        self.store.rename(conversation_id, title)

    async def delete_conversation(self, conversation_id: str) -> None:
        """Deletes the local copy only: MixerLead documents no way to delete a conversation."""
        await self.cancel(conversation_id)
        self.store.delete(conversation_id)

    def _require(self, conversation_id: str) -> StoredConversation:
        conv = self.store.get(conversation_id)
        if conv is None:
            raise NotFound("This MixerLead conversation is not in the local store (it may have been deleted).", status=404)
        return conv

    async def load_messages(self, conversation_id: str, *, before: int | None = None, limit: int = 50) -> MessagePage:
        self._require(conversation_id)
        rows, start, total = self.store.messages(conversation_id, before=before, limit=limit)
        return MessagePage(messages=[self._message(m) for m in rows], start=start, total=total)

    @staticmethod
    def _message(m: StoredMessage) -> ChatMessage:
        text, note = m.text, ""
        if m.role == "assistant" and m.status != "complete":
            note = {"interrupted": "the reply was cut off", "cancelled": "cancelled"}.get(m.status, m.status)
            text = f"{text}\n\n_({note}{': ' + m.error if m.error and m.status == 'interrupted' else ''})_".lstrip()
        elif m.role == "user" and m.status in ("failed", "pending", "cancelled"):
            # Kept so nothing typed is ever lost; marked so it is clear MixerLead never answered it.
            note = f"not sent: {m.error}" if m.error else "not sent"
        return ChatMessage(id=m.id, role=m.role, text=text, model=m.model, index=m.index, note=note)

    # ------------------------------------------------------------ events

    async def events(self, conversation_id: str) -> AsyncIterator[ev.Event]:  # type: ignore[override]
        queue: asyncio.Queue[ev.Event] = asyncio.Queue()
        self._subscribers.setdefault(conversation_id, []).append(queue)
        try:
            yield ev.Connected(session_id=conversation_id)  # nothing to connect to: ready at once
            while True:
                yield await queue.get()
        finally:
            queues = self._subscribers.get(conversation_id, [])
            if queue in queues:
                queues.remove(queue)
            if not queues:
                self._subscribers.pop(conversation_id, None)

    def _emit(self, conversation_id: str, event: ev.Event) -> None:
        for queue in self._subscribers.get(conversation_id, ()):
            queue.put_nowait(event)

    # ------------------------------------------------------------ sending

    def busy(self, conversation_id: str) -> bool:
        task = self._turns.get(conversation_id)
        return task is not None and not task.done()

    async def send(self, conversation_id: str, text: str, *, plan_mode: bool = False,
                   on_sent: Callable[[], None] | None = None) -> None:
        if not text.strip():
            raise ApiError("Nothing to send: the message is empty.")
        conv = self._require(conversation_id)
        if self.busy(conversation_id):
            raise ApiError("MixerLead is still answering the previous message; wait for it or cancel it first.")
        model = conv.model or self.model
        # Stored before anything goes over the network: whatever happens next, the text is kept.
        user = self.store.add_message(conversation_id, "user", text, status="pending", model=model)
        if on_sent is not None:
            on_sent()  # in this process's store: the screen may draw it now
        if conv.title in ("", "MixerLead conversation"):
            self.store.rename(conversation_id, " ".join(text.split())[:48])
        accepted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Mark the outcome as seen even when nobody awaits it (send itself was cancelled).
        accepted.add_done_callback(lambda f: f.cancelled() or f.exception())
        task = asyncio.create_task(self._run_turn(conv, user, text, model, accepted), name=f"mixerlead turn {conversation_id}")
        self._turns[conversation_id] = task
        if self.errors_as_events:
            return
        await asyncio.shield(accepted)

    async def _retrying(self, conversation_id: str, notice: RetryNotice) -> None:
        self.waiting[conversation_id] = notice
        if notice.status == 429:
            reason = f"MixerLead rate limit: {notice.reason} Retrying automatically"
        elif notice.status:
            reason = f"MixerLead answered {notice.status}: {notice.reason} Retrying automatically"
        else:
            reason = notice.reason
        self._emit(conversation_id, ev.ConnectionChanged(state="reconnecting", attempt=notice.attempt, delay=notice.wait, reason=reason))
        if self.on_retry is not None:
            result = self.on_retry(conversation_id, notice)
            if inspect.isawaitable(result):
                await result

    def _end_wait(self, conversation_id: str, *, announce: bool = True) -> None:
        if self.waiting.pop(conversation_id, None) is not None and announce:
            self._emit(conversation_id, ev.ConnectionChanged(state="connected"))

    async def _run_turn(self, conv: StoredConversation, user: StoredMessage, text: str, model: str,
                        accepted: asyncio.Future[None]) -> None:
        conv_id = conv.id
        parts: list[str] = []
        done: ChatDone | None = None

        async def on_retry(notice: RetryNotice) -> None:
            await self._retrying(conv_id, notice)

        stream = self.client.chat(text, model=model, conversation_id=conv.server_id, on_retry=on_retry)
        try:
            async with contextlib.aclosing(stream):
                async for item in stream:
                    if isinstance(item, str):
                        parts.append(item)
                        self._emit(conv_id, ev.ContentDelta(content=item))
                    elif isinstance(item, ChatStarted):
                        self._end_wait(conv_id)
                        self.store.update_message(user.id, status="sent")
                        if not accepted.done():
                            accepted.set_result(None)
                        self._emit(conv_id, ev.UserMessageCreated(message_id=user.id, content=text))
                    elif isinstance(item, ChatDone):
                        done = item
        except asyncio.CancelledError:
            self._end_wait(conv_id)
            if not accepted.done():
                self.store.update_message(user.id, status="cancelled", error="cancelled before MixerLead answered")
                self._reject(accepted, ApiError("Cancelled before MixerLead answered; your message was not sent."))
                self._emit(conv_id, ev.Error(error=CANCELLED_TEXT, type="cancelled"))
            else:
                self._store_partial(conv_id, parts, model, "cancelled", None)
                self._emit(conv_id, ev.Error(error=CANCELLED_TEXT, type="cancelled"))
            return
        except StreamInterrupted as exc:
            self._store_partial(conv_id, parts or [exc.partial], model, "interrupted", exc.message)
            self._emit(conv_id, ev.Error(error=exc.message, type="stream_interrupted"))
            return
        except Exception as exc:  # refused before streaming (or a bug): report it, keep the text
            error = exc if isinstance(exc, ApiError) else ApiError(f"Unexpected error while sending to MixerLead: {exc!r}")
            # Still unreachable: the reachability probe says when it is back, not this.
            self._end_wait(conv_id, announce=not isinstance(error, ConnectionFailed))
            if not isinstance(exc, ApiError):
                log.exception("MixerLead turn failed")
            if accepted.done():  # cannot happen with the client's contract, but never drop an error
                self._store_partial(conv_id, parts, model, "interrupted", error.message)
                self._emit(conv_id, ev.Error(error=error.message, type="client_error"))
                return
            self.store.update_message(user.id, status="failed", error=error.message)
            if isinstance(error, ConnectionFailed):
                self._start_probe(error.message)
            if self.errors_as_events:
                self._emit(conv_id, self._error_event(error))
            self._reject(accepted, error)
            return
        finally:
            if self._turns.get(conv_id) is asyncio.current_task():
                self._turns.pop(conv_id, None)
        assert done is not None, "the client always ends a reply with ChatDone"
        answer = self.store.add_message(conv_id, "assistant", done.text, status="complete", model=model)
        if done.conversation_id is None and conv.server_id:
            # We sent an id MixerLead accepted (an unknown one is a 404); it just did not repeat it.
            self._emit(conv_id, ev.Complete(content=done.text, message_id=answer.id))
            return
        self._learn_continuity(conv_id, done)
        if done.conversation_id is None:
            self._emit(conv_id, ev.Notification(id=f"continuity-{answer.id}", session_id=conv_id, notification_type="warning",
                                                title="Continuity unavailable", message=CONTINUITY_MESSAGES["no"]))
        self._emit(conv_id, ev.Complete(content=done.text, message_id=answer.id))

    def _reject(self, accepted: asyncio.Future[None], error: ApiError) -> None:
        if accepted.done():
            return
        if self.errors_as_events:
            accepted.set_result(None)  # the error went out as an event; send() has already returned
        else:
            accepted.set_exception(error)

    def _learn_continuity(self, conv_id: str, done: ChatDone) -> None:
        if done.conversation_id:
            self.store.set_server_id(conv_id, done.conversation_id)
            self.store.set_continuity(conv_id, "yes")
        else:
            self.store.set_continuity(conv_id, "no")
        self.capabilities = replace(self.capabilities, continuity=done.conversation_id is not None)

    def _store_partial(self, conv_id: str, parts: list[str], model: str, status: str, error: str | None) -> None:
        text = "".join(parts)
        if text or error:
            self.store.add_message(conv_id, "assistant", text, status=status, model=model, error=error)

    @staticmethod
    def _error_event(error: ApiError) -> ev.Event:
        if isinstance(error, RateLimited):
            return ev.RateLimitError(error=error.message, retry_after=error.retry_after)
        kind = type(error).__name__
        return ev.Error(error=error.message, type={"AuthRequired": "auth_required", "PlanLimit": "plan_limit",
                                                   "PayloadTooLarge": "payload_too_large", "ConnectionFailed": "connection_failed"}.get(kind, "api_error"))

    # ------------------------------------------------------------ reachability

    def _broadcast(self, event: ev.Event) -> None:
        for conversation_id in list(self._subscribers):
            self._emit(conversation_id, event)

    def _start_probe(self, reason: str) -> None:
        """MixerLead has no stream that would say when it is back: check now and then, and say so."""
        if self._probe is None or self._probe.done():
            self._probe = asyncio.create_task(self._probe_until_reachable(reason), name="mixerlead reachability")

    async def _probe_until_reachable(self, reason: str) -> None:
        attempt = 0
        while True:
            delay = self.probe_delays[min(attempt, len(self.probe_delays) - 1)]
            attempt += 1
            self._broadcast(ev.ConnectionChanged(state="reconnecting", attempt=attempt, delay=delay, reason=reason))
            await asyncio.sleep(delay)
            if await self.client.ping():
                self._broadcast(ev.ConnectionChanged(state="connected"))
                return

    @property
    def reachable(self) -> bool:
        """False while the last send found MixerLead unreachable and it has not answered since."""
        return self._probe is None or self._probe.done()

    async def cancel(self, conversation_id: str) -> None:
        """Closes the reply's stream (MixerLead has no cancel endpoint); what arrived so far is kept."""
        task = self._turns.get(conversation_id)
        if task is None or task.done():
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task

    async def close(self) -> None:
        if self._probe is not None and not self._probe.done():
            self._probe.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._probe
        for conversation_id in list(self._turns):
            await self.cancel(conversation_id)
        await self.client.aclose()
        if self._owns_store:
            self.store.close()
