"""Shapes the embedded server does not produce, from small loopback servers following PROTOCOL.md:
Go-vs-spec differences, plain-text errors, 202 sends, latest-generation servers, the send-shape retry."""

from __future__ import annotations

import asyncio
import json

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.api.mix.loopback import serve
from tui.api.errors import ProtocolError, RateLimited, ServerError, Timeout
from tui.api.mix import MethodNotAllowed, MixClient
from tui.api.turn import ToolStatus

SID = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"


def strict_send_app(accepted_key: str, log: list[dict], *, status: int = 200) -> Starlette:
    """POST …/messages decoding strictly like Go: only `accepted_key` (+ plan_mode with text) is known."""
    allowed = {accepted_key} | ({"plan_mode"} if accepted_key == "text" else set())

    async def send(request: Request) -> Response:
        body = json.loads(await request.body())
        log.append(body)
        for key in body:
            if key not in allowed:
                return JSONResponse({"error": {"code": 400, "message": f"Validation error for field 'body': json: unknown field \"{key}\"",
                                               "type": "validation_error"}}, status_code=400)
        if status == 202:
            return JSONResponse({"status": "processing", "sessionId": SID}, status_code=202)
        return JSONResponse({"id": "m1", "sessionId": "", "role": "user", "userInput": body[accepted_key], "assistantResponse": "done"})

    return Starlette(routes=[Route("/api/sessions/{id}/messages", send, methods=["POST"])])


async def test_seed_send_shape_is_content():
    log: list[dict] = []
    with serve(strict_send_app("content", log)) as url:
        async with MixClient(url) as client:
            result = await client.send_message(SID, "hi")
            assert client.send_shape is None  # accepted at once: nothing to remember
    assert log == [{"content": "hi"}]
    assert result.message is not None and result.message.assistant_response == "done" and not result.processing


async def test_unknown_field_content_retries_once_with_text_and_remembers():
    log: list[dict] = []
    with serve(strict_send_app("text", log, status=202)) as url:
        async with MixClient(url) as client:
            first = await client.send_message(SID, "one")
            second = await client.send_message(SID, "two", plan_mode=True)
            assert client.send_shape == "text"
            assert client.generation == "latest"
    assert log == [{"content": "one"}, {"text": "one"}, {"text": "two", "plan_mode": True}]
    assert first.processing and first.status == "processing" and first.session_id == SID
    assert second.accepted and second.message is None


async def test_plan_mode_sends_text_and_unknown_field_text_falls_back_to_content():
    log: list[dict] = []
    with serve(strict_send_app("content", log)) as url:
        async with MixClient(url) as client:
            await client.send_message(SID, "x", plan_mode=True)  # plan mode can only be said as {text, plan_mode}
            assert client.send_shape == "content"
            await client.send_message(SID, "y", plan_mode=True)  # remembered: no second refusal
    assert log == [{"text": "x", "plan_mode": True}, {"content": "x"}, {"content": "y"}]


async def test_other_400s_are_not_retried():
    calls = []

    async def send(request: Request) -> Response:
        calls.append(1)
        return JSONResponse({"error": {"code": 400, "message": "Validation error for field 'content': content is required",
                                       "type": "validation_error"}}, status_code=400)

    with serve(Starlette(routes=[Route("/api/sessions/{id}/messages", send, methods=["POST"])])) as url:
        async with MixClient(url) as client:
            with pytest.raises(ServerError) as info:
                await client.send_message(SID, "x")
    assert len(calls) == 1 and info.value.status == 400 and "content is required" in str(info.value)


