"""RoutedBackend over real things: the embedded Mix server and the MixerLead fake, both on loopback,
MixerLead conversations in a real SQLite file. Each conversation's calls go to its own backend."""

from __future__ import annotations

import asyncio

from tests.fakes.mixerlead_server import running_fake_mixerlead
from tests.fixtures.mix_server import async_running_server
from tui.api import events as ev
from tui.api.mix import MixBackend
from tui.api.mixerlead import MixerLeadClient
from tui.api.mixerlead.backend import MixerLeadBackend
from tui.backends import RATE_LIMITED, RoutedBackend, backend_options, route
from tui.config import Config, MixerLeadConfig, Secrets, resolve_paths


async def collect_turn(backend, conversation_id: str, text: str, timeout: float = 10.0) -> list[ev.Event]:
    """Send and gather the events until the turn completes or fails."""
    seen: list[ev.Event] = []
    connected = asyncio.Event()

    async def listen() -> None:
        async for event in backend.events(conversation_id):
            seen.append(event)
            if isinstance(event, (ev.Connected, ev.ConnectionChanged)) and getattr(event, "state", "connected") == "connected":
                connected.set()
            if isinstance(event, (ev.Complete, ev.Error)):
                return

    task = asyncio.create_task(listen())
    await asyncio.wait_for(connected.wait(), timeout)
    await backend.send(conversation_id, text)
    await asyncio.wait_for(task, timeout)
    return seen


async def test_each_conversation_goes_to_its_own_backend(tmp_path):
    with running_fake_mixerlead() as (_url, fake):
        async with async_running_server(tmp_path / "server") as server:
            mix = MixBackend(server.url)
            mixerlead = MixerLeadBackend(MixerLeadClient(fake.api_key, base_url=fake.base_url), tmp_path / "client.db")
            router = RoutedBackend(mix, [mixerlead])
            try:
                assert router.name == "mix" and router.names == ["mix", "mixerlead"]
                assert router.marks() == {"mix": "mx", "mixerlead": "ML"}
                mix_conv = await router.create_conversation("on mix")
                router.choose_for_new("mixerlead")
                ml_conv = await router.create_conversation("on mixerlead")
                assert (mix_conv.backend, ml_conv.backend) == ("mix", "mixerlead")
                assert router.capabilities_for(mix_conv.id).permissions and not router.capabilities_for(ml_conv.id).permissions
                assert router.continuity_state(mix_conv.id) == "yes" and router.continuity_state(ml_conv.id) == "unknown"

                events = await collect_turn(router, ml_conv.id, "hello")
                assert any(isinstance(e, ev.Complete) and e.content.startswith("Reply 1") for e in events)
                assert len(fake.calls("/api/chat")) == 1 and router.continuity_state(ml_conv.id) == "yes"
                events = await collect_turn(router, mix_conv.id, "hello")
                assert any(isinstance(e, ev.Complete) for e in events)
                assert len(fake.calls("/api/chat")) == 1  # the Mix turn never reached MixerLead

                # A fresh router (as after a restart) lists both, newest first, and routes by the list.
                again = RoutedBackend(MixBackend(server.url), [MixerLeadBackend(MixerLeadClient(fake.api_key, base_url=fake.base_url), tmp_path / "client.db")])
                listed = await again.list_conversations()
                assert {c.id: c.backend for c in listed} == {mix_conv.id: "mix", ml_conv.id: "mixerlead"}
                page = await again.load_messages(ml_conv.id)
                assert [m.role for m in page.messages] == ["user", "assistant"]
                await again.rename_conversation(ml_conv.id, "renamed")
                assert mixerlead.store.get(ml_conv.id).title == "renamed"
                await again.delete_conversation(ml_conv.id)
                assert [c.id for c in await again.list_conversations()] == [mix_conv.id]
                await again.close()
            finally:
                await router.close()


async def test_a_429_wait_is_reported_as_rate_limited_not_reconnecting(tmp_path):
    with running_fake_mixerlead(rate_limit_first=1, rate_limit_path="/api/chat", retry_after="1") as (_url, fake):
        async with async_running_server(tmp_path / "server") as server:
            router = RoutedBackend(MixBackend(server.url), [MixerLeadBackend(MixerLeadClient(fake.api_key, base_url=fake.base_url), tmp_path / "c.db")])
            try:
                router.choose_for_new("mixerlead")
                conv = await router.create_conversation("x")
                events = await collect_turn(router, conv.id, "hello")
                changes = [(e.state, e.delay >= 1.0) for e in events if isinstance(e, ev.ConnectionChanged)]
                assert changes == [(RATE_LIMITED, True), ("connected", False)]
                assert fake.chat_calls == 2
            finally:
                await router.close()


async def test_mixerlead_is_offered_only_with_a_key(tmp_path, monkeypatch):
    monkeypatch.delenv("MIXERLEAD_API_KEY", raising=False)
    paths = resolve_paths(tmp_path, env={}).ensure()
    secrets = Secrets(paths.secrets_file)
    options = backend_options(["mix"], paths.secrets_file)
    assert [(o.name, o.available) for o in options] == [("mix", True), ("mixerlead", False)]
    assert "MIXERLEAD_API_KEY" in options[1].detail and str(paths.secrets_file) in options[1].detail
    async with async_running_server(tmp_path / "server") as server:
        config = Config(mixerlead=MixerLeadConfig(base_url="http://127.0.0.1:9"))
        alone = route(MixBackend(server.url), config, secrets, paths)
        assert alone.names == ["mix"] and alone.marks() == {}
        await alone.close()
        secrets.set("mixerlead", "ml_live_from_the_file")
        both = route(MixBackend(server.url), config, secrets, paths)
        assert both.names == ["mix", "mixerlead"]
        assert both.backend("mixerlead").base_url == "http://127.0.0.1:9"
        await both.close()
