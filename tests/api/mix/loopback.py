"""Small loopback servers for the Mix client tests: any Starlette app under uvicorn on 127.0.0.1,
port 0, in a background thread. Used for shapes the embedded server does not produce (Go quirks,
plain-text errors, 202 sends, latest-generation servers, transcripts served byte for byte)."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterator

import uvicorn

TRANSCRIPTS = Path("/work/shared/reference/mix/transcripts")
SESSION_ID = "3f2c9a1e-7b4d-4e2a-9c1f-5d8e6a0b7c12"


class _Server(uvicorn.Server):
    port = 0

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers:
            self.port = self.servers[0].sockets[0].getsockname()[1]

    def install_signal_handlers(self) -> None:  # not the main thread
        pass


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Run `app` on a free loopback port; yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical", access_log=False,
                            lifespan="off", timeout_graceful_shutdown=0.2, ws="none", log_config=None)
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="loopback", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.port:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError("the loopback server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{server.port}"
    finally:
        server.should_exit = True
        server.force_exit = True
        thread.join(timeout=5)


async def read_until(stream: AsyncIterator[Any], last: type, *, each: Callable[[Any], Any] | None = None,
                     timeout: float | None = 10.0) -> list[Any]:
    """The events of a client stream up to and including the first `last` one; `each(event)` hears
    every event as it comes (awaited when it returns an awaitable). The stream is closed after."""
    seen: list[Any] = []
    try:
        async with asyncio.timeout(timeout):
            async for event in stream:
                seen.append(event)
                if each is not None and inspect.isawaitable(heard := each(event)):
                    await heard
                if isinstance(event, last):
                    break
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    return seen


def transcript(name: str) -> bytes:
    matches = sorted(TRANSCRIPTS.glob(f"{name}*.sse"))
    assert matches, f"no transcript {name}"
    return matches[0].read_bytes()


def split_after_event(raw: bytes, event_id: int) -> tuple[bytes, bytes]:
    """The transcript up to and including the event with `id: event_id`, and the rest."""
    marker = f"id: {event_id}\n".encode()
    start = raw.index(marker)
    end = raw.index(b"\n\n", start) + 2
    return raw[:end], raw[end:]