def go_app() -> Starlette:
    """Go's own shapes where they differ from the spec, and its plain-text errors."""

    async def sessions(request: Request) -> Response:
        return Response("null", media_type="application/json")  # older builds: null for no sessions

    async def tools_status(request: Request) -> Response:
        return JSONResponse({"categories": {"search": {"display_name": "Search", "description": "Web search", "icon": "globe",
                                                       "tools": {"brave": {"authenticated": False, "display_name": "Brave",
                                                                           "description": "Brave search", "api_key_format": "BSA…",
                                                                           "requires_key": True}}}}})

    async def grant(request: Request) -> Response:
        return JSONResponse({"granted": True})

    async def deny(request: Request) -> Response:
        return JSONResponse({"denied": True})

    async def cancel(request: Request) -> Response:
        return JSONResponse({"cancelled": True})

    async def commands(request: Request) -> Response:
        return JSONResponse([{"name": "help", "description": "Show help", "usage": "/help"},
                             {"name": "project:deploy", "description": "Deploy", "type": "file", "extra": 1}])

    async def mcp(request: Request) -> Response:
        return JSONResponse([{"name": "fs", "connected": False, "status": "failed", "tools": None},
                             {"name": "web", "connected": True, "status": "connected", "tools": [{"name": "fetch", "description": "Fetch a URL"}]}])

    async def validate(request: Request) -> Response:
        return JSONResponse({"valid": False, "error": "No preferred provider set", "message": "Set one"})

    async def prefs(request: Request) -> Response:
        return JSONResponse({"preferences": None, "available_providers": {"anthropic": {"display_name": "Anthropic", "models": ["claude-4-sonnet"]}}})

    async def files(request: Request) -> Response:
        return JSONResponse([{"name": ".thumbnails", "size": 4096, "modified": 1700000000, "isDir": True},
                             {"name": "a.png", "size": 10, "modified": 1700000000, "isDir": False,
                              "url": f"http://x/api/sessions/{SID}/files/a.png"}])

    async def file_get(request: Request) -> Response:
        if request.query_params.get("thumb"):
            return PlainTextResponse("Thumbnail generation failed: ffmpeg not found", status_code=500)
        return PlainTextResponse("Cannot serve directory", status_code=400)

    async def not_allowed(request: Request) -> Response:
        return PlainTextResponse("Method Not Allowed", status_code=405)

    async def busy(request: Request) -> Response:
        return JSONResponse({"error": {"code": 429, "message": "slow down", "type": "RATE_LIMITED"}}, status_code=429,
                            headers={"Retry-After": "7"})

    async def html(request: Request) -> Response:
        return Response("<html><body>Bad Gateway</body></html>", status_code=502, media_type="text/html")

    async def not_json(request: Request) -> Response:
        return PlainTextResponse("hello", status_code=200)

    async def slow(request: Request) -> Response:
        await asyncio.sleep(2)
        return JSONResponse({"status": "ok"})

    async def info(request: Request) -> Response:
        return JSONResponse({"version": "0.8.1"})

    return Starlette(routes=[
        Route("/api/sessions", sessions),
        Route("/api/sessions/{id}", not_allowed, methods=["PATCH"]),
        Route("/api/sessions/{id}/cancel", cancel, methods=["POST"]),
        Route("/api/sessions/{id}/files", files),
        Route("/api/sessions/{id}/files/{name}", file_get),
        Route("/api/tools/status", tools_status),
        Route("/api/permissions/{id}/grant", grant, methods=["POST"]),
        Route("/api/permissions/{id}/deny", deny, methods=["POST"]),
        Route("/api/commands", commands),
        Route("/api/mcp", mcp),
        Route("/api/auth/validate", validate),
        Route("/api/preferences", prefs),
        Route("/api/preferences/providers", busy),
        Route("/api/auth/status", html),
        Route("/health", not_json),
        Route("/api/messages/history", slow),
        Route("/api/system/info", info),
    ])


@pytest.fixture(scope="module")
def go_url():
    with serve(go_app()) as url:
        yield url


async def test_go_shapes(go_url):
    async with MixClient(go_url) as client:
        assert await client.list_sessions() == []
        status = await client.tools_status()
        brave = status.categories["search"].tools[0]
        assert (brave.provider, brave.requires_key, brave.api_key_format, brave.authenticated) == ("brave", True, "BSA…", False)
        assert (await client.grant_permission("p")).granted is True
        assert (await client.deny_permission("p")).granted is False
        cancelled = await client.cancel_session(SID)
        assert cancelled.cancelled and cancelled.session_id == SID
        commands = await client.list_commands()
        assert [(c.name, c.usage, c.type) for c in commands] == [("help", "/help", ""), ("project:deploy", "", "file")]
        servers = await client.list_mcp_servers()
        assert servers[0].tools == [] and servers[0].status == "failed"
        assert servers[1].tools[0].name == "fetch"
        validation = await client.validate_auth()
        assert validation.valid is False and validation.provider is None and validation.error == "No preferred provider set"
        prefs = await client.get_preferences()
        assert prefs.preferences is None and prefs.available_providers["anthropic"].models == ["claude-4-sonnet"]


