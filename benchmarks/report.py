"""Machine, versions, medians, pass/fail, and the two result files (Markdown and JSON)."""

from __future__ import annotations

import json
import os
import platform
import statistics
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram_gb, "os": f"{platform.system()} {platform.release()}"}


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("textual", "textual-speedups", "rich", "httpx", "httpx-sse", "uvicorn", "starlette"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    if os.environ.get("TEXTUAL_SPEEDUPS", "1") != "1":  # Textual's own switch (textual/geometry.py)
        out["textual-speedups"] += " (disabled by TEXTUAL_SPEEDUPS)"
    try:
        from tui import __version__

        out["mix-tui"] = __version__
    except Exception:
        out["mix-tui"] = "unknown"
    return out


def median(values: list[float]) -> float | None:
    vals = [v for v in values if v is not None]
    return statistics.median(vals) if vals else None


@dataclass
class Metric:
    name: str
    unit: str
    ours: float | None
    floor: float | None = None
    target: str = ""  # e.g. "<= 0.3 (ratio)", "< 0.5 s"
    passed: bool | None = None  # None: no target, or not measurable
    runs_ours: list[float] = field(default_factory=list)
    runs_floor: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.ours is None or not self.floor or self.unit == "bool":
            return None
        return self.ours / self.floor


def metric(name: str, unit: str, ours_runs: list[float], floor_runs: list[float] | None = None, *, target: str = "",
           check: str | None = None, limit: float | None = None, note: str = "") -> Metric:
    """Medians of the runs. `check` is "<side> <op>" with side "ours" or "ratio", op one of <= < >= >,
    compared with `limit` (e.g. check="ratio <=", limit=0.3)."""
    m = Metric(name, unit, median(ours_runs), median(floor_runs or []), target, None, list(ours_runs), list(floor_runs or []), note)
    if check and limit is not None:
        side, op = check.split()
        value = m.ratio if side == "ratio" else m.ours
        if value is not None:
            m.passed = {"<=": value <= limit, "<": value < limit, ">=": value >= limit, ">": value > limit}[op]
    return m


@dataclass
class BenchResult:
    name: str
    title: str
    status: str = "ok"  # "ok" | "not available" | "error"
    reason: str = ""
    metrics: list[Metric] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    profiles: dict[str, str] = field(default_factory=dict)  # case label -> cProfile summary
    seconds: float = 0.0
    profile_cases: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)  # what to profile on a miss

    @property
    def missed(self) -> bool:
        return any(m.passed is False for m in self.metrics)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("profile_cases", None)
        for m, md in zip(self.metrics, d["metrics"]):
            md["ratio"] = m.ratio
        return d


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "s":
        return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"
    if unit == "ms":
        return f"{value:.1f} ms"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "ev/s":
        return f"{value:,.0f}/s"
    if unit in ("frames", "count"):
        return f"{value:.0f}"
    if unit == "bool":
        return "yes" if value else "no"
    if unit == "core":
        return f"{value * 100:.0f} %"
    return f"{value:.3g} {unit}".strip()


def _load(meta: dict[str, Any], when: str) -> str:
    value = meta.get("load_average", {}).get(when)
    return "?" if value is None else f"{value:.2f}"


def _verdict(m: Metric) -> str:
    return {True: "pass", False: "**FAIL**", None: ""}[m.passed]


def shortfalls(results: list[BenchResult]) -> list[str]:
    """One line per missed target and per benchmark that failed to run: what `make bench` fails on."""
    lines = []
    for r in results:
        if r.status == "error":
            lines.append(f"{r.title}: did not run ({r.reason})")
        for m in r.metrics:
            if m.passed is False:
                ratio = f", {m.ratio:.2f}x the floor" if m.ratio is not None else ""
                floor = f" against floor {_fmt(m.floor, m.unit)}" if m.floor is not None else ""
                lines.append(f"{r.title}: {m.name}: ours {_fmt(m.ours, m.unit)}{floor}{ratio}; target {m.target}")
    return lines


def write(results: list[BenchResult], meta: dict[str, Any], out_dir: Path = HERE) -> tuple[Path, Path]:
    data = {**meta, "benchmarks": {r.name: r.to_json() for r in results}}
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path = out_dir / "results.json"
    json_path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    md_path = out_dir / "results.md"
    md_path.write_text(markdown(results, meta))
    return md_path, json_path


