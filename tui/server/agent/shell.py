"""Run one shell command inside a session folder: timeout, output cap, killed with its children.

Where bubblewrap is installed the command runs confined (tui.server.sandbox). The folder is handed over as a descriptor opened without following links at the moment of use, so a
session folder swapped for a symlink is refused rather than entered.
"""

from __future__ import annotations

import asyncio
import os
import signal
from dataclasses import dataclass
from pathlib import Path

from tui.server import safefs
from tui.server.sandbox import UNCONFINED, Sandbox

DEFAULT_TIMEOUT = 30.0
MAX_TIMEOUT = 120.0
OUTPUT_CAP = 30_000  # bytes of combined stdout+stderr kept; the rest is drained and dropped


@dataclass
class CommandOutcome:
    output: str
    exit_code: int | None  # None when killed on timeout
    timed_out: bool = False
    truncated: bool = False
    timeout: float = DEFAULT_TIMEOUT

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def describe(self) -> str:
        """The output as the model/user should read it, with what happened spelled out."""
        text = self.output.rstrip("\n")
        notes = []
        if self.truncated:
            notes.append(f"[output truncated: only the first {OUTPUT_CAP} bytes are shown]")
        if self.timed_out:
            notes.append(f"[command timed out after {self.timeout:g} s and was killed]")
        elif self.exit_code not in (0, None):
            notes.append(f"[exit code {self.exit_code}]")
        return "\n".join([text] + notes if text else notes)


def clamp_timeout(value: object) -> float:
    """Seconds; missing/invalid/<=0 means the default, anything above the cap is capped."""
    try:
        seconds = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_TIMEOUT
    if seconds != seconds or seconds <= 0:
        return DEFAULT_TIMEOUT
    return min(seconds, MAX_TIMEOUT)


def _kill_group(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the shell and everything it started
    except (ProcessLookupError, PermissionError):
        try:
            proc.kill()
        except ProcessLookupError:
            pass


async def run_command(command: str, cwd: Path, timeout: float = DEFAULT_TIMEOUT,
                      cap: int = OUTPUT_CAP, env: dict[str, str] | None = None,
                      sandbox: Sandbox = UNCONFINED) -> CommandOutcome:
    """`sh -c command` in `cwd`. On cancellation the process group is killed and CancelledError re-raised.
    Raises safefs.Escape when `cwd` is (now) a symlink."""
    folder_fd = safefs.open_root(cwd)
    try:
        return await _run(sandbox.argv(command, folder_fd, str(cwd)), folder_fd, timeout, cap, env)
    finally:
        os.close(folder_fd)


async def _run(argv: list[str], folder_fd: int, timeout: float, cap: int, env: dict[str, str] | None) -> CommandOutcome:
    # The shell may already be running (and forking) before create_subprocess_exec returns; a
    # cancel landing there would kill only the shell and orphan its children. So the start is
    # shielded, and a cancel during it kills the whole group once the process object exists.
    starting = asyncio.ensure_future(asyncio.create_subprocess_exec(
        *argv,
        cwd=f"/proc/self/fd/{folder_fd}",  # the folder opened a moment ago, not whatever the path names now
        pass_fds=(folder_fd,),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # own process group, so a kill reaches grandchildren too
    ))
    try:
        proc = await asyncio.shield(starting)
    except asyncio.CancelledError:
        try:
            started = await starting
        except BaseException:
            raise asyncio.CancelledError from None
        _kill_group(started)
        await started.wait()
        raise
    kept = bytearray()
    truncated = False

    async def drain() -> None:
        nonlocal truncated
        assert proc.stdout is not None
        while True:
            block = await proc.stdout.read(65536)
            if not block:
                break
            room = cap - len(kept)
            if room > 0:
                kept.extend(block[:room])
            if len(block) > max(room, 0):
                truncated = True
        await proc.wait()

    timed_out = False
    try:
        await asyncio.wait_for(drain(), timeout)
    except asyncio.TimeoutError:
        timed_out = True
        _kill_group(proc)
        await proc.wait()
    except BaseException:
        _kill_group(proc)
        try:
            await asyncio.shield(proc.wait())
        except BaseException:
            pass
        raise
    text = kept.decode("utf-8", errors="replace")
    return CommandOutcome(
        output=text,
        exit_code=None if timed_out else proc.returncode,
        timed_out=timed_out,
        truncated=truncated,
        timeout=timeout,
    )