async def test_files_hide_the_thumbnail_cache_and_url_marks_latest(go_url):
    async with MixClient(go_url) as client:
        files = await client.list_files(SID)
        assert [f.name for f in files] == ["a.png"]
        assert files[0].url and files[0].modified is not None
        assert client.generation == "latest"


async def test_plain_text_errors(go_url):
    async with MixClient(go_url) as client:
        with pytest.raises(ServerError) as info:
            await client.get_file(SID, "a.png", thumb=64)
        assert info.value.status == 500
        assert "Thumbnail generation failed: ffmpeg not found" in str(info.value)
        with pytest.raises(ServerError) as info:
            await client.get_file(SID, "dir")
        assert info.value.status == 400 and "Cannot serve directory" in str(info.value)
        with pytest.raises(MethodNotAllowed) as info:
            await client.rename_session(SID, "t")
        assert info.value.status == 405 and "Method Not Allowed" in str(info.value)


async def test_rate_limit_html_and_not_json(go_url):
    async with MixClient(go_url) as client:
        with pytest.raises(RateLimited) as info:
            await client.list_providers()
        assert info.value.retry_after == 7.0 and info.value.type == "RATE_LIMITED" and "slow down" in str(info.value)
        with pytest.raises(ServerError) as info:
            await client.auth_status()
        assert info.value.status == 502 and "bad gateway" in str(info.value) and "<html>" not in str(info.value)
        with pytest.raises(ProtocolError):
            await client.health()


async def test_timeout_is_its_own_error(go_url):
    async with MixClient(go_url, timeout=0.3) as client:
        with pytest.raises(Timeout) as info:
            await client.message_history()
    assert f"Mix server at {go_url} did not answer in time" in str(info.value)


async def test_latest_generation_from_system_info(go_url):
    async with MixClient(go_url) as client:
        assert client.generation is None
        assert await client.detect_generation() == "latest"
        assert (await client.system_info())["version"] == "0.8.1"


async def test_rename_falls_back_when_the_server_cannot(go_url):
    from tui.api.mix import MixBackend

    backend = MixBackend(MixClient(go_url))
    with pytest.raises(NotImplementedError):
        await backend.rename_conversation(SID, "Local title")
    await backend.close()


def test_history_tool_results_and_plan_mode_reminders():
    from tui.api.mix import MessageData, SessionData, to_chat_messages

    raw = [
        {"id": "u", "role": "user", "userInput": "plan it\n\n<system-reminder>Plan mode is active.\nDo not edit.</system-reminder>"},
        {"id": "a", "role": "assistant", "userInput": "", "assistantResponse": "", "reasoning": "think", "reasoningDuration": 3,
         "toolCalls": [{"id": "t1", "name": "write", "input": "{\"file_path\":\"a\"}", "finished": True},
                       {"id": "t2", "name": "bash", "input": "{}", "finished": True}], "model": "claude", "cost": 0.01,
         "inputTokens": 5, "callbackResults": []},
        {"id": "r", "role": "tool", "toolCalls": [{"id": "t1", "result": "ok", "isError": False},
                                                  {"id": "t2", "result": "boom", "isError": True}]},
        {"id": "b", "role": "assistant", "assistantResponse": "Done", "toolCalls": None},
    ]
    chat = to_chat_messages([MessageData.from_json(m) for m in raw])
    assert [(m.id, m.index) for m in chat] == [("u", 0), ("a", 1), ("b", 3)]
    assert chat[0].text == "plan it"
    assert chat[1].reasoning == "think" and chat[1].reasoning_duration == 3.0 and chat[1].model == "claude"
    t1, t2 = chat[1].tool_calls
    assert (t1.result, t1.status, t1.success) == ("ok", ToolStatus.DONE, True)
    assert (t2.result, t2.status, t2.is_error, t2.success) == ("boom", ToolStatus.FAILED, True, False)
    assert chat[2].tool_calls == []
    session = SessionData.from_json({"id": "s", "title": "T", "createdAt": "2025-09-24T10:00:00+02:00", "cost": "0.5",
                                     "firstUserMessage": '[{"type":"text","data":{"text":"hi <system-reminder>x</system-reminder>"}}]',
                                     "sessionType": "main", "browserMode": "none", "unknown": [1]})
    conv = session.to_conversation()
    assert (conv.preview, conv.cost, conv.backend) == ("hi", 0.5, "mix")
    assert conv.created_at is not None and conv.created_at.utcoffset().total_seconds() == 7200
    assert SessionData.from_json({"id": "s", "firstUserMessage": "plain text"}).preview == "plain text"
    assert SessionData.from_json({"id": "s", "firstUserMessage": "[not json"}).preview == "[not json"
    assert SessionData.from_json(None).id == ""


