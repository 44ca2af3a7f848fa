"""Long sessions: 2,000 and 10,000 messages in the server's store; open one in the app, then go to its top.

The messages are written straight into the server's SQLite file with its own store API
(`tui.server.store.Store`) before the server starts: blocks of four, a user question, an
assistant answer with a tool call (input and result), another question, an answer with a code
fence. So a quarter carries code and a quarter tool calls. The first and last messages hold
needles that are looked for in the painted frames. Each size has its own server.

Measured in a fresh app process (the real app, `--server URL`), after the session list is shown
and the app has set its start-up objects aside (`MixApp._freeze_startup_objects`): that is
start-up's work (it once ran a full collection, which landed in the window of some runs).
- open → last message painted: `ChatScreen.open_session` as the sidebar's Enter calls it, until
  the frame that paints the last message's last line;
- peak RSS after opening, and at the end of the run;
- time to the top: Home held down (a `scroll_home` every 20 ms, as key repeat does), which loads
  older messages from the server as the transcript asks for them, until the first message is painted.

The floor (long_session_floor.py), alternated run by run with ours: a bare Textual app that fetches
the same session's messages over the same client layer and mounts the last 40 as `Markdown` widgets.
"""

from __future__ import annotations

import asyncio
import gc
import json
import resource
import time
from pathlib import Path
from typing import Any

FIRST_MESSAGE = "First message of the long session."
LAST_MESSAGE = "Last message of the long session."
# (messages, target for open → last message painted, seconds); the last size also has the RSS target
CASES = ((2_000, 0.3), (10_000, 0.5))
QUICK_SIZES = (40, 120)  # --quick: a smoke test of the same cases
TOP_LIMIT = 0.3  # seconds, Home held → first message painted
RSS_LIMIT = 150.0  # MB, peak RSS of the whole run (every message loaded), largest session
TOP_TIMEOUT = 30.0  # seconds of Home held before giving up on reaching the first message


def _answer_with_code(i: int, last: bool) -> str:
    body = (
        f"Here is how part {i} fits together. The handler folds each event into the totals and returns them.\n\n"
        f"```python\ndef handle_{i}(events):\n    total = 0\n    for event in events:\n        total += event.size\n"
        f"    return total\n```\n\nThat keeps the loop small and easy to test.\n"
    )
    return body + (f"\n{LAST_MESSAGE}\n" if last else "")


def messages(n: int) -> list[dict[str, Any]]:
    """The session's messages, deterministic: role, text, tool_calls."""
    out: list[dict[str, Any]] = []
    for i in range(n):
        kind = i % 4
        if i == 0:
            out.append({"role": "user", "text": FIRST_MESSAGE})
        elif kind in (0, 2):
            out.append({"role": "user", "text": f"Question {i}: how does part {i} of the pipeline work, and what should I check?"})
        elif kind == 1:
            call_input = json.dumps({"command": f"grep -n 'part {i}' src/pipeline.py"})
            result = "\n".join(f"{40 + j}: def part_{i}_{j}(): ..." for j in range(3))
            out.append({"role": "assistant", "text": f"Let me look at where part {i} is defined.", "tool_calls": [
                {"id": f"toolu_01bench{i:06d}", "name": "bash", "input": call_input, "type": "tool_use", "finished": True,
                 "result": result, "isError": False}]})
        else:
            out.append({"role": "assistant", "text": _answer_with_code(i, last=i == n - 1)})
    if out[-1]["role"] != "assistant" or LAST_MESSAGE not in out[-1]["text"]:
        out.append({"role": "assistant", "text": _answer_with_code(n, last=True)})
    return out


def seed_store(data_dir: Path, n: int) -> dict[str, Any]:
    """Write a session of `n` messages with the server's store API; its id."""
    from tui.server.settings import ServerSettings
    from tui.server.store import Store

    store = Store(ServerSettings(data_dir=data_dir).db_path)
    session = store.create_session("Long session (benchmark)")
    for m in messages(n):
        store.add_message(session.id, m["role"], m["text"], tool_calls=m.get("tool_calls"))
    count = len(store.list_messages(session.id))
    store.close()
    return {"session_id": session.id, "messages": count}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _after_startup_collection(timeout: float = 5.0) -> None:
    """Until the app froze its start-up objects (gc.freeze), or `timeout` (an app that no longer does it)."""
    deadline = time.perf_counter() + timeout
    while gc.get_freeze_count() == 0 and time.perf_counter() < deadline:
        await asyncio.sleep(0.02)


