"""Streaming render: the real app against the floor, on the same server stream.

The embedded server runs in its own process with the ScriptedAgent streaming the corpus
(13 kB in 2,800 chunks, no delay: as fast as the client reads). Each run is a fresh process:
- ours: `MixApp` (the real app, `--server URL`) in `run_test(size=(120, 40))`; the session is
  open and its event stream connected before the clock starts; the clock starts when Enter is
  delivered to the composer and stops at the first frame that paints the answer's last line.
- floor: floor.py (a `Markdown` fed by `MarkdownStream`, an `Input` under it), its stream also
  connected first; the clock starts the same way, when Enter is delivered to its input (which
  then POSTs the message).
"First words" is the first frame that paints any answer text (corpus.ANSWER_NEEDLES). "Painted" is read from the compositor's updates (frames.py), not from widget state.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from benchmarks.corpus import ANSWER_NEEDLES, LAST_LINE

PROMPT = "Please review the design."
# Seconds between the prompt in the input and Enter, the stream connected: the app's start-up work
# is over (mix-tui warms up Pygments lexers for ~0.6 s after a session opens), as when a person types.
SETTLE = 1.0


async def ours(params: dict[str, Any]) -> dict[str, Any]:
    from tui.app import MixApp
    from tui.config import Config, resolve_paths

    from benchmarks import profiling
    from benchmarks.appkit import StallMonitor, press, wait_until
    from benchmarks.frames import FrameRecorder, screen_lines

    timeout = float(params.get("timeout", 120))
    app = MixApp(config=Config(server=params["url"]), paths=resolve_paths(Path(params["tmp"]) / "home"))
    async with app.run_test(size=(120, 40)) as pilot:
        rec = FrameRecorder(app).install()
        backend = await app.wait_backend(30)
        chat = app.chat
        await wait_until(lambda: chat.sessions.loaded, 30, "the session list", step=0.01)
        conversation = await backend.create_conversation("benchmark")
        chat.sidebar.add_session(conversation)
        view = chat.open_session(conversation)
        await wait_until(view.connected.is_set, 15, "the session's event stream", step=0.01)
        chat.composer.focus()
        chat.composer.load(PROMPT)
        await pilot.pause(float(params.get("settle", SETTLE)))
        # With "first_words_only" a profile covers Enter → first words painted, not the whole answer.
        first = rec.watch(ANSWER_NEEDLES, callback=(lambda _t: profiling.stop()) if params.get("first_words_only") else None)
        last = rec.watch(LAST_LINE)
        monitor = StallMonitor().start()
        profiling.start()
        c0 = time.process_time()
        t0 = time.perf_counter()
        press(app, "enter")
        t_last = await last.wait(timeout)
        cpu = time.process_time() - c0
        profiling.stop()
        stall = monitor.stop()
        await wait_until(lambda: view.turn is not None and view.turn.status.finished, timeout, "the end of the turn", step=0.01)
        t_turn_end = time.perf_counter()
        await pilot.pause(0.05)
        follows = t_last is not None and LAST_LINE in "\n".join(screen_lines(app))
        end = t_last if t_last is not None else time.perf_counter()
        text = view.turn.answer if view.turn is not None else ""
        result = {
            "total_s": end - t0,
            "cpu_s": cpu,
            "first_token_s": (first.found_at - t0) if first.found_at else None,
            "frames": rec.frames_between(t0, end),
            "follows": follows,
            "answer_chars": len(text),
            "stream_end_s": t_turn_end - t0,
            "bytes_out": rec.bytes_out,
            "longest_stall_s": stall,
        }
    return result


def bench(ctx: Any, *, name: str = "streaming", title: str = "Streaming render", size: int | None = None,
          chunks: int | None = None, delay: float = 0.0) -> Any:
    from benchmarks import availability
    from benchmarks.corpus import FULL_CHUNKS, FULL_SIZE, answer_and_chunks, describe
    from benchmarks.procs import helper_process, run_child
    from benchmarks.report import BenchResult, metric

    result = BenchResult(name, title)
    size = size or (2_500 if ctx.quick else FULL_SIZE)
    chunks = chunks or FULL_CHUNKS
    text, pieces = answer_and_chunks(size, chunks)
    d = describe(text)
    result.notes.append(
        f"answer: {d['chars']:,} characters ({d['headings']} headings, {d['code_fences']} code fences, {d['table_rows']} table rows, "
        f"{d['list_items']} list items) in {len(pieces):,} chunks; ScriptedAgent delay {delay * 1000:.1f} ms per chunk"
    )
    result.notes.append("both clocks start when Enter is delivered to the focused composer (ours) or `Input` (floor), "
                        "the session's stream already connected (the floor's clock used to start at its POST, a few ms later)")
    missing_server = availability.missing("server")
    if missing_server:
        result.status, result.reason = "not available", missing_server
        return result
    missing_floor = availability.missing("client")
    missing_ours = availability.missing("backend", "app")
    timeout = 60 + len(pieces) * delay * 2
    ours_runs: list[dict] = []
    floor_runs: list[dict] = []
    with helper_process(["benchmarks.scripted_server", "--data-dir", "{tmp}/data", "--size", str(size),
                         "--chunks", str(chunks), "--delay", str(delay)]) as srv:
        params = {"url": srv["url"], "timeout": timeout}
        for _ in range(ctx.runs):
            if not missing_floor:
                floor_runs.append(run_child("benchmarks.floor:run", params, timeout=timeout + 60))
            if not missing_ours:
                ours_runs.append(run_child("benchmarks.streaming:ours", params, timeout=timeout + 60))
        errors = [r["error"] for r in ours_runs + floor_runs if "error" in r]
        if errors:
            result.status, result.reason = "error", errors[0]
            result.notes += [f"error: {e}" for e in errors[1:3]]
            return result
        if missing_ours or missing_floor:
            result.status, result.reason = "partial", f"not available: {missing_ours or missing_floor}"
        _metrics(result, ours_runs, floor_runs, paced=delay > 0)
        if result.missed and ctx.profile and not missing_ours:
            prof = run_child("benchmarks.streaming:ours", params, timeout=timeout + 120, profile=True)
            result.profiles[f"{title}, ours"] = prof.get("profile", prof.get("error", ""))
            if any(m.passed is False and "first words" in m.name for m in result.metrics):
                prof = run_child("benchmarks.streaming:ours", {**params, "first_words_only": True}, timeout=timeout + 120, profile=True)
                result.profiles[f"{title}, ours, Enter → first words painted"] = prof.get("profile", prof.get("error", ""))
    return result


def _metrics(result: Any, ours: list[dict], floor: list[dict], *, paced: bool) -> None:
    from benchmarks.report import metric

    def col(runs: list[dict], key: str) -> list[float]:
        return [r[key] for r in runs if r.get(key) is not None]

    m = result.metrics
    if paced:
        m.append(metric("client CPU (fraction of one core)", "core", [r["cpu_s"] / r["total_s"] for r in ours],
                        [r["cpu_s"] / r["total_s"] for r in floor], target="reported"))
        m.append(metric("Enter → last line painted", "s", col(ours, "total_s"), col(floor, "total_s"), target="keeps pace"))
    else:
        m.append(metric("Enter → last line painted (wall)", "s", col(ours, "total_s"), col(floor, "total_s"),
                        target="ratio <= 0.15", check="ratio <=", limit=0.15))
        m.append(metric("CPU time, Enter → last line", "s", col(ours, "cpu_s"), col(floor, "cpu_s"),
                        target="ratio <= 0.15", check="ratio <=", limit=0.15))
    m.append(metric("Enter → first words painted", "s", col(ours, "first_token_s"), col(floor, "first_token_s"),
                    target="<= floor", check="ratio <=", limit=1.0))
    m.append(metric("frames painted", "frames", col(ours, "frames"), col(floor, "frames")))
    m.append(metric("longest event-loop stall", "s", col(ours, "longest_stall_s"), col(floor, "longest_stall_s"),
                    note="the longest time the loop ran without a break: keys wait and nothing is painted meanwhile"))
    m.append(metric("peak RSS", "MB", col(ours, "peak_rss_mb"), col(floor, "peak_rss_mb")))
    follows = metric("view follows to the last line", "bool", [float(all(r["follows"] for r in ours))] if ours else [],
                     [float(all(r["follows"] for r in floor))] if floor else [], target="yes", check="ours >=", limit=1.0)
    m.append(follows)
