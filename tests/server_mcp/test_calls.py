"""MCP tool calls end to end: through the same permission prompt as our own tools (showing the server,
the tool and the arguments), read-only servers without one, errors and hangs as error results that
never block a turn, and a real provider (the Anthropic and OpenAI fakes) calling an MCP tool."""

from __future__ import annotations

import pytest

from tests.fakes import anthropic_server as fa
from tests.fakes import openai_server as fo
from tests.fixtures.mix_server import async_running_server
from tests.server_mcp.support import QUICK, Turn, connected, of, stdio
from tui.config import Config


async def test_offline_call_asks_with_server_tool_and_arguments_then_runs(mcp_host):
    turn = Turn(mcp_host)
    frames = await turn.run('call demo.shout {"text": "hi there"}', answer=True)
    permission = of(frames, "permission")[0]
    assert permission["toolName"] == "demo_shout"
    assert permission["description"] == "Call shout on the MCP server demo"
    assert permission["params"] == {"server": "demo", "tool": "shout", "arguments": '{"text":"hi there"}'}
    complete = of(frames, "complete")[0]
    assert "`demo_shout` answered" in complete["content"] and "HI THERE!" in complete["content"]
    # the tool card: the call with its input, then its stored result
    assert of(frames, "tool")[-1] == {"type": "tool", "name": "demo_shout", "input": '{"text":"hi there"}',
                                      "id": permission_call_id(frames), "status": "completed"}
    stored = turn.stored()
    call = stored[1]["toolCalls"][0]
    assert call["name"] == "demo_shout" and call["result"] == "HI THERE!" and call["isError"] is False


def permission_call_id(frames) -> str:
    return of(frames, "tool_execution_start")[0]["toolCallId"]


async def test_denied_call_does_not_run(mcp_host):
    turn = Turn(mcp_host)
    frames = await turn.run("call demo.count", answer=False)
    assert of(frames, "tool_execution_complete")[0]["success"] is False
    assert "Permission was denied" in of(frames, "complete")[0]["content"]
    # count was never called: the next (granted) call is the first
    frames = await turn.run("call demo.count", answer=True, session=turn.session)
    assert "```\n1\n```" in of(frames, "complete")[0]["content"]


async def test_read_only_server_runs_without_asking_also_in_plan_mode(mcp_host):
    turn = Turn(mcp_host)
    frames = await turn.run('call reader.shout {"text": "quiet"}', plan_mode=True)
    assert of(frames, "permission") == []
    assert "QUIET!" in of(frames, "complete")[0]["content"]
    frames = await turn.run('call demo.shout {"text": "loud"}', plan_mode=True)
    assert of(frames, "permission") == [] and "plan mode is on" in of(frames, "complete")[0]["content"]


async def test_error_result_and_ambiguous_or_unknown_names(mcp_host):
    turn = Turn(mcp_host)
    frames = await turn.run("call demo_fail", answer=True)
    content = of(frames, "complete")[0]["content"]
    assert "`demo_fail` failed: Error executing tool fail: the fail tool failed, as asked" in content
    assert turn.stored()[1]["toolCalls"][0]["isError"] is True
    content = of(await turn.run("call shout"), "complete")[0]["content"]
    assert "can't tell which MCP tool `shout` is" in content and "`demo_shout`" in content and "`reader_shout`" in content
    content = of(await turn.run("call demo.shout {text: hi}"), "complete")[0]["content"]
    assert "The arguments for `demo_shout` are not valid JSON" in content
    content = of(await turn.run("call nothing.here"), "complete")[0]["content"]
    assert "can't tell which MCP tool `nothing.here` is" in content


async def test_a_hung_tool_times_out_and_the_server_stays_usable(mcp_host):
    turn = Turn(mcp_host)
    frames = await turn.run("call demo.hang", answer=True)
    content = of(frames, "complete")[0]["content"]
    assert "did not answer within 2 s; the call was abandoned" in content
    frames = await turn.run('call demo.shout {"text": "still here"}', answer=True, session=turn.session)
    assert "STILL HERE!" in of(frames, "complete")[0]["content"]


async def test_image_results_are_described_to_the_model(mcp_host):
    turn = Turn(mcp_host)
    frames = await turn.run("call reader.picture")
    assert "[image: image/png, 69 bytes]" in of(frames, "complete")[0]["content"]


# ---------------------------------------------------------------- real providers (fakes)


@pytest.mark.parametrize("flavour", ["anthropic", "openai"])
async def test_a_model_calls_an_mcp_tool_after_permission_and_reads_the_result(tmp_path, monkeypatch, flavour):
    fake_module, key_var = (fa, "ANTHROPIC_API_KEY") if flavour == "anthropic" else (fo, "OPENAI_API_KEY")
    running = fa.running_fake_anthropic() if flavour == "anthropic" else fo.running_fake_openai()
    with running as fake:
        monkeypatch.setenv(key_var, fake_module.API_KEY)
        monkeypatch.setenv(f"MIX_TUI_{flavour.upper()}_BASE_URL", fake.base_url)
        fake.script(fake_module.Reply.call("tools_shout", {"text": "from the model"}),
                    fake_module.Reply.say("The server shouted back."))
        config = Config(mcp_servers=[stdio("tools")])
        async with async_running_server(tmp_path, config=config, send_mode="async", mcp_options=QUICK) as server:
            with server.client() as c:
                connected(c, "tools")
            turn = Turn(server)
            frames = await turn.run("shout it", answer=True)
        first, second = fake.requests
    permission = of(frames, "permission")[0]
    assert permission["toolName"] == "tools_shout" and permission["params"]["server"] == "tools"
    assert of(frames, "complete")[0]["content"] == "The server shouted back."
    offered = _offered_tools(first.body, flavour)
    assert {"ls", "read", "bash"} <= set(offered)
    assert offered["tools_shout"]["schema"]["properties"] == {"text": {"title": "Text", "type": "string"}}
    assert offered["tools_shout"]["description"].startswith("[MCP server tools] Return the text in capitals")
    if flavour == "anthropic":
        assert second.tool_results()[0]["content"] == "FROM THE MODEL!"
    else:
        assert second.tool_messages()[0]["content"] == "FROM THE MODEL!"


async def test_images_from_an_mcp_tool_reach_anthropic_as_image_blocks(tmp_path, monkeypatch):
    with fa.running_fake_anthropic() as fake:
        monkeypatch.setenv("ANTHROPIC_API_KEY", fa.API_KEY)
        monkeypatch.setenv("MIX_TUI_ANTHROPIC_BASE_URL", fake.base_url)
        fake.script(fa.Reply.call("tools_picture", {}), fa.Reply.say("A dot."))
        config = Config(mcp_servers=[stdio("tools", read_only=True)])
        async with async_running_server(tmp_path, config=config, send_mode="async", mcp_options=QUICK) as server:
            with server.client() as c:
                connected(c, "tools")
            frames = await Turn(server).run("draw")
        assert of(frames, "complete")[0]["content"] == "A dot."
        text, image = fake.requests[1].tool_results()[0]["content"]
    assert text == {"type": "text", "text": "[image: image/png, 69 bytes]"}
    assert image["type"] == "image" and image["source"]["media_type"] == "image/png"
    assert image["source"]["data"].startswith("iVBORw0KGgo")  # the PNG, base64


def _offered_tools(body: dict, flavour: str) -> dict[str, dict]:
    if flavour == "anthropic":
        return {t["name"]: {"schema": t["input_schema"], "description": t["description"]} for t in body["tools"]}
    return {t["function"]["name"]: {"schema": t["function"]["parameters"], "description": t["function"]["description"]}
            for t in body["tools"]}

