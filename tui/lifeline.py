"""Die with the parent process, even when it is killed: the embedded server started by the app, and
each tab's app started by `mix-tui web`. Stdlib only: the apps import it at start-up."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PARENT_PID_ENV = "MIX_TUI_PARENT_PID"  # set by the parent: die with this process
PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """When started by a parent that set PARENT_PID_ENV: exit when it exits, even by a crash.

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
