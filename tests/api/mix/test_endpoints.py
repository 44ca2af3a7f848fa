"""Every MixClient endpoint method against the real embedded server over loopback, error paths included.
The server runs with a per-launch token, as the app starts it: every call must carry it."""

from __future__ import annotations

import io
import socket
from typing import Iterator

import pytest
from PIL import Image

from tests.fixtures.mix_server import RunningServer, running_server
from tui.api import events as ev
from tui.api.errors import AuthRequired, BadRequest, ConnectionFailed, NotFound, ServerError
from tui.api.mix import MixClient

TOKEN = "per-launch-token"
ANTHROPIC_KEY = "sk-ant-" + "a1" * 16


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[RunningServer]:
    with running_server(tmp_path_factory.mktemp("mix-endpoints"), token=TOKEN) as srv:
        yield srv


@pytest.fixture
async def client(server: RunningServer):
    async with MixClient(server.url, token=TOKEN, timeout=10) as c:
        yield c


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory) -> Iterator[RunningServer]:
    """The embedded server speaking openapi-seed.yaml (synchronous send, /stream/{id}/message)."""
    with running_server(tmp_path_factory.mktemp("mix-endpoints-seed"), token=TOKEN, protocol="seed") as srv:
        yield srv


@pytest.fixture
async def seed_client(seed_server: RunningServer):
    async with MixClient(seed_server.url, token=TOKEN, timeout=10) as c:
        yield c


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


# ---------------------------------------------------------------- system


async def test_health(client):
    health = await client.health()
    assert health.ok and health.status == "ok"
    assert health.services == {"backend": "healthy", "database": "connected"}
    assert health.timestamp is not None and health.version


async def test_token_is_required_and_the_error_says_so(server):
    async with MixClient(server.url) as anonymous:
        with pytest.raises(AuthRequired) as info:
            await anonymous.health()
    assert info.value.status == 401 and info.value.type == "unauthorized"
    assert f"Mix server at {server.url} answered 401" in str(info.value)
    assert "Missing or invalid bearer token" in str(info.value)
    assert TOKEN not in repr(MixClient(server.url, token=TOKEN))


async def test_refused_connection_reads_like_a_sentence():
    url = _closed_port_url()
    async with MixClient(url) as c:
        with pytest.raises(ConnectionFailed) as info:
            await c.health()
    assert str(info.value).startswith(f"Mix server at {url} refused the connection")


async def test_commands(client):
    commands = await client.list_commands()
    names = [c.name for c in commands]
    assert "help" in names and "sessions" in names
    help_cmd = await client.get_command("/help")
    assert help_cmd.name == "help" and help_cmd.description
    with pytest.raises(NotFound) as info:
        await client.get_command("nope")
    assert info.value.type == "not_found" and "nope" in str(info.value)


async def test_mcp_servers(client):
    servers = await client.list_mcp_servers()
    assert isinstance(servers, list)
    for s in servers:
        assert s.name and (s.connected or s.tools == [])


async def test_tools_status(client):
    status = await client.tools_status()
    assert {"agent", "llm"} <= set(status.categories)
    providers = {t.provider for t in status.categories["llm"].tools}
    assert {"anthropic", "openai", "openrouter"} <= providers
    assert status.categories["agent"].tools and all(t.authenticated for t in status.categories["agent"].tools)


async def test_generation_of_the_embedded_server_follows_its_protocol(client, seed_client):
    assert await client.detect_generation() == "latest"
    assert (await client.system_info())["protocol"] == "latest"
    assert await seed_client.detect_generation() == "seed"
    assert seed_client.generation == "seed"
    with pytest.raises(NotFound):
        await seed_client.system_info()


# ---------------------------------------------------------------- auth


async def test_api_key_store_status_validate_delete(client):
    stored = await client.store_api_key("anthropic", ANTHROPIC_KEY)
    assert stored.ok and stored.provider == "anthropic"
    status = await client.auth_status()
    assert status.providers["anthropic"].authenticated is True
    assert status.providers["anthropic"].auth_method == "api_key"
    validation = await client.validate_auth()
    assert isinstance(validation.valid, bool) and validation.message
    removed = await client.delete_credentials("anthropic")
    assert removed.ok and removed.provider == "anthropic"
    assert (await client.auth_status()).providers["anthropic"].authenticated is False


