"""The chat screen: sidebar, one transcript per open session, permission prompt, composer, status bar.

It owns the workers that talk to the backend. Per open session there is one long-lived consumer
of `backend.events(session)` that folds events into that session's live TurnModel; the transcript
polls the model once per frame, so nothing here posts a message per delta. Only rare events
(a permission request, the end of a turn, connection changes) touch widgets directly.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Static
from textual.worker import Worker

from tui import notify
from tui.api import events as ev
from tui.api.backend import ChatBackend, ChatMessage, Conversation, MessagePage
from tui.api.errors import ApiError, ConnectionFailed, RateLimited
from tui.api.turn import TurnModel, TurnStatus
from tui.keymap import bindings
from tui.widgets.attached_context import AttachedContext, Attachment
from tui.widgets.banner import ReconnectBanner
from tui.widgets.completion import CompletionPopup
from tui.widgets.composer import Composer
from tui.widgets.permission_prompt import PermissionAnswered, PermissionPrompt
from tui.widgets.rate_limit_banner import RateLimitBanner
from tui.widgets.sidebar import Sidebar
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.widgets.transcript import Transcript

log = logging.getLogger(__name__)

UNSENT_KEPT = 16  # messages in flight whose typed text and context are kept for a failed send
LONG_TURN = 10.0  # seconds: a turn this long rings when it ends while the terminal is unfocused
CONNECT_WAIT = 5.0  # seconds a send waits for the session's event stream to be connected
CANCEL_GRACE = 3.0  # seconds to wait for the server to confirm a cancel before marking it locally
SEND_HEAD_START = 0.002  # seconds a send goes ahead before its message is drawn: enough to write the request
STREAM_GRACE = 0.5  # seconds a failed send waits for the stream's own account of the turn
NEW_KEY = "new"  # draft key of the composer when no session is open
CONSUME_SLICE = 0.008  # seconds of event handling before the consumer lets the UI run
CONSUME_BREAK = 0.002  # seconds it then steps aside: long enough for a key or a frame to get through


@dataclass(eq=False)
class SessionView:
    """What the screen keeps per opened session."""

    conversation: Conversation
    transcript: Transcript
    turn: TurnModel | None = None
    consumer: Worker | None = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    connection: str = "connecting"
    history_loaded: bool = False
    turn_wall_start: float = 0.0
    last_answer: str = ""

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def busy(self) -> bool:
        return self.turn is not None and not self.turn.status.finished


def error_text(exc: BaseException) -> str:
    """One sentence for the user, whatever went wrong."""
    if isinstance(exc, RateLimited):
        wait = f" Try again in {exc.retry_after:.0f} s." if exc.retry_after else " Wait a moment and try again."
        return f"Rate limited: {exc.message}.{wait}".replace("..", ".")
    if isinstance(exc, ApiError):
        return exc.message
    if isinstance(exc, NotImplementedError):
        return "This server does not support that."
    return f"Unexpected error: {exc}" if str(exc) else f"Unexpected error: {type(exc).__name__}"


def slug(text: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return cleaned[:40] or "session"


def title_from(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= 48 else words[:47] + "…"


def export_markdown(conversation: Conversation, messages: list[ChatMessage]) -> str:
    lines = [f"# {conversation.title or 'Session'}", ""]
    if conversation.created_at:
        lines += [f"_Created {conversation.created_at:%Y-%m-%d %H:%M}_", ""]
    for message in messages:
        if message.role == "user":
            lines += ["## You", "", message.text, ""]
        elif message.role == "assistant":
            lines += ["## Assistant", ""]
            if message.reasoning:
                lines += ["<details><summary>Thinking</summary>", "", message.reasoning, "", "</details>", ""]
            if message.text:
                lines += [message.text, ""]
            for call in message.tool_calls:
                lines += [f"**Tool `{call.name}`**", "", "```json", call.input or "{}", "```", ""]
                if call.result:
                    lines += ["```", call.result, "```", ""]
        elif message.text:
            lines += [f"_{message.role}: {message.text}_", ""]
    return "\n".join(lines).rstrip() + "\n"


class ChatScreen(Screen[None]):
    BINDINGS = bindings("chat")

    def __init__(self) -> None:
        super().__init__(id="chat")
        self.views: dict[str, SessionView] = {}
        self.current: SessionView | None = None
        self.connection = "starting"
        self._transcript_seq = 0
        self._session_list_loaded = False
        self.continuity: Any = None  # the continuity notice, mounted the first time a backend reports one
        self._model_owner: str | None = None  # backend whose model the status bar shows
        # Messages on their way, by the text sent: what the user typed and the context attached to it,
        # so a failed send puts back exactly that (not the text with the context folded in).
        self._unsent: dict[str, tuple[str, list[Attachment]]] = {}

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        with Horizontal(id="body"):
            yield Sidebar(id="sidebar")
            with Vertical(id="main"):
                yield ReconnectBanner(id="banner")
                yield RateLimitBanner(id="rate-limit-banner")
                with ContentSwitcher(id="transcripts", initial="empty-state"):
                    yield Static(self._empty_text(), id="empty-state", markup=False)
                yield PermissionPrompt(id="permission-prompt")
                yield AttachedContext(id="attached-context")
                yield CompletionPopup(id="completion")
                yield Composer(id="composer")
        yield StatusBar(id="status-bar")
        yield Footer()

    def on_resize(self, event) -> None:
        # Narrow terminals get a narrower sidebar (the widths live in app.tcss).
        self.set_class(event.size.width < 100, "-narrow")

    def _empty_text(self) -> str:
        return "No session open.\n\nType below and press Enter to start one,\nor pick a session on the left.\n\nF1 shows every key."

    @property
    def store(self):
        return self.app.store  # type: ignore[attr-defined]

    @property
    def backend(self) -> ChatBackend | None:
        return self.app.backend  # type: ignore[attr-defined]

    @property
    def composer(self) -> Composer:
        return self.query_one(Composer)

    @property
    def sidebar(self) -> Sidebar:
        return self.query_one(Sidebar)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def attached(self) -> AttachedContext:
        return self.query_one(AttachedContext)

    @property
    def banner(self) -> ReconnectBanner:
        return self.query_one(ReconnectBanner)

    @property
    def rate_limit_banner(self) -> RateLimitBanner:
        return self.query_one(RateLimitBanner)

    @property
    def prompt(self) -> PermissionPrompt:
        return self.query_one(PermissionPrompt)

    def draft_key(self, conversation_id: str | None) -> str:
        return f"{self.app.backend_name}:{conversation_id or NEW_KEY}"  # type: ignore[attr-defined]

    @property
    def current_key(self) -> str:
        return self.draft_key(self.current.id if self.current else None)

    def on_mount(self) -> None:
        store = self.store
        self.sidebar.display = store.setting("sidebar_visible", "1") == "1"
        self.composer.prompt_history = store.prompts(self.app.backend_name)  # type: ignore[attr-defined]
        # The draft comes back before the server is even up: the user's text is never waiting on I/O.
        last = store.setting(f"{self.app.backend_name}:last_session")  # type: ignore[attr-defined]
        self._pending_open = last
        self.composer.load(store.draft(self.draft_key(last)))
        self.composer.focus()
        from tui.widgets.completion import install

        self.completion = install(self)  # `/` commands and `@` session files in the composer
        self.status.clock = self.banner.clock = self.prompt.clock = self.app.clock  # type: ignore[attr-defined]
        self.rate_limit_banner.clock = self.app.clock  # type: ignore[attr-defined]
        self.status.set(connection=self.connection)
        self.app.start_backend()  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ backend life cycle (called by the app)

    def backend_starting(self, state: str) -> None:
        self.connection = state
        self.status.set(connection=state)

    def backend_ready(self, url: str) -> None:
        self.status.set(server=url)
        self.sidebar.set_marks(getattr(self.backend, "marks", dict)())  # one mark per backend, when several
        self._load_sessions(open_last=True)
        self.refresh_model(force=True)

    def backend_failed(self, message: str) -> None:
        self.connection = "offline"
        self.status.set(connection="offline")
        self.banner.show_state("offline", reason=message)
        self.notify(message, title="Server not available", severity="error", timeout=10)

    @work(group="sessions", exclusive=True)
    async def _load_sessions(self, open_last: bool = False) -> None:
        backend = self.backend
        if backend is None:
            return
        delay = 0.5
        while True:
            try:
                conversations = await backend.list_conversations()
                break
            except Exception as exc:  # every failure: say it, keep trying, never crash the app
                self._set_connection("offline", reason=error_text(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
        titles = self.store.titles()
        prefix = f"{self.app.backend_name}:"  # type: ignore[attr-defined]
        for conv in conversations:
            local = titles.get(prefix + conv.id)
            if local:
                conv.title = local
        unseen = self.store.unseen()
        self.sidebar.set_sessions(conversations)
        for conv in conversations:
            if prefix + conv.id in unseen:
                self.sidebar.set_state(conv.id, "unseen")
        self._session_list_loaded = True
        if self.connection != "reconnecting":
            self._set_connection("connected")
        if open_last and self._pending_open and self.current is None:
            match = next((c for c in conversations if c.id == self._pending_open), None)
            if match is not None:
                self.open_session(match)
        self._pending_open = None

    def refresh_model(self, *, force: bool = False) -> None:
        """Show the model of the open conversation (or of the next new one) in the status bar;
        asked again only when that is on another backend than the one shown, unless `force`."""
        owner_name = getattr(self.backend, "owner_name", None)
        owner = owner_name(self.current.id if self.current else None) if owner_name else ""
        if not force and owner == self._model_owner:
            return
        self._model_owner = owner
        self._load_model()

    @work(group="model", exclusive=True)
    async def _load_model(self) -> None:
        """The model name for the status bar, when the backend can tell (optional)."""
        backend = self.backend
        for_conversation = getattr(backend, "model_label", None)  # several backends: the owner's model
        getter = getattr(backend, "current_model", None)
        if for_conversation is None and getter is None:
            return
        try:
            if for_conversation is not None:
                model = await for_conversation(self.current.id if self.current else None)
            else:
                model = await getter()  # type: ignore[misc]
        except Exception:  # the status bar just stays without a model
            return
        if (model or for_conversation is not None) and self.is_attached and self.query(StatusBar):
            self.status.set(model=str(model or ""))  # (the screen may be gone when the answer comes)

    def _show_continuity(self) -> None:
        """The continuity notice above the composer, for backends that may not continue a conversation."""
        view = self.current
        state_of = getattr(self.backend, "continuity_state", None)
        state = state_of(view.id) if view is not None and state_of is not None else "yes"
        if self.continuity is None:
            if state == "yes":
                return
            from tui.widgets.mixerlead_continuity import ContinuityNotice  # only once a backend needs it

            self.continuity = ContinuityNotice(id="continuity-notice")
            self.query_one("#main").mount(self.continuity, before=self.attached)
        self.continuity.show_for(self.backend, view.id if view is not None else None)

    def on_screen_resume(self) -> None:
        # Back from a dialog (the model picker, the knowledge screens): what they changed shows here.
        if self.backend is not None:
            self.refresh_model(force=True)
            self._show_continuity()

    # ------------------------------------------------------------------ connection state

    def _set_connection(self, state: str, *, attempt: int = 0, delay: float = 0.0, reason: str = "") -> None:
        url = getattr(self.app, "server_url", "")
        if url and reason:
            reason = reason.replace(f" at {url}", "").replace(url, "the server")  # the status bar shows it already
        self.connection = state
        try:
            status, banner = self.status, self.banner
        except NoMatches:
            return  # the screen is being torn down (app exit) while a worker reports
        status.set(connection=state)
        banner.show_state(state, attempt=attempt, delay=delay, reason=reason)

    # ------------------------------------------------------------------ sessions

    def open_session(self, conversation: Conversation) -> SessionView:
        """Show a session (creating its transcript and event consumer the first time)."""
        self._save_draft_now()
        view = self.views.get(conversation.id)
        if view is None:
            from tui.widgets.transcript import Transcript

            self._transcript_seq += 1
            transcript = Transcript(id=f"transcript-{self._transcript_seq}", classes="session-transcript", clock=self.app.clock)  # type: ignore[attr-defined]
            view = SessionView(conversation=conversation, transcript=transcript)
            self.views[conversation.id] = view
            self.query_one("#transcripts", ContentSwitcher).mount(transcript)
            view.consumer = self._consume(view)
            self._load_history(view)
        self.current = view
        switcher = self.query_one("#transcripts", ContentSwitcher)
        switcher.current = view.transcript.id
        self.composer.load(self.store.draft(self.current_key))
        self.sidebar.set_current(conversation.id)
        if self.sidebar.state_of(conversation.id) == "unseen":
            self.sidebar.set_state(conversation.id, "")
        self.store.mark_seen(self.current_key)
        self.store.set_setting(f"{self.app.backend_name}:last_session", conversation.id)  # type: ignore[attr-defined]
        self.status.set(session=conversation.title or "untitled")
        self._show_turn_state(view)
        self._show_rate_limit(view)
        self.prompt.set_pending(view.turn.pending_permissions if view.turn else [])
        self._set_connection(view.connection if view.connection != "connecting" else self.connection)
        self._show_continuity()
        self.refresh_model()
        self._show_usage(conversation)  # what the session list said; fresh numbers follow
        self._refresh_usage(view)
        return view

    def close_view(self, view: SessionView) -> None:
        if view.consumer is not None:
            view.consumer.cancel()
        view.transcript.remove()
        self.views.pop(view.id, None)
        if self.current is view:
            self.current = None
            self.query_one("#transcripts", ContentSwitcher).current = "empty-state"
            self.composer.load(self.store.draft(self.current_key))
            self.sidebar.set_current(None)
            self.status.set(session="", usage="", turn_state="idle", turn_started=None, turn_ended=None)
            self.prompt.set_pending([])
            self.rate_limit_banner.hide()
            self._show_continuity()

    # ------------------------------------------------------------------ token usage and cost

    def _show_usage(self, conversation: Conversation) -> None:
        self.status.set_usage(conversation.prompt_tokens, conversation.completion_tokens, conversation.cost)

    @work(group="usage", exclusive=True)
    async def _refresh_usage(self, view: SessionView) -> None:
        """One GET of the session for its usage (opened, or a turn just ended). Backends without
        `get_conversation` (MixerLead) have no usage: nothing is shown. Failures only cost the numbers."""
        backend = self.backend
        if backend is None:
            return
        owner = backend.backend_of(view.id) if hasattr(backend, "backend_of") else backend
        get = getattr(owner, "get_conversation", None)
        if get is None:
            return
        try:
            fresh = await get(view.id)
        except Exception as exc:  # noqa: BLE001 — the status bar keeps what it had
            log.debug("usage of %s not refreshed: %s", view.id, exc)
            return
        conv = view.conversation
        conv.prompt_tokens, conv.completion_tokens, conv.cost = fresh.prompt_tokens, fresh.completion_tokens, fresh.cost
        if self.current is view and self.is_attached:
            try:
                self._show_usage(conv)
            except NoMatches:
                pass  # the screen is being torn down

    @on(Sidebar.Selected)
    def _session_selected(self, event: Sidebar.Selected) -> None:
        item = next((i for i in self.sidebar.items if i.id == event.conversation_id), None)
        if item is not None:
            self.open_session(item.conversation)
            self.composer.focus()

    @work(group="history")
    async def _load_history(self, view: SessionView) -> None:
        backend = self.backend
        if backend is None:
            return
        try:
            page = await backend.load_messages(view.id)
        except Exception as exc:
            self.notify(f"Could not load the messages: {error_text(exc)}", severity="error")
            return
        if view.busy:
            return  # a turn started meanwhile; its messages would appear twice
        view.transcript.show_history(page)
        view.history_loaded = True
        view.last_answer = next((m.text for m in reversed(page.messages) if m.role == "assistant" and m.text), "")

    def on_transcript_load_older(self, event: Transcript.LoadOlder) -> None:
        event.stop()
        view = next((v for v in self.views.values() if v.transcript is event.control or v.transcript is event._sender), None)
        if view is not None:
            self._fetch_older(view, event.before)

    @work(group="history")
    async def _fetch_older(self, view: SessionView, before: int) -> None:
        try:
            page = await self.backend.load_messages(view.id, before=before)  # type: ignore[union-attr]
        except Exception as exc:
            self.notify(f"Could not load older messages: {error_text(exc)}", severity="error")
            return
        view.transcript.prepend_history(page)

    # ------------------------------------------------------------------ the event consumer

    @work(group="consumers")
    async def _consume(self, view: SessionView) -> None:
        backend = self.backend
        if backend is None:
            return
        loop = asyncio.get_running_loop()
        resume_at = loop.time() + CONSUME_SLICE
        try:
            async for event in backend.events(view.id):
                turn = view.turn
                first_block = turn is not None and not turn.blocks
                self._on_event(view, event)
                # A fast stream arrives in big network reads whose thousands of events decode without
                # awaiting anything: hand the loop back now and then so frames and keys get through,
                # and at once when the answer's first block appears (the first token is painted early).
                if first_block and turn is not None and turn.blocks:
                    await view.transcript.draw_live()  # the first words now, not at the next poll
                    resume_at = loop.time() + CONSUME_SLICE
                elif loop.time() > resume_at:
                    await asyncio.sleep(CONSUME_BREAK)
                    resume_at = loop.time() + CONSUME_SLICE
        except asyncio.CancelledError:
            raise
        except NoMatches:
            return  # the screen is being torn down (app exit): the remaining events have nowhere to go
        except Exception as exc:  # the stream gave up for good: say so, keep everything
            log.warning("event stream of %s ended: %s", view.id, type(exc).__name__)
            view.connection = "offline"
            view.connected.clear()
            if self.current is view:
                self._set_connection("offline", reason=error_text(exc))
            if view.turn is not None and not view.turn.status.finished:
                view.turn.fail(f"Lost the connection to the server: {error_text(exc)}")
                self._turn_finished(view)

    def _on_event(self, view: SessionView, event: ev.Event) -> None:
        """Runs for every event: keep the common path (a delta) short."""
        turn = view.turn
        if turn is not None and not turn.status.finished:
            cls = type(event)
            if cls is ev.ContentDelta or cls is ev.ThinkingDelta or cls is ev.ToolParameterDelta:
                turn.apply(event)
                return
        if isinstance(event, ev.ConnectionChanged):
            self._connection_changed(view, event)
            return
        if isinstance(event, ev.Connected):
            self._stream_connected(view)
            return
        if isinstance(event, ev.Heartbeat):
            return
        if type(event).__name__ == "Resynced":
            self._resynced(view)
            return
        if isinstance(event, ev.SessionDeleted):
            self._deleted_elsewhere(event.session_id)
            return
        if isinstance(event, ev.SessionCreated):
            self._load_sessions()
            return
        if turn is None or turn.status.finished:
            if isinstance(event, ev.UserMessageCreated) and not event.parent_tool_call_id and not self._is_echo(view, event):
                # Someone else (another client) started a turn in this session: show it live too.
                self._begin_turn(view, event.content, echo_id=event.message_id)
                turn = view.turn
            else:
                return
        assert turn is not None
        turn.apply(event)
        if isinstance(event, ev.PermissionRequest):
            self._permission_arrived(view)
        if turn.status.finished:
            self._turn_finished(view)

    def _deleted_elsewhere(self, session_id: str) -> None:
        view = self.views.get(session_id)
        if view is None:
            self._load_sessions()
            return
        draft = self.composer.text if self.current is view else ""
        self.sidebar.remove_session(session_id)
        self.close_view(view)
        if draft.strip():
            self.composer.load(draft)  # the text moves to the "new session" draft; never lost
            self._save_draft_now()
        self.notify(f"“{view.conversation.title}” was deleted on the server.", severity="warning")

    def _is_echo(self, view: SessionView, event: ev.UserMessageCreated) -> bool:
        turn = view.turn
        return turn is not None and turn.user_message_id in (None, event.message_id) and turn.user_text == event.content

    def _stream_connected(self, view: SessionView) -> None:
        view.connection = "connected"
        view.connected.set()
        if self.current is view or self.connection != "connected":
            self._set_connection("connected")

    def _connection_changed(self, view: SessionView, event: ev.ConnectionChanged) -> None:
        if event.state == "connected":
            self._stream_connected(view)
            if not self._session_list_loaded:
                self._load_sessions()
            return
        view.connection = event.state
        view.connected.clear()
        if self.current is view or self.current is None:
            self._set_connection(event.state, attempt=event.attempt, delay=event.delay, reason=event.reason)

    def _resynced(self, view: SessionView) -> None:
        """The stream came back after a gap: what was missed is in the history, not in the stream."""
        if not view.busy:
            self._load_history(view)
        else:
            self._settle_after_gap(view)

    @work(group="history")
    async def _settle_after_gap(self, view: SessionView) -> None:
        """A turn was running during the gap: if the history holds its final answer, finish it from there."""
        turn = view.turn
        await asyncio.sleep(1.0)  # events sent right after the reconnect may still finish it
        if turn is None or turn.status.finished or view.turn is not turn:
            return
        try:
            page = await self.backend.load_messages(view.id, limit=6)  # type: ignore[union-attr]
        except Exception:
            return  # Esc still ends the turn locally
        messages = page.messages
        asked = any(m.role == "user" and m.text.strip() == turn.user_text.strip() for m in messages)
        if asked and messages and messages[-1].role == "assistant" and not messages[-1].tool_calls:
            last = messages[-1]
            turn.apply(ev.Complete(content=last.text, message_id=last.id or None))
            if turn.status.finished:
                self._turn_finished(view)

    # ------------------------------------------------------------------ turns

    def _begin_turn(self, view: SessionView, text: str, *, echo_id: str | None = None) -> TurnModel:
        turn = self._new_turn(view, text, echo_id=echo_id)
        self._show_new_turn(view, turn)
        return turn

    def _new_turn(self, view: SessionView, text: str, *, echo_id: str | None = None) -> TurnModel:
        """The turn's model: from now on the session's events fold into it (drawn or not yet)."""
        timeout = getattr(getattr(self.app, "config", None), "embedded", None)
        turn = TurnModel(user_text=text, user_message_id=echo_id, clock=self.app.clock,  # type: ignore[attr-defined]
                         permission_timeout=getattr(timeout, "permission_timeout", 30.0) if timeout else 30.0)
        view.turn = turn
        view.turn_wall_start = self.app.clock()  # type: ignore[attr-defined]
        view.transcript.expect_turn()
        return turn

    def _show_new_turn(self, view: SessionView, turn: TurnModel) -> None:
        """Draw the turn: the user's message and the live answer (which may have begun, or even ended)."""
        view.transcript.add_user_message(turn.user_text)
        view.transcript.start_turn(turn)
        if turn.status.finished:
            return  # _turn_finished has set the marks already
        self.sidebar.set_state(view.id, "busy")
        if self.current is view:
            self._show_turn_state(view)
            self.rate_limit_banner.hide()

    def _show_turn_state(self, view: SessionView) -> None:
        turn = view.turn
        if turn is None:
            self.status.set(turn_state="idle", turn_started=None, turn_ended=None)
            return
        if turn.status is TurnStatus.STREAMING:
            state = "waiting_permission" if turn.pending_permissions else "streaming"
        else:
            state = turn.status.value
        self.status.set(turn_state=state, turn_started=view.turn_wall_start,
                        turn_ended=None if not turn.status.finished else view.turn_wall_start + turn.duration)

    def _permission_arrived(self, view: SessionView) -> None:
        turn = view.turn
        assert turn is not None
        self.sidebar.set_state(view.id, "permission")
        pending = turn.pending_permissions
        if self.current is view:
            self.prompt.set_pending(pending)
            self.prompt.focus()
            self._show_turn_state(view)
        if pending:
            req = pending[-1].request
            notify.alert(self.app, f"mix-tui: {req.tool_name or 'a tool'} asks for permission in “{view.conversation.title}”")

    def on_transcript_permissions_changed(self, event: Transcript.PermissionsChanged) -> None:
        event.stop()
        view = self.current
        if view is not None and event.control is view.transcript or (view and event._sender is view.transcript):
            self.prompt.set_pending(event.pending)
            if not event.pending and self.prompt.has_focus:
                self.composer.focus()

    def _turn_finished(self, view: SessionView) -> None:
        turn = view.turn
        assert turn is not None
        view.transcript.finish_turn()
        if turn.answer:
            view.last_answer = turn.answer
        seen = self.current is view and self.app.app_focus
        self.sidebar.set_state(view.id, "" if seen else "unseen")
        if not seen:
            self.store.mark_unseen(self.draft_key(view.id))
        if self.current is view:
            self.prompt.set_pending([])
            self._show_turn_state(view)
            self._show_continuity()
            self._refresh_usage(view)  # the turn's tokens and cost are in the session now
            if self.prompt.has_focus or self.focused is None:
                self.composer.focus()
        if self.app.clock() - view.turn_wall_start > LONG_TURN:  # type: ignore[attr-defined]
            notify.alert(self.app, f"mix-tui: answer finished in “{view.conversation.title}” ({turn.status.value})")
        if turn.status is TurnStatus.RATE_LIMITED and turn.error is not None and self.current is view:
            self._show_rate_limit(view)  # the banner counts down; no toast on top of it
        elif turn.status in (TurnStatus.ERROR, TurnStatus.RATE_LIMITED) and turn.error is not None:
            if turn.error.type in ("client_error", "send_failed") and not turn.answer and turn.user_text:
                # The message never got through: the text goes back to the composer.
                self._restore_text(turn.user_text, self.draft_key(view.id), turn.error.error)
            else:
                self.notify(turn.error.error, title="The turn failed", severity="error", timeout=8)
        self._unsent.pop(turn.user_text, None)  # delivered (or put back just above): nothing to keep

    # ------------------------------------------------------------------ sending

    @on(Composer.Submitted)
    def _submitted(self, event: Composer.Submitted) -> None:
        event.stop()
        text = event.text
        if self.connection in ("reconnecting", "offline"):
            why = "the connection is down and being retried" if self.connection == "reconnecting" else "the server is unreachable"
            self.notify(
                f"Not sent: {why}. Your text stays in the composer; press Enter again once connected.",
                title="Not sent", severity="warning", timeout=8,
            )
            return
        if text.strip().lower() == "/clear":
            self.composer.load("")
            self._clear_session()  # handled here: a new session is the empty context
            return
        view = self.current
        if view is not None and view.busy:
            self.notify("Not sent: the agent is still answering. Press Esc to stop it first; your text is kept.",
                        title="Not sent", severity="warning")
            return
        self.composer.load("")
        attachments = list(self.attached.attachments)
        # Attached context goes out in front of the text, once; `@` files are named after it.
        sent = self.completion.attach(self.attached.wrap(text), view.id if view is not None else None)
        # The attachment leaves the panel with the message (it is on its way); a failed send brings
        # both back (_restore_text), so keeping it attached meanwhile would only invite a second use.
        self.attached.clear()
        if sent != text or attachments:
            self._unsent.pop(sent, None)
            self._unsent[sent] = (text, attachments)
            while len(self._unsent) > UNSENT_KEPT:
                del self._unsent[next(iter(self._unsent))]  # the oldest: long delivered or failed
        self._send(sent, plan_mode=self.composer.plan_mode)

    @work(group="send")
    async def _send(self, text: str, plan_mode: bool = False) -> None:
        app = self.app
        key_before = self.current_key
        try:
            backend = await app.wait_backend()  # type: ignore[attr-defined]
        except Exception as exc:
            self._restore_text(text, key_before, f"Not sent: {error_text(exc)}")
            return
        view = self.current
        if view is None:
            try:
                conversation = await backend.create_conversation(title_from(text))
            except Exception as exc:
                self._restore_text(text, key_before, f"Not sent: could not create a session: {error_text(exc)}")
                return
            self.store.clear_draft(key_before)
            self.sidebar.add_session(conversation)
            view = self.open_session(conversation)
            self.composer.load("")
        turn = self._new_turn(view, text)
        if view.connected.is_set():
            # The request goes out before the screen shows the message: a frame painted first holds
            # the request back by its length, and the answer starts that much later.
            sending = asyncio.ensure_future(self._deliver(backend, view.id, text, plan_mode))
            await asyncio.wait({sending}, timeout=SEND_HEAD_START)
            self._show_new_turn(view, turn)
        else:
            self._show_new_turn(view, turn)
            try:
                await asyncio.wait_for(view.connected.wait(), CONNECT_WAIT)
            except asyncio.TimeoutError:
                pass  # try anyway: the send itself will say what is wrong
            sending = asyncio.ensure_future(self._deliver(backend, view.id, text, plan_mode))
        self.store.clear_draft(self.draft_key(view.id))
        typed = self._unsent.get(text, (text, []))[0]  # ↑ recalls what the user typed, not the context
        self.store.add_prompt(app.backend_name, typed)  # type: ignore[attr-defined]
        history = self.composer.prompt_history
        if not history or history[-1] != typed.strip():
            history.append(typed.strip())
        try:
            await sending
        except Exception as exc:
            message = error_text(exc)
            if isinstance(exc, ConnectionFailed):
                self._set_connection("offline", reason=message)
            if not turn.status.finished:
                # The stream may be a moment behind the reply, and it says more (a rate limit's retryAfter).
                await asyncio.sleep(STREAM_GRACE)
            if turn.status.finished:
                return  # the stream ended the turn; its card says what happened
            if turn.version == 0:
                turn.fail(f"Not sent: {message}")  # nothing arrived: never delivered, _turn_finished puts the text back
            else:
                # The server took the message (its events arrived): the turn failed, the text was sent.
                turn.apply(ev.Error(error=message, type="send_error"))
            self._turn_finished(view)

    @staticmethod
    async def _deliver(backend: ChatBackend, conversation_id: str, text: str, plan_mode: bool) -> None:
        if plan_mode:
            await backend.send(conversation_id, text, plan_mode=True)
        else:
            await backend.send(conversation_id, text)

    def _restore_text(self, text: str, key: str, message: str) -> None:
        """A send failed: what the user typed goes back where it was (never lost), and the context that
        was attached to it is attached again (`text` is the message as sent, with both folded in)."""
        typed, attachments = self._unsent.pop(text, (text, []))
        if self.current_key == key and not self.composer.text.strip():
            self.composer.load(typed)
        elif not self.store.draft(key).strip():
            self.store.set_draft(key, typed)
            self.store.flush()
        if attachments:
            self._reattach(attachments)
        message = message if message.startswith("Not sent") else f"Not sent: {message}"
        back = "Your text and the attached context were put back." if attachments else "Your text was put back."
        self.notify(f"{message} {back}", title="Not sent", severity="error", timeout=10)

    def _reattach(self, attachments: list[Attachment]) -> None:
        """The failed message's context first, then anything attached since (each once)."""
        since = [a for a in self.attached.attachments if a not in attachments]
        self.attached.clear()
        for a in attachments + since:
            self.attached.add(a.text, a.source)

    @work(group="clear")
    async def _clear_session(self) -> None:
        """`/clear`: not sent to the server; a new, empty session is opened instead."""
        try:
            backend = await self.app.wait_backend()  # type: ignore[attr-defined]
            conversation = await backend.create_conversation("New session")
        except Exception as exc:
            self.notify(f"Could not start a new session: {error_text(exc)}", severity="error")
            return
        self.sidebar.add_session(conversation)
        self.open_session(conversation)
        self.composer.focus()
        self.notify("Started a new session: the context is empty.", title="/clear")

    # ------------------------------------------------------------------ plan mode, plans, rate limits

    def action_toggle_plan_mode(self) -> None:
        self.composer.action_toggle_plan_mode()

    @on(Composer.PlanModeChanged)
    def _plan_mode_changed(self, event: Composer.PlanModeChanged) -> None:
        event.stop()
        self.status.set(plan_mode=event.plan_mode)

    def on_plan_card_ready(self, event) -> None:
        """A turn ended on a plan: put the focus on it so p / k work, unless the user is typing."""
        event.stop()
        card = event.card
        view = self.current
        if view is None or card not in view.transcript.query("PlanCard"):
            return
        if self.prompt.display or (self.composer.has_focus and self.composer.text.strip()):
            self.notify("The plan is ready: Tab to it, then p to proceed or k to keep planning.", title="Plan")
            return
        card.focus()
        card.scroll_visible(animate=False)

    def on_plan_card_decided(self, event) -> None:
        event.stop()
        from tui.widgets.plan_card import PROCEED_TEXT

        if event.proceed:
            self.composer.plan_mode = False
            view = self.current
            if view is not None and view.busy:
                self.notify("The agent is still answering; send “Proceed with the plan.” once it is done.", severity="warning")
                return
            self._send(PROCEED_TEXT, plan_mode=False)
            self.composer.focus()
        else:
            self.composer.plan_mode = True
            self.composer.focus()
            self.notify("Still in plan mode: write what to change in the plan.", title="Keep planning")

    def _show_rate_limit(self, view: SessionView) -> None:
        turn = view.turn
        if turn is not None and turn.status is TurnStatus.RATE_LIMITED and turn.error is not None:
            since = turn.finished_at if turn.finished_at is not None else self.app.clock()  # type: ignore[attr-defined]
            self.rate_limit_banner.show_error(turn.error, since=since)
        else:
            self.rate_limit_banner.hide()

    # ------------------------------------------------------------------ drafts

    @on(Composer.DraftChanged)
    def _draft_changed(self, event: Composer.DraftChanged) -> None:
        event.stop()
        self.store.set_draft(self.current_key, event.text)
        self.store.flush()

    def _save_draft_now(self) -> None:
        if self.is_mounted:
            self.store.set_draft(self.current_key, self.composer.text)
            self.store.flush()

    # ------------------------------------------------------------------ permissions

    @on(PermissionAnswered)
    def _permission_answered(self, event: PermissionAnswered) -> None:
        event.stop()
        for view in self.views.values():
            turn = view.turn
            if turn is not None and turn.answer_permission(event.request_id, event.granted):
                self.prompt.set_pending(turn.pending_permissions)
                if not turn.pending_permissions:
                    self.sidebar.set_state(view.id, "busy" if view.busy else "")
                    self.composer.focus()
                if self.current is view:
                    self._show_turn_state(view)
                break
        self._answer(event.request_id, event.granted)

    @work(group="permissions")
    async def _answer(self, request_id: str, granted: bool) -> None:
        try:
            await self.backend.answer_permission(request_id, granted)  # type: ignore[union-attr]
        except Exception as exc:
            self.notify(f"Could not send your answer: {error_text(exc)}", severity="error")

    # ------------------------------------------------------------------ actions

    def action_new_session(self) -> None:
        """A new session is created on the first send (no empty sessions pile up). With several
        backends configured, the app first asks which one it is on."""
        offer = getattr(self.app, "offer_backends", None)
        if offer is not None and offer(self.start_new_session):
            return
        self.start_new_session()

    def start_new_session(self) -> None:
        self._save_draft_now()
        if self.current is not None:
            self.current = None
            self.query_one("#transcripts", ContentSwitcher).current = "empty-state"
            self.sidebar.set_current(None)
            self.status.set(session="", usage="", turn_state="idle", turn_started=None, turn_ended=None)
            self.prompt.set_pending([])
            self.rate_limit_banner.hide()
            self._set_connection(self.connection if self.connection != "reconnecting" else "connected")
        self.composer.load(self.store.draft(self.current_key))
        self.composer.focus()
        self._show_continuity()
        if self.backend is not None:
            self.refresh_model()

    def action_toggle_sidebar(self) -> None:
        sidebar = self.sidebar
        sidebar.display = not sidebar.display
        self.store.set_setting("sidebar_visible", "1" if sidebar.display else "0")
        if not sidebar.display and sidebar.has_focus_within:
            self.composer.focus()

    def action_focus_sessions(self) -> None:
        if not self.sidebar.display:
            self.action_toggle_sidebar()
        self.sidebar.focus_list()

    def action_focus_composer(self) -> None:
        self.composer.focus()

    def action_cancel_turn(self) -> None:
        view = self.current
        if view is None or not view.busy:
            if self.focused is not self.composer:
                self.composer.focus()
            return
        self._cancel(view)

    @work(group="cancel")
    async def _cancel(self, view: SessionView) -> None:
        turn = view.turn
        assert turn is not None
        backend = self.backend
        try:
            await backend.cancel(view.id)  # type: ignore[union-attr]
        except Exception:
            turn.mark_cancelled()  # the server cannot be told; stop showing it as running
        else:
            deadline = time.monotonic() + CANCEL_GRACE
            while not turn.status.finished and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            turn.mark_cancelled()
        if view.turn is turn and turn.status.finished:
            self._turn_finished(view)

    def action_rename_session(self) -> None:
        view = self.current
        if view is None:
            self.notify("Open a session to rename it.")
            return
        from tui.screens.rename import RenameScreen

        def done(title: str | None) -> None:
            if title and title != view.conversation.title:
                self._rename(view, title)

        self.app.push_screen(RenameScreen(view.conversation.title), done)

    @work(group="rename")
    async def _rename(self, view: SessionView, title: str) -> None:
        try:
            await self.backend.rename_conversation(view.id, title)  # type: ignore[union-attr]
        except NotImplementedError:
            self.store.set_title(self.draft_key(view.id), title)  # kept locally: this server cannot rename
        except Exception as exc:
            self.notify(f"Could not rename: {error_text(exc)}", severity="error")
            return
        view.conversation.title = title
        self.sidebar.set_title(view.id, title)
        if self.current is view:
            self.status.set(session=title)

    def action_delete_session(self) -> None:
        view = self.current
        if view is None:
            self.notify("Open a session to delete it.")
            return
        from tui.screens.confirm import ConfirmScreen

        def done(yes: bool | None) -> None:
            if yes:
                self._delete(view)

        self.app.push_screen(ConfirmScreen(f"Delete “{view.conversation.title}” and all its messages? This cannot be undone."), done)

    @work(group="delete")
    async def _delete(self, view: SessionView) -> None:
        try:
            await self.backend.delete_conversation(view.id)  # type: ignore[union-attr]
        except Exception as exc:
            self.notify(f"Could not delete: {error_text(exc)}", severity="error")
            return
        self.store.forget(self.draft_key(view.id))
        self.sidebar.remove_session(view.id)
        self.close_view(view)
        self.notify(f"Deleted “{view.conversation.title}”.")

    def on_transcript_fork_requested(self, event: Transcript.ForkRequested) -> None:
        event.stop()
        if self.current is not None:
            self._fork(self.current, event.message_index)

    def action_fork_session(self) -> None:
        view = self.current
        if view is None:
            self.notify("Open a session to fork it.")
            return
        self._pick_fork(view)

    @work(group="fork")
    async def _pick_fork(self, view: SessionView) -> None:
        try:
            messages = await self._all_messages(view.id)
        except Exception as exc:
            self.notify(f"Could not load the messages: {error_text(exc)}", severity="error")
            return
        if not messages:
            self.notify("Nothing to fork yet: this session has no messages.")
            return
        from tui.screens.fork import ForkPickerScreen

        index = await self.app.push_screen_wait(ForkPickerScreen(messages))
        if index is not None:
            self._fork(view, index)

    @work(group="fork")
    async def _fork(self, view: SessionView, message_index: int) -> None:
        backend = self.backend
        capabilities_for = getattr(backend, "capabilities_for", None)
        if backend is None or not (capabilities_for(view.id) if capabilities_for else backend.capabilities).fork:
            self.notify("This server cannot fork sessions.", severity="warning")
            return
        try:
            new = await backend.fork(view.id, message_index + 1, title=f"{view.conversation.title} (fork)")
        except Exception as exc:
            self.notify(f"Could not fork: {error_text(exc)}", severity="error")
            return
        self.sidebar.add_session(new)
        self.open_session(new)
        self.notify(f"Forked at message {message_index + 1}: “{new.title}”.")

    async def _all_messages(self, conversation_id: str) -> list[ChatMessage]:
        backend = self.backend
        assert backend is not None
        page: MessagePage = await backend.load_messages(conversation_id, limit=200)
        messages = list(page.messages)
        while page.has_older and len(messages) < 10_000:
            page = await backend.load_messages(conversation_id, before=page.start, limit=200)
            messages[0:0] = page.messages
        return messages

    def action_export_session(self) -> None:
        if self.current is None:
            self.notify("Open a session to export it.")
            return
        self._export(self.current)

    @work(group="export")
    async def _export(self, view: SessionView) -> Path | None:
        try:
            messages = await self._all_messages(view.id)
        except Exception as exc:
            self.notify(f"Could not export: {error_text(exc)}", severity="error")
            return None
        folder = self.app.export_dir  # type: ignore[attr-defined]
        path = folder / f"{slug(view.conversation.title)}-{datetime.now():%Y%m%d-%H%M%S}.md"
        text = export_markdown(view.conversation, messages)
        try:
            await asyncio.to_thread(_write_text, path, text)
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc.strerror}", severity="error")
            return None
        self.notify(f"Exported to {path}", title="Exported", timeout=10)
        return path

    def on_transcript_copy_requested(self, event: Transcript.CopyRequested) -> None:
        event.stop()
        self._copy(event.text)

    def action_copy_last(self) -> None:
        view = self.current
        text = ""
        if view is not None:
            text = view.turn.answer if view.turn is not None and view.turn.answer else view.last_answer
        if not text:
            self.notify("No answer to copy yet.")
            return
        self._copy(text)

    def _copy(self, text: str) -> None:
        self.app.copy_to_clipboard(text)
        self.app.last_copied = text  # type: ignore[attr-defined]
        self.notify(f"Copied {len(text)} characters.")


def _write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
