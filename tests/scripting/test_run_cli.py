"""`mix-tui run` end to end: a real `python -m tui run` process on the embedded server it starts, or on
a real Mix server given with --server (the test server in a thread, with the runner-test agents)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.fixtures.mix_server import running_server
from tests.server.agents import BrokenAgent, EchoAgent, SlowAgent, WriterAgent
from tui.api.turn import tool_kind
from tui.config import Config

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A fresh mix-tui home whose offline agent streams without delay."""
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "config.toml").write_text("[embedded]\nagent_delay = 0\n")
    return tmp_path / "home"


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIX_TUI_")}
    env["MIX_TUI_HOME"] = str(home)
    return env


def run(home: Path, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tui", "run", *args], capture_output=True, text=True, input=stdin,
                          env=_env(home), cwd=REPO, timeout=timeout)


def json_lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def session_of(events: list[dict]) -> str:
    return next(e["session_id"] for e in events if e["type"] == "connected")


def session_file(home: Path, session_id: str, name: str) -> Path:
    return home / "server" / "storage" / session_id / name


def test_answer_is_plain_text_on_stdout_and_exit_0(home):
    result = run(home, "what can you do")
    assert result.returncode == 0, result.stderr
    assert "I'm the **offline agent**" in result.stdout  # the Markdown as written, not rendered
    assert "| a new file | `create notes.md with \"hello\"` | yes |" in result.stdout
    assert result.stdout.endswith("\n")
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr  # no terminal escapes into a pipe
    assert result.stderr == ""  # progress only when stderr is a terminal


def test_json_is_one_event_per_line_ending_with_the_completion(home):
    result = run(home, "--json", "list files")
    assert result.returncode == 0, result.stderr
    events = json_lines(result.stdout)
    types = [e["type"] for e in events]
    assert types[-1] == "complete"
    assert {"connected", "thinking_delta", "content_delta", "tool_execution_start", "tool_execution_complete"} <= set(types)
    ls = next(e for e in events if e["type"] == "tool_execution_complete")
    assert tool_kind(ls["tool_name"]) == "ls" and ls["success"] is True  # mix_ls under the latest spec
    # the deltas after the tool call add up to what `complete` carries
    after_tool = types.index("tool_execution_complete")
    streamed = "".join(e["content"] for e in events[after_tool:] if e["type"] == "content_delta")
    assert streamed == events[-1]["content"] and streamed


def test_prompt_from_standard_input(home):
    result = run(home, "-", stdin="what can you do\n")
    assert result.returncode == 0, result.stderr
    assert "offline agent" in result.stdout


def test_write_refused_without_permission_done_with_it_and_continue_sees_the_session(home):
    refused = run(home, "--json", 'create notes.md with "hello"')
    assert refused.returncode == 3, refused.stderr
    assert "refused write notes.md" in refused.stderr and "--allow-all" in refused.stderr
    events = json_lines(refused.stdout)
    session = session_of(events)
    answer = next(e for e in events if e["type"] == "permission_answer")
    assert answer["tool_name"] == "write" and answer["granted"] is False
    assert events[-1]["type"] == "complete"
    assert not session_file(home, session, "notes.md").exists()

    allowed = run(home, "--continue", "--allow-all", "--json", 'create notes.md with "hello"')
    assert allowed.returncode == 0, allowed.stderr
    assert session_of(json_lines(allowed.stdout)) == session
    assert session_file(home, session, "notes.md").read_text() == "hello\n"

    read = run(home, "--continue", "read notes.md")
    assert read.returncode == 0, read.stderr
    assert "```markdown\nhello\n```" in read.stdout


def test_allow_names_one_tool(home):
    only_bash = run(home, "--allow", "bash", 'create a.md with "x"')
    assert only_bash.returncode == 3
    write = run(home, "--allow", "Write", "--json", 'create a.md with "x"')
    assert write.returncode == 0, write.stderr
    assert session_file(home, session_of(json_lines(write.stdout)), "a.md").read_text() == "x\n"


def test_plan_mode_only_reads(home):
    result = run(home, "--plan", "--json", 'create notes.md with "hello"')
    assert result.returncode == 0, result.stderr
    events = json_lines(result.stdout)
    assert not any(e["type"] == "permission_request" for e in events)
    assert not session_file(home, session_of(events), "notes.md").exists()


def test_session_and_model_choices(home):
    first = run(home, "--json", "--model", "offline/offline-1", "what can you do")
    assert first.returncode == 0, first.stderr
    session = session_of(json_lines(first.stdout))
    again = run(home, "--json", "--session", session, "list files")
    assert again.returncode == 0 and session_of(json_lines(again.stdout)) == session


@pytest.mark.parametrize("args, code, fragment", [
    (["   "], 2, "the prompt is empty"),
    (["--model", "claude", "hi"], 2, "is not PROVIDER/MODEL"),
    (["--model", "anthropic/claude-4-sonnet", "hi"], 2, "Anthropic is not configured"),
    (["--session", "no-such-session", "hi"], 2, "there is no session no-such-session"),
    (["--continue", "--session", "x", "hi"], 2, "not allowed with argument"),
    (["--server", "http://127.0.0.1:9", "hi"], 1, "127.0.0.1:9"),
])
def test_usage_and_connection_errors_are_one_clear_line(home, args, code, fragment):
    result = run(home, *args)
    assert result.returncode == code, result.stderr
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


@pytest.mark.parametrize("send_mode", ["sync", "async"])  # 200 after the turn, or 202 and the turn on the stream
def test_any_mix_server_with_either_send_shape(tmp_path, home, send_mode):
    with running_server(tmp_path / "srv", agent_factory=EchoAgent, send_mode=send_mode) as server:
        result = run(home, "--server", server.url, "hello there")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "You said: hello there\n"