async def test_api_key_errors_keep_upper_case_types(client):
    with pytest.raises(BadRequest) as info:
        await client.store_api_key("anthropic", "not-a-key")
    assert info.value.type == "INVALID_API_KEY_FORMAT" and info.value.status == 400
    assert "does not look like" in str(info.value)
    assert "not-a-key" not in str(info.value)  # the key itself is never echoed into messages by us
    with pytest.raises(BadRequest) as info:
        await client.store_api_key("nobody", ANTHROPIC_KEY)
    assert info.value.type == "INVALID_PROVIDER"
    with pytest.raises(BadRequest) as info:
        await client.delete_credentials("nobody")
    assert info.value.type == "INVALID_PROVIDER"


async def test_oauth_is_refused_by_the_offline_server(client):
    with pytest.raises(BadRequest) as info:
        await client.start_oauth("anthropic")
    assert info.value.type == "OAUTH_NOT_SUPPORTED"
    with pytest.raises(BadRequest) as info:
        await client.oauth_callback("anthropic", "code", "state")
    assert info.value.type == "OAUTH_NOT_SUPPORTED"


# ---------------------------------------------------------------- preferences


async def test_preferences_round_trip(client):
    current = await client.get_preferences()
    assert current.preferences is not None
    assert "anthropic" in current.available_providers
    assert "claude-4-sonnet" in current.available_providers["anthropic"].models
    updated = await client.update_preferences(main_agent_max_tokens=1234, main_agent_reasoning_effort="low")
    assert updated.main_agent_max_tokens == 1234 and updated.main_agent_reasoning_effort == "low"
    providers = await client.list_providers()
    assert providers["openai"].display_name == "OpenAI" and "gpt-4.1" in providers["openai"].models
    reset = await client.reset_preferences()
    assert reset.main_agent_max_tokens == 4096 and reset.sub_agent_max_tokens == 2048
    with pytest.raises(BadRequest) as info:
        await client.update_preferences({"main_agent_model": "no-such-model"})
    assert info.value.type == "INVALID_MODEL" and "no-such-model" in str(info.value)


# ---------------------------------------------------------------- sessions and messages


async def test_session_lifecycle(client):
    created = await client.create_session("Endpoint test")
    assert created.id and created.title == "Endpoint test" and created.created_at is not None
    fetched = await client.get_session(created.id)
    assert fetched.id == created.id
    renamed = await client.rename_session(created.id, "Renamed")
    assert renamed.title == "Renamed"
    assert created.id in [s.id for s in await client.list_sessions()]
    await client.delete_session(created.id)
    with pytest.raises(NotFound) as info:
        await client.get_session(created.id)
    assert f"Session with ID '{created.id}' not found" in str(info.value)
    with pytest.raises(NotFound):
        await client.delete_session(created.id)
    with pytest.raises(NotFound):
        await client.rename_session(created.id, "x")


async def test_create_session_validation_error(client):
    with pytest.raises(BadRequest) as info:
        await client.create_session("   ")
    assert info.value.type == "validation_error" and "title is required" in str(info.value)


async def test_send_list_history_fork_cancel(seed_client):
    client = seed_client  # synchronous send: the reply carries the answer
    session = await client.create_session("Turns")
    result = await client.send_message(session.id, "hello there")
    assert result.accepted and not result.processing
    assert result.message is not None and result.message.assistant_response
    assert client.send_shape is None  # the embedded server takes both shapes: nothing learned
    messages = await client.list_messages(session.id)
    assert [m.role for m in messages] == ["user", "assistant"]
    assert messages[0].text == "hello there"
    history = await client.message_history(limit=5)
    assert history and history[0].user_input == "hello there"
    listed = next(s for s in await client.list_sessions() if s.id == session.id)
    assert listed.preview == "hello there"
    forked = await client.fork_session(session.id, 1, title="Fork")
    assert forked.title == "Fork" and forked.id != session.id
    assert [m.role for m in await client.list_messages(forked.id)] == ["user"]
    with pytest.raises(BadRequest):
        await client.fork_session(session.id, -1)
    cancelled = await client.cancel_session(session.id)
    assert not cancelled.cancelled and cancelled.session_id == session.id  # nothing was running


