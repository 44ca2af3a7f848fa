"""MixerLeadBackend as the UI uses it (send + events + TurnModel), against the fake over loopback:
several turns with continuity, a 429 with countdown and retry, a 403 without retry, cuts, cancel."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path
from typing import Any, AsyncIterator, Callable

import pytest

from tests.fakes.mixerlead_server import FakeMixerLead, running_fake_mixerlead
from tests.support.factories import closing_factory
from tests.support.listener import Listener
from tests.support.sleep import SleepRecorder
from tui.api import events as ev
from tui.api.errors import ConnectionFailed, PlanLimit
from tui.api.mixerlead import MixerLeadClient, RetryPolicy
from tui.api.mixerlead.backend import MixerLeadBackend
from tui.api.turn import TurnModel, TurnStatus

FINAL = (ev.Complete, ev.Error, ev.RateLimitError)


async def turn(backend: MixerLeadBackend, listener: Listener, conversation_id: str, text: str) -> TurnModel:
    """Send and fold the turn's events into a TurnModel, as the transcript would."""
    start = len(listener.events)
    model = TurnModel(user_text=text)
    await backend.send(conversation_id, text)
    await listener.wait_for(lambda e: isinstance(e, FINAL), start=start)
    for event in listener.since(start):
        model.apply(event)
    return model


@pytest.fixture
async def make_backend(tmp_path: Path) -> AsyncIterator[Callable[..., MixerLeadBackend]]:
    def build(fake: FakeMixerLead, *, sleeper: Any = None, **kw: Any) -> MixerLeadBackend:
        sleeper = sleeper or SleepRecorder()
        client = MixerLeadClient(fake.api_key, base_url=fake.base_url, retry=RetryPolicy(sleep=sleeper, jitter=0.0))
        backend = MixerLeadBackend(client, tmp_path / "client.db", **kw)
        backend.sleeper = sleeper  # type: ignore[attr-defined]
        return backend

    async for make in closing_factory(build, MixerLeadBackend.close):
        yield make


@pytest.mark.parametrize("mode", ["header", "body-marker", "sse", "ndjson", "json"])
async def test_several_turns_continue_one_conversation(mode: str, make_backend) -> None:
    with running_fake_mixerlead(conversation_id_mode=mode) as (_url, fake):
        backend = make_backend(fake)
        conv = await backend.create_conversation("Plans")
        assert conv.backend == "mixerlead" and backend.continuity_state(conv.id) == "unknown"
        listener = Listener(backend, conv.id)
        await listener.wait_for(lambda e: isinstance(e, ev.Connected))
        for n in (1, 2, 3):
            model = await turn(backend, listener, conv.id, f"question {n}")
            assert model.status is TurnStatus.COMPLETE
            assert model.answer == f"Reply {n} to “question {n}” — ünïcödé ✓ 🎉 done."
            assert model.user_message_id is not None
        await listener.stop()
        assert backend.continuity_state(conv.id) == "yes" and backend.capabilities.continuity is True
        assert "continues this conversation" in backend.continuity_message(conv.id)
        assert len(fake.conversations) == 1
        page = await backend.load_messages(conv.id)
        assert [(m.role, m.text[:7]) for m in page.messages] == [
            ("user", "questio"), ("assistant", "Reply 1"), ("user", "questio"), ("assistant", "Reply 2"),
            ("user", "questio"), ("assistant", "Reply 3")]
        [listed] = await backend.list_conversations()
        assert listed.message_count == 6 and listed.preview == "question 1"


async def test_without_an_id_each_message_starts_anew_and_the_user_is_told(make_backend) -> None:
    with running_fake_mixerlead(conversation_id_mode="none") as (_url, fake):
        backend = make_backend(fake)
        conv = await backend.create_conversation("x")
        listener = Listener(backend, conv.id)
        for n in (1, 2):
            start = len(listener.events)
            model = await turn(backend, listener, conv.id, f"q{n}")
            assert model.answer.startswith("Reply 1 ")  # the server never saw the earlier turn
            notes = [e for e in listener.since(start) if isinstance(e, ev.Notification)]
            assert notes and notes[0].title == "Continuity unavailable" and "starts a new conversation" in notes[0].message
        await listener.stop()
        assert backend.continuity_state(conv.id) == "no" and backend.capabilities.continuity is False
        assert all("conversationId" not in r.body for r in fake.calls("/api/chat"))


