"""Run the server with uvicorn: `mix-tui serve` and the child process the app launches.

Imports stay light at module level (the app's start-up budget includes this process's start);
Starlette and the routes are imported inside `serve`.
"""

from __future__ import annotations

import asyncio
import ctypes
import json
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

import uvicorn

from tui.config import Config

log = logging.getLogger("tui.server")

PARENT_PID_ENV = "MIX_TUI_PARENT_PID"  # set by the launcher: die with this process
PR_SET_PDEATHSIG = 1


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


def write_ready_file(path: str | os.PathLike[str], port: int) -> None:
    """`{"port": N, "pid": P}`, written atomically (temp file + rename) so a reader never sees half."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"port": port, "pid": os.getpid()}), "utf-8")
    os.replace(tmp, target)


def die_with_parent() -> None:
    """When started by the app: exit if the app exits, even by a crash.

    PR_SET_PDEATHSIG makes Linux send SIGTERM when the parent dies; the watcher thread covers the
    race before prctl ran and systems without prctl (it polls whether we were re-parented).
    """
    raw = os.environ.get(PARENT_PID_ENV)
    if not raw or not raw.isdigit():
        return
    parent = int(raw)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:
        os._exit(0)  # the parent is already gone

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent:
                os.kill(os.getpid(), signal.SIGTERM)
                time.sleep(3)
                os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


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

    settings = ServerSettings(
        data_dir=Path(data_dir),
        token=token or None,
        heartbeat=heartbeat if heartbeat is not None else config.embedded.heartbeat,
        permission_timeout=config.embedded.permission_timeout,
        agent_delay=agent_delay if agent_delay is not None else config.embedded.agent_delay,
        config=config,
        protocol=protocol,  # type: ignore[arg-type]  # the CLI offers only latest and seed
    )
    app = create_app(settings)

    def ready(actual_port: int) -> None:
        if ready_file:
            write_ready_file(ready_file, actual_port)
        if not ready_file:
            print(f"mix-tui server listening on http://{host}:{actual_port} ({protocol} protocol, data in {data_dir})",
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
