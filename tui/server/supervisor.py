"""Keep the embedded server alive: notice when it dies, start a new one on the same data, or give up.

The app's child server can exit (a crash, the OOM killer, `kill -9`) or hang. The supervisor polls
the process (has it exited?) and its /health (does it still answer?), whether or not a session is
open. When the server is gone it starts a new one on the same data dir, token and, when free, port,
so every client keeps its URL and its streams reconnect and resync by themselves.

Restarts back off (0.5 s, 1 s, 2 s...) and are capped (at most 5 a minute); past the cap the
supervisor reports that it gave up, with the end of the server's log, and waits for `retry()`.

Plain asyncio, no Textual: the app passes a callback that turns the reports into what the user sees.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections import deque
from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

log = logging.getLogger(__name__)


class Supervised(Protocol):
    """What the supervisor needs of a server (tui.server.launcher.EmbeddedServer has it)."""

    @property
    def running(self) -> bool: ...
    @property
    def returncode(self) -> int | None: ...
    @property
    def url(self) -> str: ...
    async def healthy(self, timeout: float = 2.0) -> bool: ...
    async def restart(self) -> None: ...
    def log_tail(self, chars: int = 2000) -> str: ...


@dataclass(frozen=True)
class RestartPolicy:
    first_delay: float = 0.5  # seconds before the first restart; doubles with each restart in the window
    max_delay: float = 8.0
    max_restarts: int = 5  # restarts allowed within `window`; one more and the supervisor gives up
    window: float = 60.0  # seconds
    poll_interval: float = 0.2  # how often the process is checked (cheap: a waitpid)
    health_interval: float = 2.0  # how often /health is asked
    health_timeout: float = 2.0
    health_failures: int = 3  # consecutive failed checks before a live but silent server counts as dead


class RestartBudget:
    """At most `max_restarts` in any `window` seconds; the delay doubles with each one in the window."""

    def __init__(self, policy: RestartPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self._times: deque[float] = deque()

    def _prune(self) -> None:
        horizon = self.clock() - self.policy.window
        while self._times and self._times[0] <= horizon:
            self._times.popleft()

    def next_delay(self) -> float | None:
        """Seconds to wait before the next restart, or None when the budget is spent."""
        self._prune()
        if len(self._times) >= self.policy.max_restarts:
            return None
        return min(self.policy.max_delay, self.policy.first_delay * 2 ** len(self._times))

    def record(self) -> None:
        self._times.append(self.clock())

    @property
    def count(self) -> int:
        """Restarts within the window."""
        self._prune()
        return len(self._times)

    def reset(self) -> None:
        self._times.clear()


# ---------------------------------------------------------------- what the supervisor reports


@dataclass(frozen=True)
class ServerDied:
    reason: str  # "killed by SIGKILL", "exited with code 1", "stopped answering"


@dataclass(frozen=True)
class ServerRestarted:
    reason: str  # why the previous one went
    downtime: float  # seconds from noticing to serving again
    url: str
    url_changed: bool  # the old port was taken: clients must move to `url`
    restarts: int  # restarts within the current window, this one included

    @property
    def line(self) -> str:
        return f"The server stopped ({self.reason}); a new one took over in {self.downtime:.1f} s. Nothing was lost."


@dataclass(frozen=True)
class ServerGaveUp:
    reason: str
    restarts: int
    log_tail: str  # the last lines of the server's log

    @property
    def line(self) -> str:
        return f"The server keeps stopping ({self.reason}; {self.restarts} restarts in a minute): not restarting it again."


SupervisorEvent = ServerDied | ServerRestarted | ServerGaveUp


def exit_reason(returncode: int | None) -> str:
    if returncode is None:
        return "stopped answering"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exited with code {returncode}"


def last_lines(text: str, count: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[-count:])


class ServerSupervisor:
    def __init__(
        self,
        server: Supervised,
        report: Callable[[SupervisorEvent], object],
        *,
        policy: RestartPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.server = server
        self.report = report
        self.policy = policy or RestartPolicy()
        self.clock = clock
        self.sleep = sleep
        self.budget = RestartBudget(self.policy, clock)
        self.restarts = 0  # in total, for the figures
        self.gave_up = False
        self._retry = asyncio.Event()

    async def run(self) -> None:
        """Watch and restart until cancelled (the app cancels it before stopping the server)."""
        while True:
            reason = await self.wait_for_death()
            log.warning("embedded server down: %s", reason)
            self.report(ServerDied(reason))
            await self.recover(reason)

    async def wait_for_death(self) -> str:
        """Returns why the server is gone: it exited, or it failed `health_failures` checks in a row."""
        policy = self.policy
        failures = 0
        next_check = self.clock() + policy.health_interval
        while True:
            if not self.server.running:
                return exit_reason(self.server.returncode)
            if self.clock() >= next_check:
                healthy = await self.server.healthy(policy.health_timeout)
                next_check = self.clock() + policy.health_interval
                if not self.server.running:
                    continue  # it exited during the check: say so, not "stopped answering"
                failures = 0 if healthy else failures + 1
                if failures >= policy.health_failures:
                    return "stopped answering"
            await self.sleep(policy.poll_interval)

    async def recover(self, reason: str) -> None:
        """Restart (with backoff) until a server runs again; past the budget, report and wait for `retry()`."""
        started = self.clock()
        try:
            old_url = self.server.url
        except RuntimeError:
            old_url = ""
        while True:
            delay = self.budget.next_delay()
            if delay is None:
                self.gave_up = True
                self.report(ServerGaveUp(reason, self.budget.count, last_lines(self.server.log_tail())))
                self._retry.clear()
                await self._retry.wait()
                self.gave_up = False
                self.budget.reset()
                started = self.clock()
                continue
            await self.sleep(delay)
            self.budget.record()
            self.restarts += 1
            try:
                await self.server.restart()
            except Exception as exc:  # noqa: BLE001 — it failed to come up: count it and try again
                reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                log.warning("embedded server restart failed: %s", reason)
                continue
            url = self.server.url
            self.report(ServerRestarted(reason, self.clock() - started, url, bool(old_url) and url != old_url,
                                        self.budget.count))
            return

    def retry(self) -> None:
        """After giving up: try again now, with a fresh budget (the user pressed the key)."""
        self._retry.set()
