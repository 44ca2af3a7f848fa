"""A small host App for the Knowledge screen: the mix themes, the screen pushed on mount, and a
record of every AttachContext that bubbled up (what the chat screen would put in its composer)."""

from __future__ import annotations

from typing import Any

from tests.support.host import ThemedHost
from tests.support.sleep import instant_sleep
from tui.api.mixpeek import MixpeekClient, RetryPolicy
from tui.screens.knowledge_mixpeek import AttachContext, KnowledgeScreen


def fake_client(fake: Any, *, namespace: str | None = "research") -> MixpeekClient:
    sleeper = instant_sleep()  # the retry policy's and the task poller's
    client = MixpeekClient(fake.api_key, base_url=fake.base_url, namespace=namespace, retry=RetryPolicy(sleep=sleeper), poll_initial=0.01, poll_max=0.02)
    client.sleeper = sleeper  # type: ignore[attr-defined]
    return client


class KnowledgeHost(ThemedHost):
    def __init__(self, client: MixpeekClient, *, with_callback: bool = True, **screen_kw: Any) -> None:
        super().__init__()
        self.client = client
        self.attached: list[AttachContext] = []  # from the bubbling message
        self.callback_calls: list[AttachContext] = []  # from the constructor callback
        self.screen_kw = screen_kw
        self.with_callback = with_callback

    def on_mount(self) -> None:
        self.knowledge = KnowledgeScreen(self.client, on_attach=self.callback_calls.append if self.with_callback else None, **self.screen_kw)
        self.push_screen(self.knowledge)

    def on_attach_context(self, message: AttachContext) -> None:
        self.attached.append(message)
