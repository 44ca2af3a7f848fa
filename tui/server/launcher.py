"""Start the embedded server as a child process of the app, and stop it again.

A child process runs on the second core and never competes with the UI for the GIL. It listens on
a free loopback port with a per-launch bearer token, reports the port through a ready file, writes
its output to a log file (never the terminal), and dies with the app even when the app crashes
(PR_SET_PDEATHSIG plus a watcher of the parent pid, see tui.lifeline).

Call `start()` from the app's main thread (the event loop's thread): Linux delivers the
parent-death signal when the *thread* that spawned the child ends.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tui.config import Config, Paths, make_private_dir, open_private
from tui.lifeline import PARENT_PID_ENV

log = logging.getLogger(__name__)

TOKEN_ENV = "MIX_TUI_SERVER_TOKEN"  # the per-launch token: in the child's environment, never its argv (ps shows argv)
PRIVATE_UMASK = 0o077  # the child's files (server.db, session folders, logs) are the user's alone
LOG_NAME = "server.log"
LOG_ROTATE_BYTES = 5 * 1024 * 1024


class ServerStartError(RuntimeError):
    """The child did not come up; the message includes the end of its log."""


class EmbeddedServer:
    def __init__(
        self,
        data_dir: Path,
        *,
        config: Config | None = None,
        agent_delay: float | None = None,
        paths: Paths | None = None,
        startup_timeout: float = 15.0,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.config = config
        self.agent_delay = agent_delay
        self.paths = paths
        self.startup_timeout = startup_timeout
        self.log_file = self.data_dir / LOG_NAME
        self._token = secrets.token_urlsafe(24)
        self._port: int | None = None
        self._last_port = 0  # a restart asks for the same port first, so clients keep their URL
        self.notes: list[str] = []  # what the child said was wrong at its start (a damaged database set aside)
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._ready_file: Path | None = None  # set by spawn(), until start() has waited for it

    @classmethod
    def for_app(cls, config: Config, paths: Paths) -> "EmbeddedServer":
        """The server an app (or `mix-tui web`) starts for itself: it reads the app's config file and logs
        next to it, but keeps its data (database, session folders, its own secrets) in server_data_dir."""
        child_paths = Paths(config_dir=paths.config_dir, data_dir=paths.server_data_dir, state_dir=paths.state_dir)
        return cls(paths.server_data_dir, config=config, paths=child_paths)

    # ------------------------------------------------------------ what the app reads

    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("the embedded server is not running")
        return f"http://127.0.0.1:{self._port}"

    @property
    def token(self) -> str:
        return self._token

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    # ------------------------------------------------------------ start

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    def _command(self, ready_file: Path, port: int = 0) -> list[str]:
        cmd = [sys.executable, "-m", "tui", "serve", "--host", "127.0.0.1", "--port", str(port),
               f"--ready-file={ready_file}", f"--data-dir={self.data_dir}"]
        delay = self.agent_delay if self.agent_delay is not None else (self.config.embedded.agent_delay if self.config else None)
        if delay is not None:
            cmd += ["--agent-delay", repr(float(delay))]
        if self.config is not None:
            cmd += ["--heartbeat", repr(float(self.config.embedded.heartbeat))]
        return cmd

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[PARENT_PID_ENV] = str(os.getpid())
        env[TOKEN_ENV] = self._token
        if self.paths is not None:  # the child reads the same config file and logs next to the app
            env["MIX_TUI_CONFIG_DIR"] = str(self.paths.config_dir)
            env["MIX_TUI_DATA_DIR"] = str(self.paths.data_dir)
            env["MIX_TUI_STATE_DIR"] = str(self.paths.state_dir)
        return env

    def _spawn(self, port: int = 0) -> Path:
        if self.running:
            raise RuntimeError("the embedded server is already running")
        try:
            make_private_dir(self.data_dir)
            self._rotate_log()
            if self._log is not None:
                self._log.close()
            self._log = os.fdopen(open_private(self.log_file, os.O_WRONLY | os.O_APPEND), "ab", buffering=0)
        except OSError as exc:  # a read-only folder: one line, not a traceback
            raise ServerStartError(f"cannot write {exc.filename or self.data_dir}: {exc.strerror or exc}") from None
        ready_file = self.data_dir / f".ready-{os.getpid()}-{secrets.token_hex(4)}.json"
        self._proc = subprocess.Popen(
            self._command(ready_file, port), stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=self._env(), start_new_session=True,  # terminal signals (Ctrl-C) go to the app only
            close_fds=True, umask=PRIVATE_UMASK,
        )
        return ready_file

    def _rotate_log(self) -> None:
        """Keep the previous launch's log as server.log.1 once it passes LOG_ROTATE_BYTES."""
        try:
            if self.log_file.stat().st_size > LOG_ROTATE_BYTES:
                os.replace(self.log_file, self.log_file.with_name(LOG_NAME + ".1"))
        except OSError:
            pass

    def _check_ready(self, ready_file: Path) -> bool:
        try:
            info = json.loads(ready_file.read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            if self._proc is not None and self._proc.poll() is not None:
                raise ServerStartError(f"the embedded server exited with code {self._proc.returncode}: {self.log_tail()}")
            return False
        self._port = self._last_port = int(info["port"])
        self.notes = [str(n) for n in info.get("notes") or []]
        ready_file.unlink(missing_ok=True)
        return True

    def spawn(self) -> None:
        """Start the child without waiting for it: the app calls this before its own imports, so
        the server boots on the other core while the UI loads. `start()` then waits for it."""
        self._ready_file = self._spawn()

    async def start(self, port: int = 0) -> None:
        import asyncio  # here, not at the top: the command line spawns the child before asyncio is needed
        ready_file = self._ready_file or self._spawn(port)
        self._ready_file = None
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.005
        while not self._check_ready(ready_file):
            if time.monotonic() > deadline:
                await self.stop()
                raise ServerStartError(f"the embedded server did not start within {self.startup_timeout:g} s: {self.log_tail()}")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.05)

    async def restart(self) -> None:
        """Start again after the child died, on the same data, token and (when free) port.

        Same port and token: every client keeps its URL, and its streams reconnect by themselves."""
        if self._proc is not None:
            await self.stop(timeout=1.0)  # reap it (or end a hung one)
        if self._last_port:
            try:
                await self.start(self._last_port)
                return
            except ServerStartError:
                log.info("port %d is taken; the restarted server takes a new one", self._last_port)
                await self.stop(timeout=1.0)
        await self.start(0)

    async def healthy(self, timeout: float = 2.0) -> bool:
        """GET /health answers 200 within `timeout` (a hung server is as dead as an exited one)."""
        if not self.running or self._port is None:
            return False
        import httpx  # only once the server is up: keeps the app's first paint light

        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                response = await client.get(self.url + "/health", headers={"Authorization": f"Bearer {self._token}"})
        except (httpx.HTTPError, OSError):
            return False
        return response.status_code == 200

    def start_sync(self) -> None:
        ready_file = self._spawn()
        deadline = time.monotonic() + self.startup_timeout
        while not self._check_ready(ready_file):
            if time.monotonic() > deadline:
                self.stop_sync()
                raise ServerStartError(f"the embedded server did not start within {self.startup_timeout:g} s: {self.log_tail()}")
            time.sleep(0.01)

    def log_tail(self, chars: int = 2000) -> str:
        try:
            return self.log_file.read_bytes()[-chars:].decode("utf-8", "replace").strip() or "(empty log)"
        except OSError:
            return "(no log)"

    # ------------------------------------------------------------ stop

    def _signal(self, sig: int) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.send_signal(sig)
            except ProcessLookupError:
                pass

    def _finish(self) -> None:
        if self._ready_file is not None:  # stopped before start() read it
            self._ready_file.unlink(missing_ok=True)
            self._ready_file = None
        if self._log is not None:
            self._log.close()
            self._log = None
        self._port = None

    async def stop(self, timeout: float = 3.0) -> None:
        """SIGTERM (uvicorn shuts down cleanly), SIGKILL if it is still there after `timeout`."""
        import asyncio
        proc = self._proc
        if proc is None:
            return
        self._signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        if proc.poll() is None:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        self._finish()

    def stop_sync(self, timeout: float = 3.0) -> None:
        proc = self._proc
        if proc is None:
            return
        self._signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        self._finish()
