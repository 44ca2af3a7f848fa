"""Errors and retries, exactly as the reference says: 401/403/413 never retried, 429 honours
Retry-After (seconds or an HTTP date), 5xx retried only for idempotent calls, non-JSON bodies."""

from __future__ import annotations

import time
from email.utils import formatdate
from pathlib import Path

import pytest

from tests.api.mixerlead.conftest import collect
from tests.fakes.mixerlead_server import FakeMixerLead, running_fake_mixerlead
from tui.api.errors import AuthRequired, BadRequest, ConnectionFailed, PayloadTooLarge, PlanLimit, RateLimited, ServerError
from tui.api.mixerlead import MixerLeadClient, RetryNotice, RetryPolicy
from tui.api.mixerlead.errors import error_for, parse_retry_after


async def test_401_says_check_the_key_and_is_not_retried(fake: FakeMixerLead, make_client) -> None:
    client = make_client(fake, api_key="ml_live_wrong")
    with pytest.raises(AuthRequired) as info:
        await client.list_models()
    assert info.value.status == 401 and "Invalid or missing API key." in info.value.message
    assert "MIXERLEAD_API_KEY" in info.value.message
    assert len(fake.requests) == 1 and client.sleeper.waits == []


async def test_401_on_chat_is_raised_before_any_text(fake: FakeMixerLead, make_client) -> None:
    client = make_client(fake, api_key="ml_live_wrong")
    with pytest.raises(AuthRequired):
        await collect(client.chat("hello"))
    assert fake.chat_calls == 1 and fake.chat_streams_started == 0


async def test_403_paid_model_shows_the_server_sentence_and_what_to_do_without_retry(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    with pytest.raises(PlanLimit) as info:
        await collect(client.chat("hello", model="ml-pro"))
    exc = info.value
    assert exc.server_message == "This model is not available on your current plan."  # type: ignore[attr-defined]
    assert exc.message.startswith("This model is not available on your current plan.")
    assert "retrying will not help" in exc.message and "upgrade" in exc.message
    assert fake.chat_calls == 1 and client.sleeper.waits == []  # type: ignore[attr-defined]


async def test_403_out_of_credits_on_a_skill_is_not_retried(client: MixerLeadClient, fake: FakeMixerLead) -> None:
    fake.options.credits = 0
    with pytest.raises(PlanLimit, match="run out of credits"):
        await client.run_skill("persona-v1", {})
    assert len(fake.calls("/api/skills/exec")) == 1


async def test_413_upload_over_the_limit(client: MixerLeadClient, fake: FakeMixerLead, tmp_path: Path) -> None:
    fake.options.max_upload_bytes = 1000
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 5000)
    with pytest.raises(PayloadTooLarge) as info:
        await client.upload_knowledge_file(path)
    assert info.value.status == 413 and "storage quota" in info.value.message
    assert fake.uploads == []


async def test_400_bad_request_verbatim(client: MixerLeadClient) -> None:
    with pytest.raises(BadRequest, match="'url' must be an http"):
        await client.add_knowledge_url("ftp://example.com")


async def test_429_with_delta_seconds_is_waited_and_retried(fake: FakeMixerLead, make_client) -> None:
    fake.options.rate_limit_first, fake.options.retry_after = 2, "3"
    notices: list[RetryNotice] = []
    client = make_client(fake, on_retry=notices.append)
    assert len(await client.list_skills()) == 2
    assert client.sleeper.waits == [3.0, 3.0]
    assert [(n.attempt, n.status, n.wait) for n in notices] == [(1, 429, 3.0), (2, 429, 3.0)]
    assert notices[0].reason == "Too many requests. Please slow down." and notices[0].max_attempts == 5
    assert len(fake.calls("/api/skills")) == 3


async def test_429_with_an_http_date_is_honoured(fake: FakeMixerLead, make_client) -> None:
    fake.options.rate_limit_first, fake.options.retry_after = 1, "http-date:5"
    client = make_client(fake)
    await client.list_models()
    assert len(client.sleeper.waits) == 1 and 3.0 <= client.sleeper.waits[0] <= 5.0


async def test_429_without_retry_after_backs_off_2_to_the_attempt(fake: FakeMixerLead, make_client) -> None:
    fake.options.rate_limit_first, fake.options.retry_after = 3, None
    client = make_client(fake)
    await client.list_models()
    assert client.sleeper.waits == [1.0, 2.0, 4.0]


async def test_429_gives_up_after_four_retries(fake: FakeMixerLead, make_client) -> None:
    fake.options.rate_limit_first = 100
    client = make_client(fake)
    with pytest.raises(RateLimited) as info:
        await client.list_models()
    assert info.value.retry_after == 1.0 and len(fake.requests) == 5 and len(client.sleeper.waits) == 4


