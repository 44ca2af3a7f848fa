"""Random bytes in random chunks over a real loopback connection: the client's stream yields what
it can decode, reports the rest as Malformed/Unknown events, and never raises."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.api.mix.loopback import read_until, serve
from tui.api import events as ev
from tui.api.mix import MixClient, ReconnectPolicy

STATE: dict = {"chunks": [b""]}
END = b'\n\nid: 99\nevent: complete\ndata: {"type":"complete","content":"end","done":true}\nretry: 30000\n\n'


def app() -> Starlette:
    async def stream(request: Request) -> StreamingResponse:
        async def body():
            yield b'id: 1\nevent: connected\ndata: {"sessionId":"s"}\n\n'
            for chunk in STATE["chunks"]:
                yield chunk
            yield END

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(routes=[Route("/stream", stream)])


@pytest.fixture(scope="module")
def url():
    with serve(app()) as u:
        yield u


async def read(url: str) -> list[ev.Event]:
    async with MixClient(url, timeout=5) as client:
        return await read_until(client.stream("s", reconnect=ReconnectPolicy(base=0.01, cap=0.01, max_attempts=0)), ev.Complete)


junk = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"data: {\n\n", b"event: tool\ndata: [1]\n\n", b"event: permission\ndata: {\"params\": 5}\n\n",
                     b"event: \xff\xfe\ndata: x\n\n", b"retry: x\r\n\r\n", b"event: content\ndata: " + b"z" * 70_000 + b"\n\n",
                     b"\xe2\x9c", b"\x93\n"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.lists(junk, max_size=8))
def test_random_bytes_over_the_wire_never_break_the_stream(url, chunks):
    STATE["chunks"] = chunks
    seen = asyncio.run(read(url))
    assert seen[0] == ev.ConnectionChanged("connected")
    assert seen[1] == ev.Connected("s")
    assert seen[-1] == ev.Complete(content="end")
