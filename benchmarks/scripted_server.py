"""The embedded server, run in its own process for a benchmark, with the ScriptedAgent streaming the corpus.

`python -m benchmarks.scripted_server --data-dir D --ready-file F [--size N] [--chunks K] [--delay S]
[--seed-messages M]` builds `create_app(ServerSettings(..., agent_factory=...))`, binds a free
loopback port, writes {"url", "session_id"?} to F and serves until SIGINT. Every turn streams
exactly the corpus chunks (no thinking), so the client side sees the same bytes every run.
With --seed-messages it first writes a long session into the server's SQLite store (long_session.py).
`GET /_bench/session?sessionId=ID` (this harness's, not the API's) answers how many event streams
of that session are open (how a benchmark driving a real terminal knows an app is ready) and when
its last message POST arrived.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path


def build_app(data_dir: Path, chunks: list[str], delay: float):
    from tui.server.app import create_app
    from tui.server.agent.scripted import ScriptedAgent
    from tui.server.settings import ServerSettings

    settings = ServerSettings(data_dir=data_dir, agent_factory=lambda: ScriptedAgent([], chunks, delay=delay), agent_delay=delay,
                              heartbeat=3600.0, send_mode="async")  # async: POST answers 202 at once, the turn comes on SSE
    return with_probe(create_app(settings))


PROBE_PATH = "/_bench/session"


def with_probe(app):
    """The server app, plus PROBE_PATH?sessionId=ID answering how many event streams of that session are
    open (the hub's count) and when its last message POST arrived (time.monotonic(), a clock every
    process on the machine shares), so a benchmark can split Enter → painted at the request."""
    import time
    from urllib.parse import parse_qs

    posted: dict[str, float] = {}

    async def probed(scope, receive, send):
        if scope["type"] == "http" and scope["path"] == PROBE_PATH:
            sid = parse_qs(scope["query_string"].decode()).get("sessionId", [""])[0]
            body = json.dumps({"listeners": app.state.hub.listeners(sid), "message_posted_at": posted.get(sid)}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        path = scope.get("path", "")
        if scope["type"] == "http" and scope["method"] == "POST" and path.startswith("/api/sessions/") and path.endswith("/messages"):
            posted[path.split("/")[3]] = time.monotonic()
        await app(scope, receive, send)

    return probed


def serve(args: argparse.Namespace) -> None:
    from tui.server.run import MixUvicornServer, uvicorn_config

    from benchmarks.corpus import answer_and_chunks

    _text, chunks = answer_and_chunks(args.size, args.chunks)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    info: dict = {}
    if args.seed_messages:
        from benchmarks.long_session import seed_store

        info.update(seed_store(args.data_dir, args.seed_messages))
    app = build_app(args.data_dir, chunks, args.delay)

    def ready(port: int) -> None:
        info.update({"url": f"http://127.0.0.1:{port}", "pid": os.getpid(), "chunks": len(chunks)})
        tmp = args.ready_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(info))
        tmp.replace(args.ready_file)

    MixUvicornServer(uvicorn_config(app, "127.0.0.1", 0), on_ready=ready).run()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--size", type=int, default=13_000)
    parser.add_argument("--chunks", type=int, default=2_800)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--seed-messages", type=int, default=0)
    args = parser.parse_args()
    try:
        serve(args)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
