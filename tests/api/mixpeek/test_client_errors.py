"""Errors and retries: the envelope kept on the exception, 429/503 retried per the policy, the rest not."""

from __future__ import annotations

import socket
import time
from email.utils import formatdate

import pytest

from tests.fakes.mixpeek_server import running_fake_mixpeek
from tui.api.errors import AuthRequired, BadRequest, ConnectionFailed, NotFound, PlanLimit, RateLimited
from tui.api.mixpeek import (
    MixpeekAuthError,
    MixpeekClient,
    MixpeekForbidden,
    MixpeekRateLimited,
    MixpeekUnavailable,
    MixpeekValidationError,
    RetryPolicy,
)
from tui.api.mixpeek.errors import error_for, parse_envelope
from tui.api.mixpeek.retry import parse_retry_after
from tui.api.mixpeek.schema import UndeclaredKey, body


def api_calls(fake, suffix: str):
    return [r for r in fake.requests if r.path.endswith(suffix)]


async def test_401_explained_and_not_retried(fake, make_client):
    client = make_client(fake, api_key="sk_test_wrong_key_123")
    with pytest.raises(MixpeekAuthError) as info:
        await client.list_namespaces()
    err = info.value
    assert isinstance(err, AuthRequired) and err.action == "credentials"
    assert err.status == 401 and err.type == "UnauthorizedError"
    assert err.server_message == "Invalid or missing API key."
    assert "MIXPEEK_API_KEY" in err.message and "UnauthorizedError" in err.message
    assert "sk_test_wrong_key_123" not in err.message
    assert len(api_calls(fake, "/namespaces/list")) == 1


async def test_403_explained_with_details(fake, make_client):
    client = make_client(fake, api_key=fake.options.forbidden_key)
    with pytest.raises(MixpeekForbidden) as info:
        await client.create_bucket("x", bucket_schema={"properties": {"c": {"type": "text"}}})
    assert isinstance(info.value, PlanLimit)
    assert info.value.details == {"required_permission": "write"}
    assert "not allowed" in info.value.message
    assert len(api_calls(fake, "/v1/buckets")) == 1


async def test_undeclared_body_key_is_422_extra_forbidden_and_not_retried(fake, client):
    # Go below the typed methods (which cannot send such a key) to show what the API does with one.
    with pytest.raises(MixpeekValidationError) as info:
        await client._call("POST", "/v1/buckets", scoped=True, json_body={"bucket_name": "b", "schema": {"properties": {}}, "bucket_schema": {"properties": {}}})
    err = info.value
    assert isinstance(err, BadRequest) and err.status == 422 and err.type == "ValidationError"
    assert [(f.location, f.type) for f in err.field_errors] == [("body.schema", "extra_forbidden")]
    assert "body.schema" in err.message and "Extra inputs are not permitted" in err.message
    assert len(api_calls(fake, "/v1/buckets")) == 1


async def test_422_fastapi_shape_is_parsed_too(make_client):
    with running_fake_mixpeek(fastapi_422=True) as fake:
        client = make_client(fake)
        with pytest.raises(MixpeekValidationError) as info:
            await client.create_bucket("b", bucket_schema={"properties": {"c": {"type": "blob"}}})
        assert info.value.field_errors[0].location == "body.bucket_schema.properties.c.type"
        assert "bucket_schema.properties.c.type" in info.value.message


def test_the_client_cannot_build_an_undeclared_body_key():
    with pytest.raises(UndeclaredKey):
        body("buckets.create", bucket_name="b", schema={})
    assert body("buckets.create", bucket_name="b", description=None) == {"bucket_name": "b"}


async def test_404_and_409_are_not_retried(fake, client):
    with pytest.raises(NotFound):
        await client.get_bucket("nope")
    assert len(api_calls(fake, "/v1/buckets/nope")) == 1


async def test_429_retried_honouring_retry_after_with_a_callback(make_client):
    with running_fake_mixpeek(rate_limit_first=2, retry_after="3") as fake:
        notices = []
        client = make_client(fake, on_retry=notices.append)
        page = await client.list_buckets()
        assert [b.bucket_name for b in page.items] == ["docs", "images"]
        assert [r.status for r in api_calls(fake, "/buckets/list")] == [429, 429, 200]
        waits = client.sleeper.waits
        assert len(waits) == 2 and all(3.0 <= w <= 3.0 * 1.25 for w in waits)  # never sooner, a little jitter
        assert [n.attempt for n in notices] == [1, 2] and notices[0].status == 429
        assert notices[0].wait == waits[0] and "rate limiting" in notices[0].reason
        assert notices[0].path == "/v1/buckets/list"
        assert client.last_rate_limit is not None and client.last_rate_limit.remaining == 59


async def test_429_without_header_uses_details_retry_after_seconds(make_client):
    with running_fake_mixpeek(rate_limit_first=1, retry_after=None, retry_after_seconds=5) as fake:
        client = make_client(fake)
        await client.list_namespaces()
        assert 5.0 <= client.sleeper.waits[0] <= 6.25


async def test_429_without_any_hint_backs_off_from_two_seconds(make_client):
    with running_fake_mixpeek(rate_limit_first=3, retry_after=None) as fake:
        client = make_client(fake)
        await client.list_namespaces()
        base = [2.0, 4.0, 8.0]
        assert all(b <= w <= b * 1.25 for b, w in zip(base, client.sleeper.waits))


