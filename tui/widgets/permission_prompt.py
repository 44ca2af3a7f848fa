"""The permission prompt: what exactly the tool will do, and a countdown to the server's auto-deny.

Shows the first pending request; further ones queue behind it ("1 of 3"). The screen docks it
and focuses it while requests are pending; `y` allows once, `s` for the rest of the session, `a`
always for this tool in this folder (where the server keeps such rules), `n`/`d` deny. Answering
posts `PermissionAnswered` and hides that request at once (the screen tells the server and the turn).

An agent's question (the `notification` event) waits in the same queue with the same countdown:
a choice is answered with its number (or `y`/`n` for Yes/No), a text question in the answer field
(Enter sends), an acknowledgement with Enter or `y`. Answering posts `QuestionAnswered`.
"""

from __future__ import annotations

import time
from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from tui.api.turn import PermissionState


class PermissionAnswered(Message):
    """The user allowed or denied a tool. Handler: `on_permission_answered`."""

    def __init__(self, request_id: str, granted: bool, remember: str | None = None) -> None:
        super().__init__()
        self.request_id = request_id
        self.granted = granted
        self.remember = remember  # None: this once · "session" · "always" (this tool in this folder)


class QuestionAnswered(Message):
    """The user answered an agent's question. Handler: `on_question_answered`."""

    def __init__(self, question_id: str, response_type: str, value: str | None) -> None:
        super().__init__()
        self.question_id = question_id
        self.response_type = response_type
        self.value = value


def describe_question(state: PermissionState) -> tuple[Content, Content, Content]:
    """(the question, its choices or hint, the keys line) for an agent's question."""
    q = state.question
    assert q is not None
    what = Content.assemble((f"{q.title}\n" if q.title else "", "bold"), (q.message, "bold"))
    if q.response_type == "choice" and q.choices:
        body = Content.assemble(*[part for i, c in enumerate(q.choices[:9], 1)
                                  for part in ((f"{i}", "bold $text-accent"), f" {c}   ")])
        keys = Content.assemble(("1–" + str(min(len(q.choices), 9)), "bold $text-accent"), " choose")
    elif q.response_type == "text":
        body = Content("Type your answer below.")
        keys = Content.assemble(("Enter", "bold $text-accent"), " send the answer")
    else:
        body = Content("")
        keys = Content.assemble(("Enter", "bold $text-success"), " or ", ("y", "bold $text-success"), " OK")
    return what, body, keys


def describe(state: PermissionState) -> tuple[Content, Content | None]:
    """(what will happen, the diff or command body) for one request."""
    req = state.request
    params = req.params or {}
    tool = req.tool_name or "tool"
    command = params.get("command")
    if isinstance(command, str) and command:
        what = Content.assemble((f"{tool} wants to run\n", "bold"), ("$ ", "bold $text-accent"), (command, "bold"))
        return what, None
    path = params.get("file_path") or params.get("path")
    diff = params.get("diff")
    title = req.description or req.action or f"{tool} wants permission"
    if path:
        what = Content.assemble((f"{title}\n", "bold"), ("✎ ", "$text-accent"), (str(path), "bold"))
    else:
        what = Content.styled(title, "bold")
    body = None
    if isinstance(diff, str) and diff.strip():
        from tui.widgets.tool_card import render_diff  # tool cards bring Markdown: not needed for the first frame

        body = render_diff(diff.rstrip("\n"))
    if body is None and params and not path:
        extra = "\n".join(f"{k}: {v}" for k, v in params.items())
        body = Content(extra)
    return what, body


def _yes_no(choices: list[str]) -> tuple[str, str] | None:
    """The choices spelled as they were offered, (yes, no), when a question offers both."""
    by_word = {c.strip().lower(): c for c in choices}
    return (by_word["yes"], by_word["no"]) if "yes" in by_word and "no" in by_word else None


def answer_keys(tool: str) -> Content:
    return Content.assemble(
        ("y", "bold $text-success"), " allow once   ", ("s", "bold $text-success"), " for this session   ",
        ("a", "bold $text-success"), f" always allow {tool} in this folder   ", ("n", "bold $text-error"), " deny")


