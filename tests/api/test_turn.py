"""TurnModel: every event kind folded into blocks, tools, permissions and the final state."""

from __future__ import annotations

import time

import pytest

from tui.api import events as ev
from tui.api.turn import TextBlock, ThinkingBlock, ToolCall, ToolStatus, TurnModel, TurnStatus


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def turn(clock: Clock) -> TurnModel:
    return TurnModel(user_text="hi", clock=clock)


def feed(turn: TurnModel, *events: ev.Event) -> list[bool]:
    return [turn.apply(e) for e in events]


def test_text_deltas_accumulate_and_bump_the_version(turn):
    assert feed(turn, ev.ContentDelta("Hel"), ev.ContentDelta("lo")) == [True, True]
    assert turn.version == 2
    assert [type(b) for b in turn.blocks] == [TextBlock]
    assert turn.answer == turn.final_text == "Hello"
    assert turn.status is TurnStatus.STREAMING and not turn.status.finished


def test_many_deltas_join_lazily_and_stay_correct(turn):
    for i in range(3000):
        turn.apply(ev.ContentDelta(f"{i % 10}"))
        if i == 1500:
            assert turn.final_text == "".join(str(n % 10) for n in range(1501))
    assert turn.final_text == "".join(str(n % 10) for n in range(3000))
    assert turn.blocks[0].content.length == 3000


def test_applying_deltas_is_cheap(clock):
    turn = TurnModel(clock=clock)
    deltas = [ev.ContentDelta(" word") for _ in range(30_000)]
    t0 = time.perf_counter()
    for d in deltas:
        turn.apply(d)
    assert time.perf_counter() - t0 < 1.0  # ~30 µs per delta would already be far too slow
    assert len(turn.final_text) == 150_000


def test_thinking_then_answer_measures_thinking(turn, clock):
    turn.apply(ev.ThinkingDelta("Let me "))
    clock.advance(1.5)
    turn.apply(ev.ThinkingDelta("think."))
    clock.advance(0.5)
    turn.apply(ev.ContentDelta("Answer"))
    thinking, text = turn.blocks
    assert isinstance(thinking, ThinkingBlock) and thinking.text == "Let me think." and thinking.duration == 2.0
    assert text.text == "Answer" and turn.thinking == "Let me think."


def test_complete_overrides_measured_thinking_and_fixes_dropped_deltas(turn):
    feed(turn, ev.ThinkingDelta("hm"), ev.ContentDelta("The answ"))  # deltas were dropped by the server
    turn.apply(ev.Complete(content="The answer.", message_id="m1", reasoning="hm", reasoning_duration=4))
    assert turn.final_text == "The answer."
    assert turn.blocks[0].duration == 4.0
    assert turn.status is TurnStatus.COMPLETE and turn.message_id == "m1" and turn.finished_at is not None


def test_complete_with_reasoning_but_no_streamed_thinking_adds_the_block(turn):
    turn.apply(ev.Complete(content="Done", reasoning="why", reasoning_duration=1))
    assert [type(b) for b in turn.blocks] == [ThinkingBlock, TextBlock]
    assert turn.thinking == "why" and turn.blocks[0].duration == 1.0 and turn.final_text == "Done"


def test_complete_after_a_tool_adds_its_content_as_a_new_block(turn):
    feed(turn, ev.ContentDelta("Running."), ev.ToolSnapshot("t1", "bash", "", "completed"))
    turn.apply(ev.Complete(content="All done."))
    assert [type(b) for b in turn.blocks] == [TextBlock, ToolCall, TextBlock]
    assert turn.final_text == "All done." and turn.answer == "Running.\n\nAll done."  # a tool call between: two paragraphs


def test_nothing_changes_after_the_turn_ended(turn):
    feed(turn, ev.ContentDelta("x"), ev.Complete(content="x"))
    version = turn.version
    assert feed(turn, ev.ContentDelta("late"), ev.Error("late error")) == [False, False]
    assert turn.version == version and turn.final_text == "x" and turn.error is None


def test_seed_tool_snapshots_merge_by_id(turn):
    feed(turn,
         ev.ToolSnapshot("t1", "bash", "", "running"),
         ev.ToolSnapshot("t1", "bash", "", "completed"),
         ev.ToolSnapshot("t2", "write", "", "running"))
    assert list(turn.tools) == ["t1", "t2"]
    assert turn.tools["t1"].status is ToolStatus.READY and turn.tools["t2"].status is ToolStatus.PREPARING
    turn.apply(ev.ToolSnapshot("t1", "bash", '{"command":"ls"}', "completed"))
    assert turn.tools["t1"].params == {"command": "ls"}
    assert len(turn.tool_calls) == 2


