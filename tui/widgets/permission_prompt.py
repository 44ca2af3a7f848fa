"""The permission prompt: what exactly the tool will do, and a countdown to the server's auto-deny.

Shows the first pending request; further ones queue behind it ("1 of 3"). The screen docks it
and focuses it while requests are pending; `y`/`a` allow, `n`/`d` deny. Answering posts
`PermissionAnswered` and hides that request at once (the screen tells the server and the turn).
"""

from __future__ import annotations

import time
from typing import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static

from tui.api.turn import PermissionState


class PermissionAnswered(Message):
    """The user allowed or denied a tool. Handler: `on_permission_answered`."""

    def __init__(self, request_id: str, granted: bool) -> None:
        super().__init__()
        self.request_id = request_id
        self.granted = granted


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


class PermissionPrompt(Widget, can_focus=True):
    """Asks to allow or deny the first pending tool permission."""

    HELP = """\
## Permission request

A tool wants to run a command or change a file and waits for your answer. The server denies
by itself when the countdown ends.

- `y` or `a`: allow
- `n` or `d`: deny
"""

    BINDINGS = [
        Binding("y", "allow", "Allow"),
        Binding("a", "allow", "Allow", show=False),
        Binding("n", "deny", "Deny"),
        Binding("d", "deny", "Deny", show=False),
    ]

    PermissionAnswered = PermissionAnswered

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
        yield Static(
            Content.assemble(("y", "bold $text-success"), " allow   ", ("n", "bold $text-error"), " deny"),
            classes="permission-keys",
            markup=False,
        )

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
            what, body = describe(current)
            self.query_one(".permission-what", Static).update(what)
            body_view = self.query_one(".permission-body", Static)
            body_view.display = body is not None
            if body is not None:
                body_view.update(body)
        self._update_title(current)

    def _update_title(self, current: PermissionState) -> None:
        total = len(self.pending)
        left = current.seconds_left(self.clock())
        queue = f" · 1 of {total}" if total > 1 else ""
        title = Content.assemble(
            ("⚠ Permission needed", "bold $text-warning"),
            (queue, "$text-muted"),
            (f" · auto-deny in {left:.0f} s", "$text-error" if left <= 10 else "$text-muted"),
        )
        if title != self._countdown:
            self._countdown = title
            self.query_one(".permission-title", Static).update(title)

    def _tick(self) -> None:
        current = self.current
        if current is not None:
            self._update_title(current)

    def _answer(self, granted: bool) -> None:
        current = self.current
        if current is None:
            return
        self._answered.add(current.request.id)
        self.post_message(PermissionAnswered(current.request.id, granted))
        self._render_current()

    def action_allow(self) -> None:
        self._answer(True)

    def action_deny(self) -> None:
        self._answer(False)
