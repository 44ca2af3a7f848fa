"""Long session: 2,000 messages in the server's store; open it in the app, then go to its top.

The messages are written straight into the server's SQLite file with its own store API
(`tui.server.store.Store`) before the server starts: blocks of four, a user question, an
assistant answer with a tool call (input and result), another question, an answer with a code
fence. So a quarter carries code and a quarter tool calls. The first and last messages hold
needles that are looked for in the painted frames.

Measured in a fresh app process (the real app, `--server URL`), after the session list is shown:
- open → last message painted: `ChatScreen.open_session` as the sidebar's Enter calls it, until
  the frame that paints the last message's last line;
- peak RSS after opening, and at the end of the run;
- time to the top: Home held down (a `scroll_home` every 20 ms, as key repeat does), which loads
  older pages from the server as the transcript asks for them, until the first message is painted.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
from pathlib import Path
from typing import Any

FIRST_MESSAGE = "First message of the long session."
LAST_MESSAGE = "Last message of the long session."
MESSAGES = 2_000
TOP_TIMEOUT = 30.0  # seconds of Home held before giving up on reaching the first message
QUICK_MESSAGES = 60


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


async def run(params: dict[str, Any]) -> dict[str, Any]:
    from tui.app import MixApp
    from tui.config import Config, resolve_paths

    from benchmarks import profiling
    from benchmarks.appkit import wait_until
    from benchmarks.frames import FrameRecorder, screen_lines

    app = MixApp(config=Config(server=params["url"]), paths=resolve_paths(Path(params["tmp"]) / "home"))
    async with app.run_test(size=(120, 40)) as pilot:
        rec = FrameRecorder(app).install()
        await app.wait_backend(30)
        chat = app.chat
        await wait_until(lambda: chat.sessions.loaded, 30, "the session list", step=0.01)
        item = next((i for i in chat.sidebar.items if i.id == params["session_id"]), None)
        if item is None:
            raise RuntimeError("the seeded session is not in the session list")
        await pilot.pause(0.2)
        rss_before = _rss_mb()
        last = rec.watch(LAST_MESSAGE)
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
        if params.get("skip_top"):
            return {"open_s": t_last - t0, "open_cpu_s": cpu_open, "top_s": None, "rss_before_mb": rss_before,
                    "rss_open_mb": rss_open, "at_bottom": at_bottom, "loaded": transcript.loaded_count,
                    "widgets": len(transcript.message_widgets)}
        first = rec.watch(FIRST_MESSAGE)
        t1 = time.perf_counter()
        deadline = t1 + float(params.get("top_timeout", TOP_TIMEOUT))
        while first.found_at is None and time.perf_counter() < deadline:
            transcript.scroll_home(animate=False)
            await asyncio.sleep(0.02)
        t_top = first.found_at
        return {
            "open_s": t_last - t0,
            "open_cpu_s": cpu_open,
            "top_s": (t_top - t1) if t_top is not None else None,
            "rss_before_mb": rss_before,
            "rss_open_mb": rss_open,
            "at_bottom": at_bottom,
            "loaded": transcript.loaded_count,
            "widgets": len(transcript.message_widgets),
        }


def bench(ctx: Any) -> Any:
    from benchmarks import availability
    from benchmarks.procs import helper_process, run_child
    from benchmarks.report import BenchResult, metric

    result = BenchResult("long_session", "Long session")
    missing = availability.missing("server", "backend", "app")
    if missing:
        result.status, result.reason = "not available", missing
        return result
    n = QUICK_MESSAGES if ctx.quick else MESSAGES
    with helper_process(["benchmarks.scripted_server", "--data-dir", "{tmp}/data", "--seed-messages", str(n)], ready_timeout=120) as srv:
        params = {"url": srv["url"], "session_id": srv["session_id"]}
        result.notes.append(f"{srv['messages']:,} messages written with tui.server.store.Store (a quarter with code, a quarter with tool calls)")
        runs = [run_child("benchmarks.long_session:run", params, timeout=180) for _ in range(ctx.runs)]
        errors = [r["error"] for r in runs if "error" in r]
        if errors:
            result.status, result.reason = "error", errors[0]
            return result
        result.metrics.append(metric("open → last message painted", "s", [r["open_s"] for r in runs], target="< 0.5 s",
                                     check="ours <", limit=0.5))
        result.metrics.append(metric("CPU time, open → last message", "s", [r["open_cpu_s"] for r in runs]))
        result.metrics.append(metric("peak RSS after opening", "MB", [r["rss_open_mb"] for r in runs]))
        result.metrics.append(metric("peak RSS, whole run (all messages loaded)", "MB", [r["peak_rss_mb"] for r in runs],
                                     target="< 150 MB", check="ours <", limit=150.0))
        tops = [r["top_s"] for r in runs if r["top_s"] is not None]
        result.metrics.append(metric("Home held → first message painted", "s", tops,
                                     note="" if len(tops) == len(runs) else
                                     f"reached the first message within {TOP_TIMEOUT:.0f} s in {len(tops)} of {len(runs)} runs"))
        result.notes.append(f"view at the last message after opening: {all(r['at_bottom'] for r in runs)}; "
                            f"messages loaded at the end: {runs[-1]['loaded']}, message widgets mounted: {runs[-1]['widgets']}")
        if result.missed and ctx.profile:
            prof = run_child("benchmarks.long_session:run", {**params, "skip_top": True}, timeout=120, profile=True)
            result.profiles["long session, ours"] = prof.get("profile", prof.get("error", ""))
    return result
