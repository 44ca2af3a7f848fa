"""Entry point of one measurement run in a fresh process: `python -m benchmarks.child module:function`."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import inspect
import io
import json
import pstats
import resource
import time
import traceback
from pathlib import Path

PROFILE_TOP = 25


def main() -> None:
    started = time.monotonic()
    parser = argparse.ArgumentParser()
    parser.add_argument("case")
    parser.add_argument("--params", default="{}")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    params = json.loads(args.params)
    module_name, _, func_name = args.case.partition(":")
    from benchmarks import profiling

    profiler = profiling.arm() if args.profile else None
    try:
        func = getattr(importlib.import_module(module_name), func_name)
        result = func(params)
        if inspect.iscoroutine(result):
            result = asyncio.run(result)
    except Exception as exc:  # reported in the results, never hidden
        result = {"error": f"{type(exc).__name__}: {exc}", "traceback": traceback.format_exc()[-3000:]}
    result = dict(result or {})
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["child_seconds"] = time.monotonic() - started
    if profiler is not None and profiling.used:
        buf = io.StringIO()
        stats = pstats.Stats(profiler, stream=buf)
        stats.sort_stats("cumulative").print_stats(PROFILE_TOP)
        cumulative = _trim_profile(buf.getvalue())
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(PROFILE_TOP // 2)
        result["profile"] = (f"the measured window only; top {PROFILE_TOP} by cumulative time:\n{cumulative}\n\n"
                             f"top {PROFILE_TOP // 2} by own time:\n{_trim_profile(buf.getvalue())}")
    args.out.write_text(json.dumps(result, default=str))


def _trim_profile(text: str) -> str:
    """pstats output without the header noise, with long site-packages paths shortened."""
    import sysconfig

    stdlib = sysconfig.get_paths()["stdlib"] + "/"
    lines = text.replace(stdlib, "").splitlines()
    start = next((i for i, l in enumerate(lines) if l.strip().startswith("ncalls")), 0)
    out = []
    for line in lines[start:]:
        if "site-packages/" in line:
            line = line.split("site-packages/", 1)[0].rsplit(" ", 1)[0] + " " + line.split("site-packages/", 1)[1]
        out.append(line.replace(str(Path(__file__).resolve().parent.parent) + "/", "").rstrip())
    return "\n".join(l for l in out if l)


if __name__ == "__main__":
    main()