async def test_429_shows_a_countdown_then_retries_and_streams(make_backend) -> None:
    with running_fake_mixerlead(rate_limit_first=2, rate_limit_path="/api/chat", retry_after="7") as (_url, fake):
        backend = make_backend(fake)
        conv = await backend.create_conversation("x")
        listener = Listener(backend, conv.id)
        model = await turn(backend, listener, conv.id, "hello")
        await listener.stop()
        assert model.status is TurnStatus.COMPLETE and model.answer.startswith("Reply 1")
        changes = [e for e in listener.events if isinstance(e, ev.ConnectionChanged)]
        assert [(c.state, c.attempt, c.delay) for c in changes] == [("reconnecting", 1, 7.0), ("reconnecting", 2, 7.0), ("connected", 0, 0.0)]
        assert "Too many requests. Please slow down." in changes[0].reason
        assert backend.sleeper.waits == [7.0, 7.0] and fake.chat_calls == 3 and fake.chat_streams_started == 1
        first_text = next(i for i, e in enumerate(listener.events) if isinstance(e, ev.ContentDelta))
        assert first_text > listener.events.index(changes[-1])  # no text before the wait ended


async def test_429_really_waits_retry_after_seconds(tmp_path: Path) -> None:
    with running_fake_mixerlead(rate_limit_first=1, rate_limit_path="/api/chat", retry_after="1") as (_url, fake):
        client = MixerLeadClient(fake.api_key, base_url=fake.base_url, retry=RetryPolicy(jitter=0.0))
        backend = MixerLeadBackend(client, tmp_path / "client.db")
        conv = await backend.create_conversation("x")
        listener = Listener(backend, conv.id)
        started = time.monotonic()
        model = await turn(backend, listener, conv.id, "hello")
        assert time.monotonic() - started >= 0.95 and model.status is TurnStatus.COMPLETE
        await listener.stop()
        await backend.close()


async def test_403_is_shown_without_retry_and_the_text_is_kept(make_backend) -> None:
    with running_fake_mixerlead() as (_url, fake):
        backend = make_backend(fake)
        conv = await backend.create_conversation("x")
        backend.set_model("ml-pro", conv.id)
        listener = Listener(backend, conv.id)
        with pytest.raises(PlanLimit) as info:
            await backend.send(conv.id, "please use the paid model")
        assert info.value.message.startswith("This model is not available on your current plan.")
        assert "retrying will not help" in info.value.message
        await asyncio.sleep(0.05)
        await listener.stop()
        assert fake.chat_calls == 1 and backend.sleeper.waits == []
        assert not [e for e in listener.events if isinstance(e, (ev.ContentDelta, ev.ConnectionChanged))]
        [user] = (await backend.load_messages(conv.id)).messages
        # The text stays what was typed; the app's remark is beside it, not markdown inside it.
        assert user.text == "please use the paid model" and user.note.startswith("not sent: This model is not available")
        assert backend.store.messages(conv.id)[0][0].status == "failed"


async def test_errors_as_events_for_plan_and_long_rate_limits(make_backend) -> None:
    with running_fake_mixerlead(rate_limit_first=1, rate_limit_path="/api/chat", retry_after="3600") as (_url, fake):
        backend = make_backend(fake, errors_as_events=True)
        conv = await backend.create_conversation("x")
        listener = Listener(backend, conv.id)
        limited = await turn(backend, listener, conv.id, "hello")
        assert limited.status is TurnStatus.RATE_LIMITED and limited.error is not None
        assert limited.error.retry_after == 3600.0 and backend.sleeper.waits == []
        backend.set_model("ml-pro", conv.id)
        refused = await turn(backend, listener, conv.id, "paid please")
        assert refused.status is TurnStatus.ERROR and refused.error.type == "plan_limit"  # type: ignore[union-attr]
        await listener.stop()
        assert fake.chat_calls == 2
        statuses = [m.status for m in backend.store.messages(conv.id)[0]]
        assert statuses == ["failed", "failed"]


async def test_a_cut_reply_ends_the_turn_with_the_partial_answer_and_no_resend(make_backend) -> None:
    with running_fake_mixerlead(drop_after_bytes=15) as (_url, fake):
        backend = make_backend(fake)
        conv = await backend.create_conversation("x")
        listener = Listener(backend, conv.id)
        model = await turn(backend, listener, conv.id, "hello")
        await listener.stop()
        assert model.status is TurnStatus.ERROR and model.answer and "Reply 1".startswith(model.answer[:7])
        assert "dropped in the middle of the reply" in model.error.error  # type: ignore[union-attr]
        assert fake.chat_calls == 1
        stored = backend.store.messages(conv.id)[0]
        assert [(m.role, m.status) for m in stored] == [("user", "sent"), ("assistant", "interrupted")]


