"""First words in a real terminal: Enter → the answer's first words on screen, in tmux (120×40).

Each run starts a private tmux server (`tmux -L <unique socket>`, no config file) with one 120×40
session running a real program against benchmarks.scripted_server (its own process):
- ours: `python -m tui --data-dir <fresh tmp> --server URL`, the real app as a user starts it;
- floor: `python -m benchmarks.floor --server URL --session ID`, floor.py's app (an `Input` under a
  `Markdown` fed by `MarkdownStream`) as a program.
Ready: a session is created over HTTP before the program starts. Ours opens it as a user would
(ctrl+s, down, enter in the session list) until the status bar names it; the floor streams it
from the start. Then both wait until the server counts that session's event stream open
(scripted_server's probe). The prompt is typed with `send-keys -l` until it shows; a second later
(streaming.SETTLE, as headless) the clock starts just before Enter is sent, and `capture-pane -p`
is polled (~every 2 ms) until any answer words (corpus.ANSWER_NEEDLES) show, then until the
answer's last line does.

The harness drives tmux through one control-mode client (`tmux -C`, output notifications off):
each poll is a round trip on a pipe, not a process spawned, so the poller costs the two cores
little. A time read from the screen is late by at most one poll (reported: the poll interval).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from benchmarks.corpus import ANSWER_NEEDLES, LAST_LINE
from benchmarks.streaming import SETTLE as ENTER_SETTLE  # the prompt shown → Enter, as headless

PROMPT = "Please review the design."
SESSION_TITLE = "first-words"  # and a unique suffix per run (no spaces: typed into the session filter)
COLUMNS, LINES = 120, 40
POLL = 0.002  # seconds between two captures
SETTLE = 0.4  # seconds of quiet once the session list shows, before the keys that open a session
KEY_GAP = 0.15  # seconds between a key that moves the focus and the next ones
TOKENS_PER_S = 80
PACED_SIZE = 2_000  # as pace.py
QUICK_SIZE = 2_500


class Tmux:
    """One private tmux server with one session, driven through a control-mode client."""

    def __init__(self, socket: str, name: str) -> None:
        self.socket, self.name = socket, name
        self.control: subprocess.Popen | None = None

    def tmux(self, *args: str, env: dict[str, str] | None = None) -> None:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", "/dev/null", *args], env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=15)
        if done.returncode:
            raise RuntimeError(f"tmux {' '.join(args)} failed: {done.stderr.decode(errors='replace').strip()}")

    def start(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        shell = "exec " + " ".join(shlex.quote(a) for a in command)
        # One invocation: the options are set before the program starts (remain-on-exit keeps a
        # crashed program's last screen for the error message).
        self.tmux("start-server", ";", "set", "-g", "default-terminal", "tmux-256color", ";",
                  "set", "-g", "remain-on-exit", "on", ";",
                  "new-session", "-d", "-s", self.name, "-x", str(COLUMNS), "-y", str(LINES), "-c", str(cwd), shell, env=env)
        self.control = subprocess.Popen(["tmux", "-L", self.socket, "-C", "attach-session", "-f", "no-output,ignore-size",
                                         "-t", self.name], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL)
        size = self.command(f"display-message -p -t {self.name} '#{{pane_width}}x#{{pane_height}}'")
        if size != [f"{COLUMNS}x{LINES}"]:
            raise RuntimeError(f"the tmux pane is {size}, not {COLUMNS}x{LINES}")

    def command(self, line: str) -> list[str]:
        """Send one tmux command; the lines of its reply (between %begin and %end)."""
        self._send(line)
        return self._reply(line)

    def _send(self, line: str) -> None:
        assert self.control is not None and self.control.stdin is not None
        self.control.stdin.write(line.encode() + b"\n")
        self.control.stdin.flush()

    def _reply(self, line: str) -> list[str]:
        """The next reply to a command of this client (%begin's flags 1; the attach's own reply has 0)."""
        assert self.control is not None and self.control.stdout is not None
        out: list[str] = []
        inside = False
        while True:
            raw = self.control.stdout.readline()
            if not raw:
                raise RuntimeError("the tmux control client ended")
            text = raw.decode(errors="replace").rstrip("\n")
            if not inside:
                inside = text.startswith("%begin") and text.split()[-1] == "1"  # anything else out here: a notification
            elif text.startswith("%end") or text.startswith("%error"):
                if text.startswith("%error"):
                    raise RuntimeError(f"tmux {line!r}: {' '.join(out)}")
                return out
            else:
                out.append(text)

    def capture(self) -> str:
        return "\n".join(self.command(f"capture-pane -p -t {self.name}"))

    def keys(self, *keys: str, literal: bool = False) -> None:
        flag = "-l " if literal else ""
        self.command(f"send-keys -t {self.name} {flag}" + " ".join(shlex.quote(k) for k in keys))

    def wait_for(self, found: Any, timeout: float, what: str) -> tuple[float, str]:
        """Poll the screen until `found(screen)`; (the time of the capture that showed it, that screen)."""
        deadline = time.perf_counter() + timeout
        while True:
            screen = self.capture()
            now = time.perf_counter()
            if found(screen):
                return now, screen
            if now > deadline:
                raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}; screen: {_tail(screen)!r}")
            time.sleep(POLL)

    def close(self) -> None:
        if self.control is not None:
            self.control.kill()
            self.control.wait()
        kill_server(self.socket)


def kill_server(socket: str) -> None:
    """Stop the private tmux server (and the program in it), and remove its socket file."""
    subprocess.run(["tmux", "-L", socket, "kill-server"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=15)
    # tmux's default place for `-L` sockets; the file outlives its server
    Path(os.environ.get("TMUX_TMPDIR") or "/tmp", f"tmux-{os.getuid()}", socket).unlink(missing_ok=True)


def _tail(screen: str) -> str:
    return " | ".join(line.strip() for line in screen.splitlines() if line.strip())[-400:]


def _has_answer(screen: str) -> bool:
    return any(n in screen for n in ANSWER_NEEDLES)


def _status_names(title: str, screen: str) -> bool:
    return any(title in line for line in screen.splitlines()[-3:])  # the status bar, not the session list


def _probe(url: str, session_id: str) -> dict[str, Any]:
    """What the server saw of the session: open event streams, the last message POST (scripted_server)."""
    from benchmarks.scripted_server import PROBE_PATH

    with urllib.request.urlopen(f"{url}{PROBE_PATH}?sessionId={session_id}", timeout=5) as resp:
        return json.loads(resp.read())


def _create_session(url: str, title: str) -> str:
    import asyncio

    from benchmarks import mixwire

    async def create() -> str:
        client = mixwire.client(url)
        try:
            return await mixwire.create_session(client, title)
        finally:
            await mixwire.close(client)

    return asyncio.run(create())


def run(params: dict[str, Any]) -> dict[str, Any]:
    """One run of one program (params["app"]: "ours" or "floor") in tmux: Enter → first words, → last line."""
    from benchmarks.procs import ROOT, child_env

    url, tmp = params["url"], Path(params["tmp"])
    timeout = float(params.get("timeout", 60))
    title = f"{SESSION_TITLE}-{uuid.uuid4().hex[:6]}"
    session_id = _create_session(url, title)
    if params["app"] == "ours":
        command = [sys.executable, "-m", "tui", "--data-dir", str(tmp / "home"), "--server", url]
    else:
        command = [sys.executable, "-m", "benchmarks.floor", "--server", url, "--session", session_id]
    env = child_env()
    env.update({"COLORTERM": "truecolor"})
    for var in ("TMUX", "TMUX_PANE", "MIX_TUI_CONFIG_DIR", "MIX_TUI_DATA_DIR", "MIX_TUI_STATE_DIR", "MIX_TUI_HOME"):
        env.pop(var, None)
    term = Tmux(params["socket"], f"fw-{uuid.uuid4().hex[:8]}")
    try:
        t_spawn = time.perf_counter()
        term.start(command, ROOT, env)
        if params["app"] == "ours":  # open the session as a user does: the session list, filtered by its title
            term.wait_for(lambda s: title in s, 30, "the session list")
            time.sleep(SETTLE)
            term.keys("C-s")
            # A person's pause: keys in the same terminal read as the ctrl+s still go to the composer
            # (Textual moves the focus after the batch), so typing at once would filter nothing.
            time.sleep(KEY_GAP)
            term.keys(title, literal=True)
            term.wait_for(lambda s: title in s.splitlines()[1], 5, "the typed filter")  # the filter box, under "Sessions"
            term.keys("Enter")
            term.wait_for(lambda s: _status_names(title, s), 10, "the session to open")
        deadline = time.perf_counter() + 30
        while _probe(url, session_id)["listeners"] < 1:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"the session's event stream never connected; screen: {_tail(term.capture())!r}")
            time.sleep(0.01)
        t_ready = time.perf_counter()
        term.keys(PROMPT, literal=True)
        _t, screen = term.wait_for(lambda s: PROMPT in s, 10, "the typed prompt")
        if _has_answer(screen):
            raise RuntimeError(f"answer words are on screen before Enter: {_tail(screen)!r}")
        time.sleep(ENTER_SETTLE)
        polls: list[float] = []
        t0, t0_mono = time.perf_counter(), time.monotonic()
        term.keys("Enter")
        t_first, _screen = term.wait_for(lambda s: polls.append(time.perf_counter()) or _has_answer(s), timeout,
                                         "the answer's first words")
        t_last, _screen = term.wait_for(lambda s: LAST_LINE in s, timeout, "the answer's last line")
        gaps = sorted(b - a for a, b in zip(polls, polls[1:]))
        posted = _probe(url, session_id)["message_posted_at"]
        term.keys("C-q")
        return {
            "first_words_s": t_first - t0,
            "posted_s": posted - t0_mono if posted is not None else None,
            "last_line_s": t_last - t0,
            "ready_s": t_ready - t_spawn,
            "poll_interval_s": gaps[len(gaps) // 2] if gaps else None,
        }
    finally:
        term.close()


def bench(ctx: Any) -> Any:
    from benchmarks import availability
    from benchmarks.corpus import FULL_CHUNKS, FULL_SIZE, answer_and_chunks
    from benchmarks.procs import helper_process, run_child
    from benchmarks.report import BenchResult, metric

    result = BenchResult("first_words_tmux", "First words in a real terminal (tmux)")
    if shutil.which("tmux") is None:
        result.status, result.reason = "not available", "tmux is not installed (`make bench` installs it where it can: apt-get install tmux)"
        return result
    missing = availability.missing("server", "client", "backend", "app")
    if missing:
        result.status, result.reason = "not available", missing
        return result
    paces = [("full speed", QUICK_SIZE if ctx.quick else FULL_SIZE, 0.0)]
    if not ctx.quick:
        paces.append((f"{TOKENS_PER_S} tokens/s", PACED_SIZE, 1 / TOKENS_PER_S))
    polls: list[float] = []
    for label, size, delay in paces:
        runs: dict[str, list[dict]] = {"ours": [], "floor": []}
        timeout = 60 + len(answer_and_chunks(size, FULL_CHUNKS)[1]) * delay * 2
        with helper_process(["benchmarks.scripted_server", "--data-dir", "{tmp}/data", "--size", str(size),
                             "--chunks", str(FULL_CHUNKS), "--delay", str(delay)]) as srv:
            for _ in range(ctx.runs):
                for app in ("floor", "ours"):  # alternating, so a change in the machine's load hits both
                    socket = f"mixbench-{os.getpid()}-{uuid.uuid4().hex[:8]}"
                    try:
                        runs[app].append(run_child("benchmarks.first_words_tmux:run",
                                                   {"url": srv["url"], "app": app, "socket": socket, "timeout": timeout},
                                                   timeout=timeout + 90))
                    finally:
                        kill_server(socket)  # also when the run timed out and its child was killed
        errors = [f"{app}: {r['error']}" for app, rs in runs.items() for r in rs if "error" in r]
        if errors:
            result.status, result.reason = "error", errors[0]
            result.notes += [f"error: {e}" for e in errors[1:3]]
            return result
        ours, floor = runs["ours"], runs["floor"]
        result.metrics.append(metric(f"{label}: Enter → first words on screen", "s", [r["first_words_s"] for r in ours],
                                     [r["first_words_s"] for r in floor], target="<= floor", check="ratio <=", limit=1.0))
        result.metrics.append(metric(f"{label}: Enter → the message's POST at the server", "s",
                                     [r["posted_s"] for r in ours if r.get("posted_s") is not None],
                                     [r["posted_s"] for r in floor if r.get("posted_s") is not None],
                                     note="the part of Enter → first words spent before the request reaches the server"))
        result.metrics.append(metric(f"{label}: Enter → last line on screen", "s", [r["last_line_s"] for r in ours],
                                     [r["last_line_s"] for r in floor]))
        polls += [r["poll_interval_s"] for r in ours + floor if r.get("poll_interval_s")]
    result.notes.append(
        f"tmux {_tmux_version()}, one {COLUMNS}×{LINES} session per run (TERM=tmux-256color, COLORTERM=truecolor); ours: "
        "`python -m tui --data-dir <fresh tmp> --server URL`, floor: `python -m benchmarks.floor --server URL --session ID`; "
        "both with the session open and its stream connected before the prompt is typed; the clock starts just before "
        "`send-keys Enter`, the screen is read with `capture-pane -p`")
    if polls:
        polls.sort()
        result.notes.append(f"median interval between two screen reads: {polls[len(polls) // 2] * 1000:.1f} ms "
                            "(a time read from the screen is late by up to one interval)")
    result.notes.append(f"answers: full speed {QUICK_SIZE if ctx.quick else FULL_SIZE:,} characters, no delay"
                        + ("" if ctx.quick else f"; {TOKENS_PER_S} tokens/s {PACED_SIZE:,} characters"))
    return result


def _tmux_version() -> str:
    try:
        return subprocess.run(["tmux", "-V"], capture_output=True, text=True, timeout=5).stdout.strip().removeprefix("tmux ")
    except (OSError, subprocess.SubprocessError):
        return "?"
