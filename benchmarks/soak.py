"""`make soak`: the server held under hostile input, crashes and load; figures to benchmarks/soak-results.md.

1. fuzz: generated hostile requests (tests/support/fuzz.py) -> 5xx, bad error shapes, stream survival;
   then the path-escape battery against the agent's tools -> escapes;
2. kill -9 mid-turn: a real `mix-tui serve` killed with SIGKILL at a random point of a streaming turn,
   restarted on the same data each time -> lost sessions, user messages, partial answers, thinking,
   turns left streaming, integrity_check;
3. concurrent turns: N sessions sending at once -> first-event p50/p99, errors;
4. sequential turns: M turns one after another -> errors, memory (RSS) and open fds before/after.

    python -m benchmarks.soak [--fuzz 10000] [--kills 20] [--concurrent 20] [--sequential 200] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fixtures.mix_server import running_server  # noqa: E402
from tests.support.fuzz import app_routes, run_fuzz  # noqa: E402
from tests.support.serve_process import EventLog, create_session, poll_until, start_serve  # noqa: E402
from tui.server.drafts import FLUSH_INTERVAL  # noqa: E402

PROMPTS = ["hello there, what can you do?", "tell me something", "what is this place?", "help me please"]
TURN_EVENTS = ("thinking", "content", "tool", "tool_use_start", "user_message_created", "complete", "error")


@dataclass
class Figures:
    lines: list[str] = field(default_factory=list)

    def add(self, name: str, value: object, how: str = "") -> None:
        self.lines.append(f"| {name} | {value} | {how} |")
        print(f"{name}: {value}", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


# ---------------------------------------------------------------- 1. fuzz


def soak_fuzz(count: int, figures: Figures, work: Path) -> None:
    started = time.monotonic()
    with running_server(work / "fuzz") as server:
        report = run_fuzz(server.port, app_routes(server.app), count)
    took = time.monotonic() - started
    figures.add("fuzz requests", report.requests, f"{len(app_routes(server.app))} routes, {took:.0f} s")
    figures.add("fuzz 5xx answers", report.server_errors)
    figures.add("fuzz 4xx not in the error shape", report.bad_shapes)
    figures.add("fuzz: watched stream still delivering after all of it", "yes" if report.stream_alive else "NO")
    figures.add("fuzz status mix", ", ".join(f"{k}: {v}" for k, v in sorted(report.statuses.items())))
    for failure in report.failures[:5]:
        print("  ", failure[:300])


# ---------------------------------------------------------------- 1b. escapes


def _outside_state(outside: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(outside.iterdir()) if p.is_file()}


def soak_escapes(rounds: int, figures: Figures, work: Path) -> None:
    """Traversal, links and folders swapped for links while the permission prompt waits, against the
    agent's tools (sandbox as this machine allows); an escape is a secret read or anything changed outside."""
    import asyncio
    import shutil

    from tests.server_agent.context import RecordingContext
    from tui.server.agent.tools import execute_tool
    from tui.server.sandbox import Sandbox

    sandbox = Sandbox.detect()
    attempts = escapes = 0

    async def one(round_: int, tool: str, params: dict, swap: str | None) -> bool:
        base = work / "escapes" / f"{round_}-{tool}-{attempts}"
        session, outside = base / "storage" / "s", base / "outside"
        (session / "sub").mkdir(parents=True)
        outside.mkdir()
        (outside / "secret.txt").write_text("top secret\n")
        (outside / "notes.txt").write_text("inside\n")
        (session / "sub" / "notes.txt").write_text("inside\n")
        (session / "link").symlink_to(outside, target_is_directory=True)
        (session / "leak.txt").symlink_to(outside / "secret.txt")
        before = _outside_state(outside)

        async def answer(request: dict) -> bool:
            if swap:
                folder = session / swap if swap != "." else session
                shutil.rmtree(folder)
                folder.symlink_to(outside, target_is_directory=True)
            return True

        ctx = RecordingContext(session, permission_answer=answer)
        ctx.sandbox = sandbox  # type: ignore[attr-defined]
        params = {k: v.replace("OUT", str(outside)) if isinstance(v, str) else v for k, v in params.items()}
        result = await execute_tool(ctx, "toolu_soak", tool, params)
        return "top secret" in result.text or _outside_state(outside) != before

    paths = ["../../outside/secret.txt", "OUT/secret.txt", "link/secret.txt", "leak.txt", "sub/../../../outside/secret.txt"]
    cases: list[tuple[str, dict, str | None]] = []
    for path in paths:
        cases += [("read", {"file_path": path}, None),
                  ("write", {"file_path": path, "content": "pwned\n"}, None),
                  ("edit", {"file_path": path, "old_string": "top", "new_string": "pwned"}, None)]
    cases += [("write", {"file_path": "sub/notes.txt", "content": "pwned\n"}, "sub"),
              ("write", {"file_path": "sub/new.txt", "content": "pwned\n"}, "sub"),
              ("edit", {"file_path": "sub/notes.txt", "old_string": "inside", "new_string": "pwned"}, "sub"),
              ("bash", {"command": "echo pwned > planted.txt"}, "."),
              ("bash", {"command": "echo pwned > OUT/planted.txt"}, None),
              ("bash", {"command": "echo pwned > link/planted.txt"}, None)]

    async def run_all() -> None:
        nonlocal attempts, escapes
        for round_ in range(rounds):
            for tool, params, swap in cases:
                attempts += 1
                escapes += await one(round_, tool, params, swap)

    asyncio.run(run_all())
    figures.add("path escapes", f"{escapes} of {attempts} attempts",
                f"traversal, absolute, links, folders swapped for links while the prompt waits; shell sandbox "
                f"{'on' if sandbox.active else 'off'}")


