"""The embedded server, run in its own process for a benchmark, with the ScriptedAgent streaming the corpus.

`python -m benchmarks.scripted_server --data-dir D --ready-file F [--size N] [--chunks K] [--delay S]
[--seed-messages M]` builds `create_app(ServerSettings(..., agent_factory=...))`, binds a free
loopback port, writes {"url", "session_id"?} to F and serves until SIGINT. Every turn streams
exactly the corpus chunks (no thinking), so the client side sees the same bytes every run.
With --seed-messages it first writes a long session into the server's SQLite store (long_session.py).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
from pathlib import Path


def build_app(data_dir: Path, chunks: list[str], delay: float):
    from tui.server import ServerSettings
    from tui.server.agent.scripted import ScriptedAgent

    try:
        from tui.server import create_app
    except ImportError:
        from tui.server.app import create_app

    settings = ServerSettings(data_dir=data_dir, agent_factory=lambda: ScriptedAgent([], chunks, delay=delay), agent_delay=delay,
                              heartbeat=3600.0)
    if hasattr(settings, "send_mode"):
        settings.send_mode = "async"  # POST answers at once; the turn arrives on SSE like a newer Mix
    return create_app(settings)


async def serve(args: argparse.Namespace) -> None:
    import uvicorn

    from benchmarks.corpus import answer_and_chunks

    _text, chunks = answer_and_chunks(args.size, args.chunks)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    info: dict = {}
    if args.seed_messages:
        from benchmarks.long_session import seed_store

        info.update(seed_store(args.data_dir, args.seed_messages))
    app = build_app(args.data_dir, chunks, args.delay)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="auto"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    info.update({"url": f"http://127.0.0.1:{port}", "pid": os.getpid(), "chunks": len(chunks)})
    tmp = args.ready_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(info))
    tmp.replace(args.ready_file)
    await task


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
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
