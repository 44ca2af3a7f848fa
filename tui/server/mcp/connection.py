"""One configured MCP server kept connected: started in the background, watched, restarted with backoff.

The supervisor task runs each connection inside an anyio cancel scope; ending that scope is how a
stop, a restart, or the server closing its output (`_EndWatch`) ends a connection, so the SDK's own
shutdown (close stdin, wait, terminate the process tree) always runs. While connected, a ping every
`ping_interval` seconds notices a server that stopped answering. Tool calls come from turn tasks
and are bounded by the server's `timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable

import anyio

from tui import __version__
from tui.config import McpServerConfig, redact
from tui.server.agent.tools import ToolResult
from tui.server.mcp.results import tool_result
from tui.server.mcp.spec import ServerSpec, SpecError, resolve
from tui.server.mcp.stderr import StderrTail

log = logging.getLogger("tui.server.mcp")

STARTING, CONNECTED, FAILED, DISCONNECTED, STOPPED = "starting", "connected", "failed", "disconnected", "stopped"
BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 60.0)  # seconds before the 1st, 2nd, … retry


@dataclass(frozen=True)
class McpTool:
    name: str  # as the server calls it
    description: str
    input_schema: dict


class _EndWatch:
    """The transport's read stream (the SDK's ReadStream protocol), calling `on_end` at end of stream:
    for a local server, that is the moment it exits."""

    def __init__(self, stream: Any, on_end: Callable[[], None]) -> None:
        self._stream = stream
        self._on_end = on_end

    async def receive(self) -> Any:
        try:
            return await self._stream.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._on_end()
            raise

    async def aclose(self) -> None:
        await self._stream.aclose()

    def __aiter__(self) -> "_EndWatch":
        return self

    async def __anext__(self) -> Any:
        try:
            return await self._stream.__anext__()
        except StopAsyncIteration:
            self._on_end()
            raise

    async def __aenter__(self) -> "_EndWatch":
        await self._stream.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        return await self._stream.__aexit__(*exc)

    def __getattr__(self, name: str) -> Any:  # e.g. `last_context`, which the dispatcher looks for
        return getattr(self._stream, name)


def describe_error(exc: BaseException) -> str:
    """One sentence for the status line: the first real error inside anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if isinstance(exc, FileNotFoundError):
        return f"command not found: {exc.filename or exc}"
    if isinstance(exc, PermissionError):
        return f"permission denied: {exc.filename or exc}"
    message = getattr(exc, "message", None) or str(exc) or exc.__class__.__name__
    plain = isinstance(exc, (OSError, TimeoutError)) and str(exc)
    return redact(str(message) if plain else f"{exc.__class__.__name__}: {message}")


def _import_sdk() -> None:
    import httpx2  # noqa: F401
    import mcp  # noqa: F401
    import mcp.client.streamable_http  # noqa: F401


