"""`python -m benchmarks [--quick] [--runs N] [--only NAME]`: measure, then write results.md and results.json.

Exits 1 when a target is missed or a benchmark fails to run, naming each on stderr, so a claim in
the README can be checked with one command (`make bench`). `--quick` (tiny sizes, one run) is a
smoke test: only a benchmark that fails to run makes it exit 1.

Every measured run happens in a fresh process (see procs.py); servers run in their own
processes on the second core. A benchmark whose real piece is missing says "not available".
"""

from __future__ import annotations

import argparse
import importlib
import os
import shlex
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from benchmarks import report
from benchmarks.procs import compile_bytecode

# name -> module with `bench(ctx) -> BenchResult`, in run order
BENCHES = {
    "sse_decode": "benchmarks.sse_decode",
    "streaming": "benchmarks.streaming",
    "pace": "benchmarks.pace",
    "first_words_tmux": "benchmarks.first_words_tmux",
    "keys": "benchmarks.keys",
    "long_session": "benchmarks.long_session",
    "startup": "benchmarks.startup",
}


@dataclass
class Ctx:
    runs: int
    quick: bool
    profile: bool = True  # profile a case whose target was missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 1 run (a smoke test, not a measurement)")
    parser.add_argument("--runs", type=int, default=None, help="runs per case (default 3, or 1 with --quick)")
    parser.add_argument("--only", action="append", choices=sorted(BENCHES), metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHES)}")
    parser.add_argument("--no-profile", action="store_true", help="do not profile cases that miss a target")
    parser.add_argument("--out", type=Path, default=report.HERE, help="directory for results.md and results.json")
    args = parser.parse_args(argv)
    runs = args.runs or (1 if args.quick else 3)
    ctx = Ctx(runs=runs, quick=args.quick, profile=not args.no_profile and not args.quick)
    started = time.monotonic()
    load_before = _load()
    compile_bytecode()
    results: list[report.BenchResult] = []
    for name in args.only or list(BENCHES):
        t0 = time.monotonic()
        print(f"[bench] {name} ...", flush=True)
        try:
            result = importlib.import_module(BENCHES[name]).bench(ctx)
        except Exception as exc:  # one broken benchmark does not lose the others' figures
            result = report.BenchResult(name, name, status="error", reason=f"{type(exc).__name__}: {exc}")
            result.notes.append(traceback.format_exc().strip().splitlines()[-1])
        result.seconds = time.monotonic() - t0
        results.append(result)
        _print(result)
    meta = {
        "date": report.now(),
        "machine": report.machine(),
        "versions": report.versions(),
        "runs": runs,
        "quick": args.quick,
        "command": " ".join(["python -m benchmarks", *(shlex.quote(a) for a in (argv if argv is not None else sys.argv[1:]))]),
        "total_seconds": time.monotonic() - started,
        "load_average": {"before": load_before, "after": _load()},
    }
    md, js = report.write(results, meta, args.out)
    print(f"[bench] wrote {md} and {js} in {meta['total_seconds']:.0f} s")
    return exit_code(results, quick=args.quick)


def exit_code(results: list[report.BenchResult], *, quick: bool) -> int:
    """1, saying which, when a target was missed (not with --quick: tiny sizes prove nothing) or a benchmark broke."""
    failed = [r for r in results if r.status == "error"] if quick else results
    lines = report.shortfalls(failed)
    if not lines:
        return 0
    what = "benchmark(s) failed to run" if quick else "target(s) missed or benchmark(s) failed"
    print(f"[bench] FAILED: {len(lines)} {what}:", file=sys.stderr)
    for line in lines:
        print(f"[bench]   {line}", file=sys.stderr)
    return 1


def _load() -> float | None:
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


def _print(r: report.BenchResult) -> None:
    if r.status not in ("ok", "partial"):
        print(f"  {r.status}: {r.reason}")
    elif r.reason:
        print(f"  {r.reason}")
    for m in r.metrics:
        ratio = f"  ratio {m.ratio:.3f}" if m.ratio is not None else ""
        verdict = {True: " pass", False: " FAIL", None: ""}[m.passed]
        print(f"  {m.name}: ours {report._fmt(m.ours, m.unit)} floor {report._fmt(m.floor, m.unit)}{ratio} {m.target}{verdict}")
    print(f"  ({r.seconds:.1f} s)", flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