def test_latest_tool_parameter_streaming(turn):
    turn.apply(ev.ToolUseStart("t1", "Write"))
    turn.apply(ev.ToolParameterDelta("t1", '{"file_path": "a.md", '))
    tool = turn.tools["t1"]
    assert tool.status is ToolStatus.PREPARING and tool.params is None  # not parseable yet
    turn.apply(ev.ToolParameterDelta("t1", '"content": "x"}'))
    assert tool.params == {"file_path": "a.md", "content": "x"}
    turn.apply(ev.ToolParametersComplete("t1", "Write", '{"file_path":"a.md","content":"x"}'))
    assert tool.status is ToolStatus.READY and tool.input == '{"file_path":"a.md","content":"x"}'
    assert tool.kind == "write"


def test_execution_times_the_tool(turn, clock):
    turn.apply(ev.ToolSnapshot("t1", "bash", "", "completed"))
    turn.apply(ev.ToolExecutionStart("t1", "bash", "Executing bash tool"))
    tool = turn.tools["t1"]
    assert tool.status is ToolStatus.RUNNING and tool.progress == "Executing bash tool"
    clock.advance(2.5)
    assert tool.duration == 2.5  # still running: measured up to now
    clock.advance(0.5)
    turn.apply(ev.ToolExecutionComplete("t1", "", "Completed bash tool in 3s", True))
    clock.advance(10)
    assert tool.status is ToolStatus.DONE and tool.success is True and tool.duration == 3.0
    assert tool.name == "bash"  # an empty toolName does not erase the name


def test_failed_execution_and_unknown_tool_ids(turn):
    turn.apply(ev.ToolExecutionComplete("t9", "grep", "Failed grep tool after 1s: boom", False))
    tool = turn.tools["t9"]
    assert tool.status is ToolStatus.FAILED and tool.success is False and tool.name == "grep"
    assert tool.duration == 0.0


def test_params_of_non_object_and_bad_json(turn):
    turn.apply(ev.ToolSnapshot("a", "x", "[1, 2]", "completed"))
    turn.apply(ev.ToolSnapshot("b", "x", "{broken", "completed"))
    assert turn.tools["a"].params == {"value": [1, 2]}
    assert turn.tools["b"].params is None


def test_tool_kind_aliases():
    assert ToolCall("1", "TodoWrite").kind == "todo_write"
    assert ToolCall("1", "ExitPlanMode").kind == "exit_plan_mode"
    assert ToolCall("1", "ReadText").kind == "read"
    assert ToolCall("1", "Bash").kind == "bash"


def _permission(pid: str = "p1", tool: str = "bash") -> ev.PermissionRequest:
    return ev.PermissionRequest(pid, "s", tool, f"Execute command: {pid}", "execute", "/tmp", {"command": "ls"})


def test_permission_attaches_to_the_running_call_of_that_tool(turn, clock):
    feed(turn, ev.ToolSnapshot("t1", "Bash", "", "completed"), ev.ToolExecutionStart("t1", "", "Executing Bash tool"))
    turn.apply(_permission(tool="bash"))  # names differ in case across generations
    tool = turn.tools["t1"]
    assert tool.status is ToolStatus.WAITING_PERMISSION
    assert [p.request.id for p in turn.pending_permissions] == ["p1"]
    state = turn.pending_permissions[0]
    clock.advance(12)
    assert state.seconds_left() == 18.0 and state.deadline == 130.0
    version = turn.version
    assert turn.answer_permission("p1", True) is True
    assert turn.version == version + 1
    assert tool.status is ToolStatus.RUNNING and tool.permission.answer is True
    assert turn.pending_permissions == []
    assert turn.answer_permission("p1", False) is False  # already answered
    assert turn.answer_permission("unknown", True) is False


def test_permission_without_a_running_call_is_still_pending(turn):
    turn.apply(_permission("p2", "write"))
    assert [p.request.id for p in turn.pending_permissions] == ["p2"]
    assert turn.answer_permission("p2", False)
    assert turn.pending_permissions == []


def test_server_settles_an_unanswered_permission(turn):
    feed(turn, ev.ToolExecutionStart("t1", "bash"), _permission())
    turn.apply(ev.ToolExecutionComplete("t1", "bash", "Failed bash tool after 30s: permission denied", False))
    tool = turn.tools["t1"]
    assert tool.permission.answer is False and tool.status is ToolStatus.FAILED
    assert turn.pending_permissions == []


