"""A small host app for the message-pane tests: a Transcript and a PermissionPrompt, recording what they post."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.message import Message

from tui.themes import themes_dir
from tui.widgets import PermissionPrompt, Transcript
from tui.widgets.permission_prompt import PermissionAnswered


class FakeClock:
    """A clock the test moves by hand (durations and countdowns become deterministic)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class HostApp(App[None]):
    CSS_PATH = [themes_dir() / "transcript.tcss"]

    def __init__(self, clock: FakeClock | None = None) -> None:
        super().__init__()
        self.clock = clock or FakeClock()
        self.posted: list[Message] = []

    def compose(self) -> ComposeResult:
        yield Transcript(clock=self.clock)
        yield PermissionPrompt(clock=self.clock)

    @property
    def transcript(self) -> Transcript:
        return self.query_one(Transcript)

    @property
    def prompt(self) -> PermissionPrompt:
        return self.query_one(PermissionPrompt)

    def of_type(self, kind: type) -> list:
        return [m for m in self.posted if isinstance(m, kind)]

    def on_transcript_load_older(self, m: Transcript.LoadOlder) -> None:
        assert m.control is self.transcript
        self.posted.append(m)

    def on_transcript_fork_requested(self, m: Transcript.ForkRequested) -> None:
        self.posted.append(m)

    def on_transcript_copy_requested(self, m: Transcript.CopyRequested) -> None:
        self.posted.append(m)

    def on_transcript_permissions_changed(self, m: Transcript.PermissionsChanged) -> None:
        self.posted.append(m)
        self.prompt.set_pending(m.pending)
        if m.pending:
            self.prompt.focus()

    def on_permission_answered(self, m: PermissionAnswered) -> None:
        self.posted.append(m)
