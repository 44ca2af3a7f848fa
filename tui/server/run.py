"""Run the server with uvicorn: `mix-tui serve` and the child process the app launches.

Imports stay light at module level (the app's start-up budget includes this process's start);
Starlette and the routes are imported inside `serve`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import uvicorn

from tui.cli import url_host
from tui.config import Config
from tui.lifeline import die_with_parent

log = logging.getLogger("tui.server")



class MixUvicornServer(uvicorn.Server):
    """uvicorn.Server that reports its port once listening and ends SSE streams before shutting down
    (otherwise open streams would hold the graceful shutdown until its timeout)."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[int], None] | None = None) -> None:
        super().__init__(config)
        self._on_ready = on_ready
        self.port = 0

    async def startup(self, sockets: Any = None) -> None:
        await super().startup(sockets)
        if self.started and self.servers:
            self.port = self.servers[0].sockets[0].getsockname()[1]
            if self._on_ready is not None:
                self._on_ready(self.port)

    async def main_loop(self) -> None:
        # uvicorn polls should_exit every 100 ms; 10 ms makes stopping (tests, app exit) quicker.
        # on_tick keeps its 100 ms cadence (it refreshes the Date header every 10 ticks).
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            for _ in range(10):
                await asyncio.sleep(0.01)
                if self.should_exit:
                    return
            counter = (counter + 1) % 864000
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets: Any = None) -> None:
        hub = getattr(getattr(self.config.app, "state", None), "hub", None)
        if hub is not None:
            hub.close_all()
        await super().shutdown(sockets)


def uvicorn_config(app: Any, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="on",
        timeout_graceful_shutdown=3, ws="none", log_config=None,
    )


def write_ready_file(path: str | os.PathLike[str], port: int, notes: list[str] | None = None) -> None:
    """`{"port": N, "pid": P, "notes": [...]}`, written atomically (temp file + rename) so a reader
    never sees half. `notes`: lines for the app to show (a damaged database set aside...)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"port": port, "pid": os.getpid(), "notes": notes or []}), "utf-8")
    os.replace(tmp, target)


def log_uncaught_exceptions() -> None:
    """An uncaught exception goes to the (redacting) log, not raw to stderr, which is the server.log
    file when the app started us: a traceback's text may hold a secret as easily as a message."""

    def to_log(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        log.critical("uncaught exception", exc_info=(kind, exc, tb))

    sys.excepthook = to_log
    threading.excepthook = lambda args: to_log(args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)


def serve(
    host: str,
    port: int,
    data_dir: Path,
    config: Config,
    token: str | None = None,
    ready_file: str | None = None,
    agent_delay: float | None = None,
    heartbeat: float | None = None,
    protocol: str = "latest",
) -> int:
    die_with_parent()
    from tui.server.app import create_app
    from tui.server.settings import ServerSettings
    from tui.sqlite_schema import make_private_db, set_aside_if_damaged

    log_uncaught_exceptions()

    settings = ServerSettings(
        data_dir=Path(data_dir),
        token=token or None,
        heartbeat=heartbeat if heartbeat is not None else config.embedded.heartbeat,
        permission_timeout=config.embedded.permission_timeout,
        agent_delay=agent_delay if agent_delay is not None else config.embedded.agent_delay,
        config=config,
        protocol=protocol,  # type: ignore[arg-type]  # the CLI offers only latest and seed
    )
    # A damaged database is kept aside and a new one started: the server (and the app) still come up.
    try:
        notes = [n for n in [set_aside_if_damaged(settings.db_path)] if n]
        make_private_db(settings.db_path)  # 0600 in a 0700 folder, also when an older version made it 0644
    except OSError as exc:
        print(f"mix-tui serve: error: cannot write {exc.filename or settings.db_path}: {exc.strerror or exc}",
              file=sys.stderr, flush=True)
        return 1
    for note in notes:
        log.warning("%s", note)
        print(f"mix-tui serve: warning: {note}", file=sys.stderr, flush=True)
    app = create_app(settings)

    def ready(actual_port: int) -> None:
        if ready_file:
            write_ready_file(ready_file, actual_port, notes)
        if not ready_file:
            print(f"mix-tui server listening on http://{url_host(host)}:{actual_port} ({protocol} protocol, data in {data_dir})",
                  flush=True)

    server = MixUvicornServer(uvicorn_config(app, host, port), on_ready=ready)
    try:
        server.run()
    except KeyboardInterrupt:
        pass
    except SystemExit:  # uvicorn exits with code 3 when it cannot bind; say why instead
        if server.started:
            raise
    if not server.started:
        print(f"mix-tui serve: error: could not listen on {host}:{port}: {_bind_problem(host, port)}", file=sys.stderr)
        return 1
    return 0


def _bind_problem(host: str, port: int) -> str:
    import socket

    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.bind((host.strip("[]"), port))
    except OSError as exc:
        return exc.strerror or str(exc)
    return "the server failed to start (see the log file)"
