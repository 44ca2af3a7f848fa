"""Small MCP servers for the tests, written with the official SDK (mcp 2's MCPServer, formerly FastMCP).

    python tests/fakes/mcp_server.py stdio            # tools over stdin/stdout
    python tests/fakes/mcp_server.py http PORT        # the same tools over streamable HTTP on 127.0.0.1
    python tests/fakes/mcp_server.py crash            # writes to stderr and exits before answering
    python tests/fakes/mcp_server.py mute             # reads stdin and never answers (a hung start)

With MCP_FAKE_PIDFILE set, each process appends its pid to that file.
Tools: shout(text) upper-cases, fail() returns an error result, hang() never returns, freeze() blocks
the whole server, quit() ends the
process in the middle of the call, picture() returns an image, whoami() the Authorization header, count() how often it was called.
Standalone on purpose: the embedded server starts it as a subprocess, without the test package.
"""

import os
import sys
import time


def build():
    import anyio
    from mcp.server.mcpserver import Context, MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.server.mcpserver.utilities.types import Image

    app = MCPServer("test-tools", version="1.0")
    calls = {"count": 0}

    @app.tool()
    def shout(text: str) -> str:
        """Return the text in capitals, with an exclamation mark."""
        print(f"shouting {text!r}", file=sys.stderr, flush=True)
        return text.upper() + "!"

    @app.tool()
    def fail() -> str:
        """Always fails, with a message."""
        raise ToolError("the fail tool failed, as asked")

    @app.tool()
    async def hang() -> str:
        """Never returns."""
        await anyio.sleep_forever()
        return ""

    @app.tool()
    async def freeze() -> str:
        """Blocks the whole server (pings too) for an hour."""
        time.sleep(3600)
        return ""

    @app.tool()
    def quit() -> str:
        """Ends the server in the middle of the call."""
        print("quitting now", file=sys.stderr, flush=True)
        os._exit(3)

    @app.tool()
    def picture() -> Image:
        """A 1x1 PNG."""
        png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                            "1f15c4890000000d49444154789c6360f8cf00000301010018dd8db00000000049454e44ae426082")
        return Image(data=png, format="png")

    @app.tool()
    def whoami(ctx: Context) -> str:
        """The Authorization header the client sent (HTTP only)."""
        request = ctx.request_context.request
        headers = getattr(request, "headers", None)
        return headers.get("authorization", "(none)") if headers is not None else "(stdio)"

    @app.tool()
    def count() -> str:
        """How many times count was called in this process."""
        calls["count"] += 1
        return str(calls["count"])

    return app


def main(argv: list[str]) -> None:
    mode = argv[1] if len(argv) > 1 else "stdio"
    if os.environ.get("MCP_FAKE_PIDFILE"):  # so a test can check that the process is gone after a stop
        with open(os.environ["MCP_FAKE_PIDFILE"], "a") as pids:
            pids.write(f"{os.getpid()}\n")
    if mode == "crash":
        print("fatal: the test server was told to crash", file=sys.stderr, flush=True)
        sys.exit(2)
    if mode == "mute":
        while sys.stdin.readline():
            pass
        time.sleep(3600)
        return
    app = build()
    if mode == "http":
        app.run("streamable-http", host="127.0.0.1", port=int(argv[2]))
    else:
        app.run()


if __name__ == "__main__":
    main(sys.argv)
