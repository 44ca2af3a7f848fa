"""One open session without the drawing: its conversation, the live turn its events fold into, the
connection of its event stream, its permission requests, and the requests that go with them
(history, send, cancel, usage).

Per open session one long-lived `consume()` folds `backend.events(session)` into the live TurnModel;
the transcript polls that model once per frame, so nothing here calls the UI per delta. Only rare
events (a permission request, the end of a turn, connection changes) reach the `SessionListener`.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from typing import Any, Awaitable, Callable, Coroutine, Protocol

from tui.api import events as ev
from tui.api.backend import ChatBackend, ChatMessage, Conversation, MessagePage
from tui.api.errors import ConnectionFailed
from tui.api.turn import TurnModel, TurnStatus
from tui.controllers import backend_info
from tui.controllers.command_log import CommandLog, interleave_page, parse_command_output
from tui.controllers.wording import error_text

log = logging.getLogger(__name__)

LONG_TURN = 10.0  # seconds: a turn this long rings when it ends while the terminal is unfocused
CONNECT_WAIT = 5.0  # seconds a send waits for the session's event stream to be connected
CANCEL_GRACE = 3.0  # seconds to wait for the server to confirm a cancel before marking it locally
SEND_HEAD_START = 0.02  # the longest a send goes ahead of drawing its message, waiting for the request to be written
STREAM_GRACE = 0.5  # seconds a failed send waits for the stream's own account of the turn
SETTLE_AFTER_GAP = 1.0  # seconds a resynced stream may still finish a turn by itself before the history is read
CONSUME_SLICE = 0.008  # seconds of event handling before the consumer lets the UI run
CONSUME_BREAK = 0.002  # seconds it then steps aside: long enough for a key or a frame to get through
CONSUME_IDLE = 0.001  # a wait this long for the next event ends a slice (the stream was quiet)
UNDELIVERED = ("client_error", "send_failed")  # error types of a message that never reached the server
STRAGGLE = 2.0  # seconds after a turn ends in which its late events are stragglers, not a new turn
# What a turn shows as it runs: one arriving with no turn here is a turn another client started before
# this stream saw its message (the session was opened mid-turn), which is then followed from there on.
JOINABLE = (ev.ContentDelta, ev.ThinkingDelta, ev.ToolUseStart, ev.ToolSnapshot, ev.ToolExecutionStart,
            ev.PermissionRequest)
ANCHOR_WAIT = 2.0  # seconds a slash command waits to learn where it stands in the history (else it is not kept)


class TurnDisplay(Protocol):
    """What draws one session's messages and turns (the Transcript widget)."""

    def expect_turn(self) -> None: ...
    def add_user_message(self, text: str) -> None: ...
    def start_turn(self, turn: TurnModel) -> None: ...
    def finish_turn(self) -> None: ...
    def show_history(self, page: MessagePage) -> None: ...
    def prepend_history(self, page: MessagePage) -> None: ...
    async def draw_live(self) -> None: ...


class SessionListener(Protocol):
    """What an open session tells the chat about (the screen implements it; tests record it)."""

    def stream_connected(self, session: SessionController) -> None: ...
    def connection_changed(self, session: SessionController, event: ev.ConnectionChanged) -> None: ...
    def stream_lost(self, session: SessionController, reason: str) -> None: ...
    def connection_lost(self, reason: str) -> None: ...
    def turn_started(self, session: SessionController) -> None: ...
    def permission_arrived(self, session: SessionController) -> None: ...
    def turn_finished(self, session: SessionController) -> None: ...
    def session_deleted(self, session_id: str) -> None: ...
    def sessions_changed(self) -> None: ...
    def report_error(self, message: str) -> None: ...
    def run_background(self, work: Coroutine[Any, Any, Any], group: str) -> Any:
        """Run `work` in the background, for as long as the UI lives."""
    def teardown_error(self, exc: Exception) -> bool:
        """True when `exc` only says the UI is going away (the remaining events have nowhere to go)."""


