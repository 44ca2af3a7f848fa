"""The official Mix Python SDK (mix-python-sdk 0.8.1, generated from openapi-latest.yaml) drives every
one of its operations against the embedded server over loopback, unchanged. Every response and every
SSE event it reads is validated against openapi-latest.yaml (tests/conformance/validator.py).

An operation meant to fail (an unknown id) must raise the SDK's typed error. `operations()` lists the
SDK's operations from its own classes, and the test fails if any of them was not exercised, so a new
SDK operation cannot go untested.
"""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from mix_python_sdk import Mix, errors, helpers
from mix_python_sdk.utils import BackoffStrategy, RetryConfig

from tests.conformance.validator import AsyncValidatingTransport, Checker, Spec, ValidatingTransport
from tests.fixtures.mix_server import RunningServer, running_server

GROUPS = ("authentication", "system", "messages", "notifications", "permissions", "preferences", "sessions",
          "files", "tools", "health", "internal", "streaming")
UNKNOWN = "00000000-0000-4000-8000-000000000000"
# No retries: a 5xx must fail the test at once, not back off for ten minutes as the SDK's default does.
NO_RETRY = RetryConfig("backoff", BackoffStrategy(1, 1, 1.0, 1), False)


def operations() -> set[str]:
    """`group.method` for every synchronous operation of the SDK (the async twins hit the same routes)."""
    sdk = Mix(server_url="http://127.0.0.1:1")
    found = set()
    for group in GROUPS:
        target = getattr(sdk, group)
        for name, member in inspect.getmembers(type(target), inspect.isfunction):
            if not name.startswith("_") and not name.endswith("_async") and name not in ("do_request",):
                found.add(f"{group}.{name}")
    return found


class Recorder:
    """The SDK with validating transports, remembering which operations were called."""

    def __init__(self, server: RunningServer, checker: Checker) -> None:
        self.checker = checker
        self.sdk = Mix(server_url=server.url, retry_config=NO_RETRY,
                       client=httpx.Client(transport=ValidatingTransport(checker), timeout=20),
                       async_client=httpx.AsyncClient(transport=AsyncValidatingTransport(checker), timeout=20))
        self.called: set[str] = set()

    def __call__(self, operation: str, **kwargs: Any) -> Any:
        group, name = operation.split(".")
        self.called.add(operation)
        return getattr(getattr(self.sdk, group), name)(**kwargs)

    def fails(self, operation: str, status: int, **kwargs: Any) -> errors.ErrorResponse:
        with pytest.raises(errors.ErrorResponse) as info:
            self(operation, **kwargs)
        assert info.value.status_code == status, info.value
        assert info.value.data.error.type in ("not_found", "validation_error", "bad_request")
        return info.value


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    with running_server(tmp_path / "srv", protocol="latest", permission_timeout=20) as srv:
        yield srv


@pytest.fixture
def mix(server: RunningServer) -> Iterator[Recorder]:
    recorder = Recorder(server, Checker(Spec("latest")))
    yield recorder
    recorder.sdk.sdk_configuration.client.close()


def _until(events: Iterator[Any], name: str, seen: list[str]) -> Any:
    for event in events:
        seen.append(event.event)
        if event.event == name:
            return event
    raise AssertionError(f"the stream ended before {name!r}; saw {seen}")


