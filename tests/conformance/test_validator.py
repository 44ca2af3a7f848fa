"""The validator can fail: wrong events, wrong bodies and undocumented statuses are reported."""

from __future__ import annotations

import httpx

from tests.conformance.validator import Spec

LATEST = Spec("latest")
SEED = Spec("seed")


def test_events_are_checked_against_their_own_schema():
    assert LATEST.event_problems("content", '{"type":"content","content":"hi"}', "3", 30000) == []
    assert LATEST.event_problems("tool", '{"type":"tool"}', "3", None)  # seed-only event
    assert SEED.event_problems("user_message_created", '{"type":"x"}', "3", None)  # latest-only event
    missing = LATEST.event_problems("tool_use_start", '{"type":"tool_use_start","id":"t1"}', "4", None)
    assert missing and "name" in missing[0]
    bad_tool = LATEST.event_problems("tool_execution_start", '{"type":"t","toolName":"ls","progress":"p","toolCallId":"1"}',
                                     "5", None)
    assert bad_tool  # `ls` is neither a core tool name nor server_tool
    duration = LATEST.event_problems("complete", '{"type":"complete","done":true,"reasoningDuration":0.5}', "6", None)
    assert duration and "integer" in duration[0]


def test_responses_are_checked_by_openapi_core():
    grant = httpx.Request("POST", "http://127.0.0.1:1/api/permissions/p1/grant")
    json_headers = httpx.Headers({"content-type": "application/json"})
    assert LATEST.response_problems(grant, 200, json_headers, b'{"granted":true}') == []
    assert LATEST.response_problems(grant, 200, json_headers, b'{"granted":"yes"}')
    assert LATEST.response_problems(grant, 418, json_headers, b"{}")  # not documented
    error = b'{"error":{"code":400,"message":"m","type":"OAUTH_NOT_SUPPORTED"}}'
    oauth = httpx.Request("POST", "http://127.0.0.1:1/api/auth/oauth/anthropic")
    assert LATEST.response_problems(oauth, 400, json_headers, error)  # type outside the spec's enum
