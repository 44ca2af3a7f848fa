"""Start the embedded server as a child process of the app, and stop it again.

A child process runs on the second core and never competes with the UI for the GIL. It listens on
a free loopback port with a per-launch bearer token, reports the port through a ready file, writes
its output to a log file (never the terminal), and dies with the app even when the app crashes
(PR_SET_PDEATHSIG plus a watcher of the parent pid, see run.die_with_parent).

Call `start()` from the app's main thread (the event loop's thread): Linux delivers the
parent-death signal when the *thread* that spawned the child ends.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tui.config import Config, Paths

PARENT_PID_ENV = "MIX_TUI_PARENT_PID"  # same name as tui.server.run (not imported: keeps start-up light)
LOG_NAME = "server.log"
LOG_ROTATE_BYTES = 5 * 1024 * 1024


def for_app(config: Config, paths: Paths) -> EmbeddedServer:
    """The server the app starts: it reads the app's config file and logs next to it, but keeps its
    data (database, session folders, its own secrets) in `paths.server_data_dir`."""
    child_paths = Paths(config_dir=paths.config_dir, data_dir=paths.server_data_dir, state_dir=paths.state_dir)
    return EmbeddedServer(paths.server_data_dir, config=config, paths=child_paths)


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
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._ready_file: Path | None = None  # set by spawn(), until start() has waited for it

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

    def _command(self, ready_file: Path) -> list[str]:
        cmd = [sys.executable, "-m", "tui", "serve", "--host", "127.0.0.1", "--port", "0",
               f"--token={self._token}", f"--ready-file={ready_file}", f"--data-dir={self.data_dir}"]
        delay = self.agent_delay if self.agent_delay is not None else (self.config.embedded.agent_delay if self.config else None)
        if delay is not None:
            cmd += ["--agent-delay", repr(float(delay))]
        if self.config is not None:
            cmd += ["--heartbeat", repr(float(self.config.embedded.heartbeat))]
        return cmd

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env[PARENT_PID_ENV] = str(os.getpid())
        if self.paths is not None:  # the child reads the same config file and logs next to the app
            env["MIX_TUI_CONFIG_DIR"] = str(self.paths.config_dir)
            env["MIX_TUI_DATA_DIR"] = str(self.paths.data_dir)
            env["MIX_TUI_STATE_DIR"] = str(self.paths.state_dir)
        return env

    def _spawn(self) -> Path:
        if self.running:
            raise RuntimeError("the embedded server is already running")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        ready_file = self.data_dir / f".ready-{os.getpid()}-{secrets.token_hex(4)}.json"
        self._rotate_log()
        self._log = open(self.log_file, "ab", buffering=0)
        self._proc = subprocess.Popen(
            self._command(ready_file), stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
            env=self._env(), start_new_session=True,  # terminal signals (Ctrl-C) go to the app only
            close_fds=True,
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
        self._port = int(info["port"])
        ready_file.unlink(missing_ok=True)
        return True

    def spawn(self) -> None:
        """Start the child without waiting for it: the app calls this before its own imports, so
        the server boots on the other core while the UI loads. `start()` then waits for it."""
        self._ready_file = self._spawn()

    async def start(self) -> None:
        import asyncio  # here, not at the top: the command line spawns the child before asyncio is needed
        ready_file = self._ready_file or self._spawn()
        self._ready_file = None
        deadline = time.monotonic() + self.startup_timeout
        delay = 0.005
        while not self._check_ready(ready_file):
            if time.monotonic() > deadline:
                await self.stop()
                raise ServerStartError(f"the embedded server did not start within {self.startup_timeout:g} s: {self.log_tail()}")
            await asyncio.sleep(delay)
            delay = min(delay * 1.5, 0.05)

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