async def test_429_longer_than_a_minute_is_handed_to_the_user_at_once(fake: FakeMixerLead, make_client) -> None:
    fake.options.rate_limit_first, fake.options.retry_after = 1, "3600"
    client = make_client(fake)
    with pytest.raises(RateLimited) as info:
        await collect(client.chat("hello"))
    assert info.value.retry_after == 3600.0 and client.sleeper.waits == [] and fake.chat_calls == 1


async def test_429_for_a_daily_quota_without_retry_after_says_when_it_resets(fake: FakeMixerLead, make_client) -> None:
    fake.options.rate_limit_first, fake.options.retry_after = 1, None
    fake.options.rate_limit_message = "Daily agent-run quota reached."
    client = make_client(fake)
    with pytest.raises(RateLimited) as info:
        await client.run_skill("persona-v1")
    assert "00:00 UTC" in info.value.message and 0 < (info.value.retry_after or 0) <= 86400
    assert client.sleeper.waits == []


async def test_5xx_is_retried_for_reads(fake: FakeMixerLead, make_client) -> None:
    fake.options.fail_first, fake.options.fail_status = 2, 503
    client = make_client(fake)
    assert len(await client.list_knowledge()) == 0
    assert len(fake.calls("/api/knowledge")) == 3 and client.sleeper.waits == [1.0, 2.0]


async def test_5xx_is_not_retried_for_creates_or_chat(fake: FakeMixerLead, make_client) -> None:
    fake.options.fail_first, fake.options.fail_status = 5, 500
    client = make_client(fake)
    with pytest.raises(ServerError) as info:
        await client.add_knowledge_text("x")
    assert info.value.status == 500 and info.value.message == "Internal error."
    with pytest.raises(ServerError):
        await collect(client.chat("hello"))
    assert fake.chat_calls == 1 and client.sleeper.waits == []


async def test_a_non_json_error_body_is_described_not_dumped(fake: FakeMixerLead, make_client) -> None:
    fake.options.fail_first, fake.options.fail_status, fake.options.fail_body = 1, 502, "<html><h1>Bad gateway</h1></html>"
    client = make_client(fake)
    with pytest.raises(ServerError) as info:
        await collect(client.chat("hello"))
    assert info.value.message == "MixerLead answered HTTP 502 (bad gateway) while trying to send the message."
    assert "<html>" not in info.value.message and "<html>" in info.value.body


async def test_connection_refused_is_retried_then_reported() -> None:
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    with running_fake_mixerlead() as (url, _state):
        dead = url  # the port is closed once the fake stops
    client = MixerLeadClient("ml_live_x", base_url=dead, retry=RetryPolicy(sleep=sleep, jitter=0.0, max_retries=2))
    try:
        for _ in range(50):  # give the fake's thread time to close its socket
            try:
                await client.list_models()
            except ConnectionFailed:
                break
            except Exception:
                pass
            time.sleep(0.02)
        sleeps.clear()
        with pytest.raises(ConnectionFailed, match="Could not reach MixerLead"):
            await collect(client.chat("hello"))
        assert sleeps == [1.0, 2.0]
    finally:
        await client.aclose()


def test_retry_after_parsing() -> None:
    assert parse_retry_after("60") == 60.0 and parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = 1_700_000_000.0
    assert parse_retry_after(formatdate(now + 30, usegmt=True), now=now) == pytest.approx(30.0, abs=1)
    assert parse_retry_after(formatdate(now - 30, usegmt=True), now=now) == 0.0


def test_error_for_tolerates_odd_bodies() -> None:
    assert error_for(404, b'{"error": {"message": "gone"}}').message.startswith("gone.")
    assert error_for(500, b"").message == "MixerLead answered HTTP 500 (internal server error)."
    assert error_for(418, b"\xff\xfe").message == "MixerLead answered HTTP 418 (an error)."
    assert isinstance(error_for(409, b'{"error":"Already tracked."}'), ServerError)


async def test_an_upload_refused_with_429_is_sent_again_whole(fake: FakeMixerLead, make_client, tmp_path: Path) -> None:
    fake.options.rate_limit_first, fake.options.rate_limit_path = 1, "/api/knowledge"
    path = tmp_path / "notes.txt"
    path.write_bytes(b"abc" * 10000)
    client = make_client(fake)
    added = await client.upload_knowledge_file(path)
    assert added.id and fake.uploads[0]["data"] == path.read_bytes()
    assert len(fake.calls("/api/knowledge", "POST")) == 2 and client.sleeper.waits == [1.0]
