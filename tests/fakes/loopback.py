"""What every local fake shares: running a Starlette app with uvicorn in a thread on loopback,
the record of each request it saw, and (for the LLM fakes) a queue of scripted replies."""

from __future__ import annotations

import contextlib
import itertools
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator

import uvicorn
from starlette.requests import Request


@contextlib.contextmanager
def serve_in_thread(app: Any, name: str, *, port: int = 0, own_socket: bool = False,
                    log_level: str = "error") -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port, or `port`) until the block ends; yields its base URL.

    `own_socket` binds the listening socket here with SO_REUSEADDR, for a fake that must come back
    on a port it used before. Otherwise uvicorn binds it: a socket handed in with sockets=[...]
    answered ~40 ms slower per request (Nagle and delayed ACK on the accepted connections)."""
    run_kw: dict[str, Any] = {}
    if own_socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        run_kw["sockets"] = [sock]
        config = uvicorn.Config(app, log_level=log_level, lifespan="off", access_log=False)
    else:
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level=log_level, lifespan="off", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs=run_kw, daemon=True, name=f"fake-{name.lower()}")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the fake {name} server did not start")
        time.sleep(0.005)
    try:
        yield f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    finally:
        # uvicorn needs ~0.2 s to wind down; tests never wait for it, so let it finish on its own.
        server.should_exit = True
        server.force_exit = True


@dataclass
class RecordedRequest:
    """One request as the fake saw it; `status` is what it answered."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: dict[str, str] = field(default_factory=dict)
    status: int = 0

    @classmethod
    def of(cls, request: Request, body: Any, path: str | None = None) -> Any:
        return cls(request.method, path if path is not None else request.url.path,
                   {k.lower(): v for k, v in request.headers.items()}, body, dict(request.query_params))


@dataclass
class ChatRequest(RecordedRequest):
    """A recorded LLM request, with the conversation it carried."""

    @property
    def messages(self) -> list[dict]:
        return self.body.get("messages", []) if isinstance(self.body, dict) else []


@dataclass
class ScriptedReply:
    """What the LLM fakes' replies have in common; each fake adds its own fields."""

    text: str = ""
    status: int = 200  # not 200: an error envelope instead of a stream
    error_type: str = ""
    error_message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    stream_error: bool = False  # an error mid-stream after the text instead of finishing
    hang: bool = False  # after the text, keep the stream open until the client leaves
    chunk: int = 4  # characters per delta

    @classmethod
    def say(cls, text: str, **kw: Any) -> Any:
        return cls(text=text, **kw)

    @classmethod
    def hanging(cls, text: str) -> Any:
        return cls(text=text, hang=True)

    @classmethod
    def refusal(cls, status: int, error_type: str, message: str, retry_after: str | None, **kw: Any) -> Any:
        """An HTTP error answer instead of a stream, with a retry-after header when given."""
        headers = {"retry-after": retry_after} if retry_after is not None else {}
        return cls(status=status, error_type=error_type, error_message=message, headers=headers, **kw)


class ScriptedFake:
    """An LLM fake's state: replies to give in order, requests seen, streams opened and left."""

    def __init__(self, api_key: str) -> None:
        self.api_key = api_key
        self.base_url = ""
        self.replies: list[Any] = []
        self.requests: list[Any] = []
        self.streams_opened = 0
        self.streams_closed_early = 0  # streams the client went away from before the end
        self.client_left = threading.Event()
        self.hanging = threading.Event()  # set while a `hanging` reply waits
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def script(self, *replies: Any) -> None:
        with self._lock:
            self.replies.extend(replies)

    async def _record(self, request: Request, record_type: type) -> Any:
        """Read the JSON body (None when it is not JSON) and keep the request."""
        raw = await request.body()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        record = record_type.of(request, body)
        with self._lock:
            self.requests.append(record)
        return record

    def _next_reply(self) -> Any:
        with self._lock:
            return self.replies.pop(0) if self.replies else None

    def _stream_ended(self, finished: bool) -> None:
        if not finished:
            self.streams_closed_early += 1
            self.client_left.set()


def chunks(text: str, size: int) -> list[str]:
    """`text` in pieces of `size` characters (none for no text)."""
    return [text[i:i + size] for i in range(0, len(text), size)] if text else []
