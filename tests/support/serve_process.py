"""A real `mix-tui serve` child process, and an SSE listener that timestamps every event.

For the crash tests and `make soak`: the server is killed with SIGKILL mid-turn and started again on
the same data, so what it stored can be compared with what a client had already seen.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx


@dataclass
class ServeProcess:
    proc: subprocess.Popen
    port: int
    data_dir: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def start_serve(data_dir: Path, *, agent_delay: float = 0.02, timeout: float = 30.0) -> ServeProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    ready = data_dir / f"ready-{time.monotonic_ns()}.json"
    log = open(data_dir / "serve.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--port", "0", "--data-dir", str(data_dir), "--ready-file", str(ready),
         "--agent-delay", str(agent_delay)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    log.close()
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError(f"mix-tui serve did not start: {(data_dir / 'serve.log').read_text()[-2000:]}")
        time.sleep(0.02)
    port = json.loads(ready.read_text())["port"]
    ready.unlink()
    return ServeProcess(proc, port, data_dir)


def create_session(client: httpx.Client, title: str) -> str:
    """A new session's id, under either protocol (the latest one wants a browserMode)."""
    response = client.post("/api/sessions", json={"title": title, "browserMode": "local-browser-service"})
    if response.status_code == 400:  # the seed protocol refuses unknown fields
        response = client.post("/api/sessions", json={"title": title})
    response.raise_for_status()
    return response.json()["id"]


@dataclass
class SeenEvent:
    at: float  # time.monotonic() when the frame was read
    event: str
    data: object


@dataclass
class EventLog:
    """Every SSE event of one session as it arrived, read by a thread from a raw socket."""

    port: int
    session_id: str
    events: list[SeenEvent] = field(default_factory=list)
    first_at: float | None = None
    closed: bool = False

    def __post_init__(self) -> None:
        self._sock = socket.create_connection(("127.0.0.1", self.port), timeout=None)
        self._sock.sendall(f"GET /stream?sessionId={self.session_id} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n\r\n"
                           .encode())
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        event = ""
        try:
            for raw in self._sock.makefile("rb"):
                line = raw.decode("utf-8").rstrip("\r\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event:
                    try:
                        data = json.loads(line[6:])
                    except ValueError:
                        data = line[6:]
                    self.events.append(SeenEvent(time.monotonic(), event, data))
        except (OSError, ValueError):
            pass
        self.closed = True

    def count(self, event: str) -> int:
        return sum(1 for e in self.events if e.event == event)

    def text(self, event: str, before: float | None = None) -> str:
        """The concatenated deltas of `content` or `thinking` events, optionally only those read before a time."""
        return "".join(str(e.data.get("content", "")) for e in list(self.events)
                       if e.event == event and isinstance(e.data, dict) and (before is None or e.at <= before))

    def close(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._sock.close()


def poll_until(condition, timeout: float = 15.0, step: float = 0.005) -> bool:
    """Wait (blocking) until `condition()` is true; False when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def answering(server: ServeProcess, title: str, question: str = "hello there, what can you do?",
              deltas: int = 30) -> tuple[str, EventLog]:
    """A new session of `server` whose answer to `question` is streaming (`deltas` content events read):
    its id and the listener that read them, for a test to stop the server mid-answer."""
    with server.client() as c:
        sid = create_session(c, title)
        events = EventLog(server.port, sid)
        assert poll_until(lambda: events.count("connected") == 1)
        assert c.post(f"/api/sessions/{sid}/messages", json={"content": question}).status_code == 202
    assert poll_until(lambda: events.count("content") >= deltas)
    return sid, events


def stored_after_restart(data_dir: Path, session_id: str) -> list[dict]:
    """The session's messages as a new `mix-tui serve` on the same data answers them."""
    again = start_serve(data_dir, agent_delay=0.02)
    try:
        with again.client() as c:
            return c.get(f"/api/sessions/{session_id}/messages").json()
    finally:
        again.stop()