async def run(params: dict[str, Any]) -> dict[str, Any]:
    from tui.app import MixApp
    from tui.config import Config, resolve_paths

    from benchmarks import profiling
    from benchmarks.appkit import wait_until
    from benchmarks.frames import FrameRecorder, screen_lines

    window = params.get("profile_window", "open")  # what a profiled run profiles: "open" or "top"
    app = MixApp(config=Config(server=params["url"]), paths=resolve_paths(Path(params["tmp"]) / "home"))
    async with app.run_test(size=(120, 40)) as pilot:
        rec = FrameRecorder(app).install()
        await app.wait_backend(30)
        chat = app.chat
        await wait_until(lambda: chat.sessions.loaded, 30, "the session list", step=0.01)
        item = next((i for i in chat.sidebar.items if i.id == params["session_id"]), None)
        if item is None:
            raise RuntimeError("the seeded session is not in the session list")
        await _after_startup_collection()
        await pilot.pause(0.2)
        rss_before = _rss_mb()
        last = rec.watch(LAST_MESSAGE)
        if window == "open":
            profiling.start()
        c0 = time.process_time()
        t0 = time.perf_counter()
        view = chat.open_session(item.conversation)
        t_last = await last.wait(30)
        cpu_open = time.process_time() - c0
        profiling.stop()
        if t_last is None:
            raise TimeoutError("the last message was not painted within 30 s")
        rss_open = _rss_mb()
        await pilot.pause(0.1)
        at_bottom = LAST_MESSAGE in "\n".join(screen_lines(app))
        transcript = view.transcript
        result = {"open_s": t_last - t0, "open_cpu_s": cpu_open, "top_s": None, "top_cpu_s": None,
                  "rss_before_mb": rss_before, "rss_open_mb": rss_open, "at_bottom": at_bottom}
        if not params.get("skip_top"):
            await pilot.pause(0.3)  # what opening left for idle time is done
            first = rec.watch(FIRST_MESSAGE)
            if window == "top":
                profiling.start()
            c1 = time.process_time()
            t1 = time.perf_counter()
            deadline = t1 + float(params.get("top_timeout", TOP_TIMEOUT))
            while first.found_at is None and time.perf_counter() < deadline:
                transcript.scroll_home(animate=False)
                await asyncio.sleep(0.02)
            profiling.stop()
            if first.found_at is not None:
                result.update(top_s=first.found_at - t1, top_cpu_s=time.process_time() - c1)
        result.update(loaded=transcript.loaded_count, widgets=len(transcript.message_widgets))
        return result


def bench(ctx: Any) -> Any:
    from benchmarks import availability
    from benchmarks.report import BenchResult

    result = BenchResult("long_session", "Long session")
    missing = availability.missing("server", "backend", "app")
    if missing:
        result.status, result.reason = "not available", missing
        return result
    result.notes.append("written with tui.server.store.Store: a quarter of the messages with code, a quarter with "
                        "tool calls; floor: a bare Textual app that fetches the messages over the same client layer "
                        "and mounts the last 40 as Markdown widgets (long_session_floor.py); the floor's peak RSS is "
                        "its whole run, which never goes to the top")
    cases = [(quick, limit) for quick, (_n, limit) in zip(QUICK_SIZES, CASES)] if ctx.quick else list(CASES)
    for position, (n, open_limit) in enumerate(cases):
        error = _bench_size(ctx, result, n, open_limit, largest=position == len(cases) - 1)
        if error:
            result.status, result.reason = "error", f"{n:,} messages: {error}"
            break
    return result


def _bench_size(ctx: Any, result: Any, n: int, open_limit: float, *, largest: bool) -> str | None:
    """Ours and the floor, alternated, for a session of `n` messages; the metrics go into `result`."""
    from benchmarks.procs import helper_process, run_child
    from benchmarks.report import metric

    with helper_process(["benchmarks.scripted_server", "--data-dir", "{tmp}/data", "--seed-messages", str(n)], ready_timeout=120) as srv:
        params = {"url": srv["url"], "session_id": srv["session_id"]}
        size = f"{srv['messages']:,} messages"
        runs: list[dict[str, Any]] = []
        floor: list[dict[str, Any]] = []
        for _ in range(ctx.runs):  # alternated, so both see the same load
            runs.append(run_child("benchmarks.long_session:run", params, timeout=180))
            floor.append(run_child("benchmarks.long_session_floor:run", params, timeout=120))
        errors = [r["error"] for r in runs + floor if "error" in r]
        if errors:
            return errors[0]

        def col(rs: list[dict[str, Any]], key: str) -> list[float]:
            return [r[key] for r in rs if r.get(key) is not None]

        metrics = [
            metric(f"{size}: open → last message painted", "s", col(runs, "open_s"), col(floor, "open_s"),
                   target=f"< {open_limit} s", check="ours <", limit=open_limit),
            metric(f"{size}: CPU time, open → last message", "s", col(runs, "open_cpu_s"), col(floor, "open_cpu_s")),
            metric(f"{size}: Home held → first message painted", "s", col(runs, "top_s"),
                   target=f"< {TOP_LIMIT} s", check="ours <", limit=TOP_LIMIT),
            metric(f"{size}: CPU time, Home held → first message", "s", col(runs, "top_cpu_s")),
            metric(f"{size}: peak RSS after opening", "MB", col(runs, "rss_open_mb")),
            metric(f"{size}: peak RSS, whole run (all messages loaded)", "MB", col(runs, "peak_rss_mb"),
                   col(floor, "peak_rss_mb"), **({"target": f"< {RSS_LIMIT:.0f} MB", "check": "ours <", "limit": RSS_LIMIT}
                                                   if largest else {})),
        ]
        tops = col(runs, "top_s")
        if len(tops) < len(runs):
            metrics[2].passed = False
            metrics[2].note = f"reached the first message within {TOP_TIMEOUT:.0f} s in {len(tops)} of {len(runs)} runs"
        result.metrics += metrics
        result.notes.append(f"{size}: view at the last message after opening: {all(r['at_bottom'] for r in runs)}; "
                            f"messages loaded at the end: {runs[-1]['loaded']}, message widgets mounted: {runs[-1]['widgets']}")
        missed = [m for m in metrics if m.passed is False]
        if missed and ctx.profile:
            window = "top" if all("Home" in m.name for m in missed) else "open"
            prof = run_child("benchmarks.long_session:run", {**params, "skip_top": window == "open", "profile_window": window},
                             timeout=120, profile=True)
            result.profiles[f"{size}, {'Home held' if window == 'top' else 'open'}, ours"] = prof.get("profile", prof.get("error", ""))
    return None
