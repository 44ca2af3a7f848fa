"""Fixtures for the MixerLead client tests: a fresh fake per test and clients wired to it."""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator

import pytest

from tests.fakes.mixerlead_server import FakeMixerLead, running_fake_mixerlead
from tests.support.factories import closing_factory
from tests.support.sleep import SleepRecorder
from tui.api.mixerlead import MixerLeadClient, RetryPolicy


@pytest.fixture
def fake() -> Iterator[FakeMixerLead]:
    with running_fake_mixerlead() as (_url, state):
        yield state


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., MixerLeadClient]]:
    def build(server: FakeMixerLead, *, api_key: str | None = None, **kw: Any) -> MixerLeadClient:
        sleeper = kw.pop("sleeper", None) or SleepRecorder()
        policy = kw.pop("retry", None) or RetryPolicy(sleep=sleeper, jitter=0.0)
        client = MixerLeadClient(api_key or server.api_key, base_url=server.base_url, retry=policy, **kw)
        client.sleeper = sleeper  # type: ignore[attr-defined]
        return client

    async for make in closing_factory(build, MixerLeadClient.aclose):
        yield make


@pytest.fixture
def client(fake: FakeMixerLead, make_client: Callable[..., MixerLeadClient]) -> MixerLeadClient:
    return make_client(fake)


async def collect(stream: Any) -> list[Any]:
    return [item async for item in stream]


async def text_into(received: list[str], stream: Any) -> None:
    """Append each text piece of a chat stream to `received` as it comes (kept when the stream fails)."""
    async for item in stream:
        if isinstance(item, str):
            received.append(item)
