"""SSE decode: events per second through the client layer, no UI.

A loopback server (own process) writes one large pre-built SSE body in the Mix wire format
(`id/event/data/retry` lines, compact JSON). The measured side reads it over real TCP:
- ours: `MixClient(url).stream(session_id)`, up to the `Complete` event;
- floor: httpx + httpx-sse + `json.loads` + building the same typed event, the least any
  client built on those libraries can do.
"""

from __future__ import annotations

import inspect
import time
from typing import Any

EVENTS_FULL = 100_000
EVENTS_QUICK = 2_000


async def _close(obj: Any) -> None:
    for name in ("aclose", "close"):
        fn = getattr(obj, name, None)
        if fn is not None:
            res = fn()
            if inspect.isawaitable(res):
                await res
            return


async def ours(params: dict[str, Any]) -> dict[str, Any]:
    from tui.api import events as ev
    from tui.api.mix import MixClient

    from benchmarks import profiling

    client = MixClient(params["url"])
    count = 0
    profiling.start()
    t0 = time.perf_counter()
    c0 = time.process_time()
    stream = client.stream(params["session_id"])
    try:
        async for event in stream:
            if isinstance(event, (ev.ConnectionChanged, ev.Heartbeat)):
                continue
            count += 1
            if isinstance(event, ev.Complete):
                break
    finally:
        wall = time.perf_counter() - t0
        cpu = time.process_time() - c0
        profiling.stop()
        await _close(stream)
        await _close(client)
    return {"events": count, "wall_s": wall, "cpu_s": cpu, "events_per_s": count / wall}


async def floor(params: dict[str, Any]) -> dict[str, Any]:
    import json

    import httpx
    from httpx_sse import aconnect_sse

    from tui.api import events as ev

    count = 0
    t0 = time.perf_counter()
    c0 = time.process_time()
    async with httpx.AsyncClient(base_url=params["url"], timeout=None) as http:
        async with aconnect_sse(http, "GET", "/stream", params={"sessionId": params["session_id"]}) as source:
            async for sse in source.aiter_sse():
                data = json.loads(sse.data)
                count += 1
                if sse.event == "content":
                    ev.ContentDelta(data.get("content", ""), parent_tool_call_id=data.get("parentToolCallId"))
                elif sse.event == "complete":
                    ev.Complete(data.get("content", ""), data.get("messageId"))
                    break
    wall = time.perf_counter() - t0
    cpu = time.process_time() - c0
    return {"events": count, "wall_s": wall, "cpu_s": cpu, "events_per_s": count / wall}


def bench(ctx: Any) -> Any:
    from benchmarks import availability
    from benchmarks.procs import helper_process, run_child
    from benchmarks.report import BenchResult, metric

    n = EVENTS_QUICK if ctx.quick else EVENTS_FULL
    result = BenchResult("sse_decode", "SSE decode")
    missing = availability.missing("client")
    ours_runs: list[dict] = []
    floor_runs: list[dict] = []
    with helper_process(["benchmarks.loopback_sse", "--events", str(n)]) as srv:
        params = {"url": srv["url"], "session_id": srv["session_id"]}
        result.notes.append(f"{srv['events']:,} events, {srv['bytes'] / 1e6:.1f} MB of SSE, from a loopback server in its own process")
        for _ in range(ctx.runs):
            floor_runs.append(run_child("benchmarks.sse_decode:floor", params))
            if not missing:
                ours_runs.append(run_child("benchmarks.sse_decode:ours", params))
        result.profile_cases["ours"] = ("benchmarks.sse_decode:ours", params)
        errors = [r["error"] for r in ours_runs + floor_runs if "error" in r]
        if errors:
            result.status, result.reason = "error", errors[0]
            return result
        # Profile here while the server is up (the orchestrator's profiling would find it stopped).
        ok = [r["events_per_s"] for r in ours_runs]
        m = metric("events per second", "ev/s", ok, [r["events_per_s"] for r in floor_runs], target=">= 50,000/s",
                   check="ours >=", limit=50_000)
        if missing:
            result.status, result.reason = "partial", f"ours not available: {missing}"
        result.metrics.append(m)
        result.metrics.append(metric("events per CPU second (client process)", "ev/s", [r["events"] / r["cpu_s"] for r in ours_runs],
                                     [r["events"] / r["cpu_s"] for r in floor_runs],
                                     note="CPU time is what the decoding costs; wall time also counts waiting for a core "
                                          "when other processes compete for the two"))
        if m.passed is False and ctx.profile and not missing:
            prof = run_child("benchmarks.sse_decode:ours", params, profile=True)
            result.profiles["SSE decode, ours"] = prof.get("profile", prof.get("error", ""))
    result.notes.append("floor: httpx + httpx-sse + json.loads + the typed event, nothing else")
    return result