def test_error_ends_the_turn_and_fails_what_was_running(turn):
    feed(turn, ev.ToolExecutionStart("t1", "bash"), _permission(), _permission("p-orphan", "write"))
    turn.apply(ev.Error("failed to process events: overloaded"))
    assert turn.status is TurnStatus.ERROR and turn.error.error == "failed to process events: overloaded"
    assert turn.tools["t1"].status is ToolStatus.FAILED and turn.tools["t1"].finished_at is not None
    assert turn.pending_permissions == []  # pending requests are denied with the turn


@pytest.mark.parametrize("message", ["request cancelled by user", "context canceled", "Context Cancelled while waiting"])
def test_cancel_messages_mean_cancelled(turn, message):
    turn.apply(ev.Error(message))
    assert turn.status is TurnStatus.CANCELLED


def test_rate_limits(turn, clock):
    turn.apply(ev.RateLimitError("rate_limit_error: slow down", retry_after=60, attempt=1, max_attempts=8))
    assert turn.status is TurnStatus.RATE_LIMITED and turn.error.retry_after == 60
    other = TurnModel(clock=clock)
    other.apply(ev.Error("too many", type="rate_limit_error"))
    assert other.status is TurnStatus.RATE_LIMITED


def test_complete_keeps_tools_as_they_were(turn):
    feed(turn, ev.ToolSnapshot("t1", "bash", "{}", "completed"))
    turn.apply(ev.Complete(content="ok"))
    assert turn.tools["t1"].status is ToolStatus.READY  # never executed, but the turn did not fail


def test_mark_cancelled_and_fail(clock):
    a = TurnModel(clock=clock)
    a.apply(ev.ContentDelta("partial"))
    a.mark_cancelled()
    assert a.status is TurnStatus.CANCELLED and a.final_text == "partial"
    a.mark_cancelled()  # idempotent
    b = TurnModel(clock=clock)
    b.fail("Not sent: refused")
    assert b.status is TurnStatus.ERROR and b.error.type == "client_error" and b.error.error == "Not sent: refused"
    b.fail("again")
    assert b.error.error == "Not sent: refused"


def test_user_message_created(clock):
    turn = TurnModel(clock=clock)
    turn.apply(ev.UserMessageCreated("u1", "typed elsewhere"))
    assert turn.user_message_id == "u1" and turn.user_text == "typed elsewhere"
    mine = TurnModel(user_text="mine", clock=clock)
    mine.apply(ev.UserMessageCreated("u2", "server copy"))
    assert mine.user_text == "mine" and mine.user_message_id == "u2"
    assert mine.apply(ev.UserMessageCreated("u3", "sub", parent_tool_call_id="t")) is False
    assert mine.user_message_id == "u2"


def test_sub_agent_output_goes_to_its_tool_call(turn):
    feed(turn, ev.ToolUseStart("task1", "Task"), ev.ToolExecutionStart("task1", "Task"))
    assert turn.apply(ev.ContentDelta("sub says", parent_tool_call_id="task1")) is True
    assert turn.tools["task1"].sub_agent_text.text == "sub says"
    assert turn.apply(ev.ContentDelta("nobody", parent_tool_call_id="missing")) is False
    assert turn.apply(ev.ThinkingDelta("hm", parent_tool_call_id="task1")) is False
    assert turn.apply(ev.ToolUseStart("inner", "Bash", parent_tool_call_id="task1")) is False
    assert turn.apply(ev.ToolExecutionStart("inner", "Bash", parent_tool_call_id="task1")) is False
    assert turn.apply(ev.ToolExecutionComplete("inner", "Bash", parent_tool_call_id="task1")) is False
    assert turn.apply(ev.Complete(content="sub done", parent_tool_call_id="task1")) is False
    assert turn.apply(ev.Error("sub failed", parent_tool_call_id="task1")) is False
    assert list(turn.tools) == ["task1"] and turn.answer == ""
    assert turn.status is TurnStatus.STREAMING


def test_events_without_meaning_for_a_turn_change_nothing(turn):
    for event in (ev.Heartbeat(), ev.Connected("s"), ev.UnknownEvent("x", "{}"), ev.MalformedEvent("content", "{", "bad"),
                  ev.ConnectionChanged("reconnecting", 1, 0.5), ev.SessionCreated("s2"), ev.Resynced("s", ())):
        assert turn.apply(event) is False
    assert turn.version == 0 and turn.blocks == []


def test_turn_duration_uses_its_clock(clock):
    turn = TurnModel(clock=clock)
    clock.advance(3)
    assert turn.duration == 3.0
    turn.apply(ev.Complete(content="x"))
    clock.advance(100)
    assert turn.duration == 3.0
