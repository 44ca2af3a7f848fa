"""Stored session rows become a conversation every provider accepts."""

from __future__ import annotations

from tui.server.providers.agent import history_messages


def test_calls_and_results_pair_up_and_orphans_are_fixed():
    history = [
        {"role": "user", "text": "list", "tool_calls": [], "reasoning": ""},
        {"role": "assistant", "text": "Looking.", "reasoning": "r",
         "tool_calls": [{"id": "a", "name": "ls", "input": "{}"}, {"id": "b", "name": "read", "input": "{\"file_path\":\"x\"}"}]},
        {"role": "tool", "text": "", "tool_calls": [{"id": "a", "name": "ls", "result": "x", "isError": False}]},
        {"role": "tool", "text": "", "tool_calls": [{"id": "zz", "name": "ls", "result": "stray"}]},  # no call
        {"role": "assistant", "text": "", "tool_calls": []},  # canceled before saying anything
        {"role": "user", "text": "!ls", "tool_calls": []},
        {"role": "assistant", "text": "```\nx\n```", "tool_calls": []},  # a ! command's output
        {"role": "assistant", "text": "", "tool_calls": [{"id": "c", "name": "bash", "input": "not json"}]},
    ]
    out = history_messages(history)
    assert [m.role for m in out] == ["user", "assistant", "tool", "user", "assistant", "assistant", "tool"]
    assert [c.input for c in out[1].tool_calls] == [{}, {"file_path": "x"}]
    results = {r.call_id: r for r in out[2].results}
    assert results["a"].text == "x" and not results["a"].is_error
    assert results["b"].is_error and "no result" in results["b"].text  # a call whose result was never stored
    assert out[5].tool_calls[0].input == {} and out[6].results[0].call_id == "c"