@dataclass(eq=False)
class SessionController:
    """One opened session. `transcript` draws it; `consumer` is the running `consume()` (the UI's handle)."""

    conversation: Conversation
    transcript: TurnDisplay
    backend: ChatBackend | None
    listener: SessionListener
    clock: Callable[[], float]
    permission_timeout: float = 30.0
    turn: TurnModel | None = None
    consumer: Any = None
    connected: asyncio.Event = field(default_factory=asyncio.Event)
    connection: str = "connecting"
    history_loaded: bool = False
    turn_wall_start: float = 0.0
    turn_wall_end: float = float("-inf")
    last_answer: str = ""
    last_question: str = ""  # the history's last user message (the question of a turn joined midway)
    joined: bool = False  # the live turn was joined midway: the history tells it whole once it ends
    commands: CommandLog | None = None  # where slash-command answers are kept (None: not kept)
    # The slash command on its way, and the last message of the history before it (None: an empty history).
    _command_anchor: tuple[TurnModel, ChatMessage | None] | None = field(default=None, init=False, repr=False)
    _history_ids: set[str] = field(default_factory=set)  # ids of the messages the history showed

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def busy(self) -> bool:
        return self.turn is not None and not self.turn.status.finished

    @property
    def title(self) -> str:
        return self.conversation.title

    # ------------------------------------------------------------------ the event stream

    async def consume(self) -> None:
        """Fold the session's events into its turn until cancelled (the UI cancels it when it closes)."""
        backend = self.backend
        if backend is None:
            return
        loop = asyncio.get_running_loop()
        resume_at = handled_at = loop.time()
        try:
            async for event in backend.events(self.id):
                now = loop.time()
                if now - handled_at > CONSUME_IDLE:
                    # The stream was quiet (the consumer waited for this event): a new slice starts.
                    # Counted from the last break instead, the first event of an answer after a pause
                    # found its slice used up and stepped aside before the first words were drawn.
                    resume_at = now + CONSUME_SLICE
                turn = self.turn
                first_block = turn is not None and not turn.blocks
                self.handle(event)
                # A fast stream arrives in big network reads whose thousands of events decode without
                # awaiting anything: hand the loop back now and then so frames and keys get through,
                # and at once when the answer's first block appears (the first token is painted early).
                if first_block and turn is not None and turn.blocks:
                    await self.transcript.draw_live()  # the first words now, not at the next poll
                    resume_at = loop.time() + CONSUME_SLICE
                elif loop.time() > resume_at:
                    await asyncio.sleep(CONSUME_BREAK)
                    resume_at = loop.time() + CONSUME_SLICE
                handled_at = loop.time()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the stream gave up for good: say so, keep everything
            if self.listener.teardown_error(exc):
                return
            log.warning("event stream of %s ended: %s", self.id, type(exc).__name__)
            self.connection = "offline"
            self.connected.clear()
            self.listener.stream_lost(self, error_text(exc))
            if self.turn is not None and not self.turn.status.finished:
                self.turn.fail(f"Lost the connection to the server: {error_text(exc)}")
                self.finish_turn()

    def handle(self, event: ev.Event) -> None:
        """Runs for every event: keep the common path (a delta) short."""
        turn = self.turn
        if turn is not None and not turn.status.finished:
            cls = type(event)
            if cls is ev.ContentDelta or cls is ev.ThinkingDelta or cls is ev.ToolParameterDelta:
                turn.apply(event)
                return
        if isinstance(event, ev.ConnectionChanged):
            self.connection = event.state
            if event.state == "connected":
                self.connected.set()
            else:
                self.connected.clear()
            self.listener.connection_changed(self, event)
            return
        if isinstance(event, ev.Connected):
            self.connection = "connected"
            self.connected.set()
            self.listener.stream_connected(self)
            return
        if isinstance(event, ev.Heartbeat):
            return
        if type(event).__name__ == "Resynced":
            self._resynced()
            return
        if isinstance(event, ev.TurnInProgress):
            self._join_turn(event)
            return
        if isinstance(event, ev.SessionDeleted):
            self.listener.session_deleted(event.session_id)
            return
        if isinstance(event, ev.SessionCreated):
            self.listener.sessions_changed()
            return
        if turn is None or turn.status.finished:
            if isinstance(event, ev.UserMessageCreated) and not event.parent_tool_call_id and not self._is_echo(event):
                # Someone else (another client) started a turn in this session: show it live too.
                turn = self.begin_turn(event.content, echo_id=event.message_id)
            elif isinstance(event, JOINABLE) and self._not_a_straggler():
                turn = self.join_turn()
            else:
                if type(event) is ev.Complete and not event.parent_tool_call_id and self._not_a_straggler():
                    self.listener.run_background(self.load_history(), "history")  # a turn ran unseen: its end
                return
        turn.apply(event)
        if isinstance(event, (ev.PermissionRequest, ev.Notification)):
            self.listener.permission_arrived(self)
        if turn.status.finished:
            self.finish_turn()

    def _join_turn(self, event: ev.TurnInProgress) -> None:
        """The stream connected while a turn ran on the server: follow it from what it has said so far.
        A stream that reconnects during a turn it already follows ignores this (settle_after_gap)."""
        if self.busy:
            return
        turn = self.new_turn(event.user_text, echo_id=event.message_id or None)
        if event.message_id and event.message_id in self._history_ids:
            self.transcript.start_turn(turn)  # the question is on screen already, from the history
            self.listener.turn_started(self)
        else:
            self.show_turn(turn)
        if event.thinking:
            turn.apply(ev.ThinkingDelta(event.thinking))
        if event.answer:
            turn.apply(ev.ContentDelta(event.answer))
        for call in event.tools:
            turn.apply(call)

    def _not_a_straggler(self) -> bool:
        return self.history_loaded and self.clock() - self.turn_wall_end > STRAGGLE

    def _is_echo(self, event: ev.UserMessageCreated) -> bool:
        turn = self.turn
        return turn is not None and turn.user_message_id in (None, event.message_id) and turn.user_text == event.content

    def _resynced(self) -> None:
        """The stream came back after a gap: what was missed is in the history, not in the stream."""
        if not self.busy:
            self.listener.run_background(self.load_history(), "history")
        else:
            self.listener.run_background(self.settle_after_gap(), "history")

    async def settle_after_gap(self, wait: float = SETTLE_AFTER_GAP) -> None:
        """A turn was running during the gap: if the history holds its final answer, finish it from there."""
        turn = self.turn
        await asyncio.sleep(wait)  # events sent right after the reconnect may still finish it
        if turn is None or turn.status.finished or self.turn is not turn or self.backend is None:
            return
        try:
            page = await self.backend.load_messages(self.id, limit=6)
        except Exception:
            return  # Esc still ends the turn locally
        messages = page.messages
        asked = any(m.role == "user" and m.text.strip() == turn.user_text.strip() for m in messages)
        if not (asked and messages and messages[-1].role == "assistant"):
            return
        last = messages[-1]
        if last.ended:
            # The server closed the turn without us (it was restarted mid-turn, or another client
            # cancelled): the stored answer, with its mark, takes the live one's place.
            if last.ended == "canceled":
                turn.mark_cancelled()
            elif last.ended == "interrupted":  # drawn with the same mark as the stored answer (AssistantMessage)
                turn.apply(ev.Error(error="The server stopped before the answer was finished.", type="interrupted"))
            else:
                turn.fail("The answer was cut short by an error while the connection was away.")
            if turn.status.finished:
                self.finish_turn()
            await self.load_history()
        elif not last.tool_calls:
            # A server that died mid-answer kept what it had stored (up to ~250 ms behind the screen):
            # the longer of the two stays, so nothing seen is taken back.
            content = last.text if len(last.text) >= len(turn.answer) else turn.answer
            turn.apply(ev.Complete(content=content, message_id=last.id or None))
            if turn.status.finished:
                self.finish_turn()

    # ------------------------------------------------------------------ history

    async def load_history(self) -> None:
        if self.backend is None:
            return
        try:
            page = await self.backend.load_messages(self.id)
        except Exception as exc:
            self.listener.report_error(f"Could not load the messages: {error_text(exc)}")
            return
        self._history_ids = {m.id for m in page.messages if m.id}
        if self.busy:
            turn = self.turn
            if turn is not None and turn.user_message_id and turn.user_message_id in self._history_ids:
                # A turn joined mid-way (TurnInProgress) before the history came: the history holds its
                # question and finished steps, never its streaming answer; the live turn goes below.
                self.transcript.show_history(self._with_commands(page))
                self.transcript.start_turn(turn)
                self.history_loaded = True
            return  # else a turn started meanwhile; its messages would appear twice
        upto_question = self._history_missing_the_turn(page)
        if upto_question is not None:
            # The server kept less of the last answer than the screen showed (it died mid-answer): the
            # history up to the question, then the turn as the user saw it. What was seen stays.
            self.transcript.show_history(self._with_commands(upto_question))
            self.transcript.start_turn(self.turn)  # type: ignore[arg-type]
            self.transcript.finish_turn()
        else:
            self.transcript.show_history(self._with_commands(page))
        self.history_loaded = True
        self.last_answer = next((m.text for m in reversed(page.messages) if m.role == "assistant" and m.text), "")
        self.last_question = next((m.text for m in reversed(page.messages) if m.role == "user"), "")

    def _history_missing_the_turn(self, page: MessagePage) -> MessagePage | None:
        """The page cut after the last turn's question, when what the server stored after it is shorter
        than what that (finished) turn showed; None when the history holds everything that was seen."""
        turn = self.turn
        if turn is None or not turn.status.finished or not (turn.answer or turn.thinking):
            return None
        messages = page.messages
        asked = next((i for i in range(len(messages) - 1, -1, -1)
                      if messages[i].role == "user" and messages[i].text.strip() == turn.user_text.strip()), None)
        if asked is None:
            return None
        stored = messages[asked + 1:]
        answer = sum(len(m.text) for m in stored if m.role == "assistant")
        thinking = sum(len(m.reasoning or "") for m in stored if m.role == "assistant")
        if answer >= len(turn.answer) and thinking >= len(turn.thinking):
            return None
        return replace(page, messages=messages[: asked + 1])

    async def load_older(self, before: int, limit: int | None = None) -> None:
        """The messages before index `before` (a page; `limit`: at most that many) go above the others."""
        try:
            size = {} if limit is None else {"limit": limit}  # else the backend's page size
            page = await self.backend.load_messages(self.id, before=before, **size)  # type: ignore[union-attr]
        except Exception as exc:
            self.listener.report_error(f"Could not load older messages: {error_text(exc)}")
            return
        self.transcript.prepend_history(self._with_commands(page, before=before))

    def _with_commands(self, page: MessagePage, before: int | None = None) -> MessagePage:
        """The page with the slash commands kept for it put back in their places."""
        return interleave_page(page, self.commands.records(self.id), before=before) if self.commands else page

    async def all_messages(self, most: int = 10_000, *, with_commands: bool = False) -> list[ChatMessage]:
        """Every message of the session, oldest first (up to `most`), page by page; `with_commands`: the
        kept slash commands too, in their places. Raises what the backend raised."""
        backend = self.backend
        assert backend is not None
        page: MessagePage = await backend.load_messages(self.id, limit=200)
        messages = list(page.messages)
        while page.has_older and len(messages) < most:
            page = await backend.load_messages(self.id, before=page.start, limit=200)
            messages[0:0] = page.messages
        if with_commands:
            return self._with_commands(MessagePage(messages, start=0, total=len(messages))).messages
        return messages

    async def refresh_usage(self) -> bool:
        """Fresh token counts and cost for the conversation (opened, or a turn just ended). False when
        there are none to show; failures only cost the numbers."""
        if self.backend is None:
            return False
        try:
            return await backend_info.fresh_usage(self.backend, self.conversation)
        except Exception as exc:  # noqa: BLE001 — the status bar keeps what it had
            log.debug("usage of %s not refreshed: %s", self.id, exc)
            return False

    # ------------------------------------------------------------------ turns

    def new_turn(self, text: str, *, echo_id: str | None = None) -> TurnModel:
        """The turn's model: from now on the session's events fold into it (drawn or not yet)."""
        turn = TurnModel(user_text=text, user_message_id=echo_id, clock=self.clock,
                         permission_timeout=self.permission_timeout)
        self.turn = turn
        self.joined = False
        self.turn_wall_start = self.clock()
        self.transcript.expect_turn()
        return turn

    def show_turn(self, turn: TurnModel) -> None:
        """Draw the turn: the user's message and the live answer (which may have begun, or even ended)."""
        self.transcript.add_user_message(turn.user_text)
        self.transcript.start_turn(turn)
        if not turn.status.finished:  # (a finished one was reported by finish_turn already)
            self.listener.turn_started(self)

    def begin_turn(self, text: str, *, echo_id: str | None = None) -> TurnModel:
        turn = self.new_turn(text, echo_id=echo_id)
        self.show_turn(turn)
        return turn

    def join_turn(self) -> TurnModel:
        """Follow a turn another client started before this stream saw its message: its question is
        the history's last one (already shown); what it streamed before now comes with the history
        read when it ends."""
        turn = self.new_turn(self.last_question)
        self.joined = True
        self.transcript.start_turn(turn)
        self.listener.turn_started(self)
        return turn

    def finish_turn(self) -> None:
        turn = self.turn
        assert turn is not None
        self._keep_command(turn)
        self.transcript.finish_turn()
        self.turn_wall_end = self.clock()
        if turn.answer:
            self.last_answer = turn.answer
        self.listener.turn_finished(self)
        if self.joined:
            self.joined = False
            self.listener.run_background(self.load_history(), "history")

    @property
    def turn_was_long(self) -> bool:
        return self.clock() - self.turn_wall_start > LONG_TURN

    @property
    def turn_undelivered(self) -> bool:
        """The turn failed before its message got through: the text should go back to the composer."""
        turn = self.turn
        return (turn is not None and turn.error is not None and turn.error.type in UNDELIVERED
                and not turn.answer and bool(turn.user_text))

    @property
    def answer(self) -> str:
        """The latest answer: the live one, or the last one of the history."""
        turn = self.turn
        return turn.answer if turn is not None and turn.answer else self.last_answer

    # ------------------------------------------------------------------ sending, cancelling, permissions

    async def _history_anchor(self) -> tuple[bool, ChatMessage | None]:
        """(known, the last message of the history): where a slash command sent now will stand."""
        try:
            page = await asyncio.wait_for(self.backend.load_messages(self.id, limit=1), ANCHOR_WAIT)  # type: ignore[union-attr]
        except Exception as exc:  # noqa: BLE001 — only the card's keeping is lost
            log.debug("history of %s not read before a command: %s", self.id, exc)
            return False, None
        return True, (page.messages[-1] if page.messages else None)

    def _keep_command(self, turn: TurnModel) -> None:
        """A slash command answered: keep its card (no server keeps it) after the message it followed."""
        pending, self._command_anchor = self._command_anchor, None
        if pending is None or pending[0] is not turn or self.commands is None:
            return
        if turn.status is TurnStatus.COMPLETE and parse_command_output(turn.answer) is not None:
            self.commands.record(self.id, turn.user_text, turn.answer, pending[1])

    async def start_send(self, text: str, plan_mode: bool = False) -> tuple[TurnModel, asyncio.Future[None]]:
        """Start a turn and its request; returns both (the request still running). The turn is drawn
        once the request is on its way, or, while the stream is not connected yet, before waiting for it."""
        backend = self.backend
        assert backend is not None
        anchor = await self._history_anchor() if self.commands is not None and text.startswith("/") else (False, None)
        turn = self.new_turn(text)
        if anchor[0]:
            self._command_anchor = (turn, anchor[1])
        if self.connected.is_set():
            # The request goes out before the screen shows the message: drawing it first (or between
            # the request's writes) holds the request back by its length, and the answer starts that
            # much later. The backend says when the request has left; if it does not, the wait's limit.
            shown = False

            def show() -> None:  # called by the backend as soon as the request is written, else below
                nonlocal shown
                if not shown:
                    shown = True
                    self.show_turn(turn)  # before any event of the answer can be handled

            sending = asyncio.ensure_future(_deliver(backend, self.id, text, plan_mode, show))
            await asyncio.wait({sending}, timeout=SEND_HEAD_START)
            show()
        else:
            self.show_turn(turn)
            try:
                await asyncio.wait_for(self.connected.wait(), CONNECT_WAIT)
            except asyncio.TimeoutError:
                pass  # try anyway: the send itself will say what is wrong
            sending = asyncio.ensure_future(_deliver(backend, self.id, text, plan_mode, None))
        return turn, sending

    async def finish_send(self, turn: TurnModel, sending: Awaitable[None]) -> None:
        """Wait for the request; when it failed, end the turn with what happened (once)."""
        try:
            await sending
        except Exception as exc:
            message = error_text(exc)
            if isinstance(exc, ConnectionFailed):
                self.listener.connection_lost(message)
            if not turn.status.finished:
                # The stream may be a moment behind the reply, and it says more (a rate limit's retryAfter).
                await asyncio.sleep(STREAM_GRACE)
            if turn.status.finished:
                return  # the stream ended the turn; its card says what happened
            if turn.version == 0:
                turn.fail(f"Not sent: {message}")  # nothing arrived: never delivered, the text goes back
            else:
                # The server took the message (its events arrived): the turn failed, the text was sent.
                turn.apply(ev.Error(error=message, type="send_error"))
            self.finish_turn()

    async def send(self, text: str, plan_mode: bool = False) -> TurnModel:
        turn, sending = await self.start_send(text, plan_mode)
        await self.finish_send(turn, sending)
        return turn

    async def cancel(self, grace: float = CANCEL_GRACE) -> None:
        """Ask the server to stop the turn; marked cancelled here if it does not confirm within `grace`."""
        turn = self.turn
        assert turn is not None
        try:
            await self.backend.cancel(self.id)  # type: ignore[union-attr]
        except Exception:
            turn.mark_cancelled()  # the server cannot be told; stop showing it as running
        else:
            deadline = asyncio.get_running_loop().time() + grace
            while not turn.status.finished and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
            turn.mark_cancelled()
        if self.turn is turn and turn.status.finished:
            self.finish_turn()

    def record_permission_answer(self, request_id: str, granted: bool) -> bool:
        """The user answered a request: True when it was one of this session's turn."""
        return self.turn is not None and self.turn.answer_permission(request_id, granted)


async def _deliver(backend: ChatBackend, conversation_id: str, text: str, plan_mode: bool,
                   on_sent: Callable[[], None] | None) -> None:
    await backend.send(conversation_id, text, plan_mode=plan_mode, on_sent=on_sent)