# ---------------------------------------------------------------- 2. kill -9 mid-turn


def soak_kills(kills: int, figures: Figures, work: Path, rng: random.Random) -> None:
    data = work / "kills"
    lost_sessions = lost_users = lost_partial = lost_thinking = left_streaming = not_marked = restarts = 0
    integrity_bad = 0
    seen_chars = kept_chars = 0
    expected: list[tuple[str, str, str, str]] = []  # session, user text, content seen early, thinking seen early
    server = start_serve(data, agent_delay=0.02)
    for n in range(kills):
        with server.client() as c:
            sid = create_session(c, f"kill {n}")
            events = EventLog(server.port, sid)
            poll_until(lambda: events.count("connected") == 1)
            prompt = f"{rng.choice(PROMPTS)} ({n})"
            c.post(f"/api/sessions/{sid}/messages", json={"content": prompt}, timeout=2)
            # Kill at a random moment: during the thinking or somewhere in the answer.
            time.sleep(rng.uniform(0.05, 2.5))
            killed_at = time.monotonic()
            server.kill()
            events.close()
        early = killed_at - FLUSH_INTERVAL - 0.1
        expected.append((sid, prompt, events.text("content", before=early), events.text("thinking", before=early)))
        seen_chars += len(events.text("content"))
        server = start_serve(data, agent_delay=0.02)
        restarts += 1
        with server.client() as c:
            sessions = {s["id"] for s in c.get("/api/sessions").json()}
            for past_sid, past_prompt, content, thinking in expected:
                if past_sid not in sessions:
                    lost_sessions += 1
                    continue
                messages = c.get(f"/api/sessions/{past_sid}/messages").json()
                if not any(m["role"] == "user" and m["userInput"] == past_prompt for m in messages):
                    lost_users += 1
                answers = [m for m in messages if m["role"] == "assistant"]
                text = "".join(m.get("assistantResponse", "") for m in answers)
                reasoning = "".join(m.get("reasoning", "") for m in answers)
                if not text.startswith(content):
                    lost_partial += 1
                if not reasoning.startswith(thinking):
                    lost_thinking += 1
                if past_sid == sid:  # the turn this kill cut short (the answer takes ~10 s; kills come sooner)
                    kept_chars += len(text)
                    if not answers or answers[-1].get("finishReason") != "interrupted":
                        not_marked += 1
        db = sqlite3.connect(data / "server.db")
        if db.execute("PRAGMA integrity_check").fetchone() != ("ok",):
            integrity_bad += 1
        left_streaming += db.execute("SELECT COUNT(*) FROM messages WHERE finish_reason = 'streaming'").fetchone()[0]
        db.close()
    server.stop()
    figures.add("kill -9 mid-turn", kills, "random moment 0.05-2.5 s into a streaming turn; restarted on the same data")
    figures.add("restarts that came up", f"{restarts} of {kills}")
    figures.add("integrity_check failures", integrity_bad)
    figures.add("lost sessions (checked after every restart)", lost_sessions)
    figures.add("lost user messages", lost_users)
    figures.add("lost partial answers (text seen > 350 ms before the kill not stored)", lost_partial)
    figures.add("lost thinking", lost_thinking)
    figures.add("turns left 'streaming' after restart", left_streaming)
    figures.add("interrupted turns not marked interrupted", not_marked)
    figures.add("answer characters seen / kept", f"{seen_chars} / {kept_chars}")