class PermissionPrompt(Widget, can_focus=True):
    """Asks to allow or deny the first pending tool permission."""

    HELP = """\
## Permission request

A tool wants to run a command or change a file and waits for your answer. The server denies
by itself when the countdown ends.

- `y`: allow this once
- `s`: allow this tool for the rest of the session
- `a`: always allow this tool in this folder (F9 lists such rules and revokes them)
- `n` or `d`: deny

When the agent asks you something instead, the keys are the question's: a choice's number (`y`/`n`
for Yes/No), Enter (or `y`) to acknowledge, or type the answer and press Enter.
"""

    # A tool's permission and an agent's question have their own keys; `check_action` enables (and the
    # footer shows) only those of the request on top, so a question never offers "Allow once".
    BINDINGS = [
        Binding("y", "allow", "Allow once"),
        Binding("s", "allow_session", "Session"),
        Binding("a", "allow_always", "Always here"),
        Binding("n", "deny", "Deny"),
        Binding("d", "deny", "Deny", show=False),
        Binding("1", "choose(1)", "Choose", key_display="1–9"),
        *[Binding(str(i), f"choose({i})", show=False) for i in range(2, 10)],
        Binding("y", "question_yes", "Yes"),
        Binding("n", "question_no", "No"),
        Binding("enter", "confirm", "OK"),
        Binding("y", "confirm", "OK", show=False),
    ]
    PERMISSION_ACTIONS = frozenset({"allow", "allow_session", "allow_always", "deny"})

    PermissionAnswered = PermissionAnswered
    QuestionAnswered = QuestionAnswered

    def __init__(self, *, clock: Callable[[], float] | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.clock: Callable[[], float] = clock or time.monotonic
        self._pending: list[PermissionState] = []
        self._answered: set[str] = set()
        self._shown_id: str | None = None
        self._countdown: Content | None = None

    def compose(self) -> ComposeResult:
        yield Static(classes="permission-title", markup=False)
        yield Static(classes="permission-what", markup=False)
        yield Static(classes="permission-body", markup=False)
        yield Input(placeholder="your answer", classes="permission-answer")
        yield Static(classes="permission-keys", markup=False)

    def on_mount(self) -> None:
        self.display = bool(self.pending)
        self._render_current()
        self.set_interval(0.25, self._tick)

    @property
    def pending(self) -> list[PermissionState]:
        return [p for p in self._pending if p.answer is None and p.request.id not in self._answered]

    @property
    def current(self) -> PermissionState | None:
        pending = self.pending
        return pending[0] if pending else None

    def set_pending(self, pending: list[PermissionState]) -> None:
        """Show these requests (oldest first). An empty list hides the prompt."""
        self._pending = list(pending)
        ids = {p.request.id for p in pending}
        self._answered &= ids
        if self.is_mounted:
            self._render_current()

    def _render_current(self) -> None:
        current = self.current
        self.display = current is not None
        if current is None:
            self._shown_id = None
            return
        if current.request.id != self._shown_id:
            self._shown_id = current.request.id
            self.refresh_bindings()  # a question's keys, or a permission's
            answer = self.query_one(".permission-answer", Input)
            answer.display = current.question is not None and current.question.response_type == "text"
            answer.value = ""
            if current.question is not None:
                what, body, keys = describe_question(current)
            else:
                keys = answer_keys(current.request.tool_name or "this tool")
                what, body = describe(current)
            self.query_one(".permission-keys", Static).update(keys)
            self.query_one(".permission-what", Static).update(what)
            body_view = self.query_one(".permission-body", Static)
            body_view.display = body is not None and bool(body.plain)
            if body is not None:
                body_view.update(body)
            if answer.display and self.has_focus:
                answer.focus()
        self._update_title(current)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        current = self.current
        question = current.question if current is not None else None
        if action in self.PERMISSION_ACTIONS:
            return current is not None and question is None
        if action == "choose":
            return question is not None and question.response_type == "choice"
        if action in ("question_yes", "question_no"):
            return question is not None and question.response_type == "choice" and _yes_no(question.choices) is not None
        if action == "confirm":
            return question is not None and question.response_type == "acknowledge"
        return True

    def on_focus(self) -> None:
        current = self.current
        if current is not None and current.question is not None and current.question.response_type == "text":
            self.query_one(".permission-answer", Input).focus()

    def _update_title(self, current: PermissionState) -> None:
        total = len(self.pending)
        left = current.seconds_left(self.clock())
        queue = f" · 1 of {total}" if total > 1 else ""
        asking = current.question is not None
        title = Content.assemble(
            ("? The agent asks" if asking else "⚠ Permission needed", "bold $text-warning"),
            (queue, "$text-muted"),
            (f" · {'no answer' if asking else 'auto-deny'} in {left:.0f} s", "$text-error" if left <= 10 else "$text-muted"),
        )
        if title != self._countdown:
            self._countdown = title
            self.query_one(".permission-title", Static).update(title)

    def _tick(self) -> None:
        current = self.current
        if current is not None:
            self._update_title(current)

    def _answer(self, granted: bool, remember: str | None = None) -> None:
        current = self.current
        if current is None or current.question is not None:
            return
        self._answered.add(current.request.id)
        self.post_message(PermissionAnswered(current.request.id, granted, remember))
        self._render_current()

    def _reply(self, state: PermissionState, response_type: str, value: str | None) -> None:
        self._answered.add(state.request.id)
        self.post_message(QuestionAnswered(state.request.id, response_type, value))
        self._render_current()

    def _answer_yes_no(self, yes: bool) -> None:
        """`y`/`n` on a question offering Yes and No."""
        current = self.current
        pair = _yes_no(current.question.choices) if current is not None and current.question is not None else None
        if current is not None and pair is not None:
            self._reply(current, "choice", pair[0] if yes else pair[1])

    def action_allow(self) -> None:
        self._answer(True)

    def action_allow_session(self) -> None:
        self._answer(True, "session")

    def action_allow_always(self) -> None:
        self._answer(True, "always")

    def action_deny(self) -> None:
        self._answer(False)

    def action_question_yes(self) -> None:
        self._answer_yes_no(True)

    def action_question_no(self) -> None:
        self._answer_yes_no(False)

    def action_confirm(self) -> None:
        current = self.current
        if current is not None and current.question is not None and current.question.response_type == "acknowledge":
            self._reply(current, "acknowledge", None)

    def action_choose(self, number: int) -> None:
        current = self.current
        if current is None or current.question is None or current.question.response_type != "choice":
            return
        choices = current.question.choices
        if 1 <= number <= len(choices):
            self._reply(current, "choice", choices[number - 1])

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        current = self.current
        if current is None or current.question is None or not event.value.strip():
            return
        self._reply(current, "text", event.value.strip())
        self.focus()