async def test_cancel_closes_the_stream_and_keeps_what_arrived(make_backend) -> None:
    with running_fake_mixerlead(chunk_bytes=2, chunk_delay=0.03) as (_url, fake):
        backend = make_backend(fake)
        conv = await backend.create_conversation("x")
        listener = Listener(backend, conv.id)
        model = TurnModel(user_text="hello")
        await backend.send(conv.id, "hello")
        await listener.wait_for(lambda e: isinstance(e, ev.ContentDelta))
        with pytest.raises(Exception, match="still answering"):
            await backend.send(conv.id, "again")
        await backend.cancel(conv.id)
        await listener.wait_for(lambda e: isinstance(e, ev.Error))
        for event in listener.events:
            model.apply(event)
        assert model.status is TurnStatus.CANCELLED and model.answer
        stored = backend.store.messages(conv.id)[0]
        assert stored[-1].role == "assistant" and stored[-1].status == "cancelled"
        assert not backend.busy(conv.id)
        follow = await turn(backend, listener, conv.id, "next")  # the conversation goes on
        await listener.stop()
        assert follow.status is TurnStatus.COMPLETE


async def test_rename_delete_and_current_model(make_backend) -> None:
    with running_fake_mixerlead() as (_url, fake):
        backend = make_backend(fake)
        conv = await backend.create_conversation("old")
        await backend.rename_conversation(conv.id, "new")
        assert [c.title for c in await backend.list_conversations()] == ["new"]
        await backend.list_models()
        assert await backend.current_model() == "MixerLead · Auto"
        backend.set_model("ml-fast")
        assert await backend.current_model() == "MixerLead · Fast"
        await backend.delete_conversation(conv.id)
        assert await backend.list_conversations() == []
        with pytest.raises(Exception, match="not in the local store"):
            await backend.send(conv.id, "x")


async def test_unreachable_then_back_is_reported_through_the_events(tmp_path: Path) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # a port nobody listens on, for now
    sleeper = SleepRecorder()
    client = MixerLeadClient("ml_live_fake_mixerlead_key", base_url=f"http://127.0.0.1:{port}",
                             retry=RetryPolicy(sleep=sleeper, jitter=0.0, max_retries=1))
    backend = MixerLeadBackend(client, tmp_path / "client.db")
    backend.probe_delays = (0.05,)
    conv = await backend.create_conversation("x")
    listener = Listener(backend, conv.id)
    with pytest.raises(ConnectionFailed, match="Could not reach MixerLead"):
        await backend.send(conv.id, "are you there?")
    assert sleeper.waits == [1.0] and not backend.reachable
    await listener.wait_for(lambda e: isinstance(e, ev.ConnectionChanged) and e.reason.startswith("Could not reach"))
    changes = [e for e in listener.events if isinstance(e, ev.ConnectionChanged)]
    assert "connected" not in [c.state for c in changes]  # never claimed while it is unreachable
    with running_fake_mixerlead(port=port) as (_url, fake):
        await listener.wait_for(lambda e: isinstance(e, ev.ConnectionChanged) and e.state == "connected")
        assert backend.reachable
        model = await turn(backend, listener, conv.id, "again")
        assert model.status is TurnStatus.COMPLETE
    await listener.stop()
    stored = backend.store.messages(conv.id)[0]
    assert [(m.text, m.status) for m in stored][:1] == [("are you there?", "failed")]
    await backend.close()


async def test_an_id_given_once_keeps_the_conversation_going_when_later_replies_omit_it(make_backend) -> None:
    with running_fake_mixerlead(conversation_id_mode="header") as (_url, fake):
        backend = make_backend(fake)
        conv = await backend.create_conversation("x")
        listener = Listener(backend, conv.id)
        await turn(backend, listener, conv.id, "one")
        fake.options.conversation_id_mode = "none"
        second = await turn(backend, listener, conv.id, "two")
        third = await turn(backend, listener, conv.id, "three")
        await listener.stop()
        assert second.answer.startswith("Reply 2") and third.answer.startswith("Reply 3")
        assert backend.continuity_state(conv.id) == "yes"
        assert not [e for e in listener.events if isinstance(e, ev.Notification)]


async def test_from_settings_reads_the_key_base_url_and_project(tmp_path: Path) -> None:
    from tui.config import Config, MixerLeadConfig, Secrets, resolve_paths

    with running_fake_mixerlead() as (_url, fake):
        secrets = Secrets(tmp_path / "secrets.json", env={"MIXERLEAD_API_KEY": fake.api_key})
        config = Config(mixerlead=MixerLeadConfig(base_url=fake.base_url, project_id="proj_7"))
        paths = resolve_paths(tmp_path / "home", env={}).ensure()
        backend = MixerLeadBackend.from_settings(config, secrets, paths)
        try:
            conv = await backend.create_conversation("x")
            listener = Listener(backend, conv.id)
            model = await turn(backend, listener, conv.id, "hi")
            await listener.stop()
            assert model.status is TurnStatus.COMPLETE
            request = fake.calls("/api/chat")[0]
            assert request.headers["x-project-id"] == "proj_7" and request.headers["authorization"] == f"Bearer {fake.api_key}"
            assert backend.store.path == paths.client_db and [c.id for c in await backend.list_conversations()] == [conv.id]
        finally:
            await backend.close()