class McpConnection:
    def __init__(self, config: McpServerConfig, lookup: Callable[[str], str | None], *,
                 connect_timeout: float = 30.0, ping_interval: float = 15.0, ping_timeout: float = 10.0,
                 backoff: tuple[float, ...] = BACKOFF) -> None:
        self.config = config
        self.name = config.name
        self.read_only = config.read_only
        self._lookup = lookup
        self.connect_timeout = connect_timeout
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.backoff = backoff
        self.status = STARTING
        self.error = ""
        self.retry_at: float | None = None  # monotonic time of the next automatic start
        self.tools: list[McpTool] = []  # the last listing; offered only while connected
        self.server_info = ""
        self.stderr = StderrTail()
        self._session: Any = None
        self._timeout = config.timeout
        self._scope: anyio.CancelScope | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._restart = False
        self._ended = ""  # why the transport ended, when it ended by itself
        self._phase = ""
        self._task: asyncio.Task | None = None

    # ------------------------------------------------------------------ control

    @property
    def connected(self) -> bool:
        return self.status == CONNECTED and self._session is not None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping = False
            self._task = asyncio.get_running_loop().create_task(self._supervise(), name=f"mcp-{self.name}")

    def restart(self) -> None:
        """Reconnect now (ending the current connection), resetting the backoff."""
        if self._task is None or self._task.done():
            self.start()
            return
        self._restart = True
        self._interrupt()

    async def stop(self, timeout: float = 8.0) -> None:
        self._stopping = True
        self._interrupt()
        task = self._task
        if task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except asyncio.TimeoutError:
            log.warning("MCP server %s did not stop in %.0f s; abandoning it", self.name, timeout)
            task.cancel()
        except Exception:  # the supervisor logs its own failures
            pass
        await self.stderr.close()

    def _interrupt(self) -> None:
        self._wake.set()
        if self._scope is not None:
            self._scope.cancel()

    def _set(self, status: str, error: str = "", retry_in: float | None = None) -> None:
        if status != self.status or error != self.error:
            log.info("MCP server %s: %s%s", self.name, status, f" ({error})" if error else "")
        self.status, self.error = status, error
        self.retry_at = time.monotonic() + retry_in if retry_in is not None else None

    # ------------------------------------------------------------------ supervision

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            self._restart = False
            self._set(STARTING)
            self._ended, self._phase = "", "starting the server"
            try:
                spec = resolve(self.config, self._lookup)
            except SpecError as exc:
                self._set(FAILED, str(exc))  # no retry: only a restart (after fixing it) helps
                await self._pause(None)
                continue
            try:
                await asyncio.to_thread(_import_sdk)  # about 2 s the first time, kept off the event loop
            except ImportError as exc:  # a broken install: say so instead of "starting" for ever
                self._set(FAILED, f"the mcp package could not be loaded: {exc}")
                await self._pause(None)
                continue
            error, was_connected = "", False
            with anyio.CancelScope() as scope:
                self._scope = scope
                if self._stopping or self._restart:  # asked while the SDK was loading
                    scope.cancel()
                try:
                    await self._serve(spec)
                except Exception as exc:  # the server failed; say why and try again later
                    error = describe_error(exc)
                    log.debug("MCP server %s failed", self.name, exc_info=True)
            self._scope = None
            was_connected, self._session = self._session is not None, None
            if self._stopping:
                break
            if self._restart:
                failures = 0
                continue
            if spec.transport == "stdio":
                await self.stderr.settle()
            reason = self._ended or error or "the connection ended"
            if was_connected:
                failures = 0
            delay = self.backoff[min(failures, len(self.backoff) - 1)]
            failures += 1
            self._set(DISCONNECTED if was_connected else FAILED, reason, retry_in=delay)
            await self._pause(delay)
            if self._restart:
                failures = 0
        self._session = None
        self._set(STOPPED)

    async def _pause(self, delay: float | None) -> None:
        """Wait `delay` seconds (None: until asked), or less when stopped or restarted."""
        self._wake.clear()
        if self._stopping or self._restart:
            return
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(self._wake.wait(), delay)

    def _transport_ended(self) -> None:
        if self._scope is not None and not (self._stopping or self._restart):
            self._ended = ("the server exited" if self.config.command else "the server closed the connection") \
                + f" while {self._phase}"
            self._scope.cancel()

    async def _serve(self, spec: ServerSpec) -> None:
        from mcp import ClientSession, types

        async with contextlib.AsyncExitStack() as stack:
            read, write = await self._open_transport(spec, stack)
            session = await stack.enter_async_context(ClientSession(
                _EndWatch(read, self._transport_ended), write,
                client_info=types.Implementation(name="mix-tui", version=__version__)))
            self._phase = "initializing"
            try:
                with anyio.fail_after(self.connect_timeout):
                    info = await session.initialize()
                    self._phase = "listing its tools"
                    self.tools = await _list_tools(session)
            except TimeoutError:
                raise TimeoutError(f"no answer within {self.connect_timeout:g} s while {self._phase}") from None
            self.server_info = f"{info.server_info.name} {info.server_info.version}".strip()
            self._session = session
            self._phase = "connected"
            self._set(CONNECTED)
            while True:
                await anyio.sleep(self.ping_interval)
                try:
                    with anyio.fail_after(self.ping_timeout):
                        await session.send_ping()
                except TimeoutError:
                    raise TimeoutError(f"the server stopped answering (no ping reply in {self.ping_timeout:g} s)") from None

    async def _open_transport(self, spec: ServerSpec, stack: contextlib.AsyncExitStack) -> tuple[Any, Any]:
        if spec.transport == "stdio":
            from mcp import StdioServerParameters, stdio_client

            errlog = await self.stderr.open()
            params = StdioServerParameters(command=spec.command, args=spec.args, env=spec.env or None,
                                           cwd=spec.cwd or None)
            try:
                return await stack.enter_async_context(stdio_client(params, errlog=errlog))
            finally:
                self.stderr.spawned()
        import httpx2
        from mcp.client.streamable_http import streamable_http_client

        # The SDK's own defaults: 30 s to connect or write, 5 min between bytes of a response stream.
        http = await stack.enter_async_context(
            httpx2.AsyncClient(headers=spec.headers, timeout=httpx2.Timeout(30.0, read=300.0)))
        return await stack.enter_async_context(streamable_http_client(spec.url, http_client=http))

    # ------------------------------------------------------------------ calls

    async def call(self, tool: str, arguments: dict) -> ToolResult:
        """Run one tool; every failure (not connected, timeout, protocol error) is an error result."""
        session = self._session
        if session is None or self.status != CONNECTED:
            why = f"{self.status}: {self.error}" if self.error else self.status
            return ToolResult(f"MCP server {self.name} is not connected ({why}); the tool was not run.", is_error=True)
        try:
            with anyio.fail_after(self._timeout):
                result = await session.call_tool(tool, arguments)
        except TimeoutError:
            return ToolResult(f"MCP server {self.name} did not answer within {self._timeout:g} s; "
                              "the call was abandoned.", is_error=True, metadata={"timed_out": True})
        except Exception as exc:  # a protocol error or a lost connection: the model reads why
            return ToolResult(f"MCP server {self.name}: {describe_error(exc)}", is_error=True)
        return tool_result(result)


async def _list_tools(session: Any) -> list[McpTool]:
    from mcp import types

    tools: list[McpTool] = []
    cursor = None
    for _ in range(100):  # pages; a server that never stops paging is cut off here
        page = await session.list_tools(params=types.PaginatedRequestParams(cursor=cursor) if cursor else None)
        for tool in page.tools:
            schema = tool.input_schema if isinstance(tool.input_schema, dict) else {}
            tools.append(McpTool(tool.name, tool.description or "", {"type": "object", **schema}))
        cursor = page.next_cursor
        if not cursor:
            break
    return tools
