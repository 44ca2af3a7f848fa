"""Running each measurement in a fresh process, and the helper processes (servers) it needs.

A case is `module:function`; the child (`python -m benchmarks.child`) calls it with the params,
adds its own peak RSS (ru_maxrss: the whole life of a fresh process, so runs do not share one
heap) and writes one JSON object to the output file. Nothing of one run survives into the next.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parent.parent


def python() -> str:
    return sys.executable


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("TERM", "xterm-256color")
    env.pop("TEXTUAL", None)  # no devtools
    # Users' installs have bytecode cached (pip compiles at install, Python caches after the first
    # import); this sandbox sets PYTHONDONTWRITEBYTECODE, which would make every run recompile tui/.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def compile_bytecode() -> None:
    """What installing does: compile the sources once, so no measured run pays for it."""
    import compileall

    for folder in ("tui", "benchmarks"):
        compileall.compile_dir(str(ROOT / folder), quiet=1)


def run_child(case: str, params: dict[str, Any], *, timeout: float = 180.0, profile: bool = False) -> dict[str, Any]:
    """Run `case` (module:function) in a fresh interpreter; its result dict, or {"error": ...}."""
    with tempfile.TemporaryDirectory(prefix="mixbench-") as tmp:
        out = Path(tmp) / "result.json"
        params = {**params, "tmp": tmp}
        cmd = [python(), "-m", "benchmarks.child", case, "--params", json.dumps(params), "--out", str(out)]
        if profile:
            cmd.append("--profile")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            _stdout, stderr = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return {"error": f"timed out after {timeout:.0f} s"}
        if out.exists():
            return json.loads(out.read_text())
        tail = stderr.decode(errors="replace").strip().splitlines()[-8:]
        return {"error": f"exit {proc.returncode}: " + " | ".join(tail)}


@contextmanager
def helper_process(args: list[str], *, ready_timeout: float = 30.0) -> Iterator[dict[str, Any]]:
    """Start `python -m <args> --ready-file F`, wait until F holds its JSON, stop it afterwards.
    "{tmp}" in an argument becomes a temporary directory removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="mixbench-srv-") as tmp:
        ready = Path(tmp) / "ready.json"
        log = open(Path(tmp) / "log.txt", "wb")
        args = [a.replace("{tmp}", tmp) for a in args]
        proc = subprocess.Popen([python(), "-m", *args, "--ready-file", str(ready)], cwd=ROOT, env=child_env(),
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            deadline = time.monotonic() + ready_timeout
            while not ready.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    text = (Path(tmp) / "log.txt").read_text(errors="replace").strip().splitlines()[-8:]
                    raise RuntimeError(f"helper {args[0]} did not start: " + " | ".join(text))
                time.sleep(0.02)
            info = json.loads(ready.read_text())
            info["tmp"] = tmp
            yield info
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
            log.close()