def test_a_failed_turn_exits_1(tmp_path, home):
    with running_server(tmp_path / "srv", agent_factory=BrokenAgent) as server:
        result = run(home, "--server", server.url, "go")
    assert result.returncode == 1
    assert "the turn failed" in result.stderr and "tool exploded" in result.stderr
    assert result.stdout.startswith("partial")


def test_allow_all_on_a_remote_server_grants_the_prompt(tmp_path, home):
    with running_server(tmp_path / "srv", agent_factory=WriterAgent) as server:
        session = server.create_session("remote")["id"]
        result = run(home, "--server", server.url, "--session", session, "--allow-all", "the text")
        assert result.returncode == 0, result.stderr
        assert result.stdout == "Wrote note.txt.\n"
        assert (server.app.state.runner.session_dir(session) / "note.txt").read_text() == "the text"


def test_ctrl_c_cancels_the_turn_on_the_server_and_exits_130(tmp_path, home):
    with running_server(tmp_path / "srv", agent_factory=SlowAgent) as server:
        session = server.create_session("slow")["id"]
        proc = subprocess.Popen([sys.executable, "-m", "tui", "run", "--server", server.url, "--session", session,
                                 "wait for it"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=_env(home), cwd=REPO)
        try:
            assert proc.stdout is not None
            assert proc.stdout.read(len("Working")) == "Working"  # the turn is running
            runner = server.app.state.runner
            assert runner.is_running(session)
            started = time.monotonic()
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 130, err
        assert time.monotonic() - started < 10  # the agent would have slept 30 s
        assert "interrupted" in err and "Traceback" not in err
        assert not runner.is_running(session)  # cancelled on the server, not just abandoned
        with httpx.Client(base_url=server.url) as client:
            stored = client.get(f"/api/sessions/{session}/messages").json()
        assert any(m.get("role") == "assistant" and "Working" in json.dumps(m) for m in stored)


def test_a_reader_that_leaves_cancels_the_turn_quietly(tmp_path):
    home = tmp_path / "slow-home"
    home.mkdir()
    (home / "config.toml").write_text("[embedded]\nagent_delay = 0.05\n")  # a long answer takes seconds
    proc = subprocess.Popen([sys.executable, "-m", "tui", "run", "what can you do"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=_env(home), cwd=REPO)
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert proc.stdout.read(10) == b"I'm the **"  # `| head -c 10`
        proc.stdout.close()
        started = time.monotonic()
        proc.wait(timeout=20)
        err = proc.stderr.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 141, err
    assert time.monotonic() - started < 10 and "Traceback" not in err and err == ""


def test_continue_on_another_server_takes_its_newest_session_and_leaves_the_apps_alone(tmp_path, home):
    from tui.store import ClientStore

    own = run(home, "--json", "what can you do")  # the app's (embedded) server: remembered
    own_session = session_of(json_lines(own.stdout))
    with running_server(tmp_path / "srv", agent_factory=EchoAgent) as server:
        first = run(home, "--server", server.url, "--json", "one")
        again = run(home, "--server", server.url, "--continue", "--json", "two")
        remote = session_of(json_lines(first.stdout))
        assert session_of(json_lines(again.stdout)) == remote != own_session
        with httpx.Client(base_url=server.url) as client:
            texts = [m.get("content") or m.get("userInput") for m in client.get(f"/api/sessions/{remote}/messages").json()]
        assert "one" in json.dumps(texts) and "two" in json.dumps(texts)
    store = ClientStore(home / "client.db")
    try:
        assert store.setting("mix:last_session") == own_session
    finally:
        store.close()


def test_progress_lines_go_to_stderr_when_it_is_a_terminal(home):
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "tui", "run", "--allow-all", 'create p.md with "x"'],
                            stdout=subprocess.PIPE, stderr=slave, env=_env(home), cwd=REPO)
    os.close(slave)
    out, _ = proc.communicate(timeout=60)
    err = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the terminal's other side is closed and everything was read
            break
        if not chunk:
            break
        err += chunk
    os.close(master)
    assert proc.returncode == 0
    lines = err.decode().replace("\r\n", "\n").splitlines()
    assert lines == ["· thinking…", "✓ write p.md"]
    assert "Created `p.md`." in out.decode() and "✓" not in out.decode()  # stdout is the answer alone


def test_model_for_the_run_only_then_the_preferences_come_back(tmp_path, home):
    from tests.fakes import openai_server as fo

    with fo.running_fake_openai(api_key="", models=["qwen3:8b"], style="ollama") as fake:
        with running_server(tmp_path / "srv", config=Config(ollama_base_url=fake.root_url)) as server:
            with httpx.Client(base_url=server.url) as client:
                assert client.post("/api/preferences", json={"main_agent_reasoning_effort": "high"}).status_code == 200
            fake.script(fo.Reply.say("Hello from qwen."))
            result = run(home, "--server", server.url, "--model", "ollama/qwen3:8b", "hi")
            assert result.returncode == 0, result.stderr
            assert result.stdout == "Hello from qwen.\n"
            assert "reasoning_effort" not in fake.requests[-1].body  # the switch turned the effort off for the run
            with httpx.Client(base_url=server.url) as client:
                prefs = client.get("/api/preferences").json()["preferences"]
    assert (prefs["preferred_provider"], prefs["main_agent_model"], prefs["main_agent_reasoning_effort"]) == (
        "offline", "offline-1", "high")
