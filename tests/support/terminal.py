"""The real app on a pseudo-terminal (for tests that must kill it or read what it printed)."""

from __future__ import annotations

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]


def wait_until(condition: Callable[[], object], timeout: float, what: str) -> None:
    """Poll `condition` (outside an event loop: a process or a file) until true, or fail saying `what`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


class Terminal:
    """The real app on a pseudo-terminal, its output drained so it never blocks."""

    def __init__(self, home: Path, *args: str) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "MIX_TUI_HOME": str(home)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tui", *args], cwd=REPO, env=env, stdin=slave, stdout=slave,
                                     stderr=slave, start_new_session=True)
        os.close(slave)
        self.master = master
        self.output = bytearray()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except OSError:
                return
            if not chunk:
                return
            self.output += chunk

    def type(self, text: str) -> None:
        for char in text:
            os.write(self.master, char.encode())
            time.sleep(0.01)

    def shows(self, text: str) -> bool:
        """`text` appeared on the screen (on one line: a toast wraps long ones)."""
        return text.encode() in self.output

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        os.close(self.master)