async def test_send_errors(client, seed_client):
    with pytest.raises(NotFound):
        await client.send_message("00000000-0000-4000-8000-000000000000", "hi")
    session = await seed_client.create_session("Slash")
    reply = await seed_client.send_message(session.id, "/help")
    assert reply.message is not None and reply.message.id == "cmd-help"
    session = await client.create_session("Slash")
    accepted = await client.send_message(session.id, "/help")  # latest: 202, the output on the stream
    assert accepted.processing and accepted.session_id == session.id
    with pytest.raises(NotFound) as info:
        await client.send_message(session.id, "/no-such-command")
    assert "Available commands" in str(info.value)


async def test_stream_message(seed_client):
    client = seed_client  # a seed-era route
    session = await client.create_session("Streamed send")
    result = await client.stream_message(session.id, "/help")
    assert result.status == "broadcasted" and result.session_id == session.id
    with pytest.raises(NotFound):
        await client.stream_message("00000000-0000-4000-8000-000000000000", "hi")


async def test_permissions_for_unknown_ids_are_not_found(client):
    with pytest.raises(NotFound):
        await client.grant_permission("11111111-1111-4111-8111-111111111111")
    with pytest.raises(NotFound):
        await client.deny_permission("22222222-2222-4222-8222-222222222222")
    async with MixClient(_closed_port_url()) as gone:
        with pytest.raises(ConnectionFailed):
            await gone.grant_permission("x")
        with pytest.raises(ConnectionFailed):
            await gone.deny_permission("x")


# ---------------------------------------------------------------- files


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 32), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def test_files(client, tmp_path):
    session = await client.create_session("Files")
    progress: list[tuple[int, int]] = []
    info = await client.upload_file(session.id, b"hello file", filename="my notes.txt", progress=lambda s, t: progress.append((s, t)))
    assert info.name == "my_notes.txt" and info.original_name == "my notes.txt" and info.size == 10
    assert progress and progress[-1] == (10, 10)
    picture = tmp_path / "pic.png"
    picture.write_bytes(_png())
    await client.upload_file(session.id, picture)
    thumb = await client.get_file(session.id, "pic.png", thumb=16)
    assert thumb.content_type == "image/jpeg" and thumb.data[:2] == b"\xff\xd8"
    names = [f.name for f in await client.list_files(session.id)]
    assert sorted(names) == ["my_notes.txt", "pic.png"]  # the .thumbnails cache is not listed
    content = await client.get_file(session.id, "my_notes.txt")
    assert content.data == b"hello file" and content.content_type.startswith("text/plain")
    with pytest.raises(BadRequest) as bad:
        await client.get_file(session.id, "pic.png", thumb="huge")
    assert "Invalid thumb value" in str(bad.value)
    await client.delete_file(session.id, "my_notes.txt")
    with pytest.raises(NotFound):
        await client.delete_file(session.id, "my_notes.txt")
    with pytest.raises(NotFound):
        await client.get_file(session.id, "my_notes.txt")
    with pytest.raises(ServerError):
        await client.list_files("not-a-uuid")
    with pytest.raises(ServerError):
        await client.upload_file("not-a-uuid", b"x", filename="a.txt")


async def test_a_notification_is_answered_and_a_session_rewound(client):
    """Latest servers: the agent's question arrives as a Notification; the answer ends the turn."""
    session = await client.create_session("Questions")
    stream = client.stream(session.id)
    seen = []
    async for event in stream:
        seen.append(event)
        if isinstance(event, ev.Connected):
            await client.send_message(session.id, "ask me to choose between tea or coffee")
        elif isinstance(event, ev.Notification):
            assert event.response_type == "choice" and event.choices == ("tea", "coffee")
            await client.respond_notification(event.id, "choice", "coffee")
        elif isinstance(event, (ev.Complete, ev.Error)):
            break
    await stream.aclose()
    assert isinstance(seen[-1], ev.Complete) and "coffee" in seen[-1].content
    with pytest.raises(NotFound):
        await client.respond_notification(next(e for e in seen if isinstance(e, ev.Notification)).id, "choice", "tea")
    messages = await client.list_messages(session.id)
    rewound = await client.rewind_session(session.id, messages[0].id)
    assert rewound.id == session.id and [m.role for m in await client.list_messages(session.id)] == ["user"]