def markdown(results: list[BenchResult], meta: dict[str, Any]) -> str:
    mach, ver = meta["machine"], meta["versions"]
    lines = [
        "# mix-tui benchmarks",
        "",
        f"- date: {meta['date']}",
        f"- machine: {mach['cpu']}, {mach['cores']} cores, {mach['ram_gb']} GB RAM, {mach['os']}",
        f"- versions: python {ver['python']}, textual {ver['textual']} (textual-speedups {ver.get('textual-speedups', 'not recorded')}), rich {ver['rich']}, httpx {ver['httpx']}, mix-tui {ver['mix-tui']}",
        f"- load average (1 min) before/after the run: {_load(meta, 'before')}/{_load(meta, 'after')} "
        "(other work on this 2-core machine adds noise to wall times; CPU times are steadier)",
        f"- command: `{meta['command']}`; each figure is the median of {meta['runs']} run(s) (start-up: at least 5), each run in a fresh process; total {meta['total_seconds']:.0f} s",
        "",
        "| benchmark | metric | ours | floor | ratio | target | result |",
        "| --- | --- | ---: | ---: | ---: | --- | --- |",
    ]
    for r in results:
        if r.status not in ("ok", "partial"):
            lines.append(f"| {r.title} | {r.status}: {r.reason.replace('|', '/')} | | | | | |")
            continue
        for m in r.metrics:
            ratio = f"{m.ratio:.2f}×" if m.ratio is not None else "–"
            ours = "not available" if m.ours is None and r.status == "partial" else _fmt(m.ours, m.unit)
            lines.append(f"| {r.title} | {m.name} | {ours} | {_fmt(m.floor, m.unit)} | {ratio} | {m.target} | {_verdict(m)} |")
    lines.append("")
    for r in results:
        lines += [f"## {r.title}", ""]
        if r.status != "ok":
            lines += [f"**{r.status}**: {r.reason}", ""]
        for note in r.notes:
            lines.append(f"- {note}")
        for m in r.metrics:
            if m.note:
                lines.append(f"- {m.name}: {m.note}")
            if len(m.runs_ours) > 1 or m.runs_floor:
                runs = ", ".join(_fmt(v, m.unit) for v in m.runs_ours) or "not available"
                floor = f"; floor runs: {', '.join(_fmt(v, m.unit) for v in m.runs_floor)}" if m.runs_floor else ""
                lines.append(f"- {m.name} runs: {runs}{floor}")
        lines.append(f"- wall time of this benchmark: {r.seconds:.1f} s")
        lines.append("")
        for label, text in r.profiles.items():
            lines += [f"### Profile: {label} (cProfile, top functions by cumulative time)", "", "```", text, "```", ""]
    lines += [METHOD]
    return "\n".join(lines)


METHOD = """## Method

- Every measured run is a fresh interpreter (`benchmarks/child.py`); servers run in their own processes, so
  the client's CPU time and peak RSS (`ru_maxrss` of that process) are the client's alone. Figures are medians.
- The embedded server (`tui/server`, uvicorn, SQLite) serves every streaming case with the ScriptedAgent,
  which streams exactly the corpus chunks (`benchmarks/corpus.py`: a deterministic 13 kB Markdown answer
  cut into 2,800 token-sized pieces).
- Frames: `App._display(screen, update)` is wrapped. Each screen refresh ends in one call carrying the
  compositor's update for that frame, so one call is one frame painted. Headless mode skips encoding the
  update to terminal bytes; the hook does it anyway (`render_segments`), so a frame costs what it costs in a
  terminal. "Painted" means: the first frame whose update contains the text on one screen line
  (first answer text, the answer's last line, a message, the typed characters in the composer's rows).
- Floor: one Textual `Markdown` in an anchored `VerticalScroll`, fed with `Markdown.get_stream()` one
  `write` per delta, from the same server over the same client layer (`MixClient.stream`).
- Start-up: the real `python -m tui --data-dir <fresh dir>` in a 120x40 pseudo-terminal; the clock runs from
  just before the spawn to the first terminal output that contains the chat screen (the composer is
  mounted and focused in that frame). Sources are compiled to bytecode first, as an install does.
- Keys: a thread stands in for the terminal's input thread and hands keys to the driver
  (`Driver.send_message`, thread-safe) every ~25 ms, so a key's latency includes time the event loop
  made it wait. Only keys pressed between Enter and the frame that paints the answer's last line count
  (the stream itself is read in well under 0.1 s; drawing it is what keeps the UI busy); each turn runs in
  a fresh session, so the previous answer's last line is never on screen.
- Profiles cover only the measured window of one extra run of the case that missed its target.
"""


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
