"""The chat screen's side of permission requests: showing the prompt, taking the focus for it, the
key that reaches it (shown in the footer while a request waits), and sending the answer, standing
answers ("for this session", "always for this tool in this folder") included. A mixin of `ChatScreen`."""

from __future__ import annotations

from typing import Any

from textual import work

from tui import notify
from tui.controllers.session import SessionController
from tui.controllers.wording import error_text
from tui.widgets import input_priority
from tui.widgets.permission_prompt import PermissionAnswered, QuestionAnswered

TYPING_PAUSE = 2.0  # seconds without a key in the composer before a new request may take the focus
REMEMBERED = {"session": "for the rest of this session", "always": "always in this folder (F9 lists and revokes it)"}


class ChatPermissions:
    """Mixed into ChatScreen: `self` is the screen."""

    app: Any
    current: SessionController | None

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "focus_permission":
            # Only while a request waits: the key then shows in the footer, and otherwise goes to the
            # focused widget as usual.
            return bool(self.prompt.display and self.prompt.pending)
        return True

    def action_focus_permission(self) -> None:
        if self.prompt.pending:
            self.prompt.focus()

    def _user_is_typing(self) -> bool:
        """Writing a message right now (not just having sent one: the composer is empty then)."""
        composer = self.composer
        return composer.has_focus and bool(composer.text.strip()) and input_priority.seconds_since_key() < TYPING_PAUSE

    def permission_arrived(self, session: SessionController) -> None:
        turn = session.turn
        assert turn is not None
        self.sidebar.set_state(session.id, "permission")
        pending = turn.pending_permissions
        if self.current is session:
            self.prompt.set_pending(pending)
            if self._user_is_typing():  # y/n would land in the text: say how to get there instead
                asks = "The agent asks you something" if pending and pending[0].question else "A tool asks for permission"
                self.notify(f"{asks}: {self._permission_key()} answers it.", timeout=6)
            else:
                self.prompt.focus()
            self._show_turn_state(session)
            self.refresh_bindings()
        if pending:
            req = pending[-1].request
            asks = "the agent asks you something" if pending[-1].question else f"{req.tool_name or 'a tool'} asks for permission"
            notify.alert(self.app, f"mix-tui: {asks} in “{session.title}”")

    def _permission_key(self) -> str:
        from tui.keymap import display_key, key_for

        return display_key(key_for("answer_permission", getattr(self.app, "keymap_overrides", None)))

    def on_permission_answered(self, event: PermissionAnswered) -> None:
        # (A named handler: `@on` handlers of a mixin that is not a MessagePump are not collected.)
        event.stop()
        self._record_answer(event.request_id, event.granted)
        self._answer(event.request_id, event.granted, event.remember)

    def on_question_answered(self, event: QuestionAnswered) -> None:
        event.stop()
        self._record_answer(event.question_id, True)
        self._answer_question(event.question_id, event.response_type, event.value)

    def _record_answer(self, request_id: str, granted: bool) -> None:
        for view in self.views.values():
            if view.record_permission_answer(request_id, granted):
                turn = view.turn
                assert turn is not None
                self.prompt.set_pending(turn.pending_permissions)
                if not turn.pending_permissions:
                    self.sidebar.set_state(view.id, "busy" if view.busy else "")
                    self.composer.focus()
                if self.current is view:
                    self._show_turn_state(view)
                break
        self.refresh_bindings()

    @work(group="permissions")
    async def _answer_question(self, question_id: str, response_type: str, value: str | None) -> None:
        answer = getattr(self.backend, "answer_notification", None)
        if answer is None:
            return  # a backend without questions never sends one
        try:
            await answer(question_id, response_type, value)
        except Exception as exc:
            self.notify(f"Could not send your answer: {error_text(exc)}", severity="error")

    @work(group="permissions")
    async def _answer(self, request_id: str, granted: bool, remember: str | None = None) -> None:
        try:
            kept = await self.backend.answer_permission(request_id, granted, remember)  # type: ignore[union-attr]
        except Exception as exc:
            self.notify(f"Could not send your answer: {error_text(exc)}", severity="error")
            return
        if remember and kept:
            self.notify(f"Allowed {REMEMBERED[remember]}.")
        elif remember:
            self.notify("Allowed this once: this server keeps no standing answers.", severity="warning")
