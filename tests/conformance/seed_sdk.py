"""`make conformance`: the seed-era Mix SDK (mix-python-sdk 0.4.3, generated from openapi-seed.yaml)
drives every one of its operations against `mix-tui serve --protocol seed`, unchanged.

0.4.3 cannot share a venv with 0.8.1 (same package name), so this runs as a script in its own venv
(`.venv-conformance`, built by the Makefile), not under pytest. The server runs as a real child
process over loopback; every response and SSE event the SDK reads is validated against
openapi-seed.yaml (tests/conformance/validator.py). Prints one line per operation and a total;
exits 1 if anything failed.

    python -m tests.conformance.seed_sdk
"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from importlib.metadata import version
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
from mix_python_sdk import Mix, errors
from mix_python_sdk.utils import BackoffStrategy, RetryConfig

from tests.conformance.validator import Checker, Spec, ValidatingTransport

GROUPS = ("authentication", "system", "messages", "permissions", "preferences", "sessions", "files", "tools",
          "streaming")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
NO_RETRY = RetryConfig("backoff", BackoffStrategy(1, 1, 1.0, 1), False)
REPO = Path(__file__).resolve().parents[2]


def operations(sdk: Mix) -> list[str]:
    found = []
    for group in GROUPS:
        for name, _ in inspect.getmembers(type(getattr(sdk, group)), inspect.isfunction):
            if not name.startswith("_") and not name.endswith("_async") and name != "do_request":
                found.append(f"{group}.{name}")
    return sorted(found)


def start_server(data: Path) -> tuple[subprocess.Popen, str]:
    ready = data / "ready.json"
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["MIX_TUI_HOME"] = str(data / "home")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "serve", "--protocol", "seed", "--port", "0", "--ready-file", str(ready),
         "--data-dir", str(data / "server"), "--agent-delay", "0"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while not ready.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"the server did not start: {proc.stderr.read().decode() if proc.stderr else ''}")
        time.sleep(0.05)
    return proc, f"http://127.0.0.1:{json.loads(ready.read_text())['port']}"


class Run:
    def __init__(self, url: str, checker: Checker) -> None:
        self.sdk = Mix(server_url=url, retry_config=NO_RETRY,
                       client=httpx.Client(transport=ValidatingTransport(checker), timeout=30))
        self.results: dict[str, list[str]] = {}  # operation -> failures (empty: passed)

    def __call__(self, operation: str, **kwargs: Any) -> Any:
        group, name = operation.split(".")
        failures = self.results.setdefault(operation, [])
        try:
            return getattr(getattr(self.sdk, group), name)(**kwargs)
        except Exception as exc:  # noqa: BLE001 — recorded against the operation, the run goes on
            failures.append(f"{type(exc).__name__}: {exc}".splitlines()[0])
            return None

    def fails(self, operation: str, status: int, **kwargs: Any) -> None:
        """An operation meant to fail must raise the SDK's typed error with the spec's status."""
        group, name = operation.split(".")
        failures = self.results.setdefault(operation, [])
        try:
            getattr(getattr(self.sdk, group), name)(**kwargs)
            failures.append(f"expected {status}, the call succeeded")
        except errors.ErrorResponse as exc:
            if exc.status_code != status:
                failures.append(f"expected {status}, got {exc.status_code}")
        except Exception as exc:  # noqa: BLE001
            failures.append(f"expected ErrorResponse {status}, got {type(exc).__name__}: {exc}".splitlines()[0])

    def check(self, operation: str, ok: bool, what: str) -> None:
        if not ok:
            self.results.setdefault(operation, []).append(what)


def _events_until(events: Iterator[Any], names: tuple[str, ...], on: Callable[[Any], None] = lambda e: None) -> list[str]:
    seen = []
    for event in events:
        seen.append(event.event)
        on(event)
        if event.event in names:
            return seen
    return seen


def drive(run: Run, server_dir: Path) -> None:
    # system, tools
    run.check("system.get_health", getattr(run("system.get_health"), "status", None) == "ok", "status ok")
    commands = run("system.list_commands") or []
    run.check("system.list_commands", bool(commands), "commands listed")
    got = run("system.get_command", name="help")
    run.check("system.get_command", getattr(got, "name", "") == "help", "help command")
    run.fails("system.get_command", 404, name="no-such-command")
    run.check("system.list_mcp_servers", run("system.list_mcp_servers") == [], "no MCP servers")
    run.check("tools.get_tools_status", bool(getattr(run("tools.get_tools_status"), "categories", None)), "categories")

    # authentication
    key = "sk-ant-api03-" + "x" * 80
    run.check("authentication.store_api_key",
              getattr(run("authentication.store_api_key", provider="anthropic", api_key=key), "status", "") == "success",
              "key stored")
    status = run("authentication.get_auth_status")
    run.check("authentication.get_auth_status", bool(status and status.providers), "providers listed")
    run.check("authentication.validate_preferred_provider", run("authentication.validate_preferred_provider") is not None,
              "validated")
    run.check("authentication.delete_credentials",
              getattr(run("authentication.delete_credentials", provider="anthropic"), "status", "") == "success", "deleted")
    run.fails("authentication.start_o_auth_flow", 400, provider="anthropic")
    run.fails("authentication.handle_o_auth_callback", 400, provider="anthropic", code="c", state="s")

    # preferences
    run.check("preferences.get_preferences", run("preferences.get_preferences") is not None, "read")
    run.check("preferences.get_available_providers", bool(run("preferences.get_available_providers")), "providers")
    updated = run("preferences.update_preferences", main_agent_max_tokens=2048)
    run.check("preferences.update_preferences", getattr(updated, "main_agent_max_tokens", None) == 2048, "saved")
    run.check("preferences.reset_preferences", run("preferences.reset_preferences") is not None, "reset")

    # sessions
    session = run("sessions.create", title="seed SDK")
    if session is None:
        return
    sid = session.id
    run.check("sessions.list", any(s.id == sid for s in run("sessions.list") or []), "listed")
    run.check("sessions.get", getattr(run("sessions.get", id=sid), "title", "") == "seed SDK", "read")
    run.fails("sessions.get", 404, id=UNKNOWN)

    # files
    info = run("files.upload_session_file", id=sid, file={"file_name": "hello.txt", "content": b"hello world"})
    run.check("files.upload_session_file", getattr(info, "name", "") == "hello.txt", "uploaded")
    run.check("files.list_session_files", [f.name for f in run("files.list_session_files", id=sid) or []] == ["hello.txt"],
              "listed")
    got_file = run("files.get_session_file", id=sid, filename="hello.txt")
    run.check("files.get_session_file", getattr(got_file, "content", b"") == b"hello world", "content")
    run("files.delete_session_file", id=sid, filename="hello.txt")
    run.fails("files.delete_session_file", 404, id=sid, filename="hello.txt")

    # messages: the synchronous send answers with the turn's message
    reply = run("messages.send", id=sid, content="list files")
    run.check("messages.send", bool(getattr(reply, "assistant_response", "")), "an answer")
    run.fails("messages.send", 404, id=UNKNOWN, content="hi")

    # the stream: a turn sent through the streaming pipeline, granted; another denied
    stream = run("streaming.stream_events", session_id=sid)
    if stream is not None:
        with stream.result as events:
            events = iter(events)
            run.check("streaming.stream_events", next(events).event == "connected", "connected first")
            sent = run("streaming.send_streaming_message", id=sid, content='create notes.md with "hello"')
            run.check("streaming.send_streaming_message", getattr(sent, "status", "") == "broadcasted", "broadcasted")

            def grant(event: Any) -> None:
                if event.event == "permission":
                    answer = run("permissions.grant", id=event.data.id)
                    run.check("permissions.grant", getattr(answer, "granted", None) is True, "granted")

            seen = _events_until(events, ("complete", "error"), grant)
            run.check("streaming.stream_events", seen[-1:] == ["complete"] and "tool" in seen, f"a full turn: {seen}")
            run.check("permissions.grant", (server_dir / "storage" / sid / "notes.md").exists(), "the file was written")

            def deny(event: Any) -> None:
                if event.event == "permission":
                    answer = run("permissions.deny", id=event.data.id)
                    run.check("permissions.deny", getattr(answer, "denied", None) is True, "denied")

            sender = threading.Thread(target=run, args=("messages.send",), kwargs={"id": sid, "content": "run echo no"})
            sender.start()
            _events_until(events, ("complete", "error"), deny)
            sender.join(30)
    run.fails("permissions.grant", 404, id=UNKNOWN)
    run.fails("permissions.deny", 404, id=UNKNOWN)
    run.fails("streaming.stream_events", 404, session_id=UNKNOWN)

    messages = run("messages.list_session", id=sid) or []
    run.check("messages.list_session", len(messages) >= 4 and messages[0].role == "user", f"{len(messages)} messages")
    history = run("messages.get_history", limit=10) or []
    run.check("messages.get_history", any(m.user_input == "run echo no" for m in history), "newest first")
    forked = run("sessions.fork", id=sid, message_index=2, title="fork")
    run.check("sessions.fork", getattr(forked, "title", "") == "fork", "forked")
    run.fails("sessions.fork", 404, id=UNKNOWN, message_index=1)
    cancelled = run("sessions.cancel_processing", id=sid)
    run.check("sessions.cancel_processing", getattr(cancelled, "cancelled", None) is False, "nothing was running")
    run("sessions.delete", id=sid)
    run.fails("sessions.delete", 404, id=sid)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="mix-seed-conformance-") as tmp:
        proc, url = start_server(Path(tmp))
        checker = Checker(Spec("seed"))
        run = Run(url, checker)
        try:
            drive(run, Path(tmp) / "server")
        except Exception:  # noqa: BLE001 — report what broke the run itself
            traceback.print_exc()
            run.results.setdefault("(the run)", []).append("crashed")
        finally:
            proc.terminate()
            proc.wait(10)
    names = operations(run.sdk)
    passed = [n for n in names if n in run.results and not run.results[n]]
    for name in names:
        failures = run.results.get(name)
        mark = "not run" if failures is None else ("ok" if not failures else "FAIL: " + "; ".join(failures))
        print(f"  {name:45} {mark}")
    for problem in checker.problems:
        print(f"  spec: {problem}")
    print(f"mix-python-sdk {version('mix-python-sdk')} against `mix-tui serve --protocol seed`: "
          f"{len(passed)}/{len(names)} operations passed; {checker.responses} responses and "
          f"{sum(checker.events.values())} events validated, {len(checker.problems)} spec problems")
    return 0 if len(passed) == len(names) and not checker.problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
