"""Smoke tests of the benchmark harness with tiny sizes: the pieces work, so `make bench` does not rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from benchmarks import availability, report
from benchmarks.corpus import FIRST_WORD, LAST_LINE, answer_and_chunks, build_answer, describe, token_chunks
from benchmarks.frames import FrameRecorder, screen_lines
from benchmarks.loopback_sse import build_body
from benchmarks.procs import ROOT, helper_process, run_child


def test_corpus_is_deterministic_and_has_every_block():
    text, chunks = answer_and_chunks()
    assert (text, chunks) == answer_and_chunks()
    assert "".join(chunks) == text
    assert 12_000 <= len(text) <= 14_000
    assert 2_700 <= len(chunks) <= 2_900
    d = describe(text)
    assert d["code_fences"] >= 3 and d["table_rows"] >= 3 and d["headings"] >= 2 and d["list_items"] >= 3
    assert chunks[0] == FIRST_WORD
    assert text.rstrip().endswith(LAST_LINE)


def test_small_answers_keep_the_needles_and_token_sizes():
    text, chunks = answer_and_chunks(1_500)
    assert len(text) < 2_500 and text.startswith(FIRST_WORD) and text.rstrip().endswith(LAST_LINE)
    assert "".join(chunks) == text
    assert max(len(c) for c in token_chunks(build_answer(1_500))) <= 8  # a token is at most a short word with its space


async def test_frame_recorder_counts_frames_and_finds_painted_text():
    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("before", id="s")

    app = One()
    async with app.run_test(size=(40, 5)) as pilot:
        rec = FrameRecorder(app).install()
        watch = rec.watch("after the change")
        app.query_one("#s", Static).update("after the change")
        assert await watch.wait(5) is not None
        assert rec.frames and rec.bytes_out > 0
        assert watch.found_at in rec.frames
        await pilot.pause()
        assert any("after the change" in line for line in screen_lines(app))
        missing = rec.watch("never shown")
        assert await missing.wait(0.1) is None


def test_sse_decode_floor_reads_every_event_over_loopback():
    body = build_body(50)
    assert body.count(b"event: content") == 50
    with helper_process(["benchmarks.loopback_sse", "--events", "500"]) as srv:
        result = run_child("benchmarks.sse_decode:floor", {"url": srv["url"], "session_id": srv["session_id"]}, timeout=60)
    assert "error" not in result, result
    assert result["events"] == 502  # connected + 500 deltas + complete
    assert result["events_per_s"] > 0 and result["peak_rss_mb"] > 10


def test_child_reports_errors_instead_of_numbers():
    result = run_child("benchmarks.no_such_module:run", {}, timeout=30)
    assert "error" in result and "no_such_module" in result["error"]


def test_metric_medians_ratio_and_verdicts():
    m = report.metric("t", "s", [3.0, 1.0, 2.0], [10.0, 20.0, 30.0], check="ratio <=", limit=0.3)
    assert m.ours == 2.0 and m.floor == 20.0 and m.ratio == pytest.approx(0.1) and m.passed is True
    assert report.metric("x", "ms", [60.0], check="ours <", limit=50).passed is False
    assert report.metric("x", "ms", []).passed is None


def test_report_files_have_date_machine_versions(tmp_path):
    r = report.BenchResult("demo", "Demo", metrics=[report.metric("speed", "ev/s", [100.0], [50.0], target=">= 1", check="ours >=", limit=1)])
    gone = report.BenchResult("gone", "Gone", status="not available", reason="tui.api.mix cannot be imported")
    meta = {"date": report.now(), "machine": report.machine(), "versions": report.versions(), "runs": 1, "quick": True,
            "command": "python -m benchmarks --quick", "total_seconds": 1.0}
    md, js = report.write([r, gone], meta, tmp_path)
    data = json.loads(js.read_text())
    assert data["machine"]["cores"] >= 1 and data["versions"]["textual"] and data["date"]
    assert data["benchmarks"]["demo"]["metrics"][0]["ratio"] == 2.0
    text = md.read_text()
    assert "| Demo | speed | 100/s | 50/s | 2.00× | >= 1 | pass |" in text
    assert "not available: tui.api.mix cannot be imported" in text


def test_missed_target_or_broken_benchmark_makes_the_run_fail_and_says_which(capsys):
    from benchmarks.__main__ import exit_code

    met = report.BenchResult("fast", "Fast", metrics=[report.metric("speed", "s", [0.1], target="<= 0.2 s", check="ours <=", limit=0.2)])
    missed = report.BenchResult("slow", "Slow", metrics=[report.metric("start-up", "s", [0.5], [0.4], target="<= floor",
                                                                        check="ratio <=", limit=1.0)])
    broken = report.BenchResult("keys", "Keys", status="error", reason="RuntimeError: no frame")
    assert exit_code([met], quick=False) == 0 and capsys.readouterr().err == ""
    assert exit_code([met, missed, broken], quick=False) == 1
    err = capsys.readouterr().err
    assert "Slow: start-up: ours 500 ms against floor 400 ms, 1.25x the floor; target <= floor" in err
    assert "Keys: did not run (RuntimeError: no frame)" in err and "Fast" not in err
    assert exit_code([met, missed], quick=True) == 0  # --quick is a smoke test: sizes too small for targets
    assert exit_code([missed, broken], quick=True) == 1 and "Slow" not in capsys.readouterr().err


def test_cli_quick_run_writes_both_files(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--only", "sse_decode", "--out", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    data = json.loads((tmp_path / "results.json").read_text())
    decode = data["benchmarks"]["sse_decode"]
    assert decode["status"] in ("ok", "partial"), decode
    assert decode["metrics"][0]["floor"] > 0
    if availability.mix_client() is None:
        assert decode["metrics"][0]["ours"] > 0
    assert (tmp_path / "results.md").read_text().startswith("# mix-tui benchmarks")


def test_startup_measures_the_real_command_in_a_pty():
    """The real `python -m tui`: its composer, then its embedded server (spawned by the command line) connected."""
    result = run_child("benchmarks.startup:run", {"timeout": 20}, timeout=40)
    assert "error" not in result, result
    assert 0 < result["ready_s"] < 20
    assert result["connected_s"] is not None and result["ready_s"] <= result["connected_s"] < 20, result
    assert result["ready_cpu_s"] is None or 0 < result["ready_cpu_s"] < 20


def test_app_benchmarks_run_or_say_what_is_missing(tmp_path):
    from benchmarks import streaming

    ctx = SimpleNamespace(runs=1, quick=True, profile=False)
    result = streaming.bench(ctx)
    missing = availability.missing("server")
    if missing:
        assert result.status == "not available" and result.reason == missing
        return
    assert result.status in ("ok", "partial"), (result.reason, result.notes)
    wall = result.metrics[0]
    assert wall.floor is not None and wall.floor > 0


def test_long_session_and_keys_run_or_say_what_is_missing():
    from benchmarks import keys, long_session

    ctx = SimpleNamespace(runs=1, quick=True, profile=False)
    missing = availability.missing("server", "backend", "app")
    for module in (long_session, keys):
        result = module.bench(ctx)
        if missing:
            assert result.status == "not available" and result.reason == missing
            continue
        assert result.status == "ok", (module.__name__, result.reason, result.notes)
        if module is long_session:
            opened = result.metrics[0]  # the smaller session's open, beside its floor
            assert opened.ours > 0 and opened.floor is not None and opened.floor > 0, opened
            assert "written with tui.server.store.Store" in result.notes[0]
        else:  # a quick stream may end before a key lands in it, so only the harness's own count is certain
            assert "keys pressed while streaming" in result.notes[-1] and "never seen painted: 0" in result.notes[-1]
            idle_p50 = result.metrics[2]  # the floor (TextArea beside a streamed Markdown) typed too
            assert idle_p50.ours > 0 and idle_p50.floor is not None and idle_p50.floor > 0, idle_p50


def test_first_words_in_tmux_runs_or_says_what_is_missing():
    """Both real programs in a real tmux: the app opens its session from the session list, the floor its own."""
    import shutil

    from benchmarks import first_words_tmux

    result = first_words_tmux.bench(SimpleNamespace(runs=1, quick=True, profile=False))
    missing = availability.missing("server", "client", "backend", "app")
    if shutil.which("tmux") is None or missing:
        assert result.status == "not available" and result.reason, result
        return
    assert result.status == "ok", (result.reason, result.notes)
    first, posted, last = (next(m for m in result.metrics if what in m.name) for what in ("first words", "POST", "last line"))
    assert first.target == "<= floor" and 0 < first.ours < 10 and 0 < first.floor < 10, first
    assert posted.ours < first.ours and posted.floor < first.floor, (posted, first)  # the request, then the answer
    assert first.ours <= last.ours and first.floor <= last.floor, (first, last)
