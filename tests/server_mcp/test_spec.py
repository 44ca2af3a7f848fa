"""The parts of MCP support that need no server: config, `${NAME}` secrets, tool names, result text."""

from __future__ import annotations

import pytest
from mcp import types

from tui.config import ConfigError, McpServerConfig, parse_config, redact
from tui.server.agent.intents import parse_request
from tui.server.agent.tools import TOOL_SPECS
from tui.server.mcp.results import MAX_RESULT_CHARS, tool_result
from tui.server.mcp.spec import MAX_TOOL_NAME, SpecError, resolve, secret_lookup, shown_target, tool_name


def test_config_table_with_every_field():
    cfg = parse_config({"mcp": {"servers": {
        "files": {"command": "mcp-files", "args": ["--root", "."], "env": {"DEBUG": "1"}, "cwd": "/tmp",
                  "read_only": True, "timeout": 5},
        "remote": {"url": "https://mcp.example/mcp", "headers": {"Authorization": "Bearer ${TOKEN}"}},
    }}})
    files, remote = cfg.mcp_servers
    assert (files.name, files.read_only, files.timeout, files.env, files.cwd) == ("files", True, 5.0, {"DEBUG": "1"}, "/tmp")
    assert remote.headers == {"Authorization": "Bearer ${TOKEN}"} and remote.read_only is False and remote.timeout == 60.0


@pytest.mark.parametrize("table, message", [
    ({"command": "x", "env": {"PORT": 8080}}, "every value of 'mcp.servers.bad.env' should be a string"),
    ({"url": "https://x", "headers": {"X": True}}, "every value of 'mcp.servers.bad.headers' should be a string"),
    ({"command": "x", "args": ["--port", 8080]}, "'mcp.servers.bad.args' should be a list of strings"),
    ({"command": "x", "read_only": "yes"}, "'mcp.servers.bad.read_only' should be bool"),
    ({"command": "x", "transport": "sse"}, "unknown key 'transport' in [mcp.servers.bad]"),
])
def test_config_mistakes_are_named(table, message):
    with pytest.raises(ConfigError) as info:
        parse_config({"mcp": {"servers": {"bad": table}}})
    assert message in str(info.value)


def test_placeholders_come_from_the_environment_then_the_secrets_file_and_are_redacted():
    stored = {"FILE_TOKEN": "from-the-file-123456", "BOTH": "file-loses-123456"}
    lookup = secret_lookup({"ENV_TOKEN": "from-the-env-123456", "BOTH": "env-wins-123456"}, stored.get)
    config = McpServerConfig(name="s", command="run-${ENV_TOKEN}", args=["--key", "${FILE_TOKEN}"],
                             env={"K": "${BOTH}"}, url="")
    spec = resolve(config, lookup)
    assert (spec.command, spec.args, spec.env) == ("run-from-the-env-123456", ["--key", "from-the-file-123456"],
                                                   {"K": "env-wins-123456"})
    assert redact("token from-the-file-123456 leaked") == "token [REDACTED] leaked"
    assert shown_target(config) == ("run-${ENV_TOKEN} --key ${FILE_TOKEN}", "")  # what the status shows


@pytest.mark.parametrize("config, message", [
    (McpServerConfig(name="s", url="https://x", headers={"A": "${NOPE}"}),
     "headers.A needs ${NOPE}: set it in the environment or the secrets file"),
    (McpServerConfig(name="s", command="a", url="https://x"), "either command (a local server) or url"),
    (McpServerConfig(name="s"), "no command or url configured"),
    (McpServerConfig(name="s", url="ftp://x"), "url must start with http:// or https://"),
    (McpServerConfig(name="s", command="a", cwd="/no/such/folder"), "cwd '/no/such/folder' is not a folder"),
    (McpServerConfig(name="s", command="a", timeout=0.0), "timeout must be a positive number"),
])
def test_what_cannot_start_says_why(config, message):
    with pytest.raises(SpecError) as info:
        resolve(config, lambda name: None)
    assert message in str(info.value)


def test_tool_names_are_namespaced_valid_and_never_clash():
    builtin = {s.name for s in TOOL_SPECS}
    assert tool_name("files", "read_file", set()) == "files_read_file"
    assert tool_name("my server", "get.weather!", set()) == "my_server_get_weather"
    long = tool_name("s" * 40, "t" * 40, set())
    assert len(long) == MAX_TOOL_NAME and long.startswith("s" * 40 + "_")
    # a server "todo" with a tool "write" would be our todo_write
    clash = tool_name("todo", "write", builtin)
    assert clash != "todo_write" and clash.startswith("todo_write_") and len(clash) == len("todo_write_") + 6
    taken = {tool_name("a_b", "c", set())}
    assert tool_name("a", "b_c", taken) not in taken


def test_result_text_from_every_kind_of_block():
    result = types.CallToolResult(content=[
        types.TextContent(type="text", text="first"),
        types.ImageContent(type="image", data="aGVsbG8=", mime_type="image/png"),
        types.EmbeddedResource(type="resource", resource=types.TextResourceContents(uri="file:///a.txt", text="body")),
        types.ResourceLink(type="resource_link", uri="file:///b.bin", name="b"),
    ], is_error=False)
    out = tool_result(result)
    assert out.text == "first\n[image: image/png, 5 bytes]\n[resource file:///a.txt]\nbody\n[resource: file:///b.bin (b)]"
    assert out.metadata["images"] == [{"mimeType": "image/png", "data": "aGVsbG8="}] and not out.is_error
    structured = tool_result(types.CallToolResult(content=[], structured_content={"n": 1}, is_error=True))
    assert structured.text == '{"n": 1}' and structured.is_error
    assert tool_result(types.CallToolResult(content=[])).text == "(no output)"
    huge = tool_result(types.CallToolResult(content=[types.TextContent(type="text", text="x" * (MAX_RESULT_CHARS + 5))]))
    assert huge.text.endswith(f"[output cut after {MAX_RESULT_CHARS} characters]")


@pytest.mark.parametrize("text, tool, arguments", [
    ('call shout {"text": "hi"}', "shout", '{"text": "hi"}'),
    ("please call demo.count", "demo.count", ""),
    ('use the tool demo_shout {"text": "a b"}', "demo_shout", '{"text": "a b"}'),
])
def test_call_requests(text, tool, arguments):
    intent = parse_request(text)
    assert (intent.kind, intent.args) == ("call", {"tool": tool, "arguments": arguments})


@pytest.mark.parametrize("text", ["use a pen", "call me maybe", "run call.sh"])
def test_not_call_requests(text):
    assert parse_request(text).kind != "call"