SID2 = "bbbbbbbb-cccc-4ddd-8eee-ffffffffffff"
EVERY_METHOD = [
    ("health", ()), ("list_commands", ()), ("get_command", ("help",)), ("list_mcp_servers", ()), ("tools_status", ()),
    ("store_api_key", ("anthropic", "sk-ant-secret")), ("start_oauth", ("anthropic",)), ("oauth_callback", ("anthropic", "c", "s")),
    ("auth_status", ()), ("validate_auth", ()), ("delete_credentials", ("anthropic",)),
    ("get_preferences", ()), ("update_preferences", ({"main_agent_max_tokens": 5},)), ("list_providers", ()), ("reset_preferences", ()),
    ("grant_permission", ("p",)), ("deny_permission", ("p",)),
    ("list_sessions", ()), ("create_session", ("t",)), ("get_session", (SID2,)), ("delete_session", (SID2,)),
    ("rename_session", (SID2, "t")), ("cancel_session", (SID2,)), ("fork_session", (SID2, 1)),
    ("list_messages", (SID2,)), ("message_history", ()), ("send_message", (SID2, "hi")), ("stream_message", (SID2, "hi")),
    ("list_files", (SID2,)), ("upload_file", (SID2, b"data")), ("get_file", (SID2, "a.txt")), ("delete_file", (SID2, "a.txt")),
    ("system_info", ()),
]


def failing_app() -> Starlette:
    async def fail(request: Request) -> Response:
        if request.url.path.startswith("/stream/"):
            return PlainTextResponse("Invalid JSON in request body", status_code=400)  # Go's http.Error
        return JSONResponse({"error": {"code": 500, "message": f"Internal error during {request.url.path}: disk full",
                                       "type": "INTERNAL_ERROR"}}, status_code=500)

    return Starlette(routes=[Route("/{path:path}", fail, methods=["GET", "POST", "DELETE", "PATCH"])])


@pytest.fixture(scope="module")
def failing_url():
    with serve(failing_app()) as url:
        yield url


@pytest.mark.parametrize("method,args", EVERY_METHOD, ids=[m for m, _ in EVERY_METHOD])
async def test_every_method_raises_the_servers_error(failing_url, method, args):
    async with MixClient(failing_url) as client:
        with pytest.raises(ServerError) as info:
            await getattr(client, method)(*args)
    err = info.value
    if method == "stream_message":
        assert err.status == 400 and "Invalid JSON in request body" in str(err) and err.type is None
    else:
        assert err.status == 500 and err.type == "INTERNAL_ERROR" and "disk full" in str(err)
    assert str(err).startswith(f"Mix server at {failing_url} answered")
    assert "sk-ant-secret" not in str(err)


def test_generation_votes_from_events():
    from tui.api import events as ev

    client = MixClient("http://127.0.0.1:9")
    assert client.generation is None
    client._observe_event(ev.ToolSnapshot("t", "bash"))
    assert client.generation == "seed"
    client._observe_event(ev.ToolUseStart("t", "Bash"))
    client._observe_event(ev.UserMessageCreated("m"))
    assert client.generation == "latest"
