"""A small host App for the Knowledge screen: the mix themes, the screen pushed on mount, and a
record of every AttachContext that bubbled up (what the chat screen would put in its composer)."""

from __future__ import annotations

from typing import Any

from textual.app import App, ComposeResult
from textual.widgets import Static

from tui.api.mixpeek import MixpeekClient, RetryPolicy
from tui.screens.knowledge_mixpeek import AttachContext, KnowledgeScreen
from tui.theme_defs import THEMES


class InstantSleep:
    """The retry policy's and the task poller's sleep: remembers each wait, waits (almost) nothing."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        import asyncio

        self.waits.append(seconds)
        await asyncio.sleep(0.001)


def fake_client(fake: Any, *, namespace: str | None = "research") -> MixpeekClient:
    sleeper = InstantSleep()
    client = MixpeekClient(fake.api_key, base_url=fake.base_url, namespace=namespace, retry=RetryPolicy(sleep=sleeper), poll_initial=0.01, poll_max=0.02)
    client.sleeper = sleeper  # type: ignore[attr-defined]
    return client


class KnowledgeHost(App[None]):
    def __init__(self, client: MixpeekClient, *, with_callback: bool = True, **screen_kw: Any) -> None:
        super().__init__()
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = "mix-dark"
        self.client = client
        self.attached: list[AttachContext] = []  # from the bubbling message
        self.callback_calls: list[AttachContext] = []  # from the constructor callback
        self.screen_kw = screen_kw
        self.with_callback = with_callback

    def compose(self) -> ComposeResult:
        yield Static("chat would be here", id="host-chat")

    def on_mount(self) -> None:
        self.knowledge = KnowledgeScreen(self.client, on_attach=self.callback_calls.append if self.with_callback else None, **self.screen_kw)
        self.push_screen(self.knowledge)

    def on_attach_context(self, message: AttachContext) -> None:
        self.attached.append(message)