def test_every_sdk_operation_works_against_the_embedded_server(mix: Recorder, server: RunningServer) -> None:
    # ---- system, health, tools
    assert mix("system.get_health").status == "ok"
    assert mix("system.get_system_info").storage_base_path == str(server.settings.storage_dir.resolve())
    commands = mix("system.list_commands")
    assert commands and mix("system.get_command", name=commands[0].name).name == commands[0].name
    mix.fails("system.get_command", 404, name="no-such-command")
    assert mix("system.list_mcp_servers") == []
    assert any(t.name == "Bash" for t in mix("tools.list_llm_tools").tools)
    assert "llm" in mix("tools.get_tool_credentials_status").categories
    assert mix("tools.get_tools_status").categories
    for operation in ("health.get_o_auth_health", "authentication.get_o_auth_health"):
        assert mix(operation).status == "healthy"
    for operation in ("internal.refresh_o_auth_tokens", "authentication.refresh_o_auth_tokens"):
        assert mix(operation).status == "success"

    # ---- authentication (API keys only; OAuth answers with the spec's error types)
    key = "sk-ant-api03-" + "x" * 80
    assert mix("authentication.store_api_key", provider="anthropic", api_key=key).status == "success"
    assert mix("authentication.get_auth_status").providers["anthropic"].authenticated is True
    assert mix("authentication.validate_preferred_provider").valid is not None
    assert mix("authentication.delete_credentials", provider="anthropic").status == "success"
    mix.fails("authentication.start_o_auth_flow", 400, provider="anthropic")
    mix.fails("authentication.handle_o_auth_callback", 400, provider="anthropic", code="c", state="s")

    # ---- preferences
    prefs = mix("preferences.get_preferences")
    assert prefs.available_providers
    assert mix("preferences.get_available_providers")
    assert mix("preferences.update_preferences", main_agent_max_tokens=2048).main_agent_max_tokens == 2048
    assert mix("preferences.reset_preferences").main_agent_max_tokens != 2048

    # ---- sessions
    session = mix("sessions.create", title="SDK", browser_mode="local-browser-service")
    assert session.session_type == "main" and session.browser_mode == "local-browser-service"
    sid = session.id
    assert any(s.id == sid for s in mix("sessions.list"))
    assert mix("sessions.get", id=sid).title == "SDK"
    mix.fails("sessions.get", 404, id=UNKNOWN)
    with server.client() as raw:  # the spec requires browserMode (the SDK cannot even send without it)
        refused = raw.post("/api/sessions", json={"title": "no mode"})
        assert refused.status_code == 400 and refused.json()["error"]["type"] == "validation_error"
    updated = mix("sessions.update_session_callbacks", id=sid, callbacks=[
        {"type": "bash_script", "toolName": "*", "bashCommand": 'echo "$CALLBACK_TOOL_NAME" >> callback.log'}])
    assert updated.callbacks and updated.callbacks[0].type == "bash_script"
    mix.fails("sessions.update_session_callbacks", 404, id=UNKNOWN, callbacks=[])

    # ---- files
    info = mix("files.upload_session_file", id=sid, file={"file_name": "hello.txt", "content": b"hello world"})
    assert info.name == "hello.txt" and info.url.endswith(f"/api/sessions/{sid}/files/hello.txt")
    assert [f.name for f in mix("files.list_session_files", id=sid)] == ["hello.txt"]
    assert mix("files.get_session_file", id=sid, filename="hello.txt").content == b"hello world"
    mix("files.delete_session_file", id=sid, filename="hello.txt")
    mix.fails("files.delete_session_file", 404, id=sid, filename="hello.txt")

    # ---- a streamed turn through a permission grant and a notification answer
    seen: list[str] = []
    stream = mix("streaming.stream_events", session_id=sid)
    with stream.result as events:
        events = iter(events)
        assert next(events).event == "connected"
        accepted = mix("messages.send", id=sid, text='create notes.md with "hello"')
        assert accepted.status == "processing" and accepted.session_id == sid
        permission = _until(events, "permission", seen)
        assert permission.data.tool_name == "Write"
        assert mix("permissions.grant", id=permission.data.id).granted is True
        complete = _until(events, "complete", seen)
        assert "notes.md" in (complete.data.content or "")
        for name in ("user_message_created", "tool_use_start", "tool_use_parameter_streaming_complete",
                     "tool_execution_start", "tool_execution_complete"):
            assert name in seen, (name, seen)

        mix("messages.send", id=sid, text="ask me to choose between red, green or blue")
        question = _until(events, "notification", seen)
        assert question.data.response_type == "choice" and question.data.choices == ["red", "green", "blue"]
        mix("notifications.respond_to_notification", id=question.data.id, type_="choice", value="green")
        assert "green" in (_until(events, "complete", seen).data.content or "")
        mix.fails("notifications.respond_to_notification", 404, id=question.data.id, type_="choice", value="red")

        mix("messages.send", id=sid, text="run echo denied")
        permission = _until(events, "permission", seen)
        assert mix("permissions.deny", id=permission.data.id).denied is True
        _until(events, "complete", seen)
    mix.fails("permissions.grant", 404, id=UNKNOWN)
    mix.fails("permissions.deny", 404, id=UNKNOWN)
    mix.fails("messages.send", 404, id=UNKNOWN, text="hi")

    # ---- messages, history, export, rewind, cancel
    messages = mix("messages.list_session", id=sid)
    assert [m.role for m in messages][:2] == ["user", "assistant"]
    assert any(m.user_input == "run echo denied" for m in mix("messages.get_history", limit=10))
    exported = mix("sessions.export_session", id=sid)
    assert exported.result.id == sid and len(exported.result.messages) == len(messages)
    assert "attachment" in exported.headers["content-disposition"][0]
    rewound = mix("sessions.rewind_session", id=sid, message_id=messages[1].id)
    assert rewound.user_message_count == 1 and len(mix("messages.list_session", id=sid)) == 2
    mix.fails("sessions.rewind_session", 404, id=sid, message_id=UNKNOWN)
    assert mix("sessions.cancel_processing", id=sid).cancelled is False  # nothing was running
    mix.fails("sessions.cancel_processing", 404, id=UNKNOWN)
    mix.fails("streaming.stream_events", 404, session_id=UNKNOWN)
    mix.fails("messages.list_session", 404, id=UNKNOWN)

    # the callback ran after each tool call of the turns above
    log = server.settings.storage_dir / sid / "callback.log"
    assert "write" in log.read_text().lower()

    mix("sessions.delete", id=sid)
    mix.fails("sessions.delete", 404, id=sid)

    assert mix.called == operations(), sorted(operations() - mix.called)
    assert mix.checker.problems == [], "\n".join(mix.checker.problems)
    assert mix.checker.responses >= len(operations())


async def test_the_sdk_helpers_stream_a_turn(mix: Recorder) -> None:
    """`query` and `send_with_callbacks`, the SDK's own high-level helpers, end on `complete`."""
    sid = mix("sessions.create", title="helpers", browser_mode="local-browser-service").id
    kinds = [event.type async for event in helpers.query(mix.sdk, sid, "list files")]
    assert kinds[-1] == "complete" and "tool_execution_start" in kinds
    pieces: list[str] = []
    done = asyncio.Event()
    await helpers.send_with_callbacks(mix.sdk, sid, "list files", on_content=pieces.append, on_complete=done.set)
    assert done.is_set() and "".join(pieces)
    assert mix.checker.problems == [], "\n".join(mix.checker.problems)
    assert mix.checker.events.get("complete", 0) >= 2
