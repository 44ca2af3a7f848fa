"""Fixtures for the Mixpeek client tests: a fresh fake server per test and a client wired to it."""

from __future__ import annotations

from typing import Any, AsyncIterator, Callable, Iterator

import pytest

from tests.fakes.mixpeek_server import FakeMixpeek, running_fake_mixpeek
from tests.support.factories import closing_factory
from tests.support.sleep import SleepRecorder
from tui.api.mixpeek import MixpeekClient, RetryPolicy


@pytest.fixture
def fake() -> Iterator[FakeMixpeek]:
    with running_fake_mixpeek() as server:
        yield server


@pytest.fixture
async def make_client() -> AsyncIterator[Callable[..., MixpeekClient]]:
    def build(server: FakeMixpeek, *, api_key: str | None = None, namespace: str | None = "research", **kw: Any) -> MixpeekClient:
        sleeper = kw.pop("sleeper", None) or SleepRecorder()
        policy = kw.pop("retry", None) or RetryPolicy(sleep=sleeper)
        client = MixpeekClient(api_key or server.api_key, base_url=server.base_url, namespace=namespace, retry=policy, poll_initial=0.001, poll_max=0.002, **kw)
        client.sleeper = sleeper  # type: ignore[attr-defined]
        return client

    async for make in closing_factory(build, MixpeekClient.aclose):
        yield make


@pytest.fixture
def client(fake: FakeMixpeek, make_client: Callable[..., MixpeekClient]) -> MixpeekClient:
    return make_client(fake)
