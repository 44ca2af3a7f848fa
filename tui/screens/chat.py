"""The chat screen: sidebar, one transcript per open session, permission prompt, composer, status bar.

It composes the widgets, draws what the controllers report and forwards keys and widget messages to
them. What the chat does lives in plain Python (tui/controllers): `SessionController` per open
session (its turn, event stream, permissions, sends), `SessionList` for the list, drafts and the
requests on a whole session, `Unsent` for messages on their way. The screen runs their async work
in Textual workers, so it ends with the screen; nothing here is called per streamed delta.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Static, TextArea

from tui import notify
from tui.api import events as ev
from tui.api.backend import ChatBackend, Conversation
from tui.api.errors import ServerError
from tui.api.turn import TurnModel, TurnStatus
from tui.controllers import backend_info
from tui.controllers.outbox import Unsent
from tui.controllers.session import SessionController
from tui.controllers.session_list import RELIST_EVERY, SessionList
from tui.controllers.wording import error_text
from tui.keymap import bindings
from tui.screens.chat_actions import ChatActions
from tui.screens.chat_permissions import ChatPermissions
from tui.screens.chat_queue import ChatQueue
from tui.widgets.attached_context import AttachedContext, Attachment
from tui.widgets.banner import ReconnectBanner
from tui.widgets.completion import CompletionPopup
from tui.widgets.composer import Composer
from tui.widgets.permission_prompt import PermissionPrompt
from tui.widgets.queued import QueuedMessages
from tui.widgets.rate_limit_banner import RateLimitBanner
from tui.widgets.sidebar import Sidebar
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.widgets.transcript import Transcript

TURN_MARKS_AFTER = 0.15  # seconds after a send before the session list and the status bar say "answering"

class ChatScreen(ChatActions, ChatPermissions, ChatQueue, Screen[None]):
    """Also the `SessionListener` of every open session (the `stream_*`, `turn_*` … methods below);
    the keys that act on a whole session are in `ChatActions`."""

    BINDINGS = bindings("chat")

    def __init__(self) -> None:
        super().__init__(id="chat")
        self.views: dict[str, SessionController] = {}
        self.current: SessionController | None = None
        self.connection = "starting"
        self._transcript_seq = 0
        self.continuity: Any = None  # the continuity notice, mounted the first time a backend reports one
        self._model_owner: str | None = None  # backend whose model the status bar shows
        self.unsent = Unsent()
        self._draft_of: str | None = None  # the session whose draft the composer holds (None: a new one)

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
                yield QueuedMessages(id="queued")
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

    @property
    def current_id(self) -> str | None:
        return self.current.id if self.current else None

    @property
    def current_key(self) -> str:
        return self.sessions.key(self.current_id)

    def on_mount(self) -> None:
        app: Any = self.app
        self.sessions = SessionList(self.store, lambda: app.backend_name, lambda: app.backend)
        self.sidebar.display = self.store.setting("sidebar_visible", "1") == "1"
        self.composer.prompt_history = self.store.prompts(app.backend_name)
        # The draft comes back before the server is even up: the user's text is never waiting on I/O.
        last = self.sessions.pending_open = self.sessions.last_open()
        self.load_draft(last)
        self.composer.focus()
        from tui.widgets.completion import install

        self.completion = install(self)  # `/` commands and `@` session files in the composer
        self.status.clock = self.banner.clock = self.prompt.clock = app.clock
        self.rate_limit_banner.clock = app.clock
        self.status.set(connection=self.connection)
        self.set_interval(RELIST_EVERY, self._relist_sessions)
        app.start_backend()

    # ------------------------------------------------------------------ backend life cycle (called by the app)

    def backend_starting(self, state: str) -> None:
        self.connection = state
        self.status.set(connection=state)

    def backend_ready(self, url: str) -> None:
        self.status.set(server=url)
        self.sidebar.set_marks(backend_info.marks(self.backend))
        self._load_sessions(open_last=True)
        self.refresh_model(force=True)

    def backend_failed(self, message: str) -> None:
        self.connection = "offline"
        self.status.set(connection="offline")
        self.banner.show_state("offline", reason=message)
        self.notify(message, title="Server not available", severity="error", timeout=10)

    @work(group="sessions", exclusive=True)
    async def _load_sessions(self, open_last: bool = False) -> None:
        conversations = await self.sessions.load(lambda reason: self._set_connection(
            "offline", reason=reason, answered=isinstance(self.sessions.last_failure, ServerError)))
        if conversations is None:
            return
        self.sidebar.set_sessions(conversations)
        for conversation_id in self.sessions.unseen(conversations):
            self.sidebar.set_state(conversation_id, "unseen")
        if self.connection != "reconnecting":
            self._set_connection("connected")
        reopen = self.sessions.take_pending(conversations)
        if open_last and reopen is not None and self.current is None:
            self.open_session(reopen)
        elif self.current is None and self._draft_of is not None:
            # The last session's draft was shown at start-up, but that session is not listed (gone, or
            # on a backend not configured now): it stays its draft, and a new message starts empty.
            self._save_draft_now()
            self.load_draft(None)

    @work(group="relist", exclusive=True)
    async def _relist_sessions(self) -> None:
        """Sessions made, renamed or deleted by another client (another tab of `mix-tui web`)."""
        conversations = await self.sessions.relist([item.conversation for item in self.sidebar.items])
        if conversations is None:
            return
        self.sidebar.set_sessions(conversations)
        for conversation in conversations:
            view = self.views.get(conversation.id)
            if view is not None and view.conversation.title != conversation.title:
                view.conversation.title = conversation.title
                if self.current is view:
                    self.status.set(session=conversation.title or "untitled")

    def refresh_model(self, *, force: bool = False) -> None:
        """Show the model of the open conversation (or of the next new one) in the status bar;
        asked again only when that is on another backend than the one shown, unless `force`."""
        owner = backend_info.model_owner(self.backend, self.current_id)
        if not force and owner == self._model_owner:
            return
        self._model_owner = owner
        self._load_model()

    @work(group="model", exclusive=True)
    async def _load_model(self) -> None:
        """The model name for the status bar, when the backend can tell (optional)."""
        try:
            model = await backend_info.model_label(self.backend, self.current_id)
        except Exception:  # the status bar just stays without a model
            return
        if model is not None and self.is_attached and self.query(StatusBar):
            self.status.set(model=model)  # (the screen may be gone when the answer comes)

    def _show_continuity(self) -> None:
        """The continuity notice above the composer, for backends that may not continue a conversation."""
        if self.continuity is None:
            if backend_info.continuity_state(self.backend, self.current_id) == "yes":
                return
            from tui.widgets.mixerlead_continuity import ContinuityNotice  # only once a backend needs it

            self.continuity = ContinuityNotice(id="continuity-notice")
            self.query_one("#main").mount(self.continuity, before=self.attached)
        self.continuity.show_for(self.backend, self.current_id)

    def on_screen_resume(self) -> None:
        # Back from a dialog (the model picker, the knowledge screens): what they changed shows here.
        if self.backend is not None:
            self.refresh_model(force=True)
            self._show_continuity()

    # ------------------------------------------------------------------ connection state

    def _set_connection(self, state: str, *, attempt: int = 0, delay: float = 0.0, reason: str = "",
                        answered: bool = False) -> None:
        """`answered`: offline for the app, but the server did answer (an HTTP error), and the banner says so."""
        url = getattr(self.app, "server_url", "")
        if url and reason:
            reason = reason.replace(f" at {url}", "").replace(url, "the server")  # the status bar shows it already
        self.connection = state
        try:
            status, banner = self.status, self.banner
        except NoMatches:
            return  # the screen is being torn down (app exit) while a worker reports
        status.set(connection=state)
        banner.show_state("refused" if answered and state == "offline" else state, attempt=attempt, delay=delay, reason=reason)

    # ------------------------------------------------------------------ sessions

    def open_session(self, conversation: Conversation) -> SessionController:
        """Show a session (creating its transcript and event consumer the first time)."""
        self._save_draft_now()
        view = self.views.get(conversation.id)
        if view is None:
            from tui.widgets.transcript import Transcript

            app: Any = self.app
            self._transcript_seq += 1
            transcript = Transcript(id=f"transcript-{self._transcript_seq}", classes="session-transcript", clock=app.clock)
            embedded = getattr(getattr(app, "config", None), "embedded", None)
            view = SessionController(conversation, transcript, self.backend, self, app.clock,
                                     permission_timeout=getattr(embedded, "permission_timeout", 30.0) if embedded else 30.0,
                                     commands=self.sessions.commands)
            self.views[conversation.id] = view
            self.query_one("#transcripts", ContentSwitcher).mount(transcript)
            view.consumer = self.run_background(view.consume(), "consumers")
            self.run_background(view.load_history(), "history")
        self.current = view
        self.query_one("#transcripts", ContentSwitcher).current = view.transcript.id
        self.load_draft(view.id)
        self.show_queue()
        self.sidebar.set_current(conversation.id)
        if self.sidebar.state_of(conversation.id) == "unseen":
            self.sidebar.set_state(conversation.id, "")
        self.sessions.opened(conversation.id)
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

    def close_view(self, view: SessionController) -> None:
        if view.consumer is not None:
            view.consumer.cancel()
        view.transcript.remove()  # type: ignore[attr-defined]
        self.views.pop(view.id, None)
        if self.current is view:
            self.current = None
            self.load_draft(None)
            self._show_no_session()
            self._show_continuity()

    def _show_no_session(self) -> None:
        self.query_one("#transcripts", ContentSwitcher).current = "empty-state"
        self.sidebar.set_current(None)
        self.status.set(session="", usage="", turn_state="idle", turn_started=None, turn_ended=None)
        self.prompt.set_pending([])
        self.show_queue()
        self.rate_limit_banner.hide()

    def _show_usage(self, conversation: Conversation) -> None:
        self.status.set_usage(conversation.prompt_tokens, conversation.completion_tokens, conversation.cost)

    @work(group="usage", exclusive=True)
    async def _refresh_usage(self, view: SessionController) -> None:
        """One GET of the session for its usage (opened, or a turn just ended)."""
        if await view.refresh_usage() and self.current is view and self.is_attached:
            try:
                self._show_usage(view.conversation)
            except NoMatches:
                pass  # the screen is being torn down

    @on(Sidebar.Selected)
    def _session_selected(self, event: Sidebar.Selected) -> None:
        item = next((i for i in self.sidebar.items if i.id == event.conversation_id), None)
        if item is not None:
            self.open_session(item.conversation)
            self.composer.focus()

    def on_transcript_load_older(self, event: Transcript.LoadOlder) -> None:
        event.stop()
        view = next((v for v in self.views.values() if v.transcript is event.control or v.transcript is event._sender), None)
        if view is not None:
            self.run_background(view.load_older(event.before, event.limit), "history")

    # ------------------------------------------------------------------ what the open sessions report

    def run_background(self, work: Any, group: str) -> Any:
        return self.run_worker(work, group=group)

    def teardown_error(self, exc: Exception) -> bool:
        return isinstance(exc, NoMatches)

    def report_error(self, message: str) -> None:
        self.notify(message, severity="error")

    def sessions_changed(self) -> None:
        self._load_sessions()

    def session_deleted(self, session_id: str) -> None:
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

    def stream_connected(self, session: SessionController) -> None:
        if self.current is session or self.connection != "connected":
            self._set_connection("connected")

    def connection_changed(self, session: SessionController, event: ev.ConnectionChanged) -> None:
        if event.state == "connected":
            self.stream_connected(session)
            if not self.sessions.loaded:
                self._load_sessions()
        elif self.current is session or self.current is None:
            self._set_connection(event.state, attempt=event.attempt, delay=event.delay, reason=event.reason)

    def stream_lost(self, session: SessionController, reason: str) -> None:
        if self.current is session:
            self._set_connection("offline", reason=reason)

    def connection_lost(self, reason: str) -> None:
        self._set_connection("offline", reason=reason)

    def turn_started(self, session: SessionController) -> None:
        # A moment later: a fast answer's first words come within it, and a frame that redraws the
        # session list and the status bar (5-10 ms) would stand in their way.
        self.set_timer(TURN_MARKS_AFTER, partial(self._show_turn_started, session, session.turn,
                                                 self.sidebar.state_of(session.id)))

    def _show_turn_started(self, session: SessionController, turn: TurnModel | None, state_before: str) -> None:
        if turn is None or session.turn is not turn or turn.status.finished:
            return  # (already over: turn_finished showed its end)
        if self.sidebar.state_of(session.id) == state_before:  # else a later mark (a permission asked) stands
            self.sidebar.set_state(session.id, "busy")
        if self.current is session:
            self._show_turn_state(session)
            self.rate_limit_banner.hide()

    def turn_finished(self, session: SessionController) -> None:
        turn = session.turn
        assert turn is not None
        seen = self.current is session and self.app.app_focus
        self.sidebar.set_state(session.id, "" if seen else "unseen")
        if not seen:
            self.sessions.mark_unseen(session.id)
        if self.current is session:
            self.prompt.set_pending([])
            self._show_turn_state(session)
            self._show_continuity()
            self._refresh_usage(session)  # the turn's tokens and cost are in the session now
            if self.prompt.has_focus or self.focused is None:
                self.composer.focus()
        if session.turn_was_long:
            notify.alert(self.app, f"mix-tui: answer finished in “{session.title}” ({turn.status.value})")
        if turn.status is TurnStatus.RATE_LIMITED and turn.error is not None and self.current is session:
            self._show_rate_limit(session)  # the banner counts down; no toast on top of it
        elif turn.status in (TurnStatus.ERROR, TurnStatus.RATE_LIMITED) and turn.error is not None:
            if session.turn_undelivered:  # the message never got through: the text goes back to the composer
                self._restore_text(turn.user_text, self.sessions.key(session.id), turn.error.error)
            else:
                self.notify(turn.error.error, title="The turn failed", severity="error", timeout=8)
        self.unsent.delivered(turn.user_text)  # delivered (or put back just above): nothing to keep
        self.send_queued(session)

    def _show_turn_state(self, view: SessionController) -> None:
        turn = view.turn
        if turn is None:
            self.status.set(turn_state="idle", turn_started=None, turn_ended=None)
            return
        if turn.status is TurnStatus.STREAMING:
            pending = turn.pending_permissions
            # What waits on top (the prompt shows it first): a tool's permission or the agent's question.
            state = "streaming" if not pending else "waiting_answer" if pending[0].question else "waiting_permission"
        else:
            state = turn.status.value
        self.status.set(turn_state=state, turn_started=view.turn_wall_start,
                        turn_ended=None if not turn.status.finished else view.turn_wall_start + turn.duration)

    def on_transcript_permissions_changed(self, event: Transcript.PermissionsChanged) -> None:
        event.stop()
        view = self.current
        if view is not None and event.control is view.transcript or (view and event._sender is view.transcript):
            self.prompt.set_pending(event.pending)
            if not event.pending and self.prompt.has_focus:
                self.composer.focus()

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
        self.composer.load("")
        attachments = list(self.attached.attachments)
        # Attached context goes out in front of the text, once; `@` files are named after it.
        sent = self.completion.attach(self.attached.wrap(text), view.id if view is not None else None)
        # The attachment leaves the panel with the message (it is on its way); a failed send brings
        # both back (_restore_text), so keeping it attached meanwhile would only invite a second use.
        self.attached.clear()
        if view is not None and view.busy:
            self.queue_message(view, sent)
            return
        self.unsent.remember(sent, text, attachments)
        self._send(sent, plan_mode=self.composer.plan_mode)

    @work(group="send")
    async def _send(self, text: str, plan_mode: bool = False) -> None:
        key_before = self.current_key
        try:
            await self.app.wait_backend()  # type: ignore[attr-defined]
        except Exception as exc:
            self._restore_text(text, key_before, f"Not sent: {error_text(exc)}")
            return
        view = self.current
        if view is None:
            try:
                conversation = await self.sessions.create(text)
            except Exception as exc:
                self._restore_text(text, key_before, f"Not sent: could not create a session: {error_text(exc)}")
                return
            # Keys typed while the session was being created belong to it, not to the draft left behind.
            typed_since = self.composer.text
            self.composer.load("")
            self.store.clear_draft(key_before)
            self.sidebar.add_session(conversation)
            view = self.open_session(conversation)
            self.composer.load(typed_since)
        turn, sending = await view.start_send(text, plan_mode)
        self.sessions.clear_draft(view.id)
        typed = self.unsent.typed(text)  # ↑ recalls what the user typed, not the context
        self.sessions.remember_prompt(typed)
        history = self.composer.prompt_history
        if not history or history[-1] != typed.strip():
            history.append(typed.strip())
        await view.finish_send(turn, sending)

    def _restore_text(self, text: str, key: str, message: str) -> None:
        """A send failed: what the user typed goes back where it was (never lost), and the context that
        was attached to it is attached again (`text` is the message as sent, with both folded in)."""
        typed, attachments = self.unsent.take(text)
        if self.current_key == key and not self.composer.text.strip():
            self.composer.load(typed)
        else:
            self.sessions.keep_unsent(key, typed)
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
            await self.app.wait_backend()  # type: ignore[attr-defined]
            conversation = await self.sessions.create("", title="New session")
        except Exception as exc:
            self.notify(f"Could not start a new session: {error_text(exc)}", severity="error")
            return
        self.sidebar.add_session(conversation)
        self.open_session(conversation)
        self.composer.focus()
        self.notify("Started a new session: the context is empty.", title="/clear")

    # ------------------------------------------------------------------ plan mode, rate limits

    @on(Composer.PlanModeChanged)
    def _plan_mode_changed(self, event: Composer.PlanModeChanged) -> None:
        event.stop()
        self.status.set(plan_mode=event.plan_mode)

    def _show_rate_limit(self, view: SessionController) -> None:
        turn = view.turn
        if turn is not None and turn.status is TurnStatus.RATE_LIMITED and turn.error is not None:
            since = turn.finished_at if turn.finished_at is not None else self.app.clock()  # type: ignore[attr-defined]
            self.rate_limit_banner.show_error(turn.error, since=since)
        else:
            self.rate_limit_banner.hide()

    # ------------------------------------------------------------------ drafts

    @on(TextArea.Changed, "#composer")
    def _composer_changed(self, event: TextArea.Changed) -> None:
        # Text in the composer: a send is likely soon, and the answer's widget is best mounted now.
        if self.current is not None and self.composer.text.strip():
            self.current.transcript.prepare_answer()

    @on(Composer.DraftChanged)
    def _draft_changed(self, event: Composer.DraftChanged) -> None:
        event.stop()
        self.sessions.save_draft(self._draft_of, event.text)

    def _save_draft_now(self) -> None:
        if self.is_mounted:
            self.sessions.save_draft(self._draft_of, self.composer.text)

    def load_draft(self, conversation_id: str | None) -> None:
        """Put a session's draft (None: the next new session's) in the composer. The text is saved back
        to the session it was loaded for, not to whichever is open when it is saved: the last session's
        draft shown at start-up went into the "new session" draft when that session opened, and came
        back in front of the next new message."""
        self._draft_of = conversation_id
        self.composer.load(self.sessions.draft(conversation_id))