async def test_429_marked_not_retryable_is_raised_at_once(make_client):
    with running_fake_mixpeek(rate_limit_first=1, retryable=False, retry_after="7") as fake:
        client = make_client(fake)
        with pytest.raises(MixpeekRateLimited) as info:
            await client.list_namespaces()
        assert isinstance(info.value, RateLimited) and info.value.retry_after == 7.0
        assert info.value.details["retryable"] is False and info.value.type == "TooManyRequestsError"
        assert client.sleeper.waits == []


async def test_429_gives_up_after_bounded_attempts(make_client):
    with running_fake_mixpeek(rate_limit_first=100, retry_after="1") as fake:
        client = make_client(fake)
        client.retry.max_attempts = 3
        with pytest.raises(MixpeekRateLimited):
            await client.list_namespaces()
        assert len(api_calls(fake, "/namespaces/list")) == 3 and len(client.sleeper.waits) == 2


async def test_waits_are_capped_and_the_total_is_bounded(make_client):
    with running_fake_mixpeek(rate_limit_first=100, retry_after="600") as fake:
        client = make_client(fake)
        with pytest.raises(MixpeekRateLimited) as info:
            await client.list_namespaces()
        assert client.sleeper.waits == [30.0] * 6 or client.sleeper.waits == [30.0] * 5
        assert sum(client.sleeper.waits) <= 180.0
        assert info.value.retry_after == 600.0


async def test_503_is_retried(make_client):
    with running_fake_mixpeek(unavailable_first=1, retry_after="1") as fake:
        client = make_client(fake)
        assert (await client.get_namespace("research")).namespace_name == "research"
        assert [r.status for r in fake.requests] == [503, 200]


async def test_503_that_persists_is_explained(make_client):
    with running_fake_mixpeek(unavailable_first=10, retry_after="1") as fake:
        client = make_client(fake)
        client.retry.max_attempts = 2
        with pytest.raises(MixpeekUnavailable) as info:
            await client.get_namespace("research")
        assert info.value.status == 503 and "unavailable" in info.value.message


async def test_a_real_short_sleep_is_honoured():
    with running_fake_mixpeek(rate_limit_first=1, retry_after="0.2") as fake:
        async with MixpeekClient(fake.api_key, base_url=fake.base_url, retry=RetryPolicy(jitter=0)) as client:
            started = time.monotonic()
            await client.list_namespaces()
            assert time.monotonic() - started >= 0.2


async def test_connection_refused_is_connection_failed():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with MixpeekClient("sk_test_x", base_url=f"http://127.0.0.1:{port}") as client:
        with pytest.raises(ConnectionFailed):
            await client.list_namespaces()


# ---------------------------------------------------------------- parsing, without a server


def test_parse_retry_after_number_and_http_date():
    assert parse_retry_after("12") == 12.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = formatdate(time.time() + 20, usegmt=True)
    assert 18 <= parse_retry_after(later) <= 21
    assert parse_retry_after(formatdate(time.time() - 100, usegmt=True)) == 0.0


def test_parse_envelope_all_shapes():
    env = parse_envelope(b'{"success":false,"status":429,"error":{"type":"TooManyRequestsError","message":"slow down","code":"rl","details":{"retry_after_seconds":4}}}')
    assert (env.type, env.message, env.code, env.retry_after_seconds) == ("TooManyRequestsError", "slow down", "rl", 4.0)
    older = parse_envelope(b'{"detail":{"error":{"type":"X","message":"m","details":{"retryable":false}}}}')
    assert older.type == "X" and older.retryable is False
    assert parse_envelope(b"<html>bad gateway</html>").type == ""
    assert parse_envelope(b'{"detail":"plain"}').message == "plain"


def test_error_for_other_statuses():
    err = error_for(500, b'{"error":{"type":"ProcessingError","message":"boom"}}')
    assert err.status == 500 and err.action == "retry" and "ProcessingError" in err.message
    quota = error_for(403, b'{"error":{"type":"QuotaExceededError","message":"q","details":{"resource":"objects","limit":100}}}')
    assert "quota" in quota.message and quota.details["limit"] == 100
    assert "Mixpeek" in str(error_for(400, b""))


def test_retry_policy_delay_bounds():
    policy = RetryPolicy()
    for n in range(1, 8):
        assert policy.delay(n, None) <= 30.0
        assert policy.delay(n, 10.0) >= 10.0
    assert policy.delay(1, 100.0) == 30.0


def test_the_sentence_shows_the_envelope_details():
    err = error_for(403, b'{"error":{"type":"QuotaExceededError","message":"Object quota reached","details":{"resource":"objects","current":100,"limit":100,"tier":"free","retryable":false}}}')
    assert "QuotaExceededError" in err.message and "Object quota reached" in err.message
    assert "resource=objects, current=100, limit=100, tier=free" in err.message
    assert "retryable" not in err.message


def test_408_is_a_retryable_failure_with_its_own_sentence():
    err = error_for(408, b'{"error":{"type":"TimeoutError","message":"Request timed out"}}')
    assert err.action == "retry" and "too long" in err.message and "TimeoutError" in err.message
    assert error_for(418, b"").action == "fix-input"
