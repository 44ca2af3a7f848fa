"""`mix-tui web` run as the user runs it: a child process on a free loopback port, its URL read from
what it prints, its tab apps found among the machine's processes by their data dir."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import pytest


@dataclass
class RunningWeb:
    proc: subprocess.Popen[str]
    url: str
    home: Path
    lines: list[str] = field(default_factory=list)

    @property
    def port(self) -> int:
        return int(urlparse(self.url).port or 0)

    @property
    def token(self) -> str:
        return urlparse(self.url).path.strip("/")

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def processes(self) -> dict[int, list[str]]:
        """pid -> argv of every process started with this web run's data dir (itself, its tabs' apps)."""
        found: dict[int, list[str]] = {}
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
            except OSError:
                continue
            if str(self.home) in " ".join(argv):
                found[int(entry.name)] = argv
        return found

    def tab_apps(self) -> list[int]:
        """The app processes serving tabs: `python -m tui --data-dir HOME` (not `web`, not a shell around it)."""
        return [pid for pid, argv in self.processes().items()
                if argv[1:3] == ["-m", "tui"] and "web" not in argv and "serve" not in argv]


def wait_until(condition, timeout: float, failure: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(step)


def start_web(home: Path, *args: str, timeout: float = 60.0) -> RunningWeb:
    proc = subprocess.Popen([sys.executable, "-m", "tui", "--data-dir", str(home), "web", "--port", "0", *args],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.5)
        except queue.Empty:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        if match := re.search(r"http://\S+", line):
            return RunningWeb(proc, match.group(0), home, seen)
    stop_web(proc)
    raise AssertionError(f"mix-tui web printed no URL: {''.join(seen)!r}")


def stop_web(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode


@pytest.fixture(scope="module")
def running_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningWeb]:
    web = start_web(tmp_path_factory.mktemp("web") / "home")
    try:
        yield web
    finally:
        stop_web(web.proc)
