"""`python -m benchmarks.server_restart [--runs N]`: kill the app's embedded server with SIGKILL and time
the way back (issue 19, item 5). For each run: a real app (run_test), one answered question, then the
server killed; printed: seconds until a new server serves, until the session's stream is connected
again, and until the next question is answered. The target is under 10 s for all three."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import tempfile
import time
from pathlib import Path

from tui.app import MixApp
from tui.config import Config, EmbeddedServerConfig, resolve_paths


async def wait(pilot, condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("no recovery in time")
        await pilot.pause(0.02)


def answered(app: MixApp, text: str) -> bool:
    view = app.chat.current
    return view is not None and view.turn is not None and view.turn.user_text == text and view.turn.status.finished


async def one_run() -> tuple[float, float, float]:
    home = Path(tempfile.mkdtemp(prefix="mix-restart-"))
    app = MixApp(config=Config(embedded=EmbeddedServerConfig(agent_delay=0.0)), paths=resolve_paths(home, env={}))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait(pilot, lambda: app.chat.connection == "connected", 30)
        app.chat.composer.load("before")
        await pilot.press("enter")
        await wait(pilot, lambda: answered(app, "before"))
        view, old = app.chat.current, app.server.pid
        killed = time.monotonic()
        os.kill(old, signal.SIGKILL)
        await wait(pilot, lambda: app.server.pid != old and app.server.running and app.chat.connection == "connected")
        served = time.monotonic() - killed
        await wait(pilot, lambda: view.connection == "connected")
        streaming = time.monotonic() - killed
        app.chat.composer.load("after")
        await pilot.press("enter")
        await wait(pilot, lambda: answered(app, "after"))
        return served, streaming, time.monotonic() - killed


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.server_restart", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = [asyncio.run(one_run()) for _ in range(args.runs)]
    for served, streaming, answered_at in results:
        print(f"new server {served:.2f} s · stream back {streaming:.2f} s · next answer {answered_at:.2f} s")
    worst = max(r[2] for r in results)
    print(f"next answer after the kill: median {statistics.median(r[2] for r in results):.2f} s, worst {worst:.2f} s "
          f"over {len(results)} runs ({'pass' if worst < 10 else 'FAIL'}: target < 10 s)")


if __name__ == "__main__":
    main()
