"""The tools on their own: confinement, permission flow, plan mode, limits, the execution events."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.server_agent.context import RecordingContext
from tui.server.agent import TOOL_SPECS, execute_tool, get_todos
from tui.server.agent.base import go_duration, split_chunks
from tui.server.agent.shell import OUTPUT_CAP

CALL = "toolu_01TestCall000000000000"


def test_specs_are_complete_json_schemas():
    names = [spec.name for spec in TOOL_SPECS]
    assert names == ["ls", "glob", "read", "grep", "write", "edit", "bash", "todo_write", "exit_plan_mode", "ask_user"]
    for spec in TOOL_SPECS:
        assert spec.input_schema["type"] == "object"
        assert set(spec.input_schema["required"]) <= set(spec.input_schema["properties"])
        assert spec.description
    assert {s.name for s in TOOL_SPECS if not s.read_only} == {"write", "edit", "bash"}


def test_go_duration_and_chunks():
    assert go_duration(0.018402) == "18.402ms"
    assert go_duration(4.211) == "4.211s"
    assert go_duration(62.5) == "1m2.5s"
    assert go_duration(0.0000005) == "500ns"
    text = "Hello  world,\n\n```py\nx = 1\n```\n"
    assert "".join(split_chunks(text)) == text
    assert len(split_chunks(text)) > 3


async def test_read_only_tool_emits_start_and_complete(ctx: RecordingContext, session_dir: Path):
    (session_dir / "a.txt").write_text("one\ntwo\n")
    result = await execute_tool(ctx, CALL, "ls", {})
    assert not result.is_error and "a.txt  (8 bytes)" in result.text
    assert ctx.names() == ["tool_execution_start", "tool_execution_complete"]
    start, done = ctx.of("tool_execution_start")[0], ctx.of("tool_execution_complete")[0]
    assert list(start) == ["type", "toolName", "progress", "toolCallId"]
    assert start == {"type": "tool_execution_start", "toolName": "ls", "progress": "Executing ls tool", "toolCallId": CALL}
    assert list(done) == ["type", "toolName", "progress", "success", "toolCallId"]
    assert re.fullmatch(r"Completed ls tool in [\d.]+(ns|µs|ms|s)", done["progress"]) and done["success"] is True


async def test_ls_hides_thumbnail_cache_and_marks_folders(ctx, session_dir):
    (session_dir / ".thumbnails").mkdir()
    (session_dir / "docs").mkdir()
    result = await execute_tool(ctx, CALL, "ls", {})
    assert result.text == "docs/"
    assert (await execute_tool(ctx, CALL, "ls", {"path": "missing"})).is_error


async def test_read_numbers_lines_and_honours_limit(ctx, session_dir):
    (session_dir / "long.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    result = await execute_tool(ctx, CALL, "read", {"file_path": "long.txt", "limit": 3, "offset": 2})
    assert result.text.splitlines()[0] == "     3\tline 3"
    assert result.metadata["content"] == "line 3\nline 4\nline 5"
    assert "5 more lines; read again with offset 5" in result.text
    (session_dir / "bin.dat").write_bytes(b"\x00\x01\x02")
    binary = await execute_tool(ctx, CALL, "read", {"file_path": "bin.dat"})
    assert binary.is_error and "binary" in binary.text
    missing = await execute_tool(ctx, CALL, "read", {"file_path": "nope.txt"})
    assert missing.is_error and "not found" in missing.text
    bad = await execute_tool(ctx, CALL, "read", {"file_path": "long.txt", "limit": "ten"})
    assert bad.is_error and "limit" in bad.text


async def test_grep_regex_literal_include_and_bad_pattern(ctx, session_dir):
    (session_dir / "src").mkdir()
    (session_dir / "src" / "a.py").write_text("def main():\n    return 1  # TODO\n")
    (session_dir / "notes.md").write_text("TODO: write docs\nfoo(bar)\n")
    result = await execute_tool(ctx, CALL, "grep", {"pattern": r"TODO"})
    assert result.text.splitlines() == ["notes.md:1: TODO: write docs", "src/a.py:2:     return 1  # TODO"]
    only_py = await execute_tool(ctx, CALL, "grep", {"pattern": "TODO", "include": "*.py"})
    assert [m["path"] for m in only_py.metadata["matches"]] == ["src/a.py"]
    literal = await execute_tool(ctx, CALL, "grep", {"pattern": "foo(bar)", "literal": True})
    assert literal.metadata["matches"][0]["line"] == 2
    regex = await execute_tool(ctx, CALL, "grep", {"pattern": r"^def \w+", "path": "src"})
    assert regex.metadata["matches"][0]["text"] == "def main():"
    broken = await execute_tool(ctx, CALL, "grep", {"pattern": "foo(("})
    assert broken.is_error and "invalid regular expression" in broken.text


async def test_glob_matches_nested_paths(ctx, session_dir):
    (session_dir / "docs").mkdir()
    (session_dir / "docs" / "a.md").write_text("x")
    (session_dir / "b.md").write_text("x")
    (session_dir / "c.txt").write_text("x")
    result = await execute_tool(ctx, CALL, "glob", {"pattern": "**/*.md"})
    assert result.metadata["matches"] == ["b.md", "docs/a.md"]
    assert (await execute_tool(ctx, CALL, "glob", {"pattern": "*.txt"})).metadata["matches"] == ["c.txt"]


# ------------------------------------------------------------------------- confinement

def _escapes(session_dir: Path, outside: Path) -> dict[str, str]:
    link = session_dir / "sneaky"
    link.symlink_to(outside, target_is_directory=True)
    (session_dir / "leak.txt").symlink_to(outside / "secret.txt")
    return {"dotdot": "../outside/secret.txt", "absolute": str(outside / "secret.txt"),
            "symlink_dir": "sneaky/secret.txt", "symlink_file": "leak.txt"}


@pytest.mark.parametrize("how", ["dotdot", "absolute", "symlink_dir", "symlink_file"])
@pytest.mark.parametrize("tool", ["ls", "glob", "read", "grep", "write", "edit"])
async def test_every_path_tool_refuses_to_leave_the_session_folder(tool, how, session_dir, outside):
    ctx = RecordingContext(session_dir)
    target = _escapes(session_dir, outside)[how]
    folder = str(Path(target).parent) if how != "symlink_file" else "sneaky"
    params = {
        "ls": {"path": folder if how != "symlink_file" else "sneaky"},
        "glob": {"pattern": "*.txt", "path": folder if how != "symlink_file" else "sneaky"},
        "read": {"file_path": target},
        "grep": {"pattern": "secret", "path": target},
        "write": {"file_path": target, "content": "pwned\n"},
        "edit": {"file_path": target, "old_string": "top secret", "new_string": "pwned"},
    }[tool]
    result = await execute_tool(ctx, CALL, tool, params)
    assert result.is_error, result.text
    assert "outside the session folder" in result.text
    assert "top secret" not in result.text
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert "permission" not in ctx.names()  # refused before anyone is asked


async def test_glob_and_grep_over_the_folder_skip_links_that_point_out(ctx, session_dir, outside):
    _escapes(session_dir, outside)
    (session_dir / "own.txt").write_text("secret but mine\n")
    grep = await execute_tool(ctx, CALL, "grep", {"pattern": "secret"})
    assert [m["path"] for m in grep.metadata["matches"]] == ["own.txt"]
    glob = await execute_tool(ctx, CALL, "glob", {"pattern": "**/*.txt"})
    assert glob.metadata["matches"] == ["own.txt"]
    listing = await execute_tool(ctx, CALL, "ls", {})
    assert "leak.txt  (link to outside the session folder, not followed)" in listing.text
    assert "(11 bytes)" not in listing.text  # the outside file's size does not leak either
    assert (await execute_tool(ctx, CALL, "glob", {"pattern": "../*"})).is_error


async def test_paths_inside_are_fine_even_absolute_or_with_inner_dotdot(ctx, session_dir):
    (session_dir / "sub").mkdir()
    (session_dir / "a.txt").write_text("hello\n")
    assert not (await execute_tool(ctx, CALL, "read", {"file_path": "sub/../a.txt"})).is_error
    assert not (await execute_tool(ctx, CALL, "read", {"file_path": str(session_dir / "a.txt")})).is_error


# ---------------------------------------------------------------------- permission flow

async def test_write_granted_creates_file_with_diff_in_permission(ctx, session_dir):
    result = await execute_tool(ctx, CALL, "write", {"file_path": "notes.md", "content": "hello\n"})
    assert not result.is_error and result.text == "Created notes.md (6 bytes)."
    assert (session_dir / "notes.md").read_text() == "hello\n"
    assert ctx.names() == ["tool_execution_start", "permission", "tool_execution_complete"]
    perm = ctx.of("permission")[0]
    assert list(perm) == ["type", "id", "sessionId", "toolName", "description", "action", "path", "params"]
    assert perm["toolName"] == "write" and perm["action"] == "write"
    assert perm["description"] == "Create file notes.md"
    assert perm["path"] == str(session_dir)
    assert perm["params"]["file_path"] == str((session_dir / "notes.md").resolve())
    assert perm["params"]["diff"] == "--- a/notes.md\n+++ b/notes.md\n@@ -0,0 +1 @@\n+hello\n"
    assert ctx.of("tool_execution_complete")[0]["success"] is True


async def test_write_denied_leaves_nothing(session_dir):
    ctx = RecordingContext(session_dir, permission_answer="deny")
    result = await execute_tool(ctx, CALL, "write", {"file_path": "notes.md", "content": "hello\n"})
    assert result.is_error and result.metadata["denied"]
    assert not (session_dir / "notes.md").exists()
    done = ctx.of("tool_execution_complete")[0]
    assert done["success"] is False
    assert re.fullmatch(r"Failed write tool after [\d.]+(ns|µs|ms|s): permission denied", done["progress"])


async def test_permission_timeout_counts_as_denied(session_dir):
    ctx = RecordingContext(session_dir, permission_answer="timeout", permission_timeout=0.02)
    result = await execute_tool(ctx, CALL, "bash", {"command": "touch made.txt"})
    assert result.metadata.get("denied") and not (session_dir / "made.txt").exists()
    assert ctx.of("tool_execution_complete")[0]["progress"].endswith(": permission denied")


async def test_edit_replaces_exactly_once_or_all(ctx, session_dir):
    f = session_dir / "a.txt"
    f.write_text("red fish\nblue fish\n")
    twice = await execute_tool(ctx, CALL, "edit", {"file_path": "a.txt", "old_string": "fish", "new_string": "cat"})
    assert twice.is_error and "occurs 2 times" in twice.text and "permission" not in ctx.names()
    once = await execute_tool(ctx, CALL, "edit", {"file_path": "a.txt", "old_string": "red", "new_string": "green"})
    assert not once.is_error and f.read_text() == "green fish\nblue fish\n"
    perm = ctx.of("permission")[-1]
    assert perm["description"] == "Replace content in file a.txt" and perm["action"] == "write"
    assert "-red fish\n+green fish\n" in perm["params"]["diff"]
    every = await execute_tool(ctx, CALL, "edit", {"file_path": "a.txt", "old_string": "fish", "new_string": "",
                                                   "replace_all": True})
    assert not every.is_error and f.read_text() == "green \nblue \n"
    assert ctx.of("permission")[-1]["description"] == "Delete content from file a.txt"
    missing = await execute_tool(ctx, CALL, "edit", {"file_path": "a.txt", "old_string": "zebra", "new_string": "x"})
    assert missing.is_error and "not found" in missing.text


async def test_bash_runs_in_session_folder_with_permission_fields(ctx, session_dir):
    result = await execute_tool(ctx, CALL, "bash", {"command": "pwd; echo out; echo err >&2"})
    assert not result.is_error
    assert result.metadata["output"].splitlines() == [str(session_dir.resolve()), "out", "err"]
    perm = ctx.of("permission")[0]
    assert perm["description"] == perm["action"] == "Execute command: pwd; echo out; echo err >&2"
    assert perm["params"] == {"command": "pwd; echo out; echo err >&2", "timeout": 0}
    assert perm["path"] == str(session_dir)


async def test_bash_failure_is_an_error_result_but_a_completed_execution(ctx):
    result = await execute_tool(ctx, CALL, "bash", {"command": "echo nope; exit 3"})
    assert result.is_error and result.metadata["exit_code"] == 3
    assert result.text == "nope\n[exit code 3]"
    assert ctx.of("tool_execution_complete")[0]["success"] is True


async def test_bash_timeout_kills_the_command(ctx, session_dir):
    result = await execute_tool(ctx, CALL, "bash", {"command": "echo started; sleep 5; touch late.txt", "timeout": 0.3})
    assert result.is_error and result.metadata["timed_out"]
    assert "started" in result.text and "timed out after 0.3 s" in result.text
    assert ctx.of("permission")[0]["params"]["timeout"] == 0.3
    assert not (session_dir / "late.txt").exists()


async def test_bash_output_is_capped_and_says_so(ctx):
    result = await execute_tool(ctx, CALL, "bash", {"command": "head -c 100000 /dev/zero | tr '\\0' a"})
    assert result.metadata["truncated"] and len(result.metadata["output"]) == OUTPUT_CAP
    assert "[output truncated" in result.text


@pytest.mark.parametrize("tool,params", [
    ("write", {"file_path": "x.txt", "content": "x"}),
    ("edit", {"file_path": "a.txt", "old_string": "a", "new_string": "b"}),
    ("bash", {"command": "touch x.txt"}),
])
async def test_plan_mode_refuses_changes_without_asking(tool, params, session_dir):
    (session_dir / "a.txt").write_text("a\n")
    ctx = RecordingContext(session_dir, plan_mode=True)
    result = await execute_tool(ctx, CALL, tool, params)
    assert result.is_error and "plan mode is on: the agent may only read" in result.text
    assert ctx.names() == ["tool_execution_start", "tool_execution_complete"]
    assert ctx.of("tool_execution_complete")[0]["success"] is False
    assert not (session_dir / "x.txt").exists() and (session_dir / "a.txt").read_text() == "a\n"
    # reading still works in plan mode
    assert not (await execute_tool(ctx, CALL, "read", {"file_path": "a.txt"})).is_error


async def test_todo_write_validates_and_keeps_the_list_per_session(session_dir):
    ctx = RecordingContext(session_dir)
    other = RecordingContext(session_dir)
    todos = [{"content": "Write tests", "status": "in_progress"}, {"content": "Ship", "status": "pending"}]
    result = await execute_tool(ctx, CALL, "todo_write", {"todos": todos})
    assert result.text == "Todo list updated: 0 of 2 done." and "permission" not in ctx.names()
    assert [t["status"] for t in get_todos(ctx.session_id)] == ["in_progress", "pending"]
    assert get_todos(other.session_id) == []
    bad = await execute_tool(ctx, CALL, "todo_write", {"todos": [{"content": "x", "status": "later"}]})
    assert bad.is_error and "pending, in_progress or completed" in bad.text
    assert len(get_todos(ctx.session_id)) == 2  # a bad update loses nothing


async def test_unknown_tool_and_bad_params_are_tool_errors(ctx):
    unknown = await execute_tool(ctx, CALL, "teleport", {})
    assert unknown.is_error and "unknown tool" in unknown.text and "bash" in unknown.text
    missing = await execute_tool(ctx, CALL, "write", {"content": "x"})
    assert missing.is_error and "missing parameter: file_path" in missing.text
    plan = await execute_tool(ctx, CALL, "exit_plan_mode", {"plan": "## Plan\n1. a"})
    assert not plan.is_error and plan.metadata["plan"].startswith("## Plan")


async def test_big_changes_keep_the_prompt_small_and_big_files_are_refused(ctx, session_dir):
    from tui.server.agent.tools import MAX_DIFF_CHARS, MAX_TEXT_BYTES

    content = "x" * 80 + "\n"
    result = await execute_tool(ctx, CALL, "write", {"file_path": "big.txt", "content": content * 3000})
    assert not result.is_error and (session_dir / "big.txt").stat().st_size == 81 * 3000
    diff = ctx.of("permission")[0]["params"]["diff"]
    assert len(diff) < MAX_DIFF_CHARS + 100 and diff.endswith(f"[diff cut after {MAX_DIFF_CHARS} characters]\n")
    with (session_dir / "huge.log").open("wb") as handle:
        handle.truncate(MAX_TEXT_BYTES + 1)
    refused = await execute_tool(ctx, CALL, "read", {"file_path": "huge.log"})
    assert refused.is_error and "too big" in refused.text


async def test_diff_marks_a_missing_final_newline(ctx, session_dir):
    await execute_tool(ctx, CALL, "write", {"file_path": "a.txt", "content": "no newline"})
    assert ctx.of("permission")[0]["params"]["diff"].endswith("+no newline\n\\ No newline at end of file\n")