# ---------------------------------------------------------------- 3 and 4. load


def _turn(client: httpx.Client, sid: str, events: EventLog, prompt: str) -> tuple[float | None, bool]:
    """Send one message; (seconds to the turn's first event, ended with complete)."""
    before = len(events.events)
    sent = time.monotonic()
    client.post(f"/api/sessions/{sid}/messages", json={"content": prompt})
    ended = poll_until(lambda: any(e.event in ("complete", "error") for e in events.events[before:]), timeout=60)
    turn = [e for e in events.events[before:] if e.event in TURN_EVENTS]
    first = turn[0].at - sent if turn else None
    return first, ended and any(e.event == "complete" for e in events.events[before:])


def _fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def soak_load(concurrent: int, sequential: int, figures: Figures, work: Path) -> None:
    server = start_serve(work / "load", agent_delay=0.002)
    try:
        with server.client() as c:
            sids = [create_session(c, f"load {i}") for i in range(concurrent)]
        logs = [EventLog(server.port, sid) for sid in sids]
        clients = [server.client() for _ in sids]  # one connection per session, opened before the clock runs
        poll_until(lambda: all(log.count("connected") == 1 for log in logs))
        for i, client in enumerate(clients):
            _turn(client, sids[i], logs[i], "warm up")
        rss_before, fds_before = server.rss_kb(), _fds(server.proc.pid)
        results: list[tuple[float | None, bool]] = [(None, False)] * concurrent

        def run(i: int) -> None:
            results[i] = _turn(clients[i], sids[i], logs[i], f"{PROMPTS[i % len(PROMPTS)]} #{i}")

        threads = [threading.Thread(target=run, args=(i,)) for i in range(concurrent)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        firsts = [r[0] * 1000 for r in results if r[0] is not None]
        figures.add(f"{concurrent} concurrent turns: completed", f"{sum(r[1] for r in results)} of {concurrent}")
        figures.add("concurrent: first event p50 / p99 (ms)", f"{percentile(firsts, 50):.0f} / {percentile(firsts, 99):.0f}",
                    "POST sent -> first event of the turn on the session's stream")

        seq_firsts, errors = [], 0
        for n in range(sequential):
            k = n % len(sids)
            first, ok = _turn(clients[k], sids[k], logs[k], f"{PROMPTS[n % len(PROMPTS)]} seq {n}")
            errors += not ok
            if first is not None:
                seq_firsts.append(first * 1000)
        rss_after, fds_after = server.rss_kb(), _fds(server.proc.pid)
        figures.add(f"{sequential} sequential turns: errors", errors)
        figures.add("sequential: first event p50 / p99 (ms)",
                    f"{percentile(seq_firsts, 50):.0f} / {percentile(seq_firsts, 99):.0f}")
        figures.add("server memory (RSS) before / after the load", f"{rss_before / 1024:.0f} MB / {rss_after / 1024:.0f} MB")
        figures.add("server open fds before / after the load", f"{fds_before} / {fds_after}")
        for log, client in zip(logs, clients):
            log.close()
            client.close()
    finally:
        server.stop()


# ---------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak")
    parser.add_argument("--fuzz", type=int, default=10_000)
    parser.add_argument("--escapes", type=int, default=5, help="rounds of the path-escape battery (21 attempts each)")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--sequential", type=int, default=200)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "soak-results.md"))
    args = parser.parse_args(argv)
    figures = Figures()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="mix-soak-") as tmp:
        work = Path(tmp)
        if args.fuzz:
            soak_fuzz(args.fuzz, figures, work)
        if args.escapes:
            soak_escapes(args.escapes, figures, work)
        if args.kills:
            soak_kills(args.kills, figures, work, random.Random(args.seed))
        if args.concurrent or args.sequential:
            soak_load(max(1, args.concurrent), args.sequential, figures, work)
    took = time.monotonic() - started
    command = "make soak" if argv is None and len(sys.argv) == 1 else "python -m benchmarks.soak " + " ".join(
        argv if argv is not None else sys.argv[1:])
    text = "\n".join([
        "# Soak results", "",
        f"`{command}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} CPUs, "
        f"{took / 60:.1f} min in all. Offline agent; a real `mix-tui serve` child for the kills and the load.", "",
        "| figure | value | how |", "|---|---|---|", *figures.lines, "",
    ])
    Path(args.out).write_text(text, "utf-8")
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
