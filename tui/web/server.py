"""`mix-tui web`: textual-serve's server (one app process per browser tab, drawn by xterm.js) behind
a guard, with one embedded Mix server shared by every tab.

Who may reach it (the apps it starts can run commands through the agent):
- it binds loopback only (the cli refuses anything else);
- the Host header must be this server's loopback address and port (DNS rebinding arrives with a
  foreign name) and an Origin, when sent, its loopback origin (a cross-site page's websocket carries
  its own origin) -> else 403, on the page, the websocket upgrade and the static files alike;
- every path starts with a random per-launch token (`http://127.0.0.1:P/<token>/`): without it the
  page, the websocket and the static files are refused with 403. The token sits in the path rather
  than the query because textual.js appends `?width=&height=` to the websocket URL the page names.
  Downloads stay at `/download/<key>` (textual.js builds that URL from the origin alone): the key is
  a one-time uuid4 that only a tab's own websocket learns.

textual-serve is used through its public API: the `Server` handlers and attributes, mounted in our
own aiohttp application (its `serve()` would bind a fixed port with no way to add the guard).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import secrets
import shlex
import signal
import sys
import tempfile
import webbrowser
from pathlib import Path
from typing import Any, Awaitable, Callable, Sequence, TextIO

import aiohttp_jinja2
import jinja2
from aiohttp import web
from textual_serve.server import Server

from tui.lifeline import PARENT_PID_ENV
from tui.server.security import allowed_hosts
from tui.web import SERVER_TOKEN_ENV, SERVER_URL_ENV

log = logging.getLogger(__name__)

TITLE = "mix-tui"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def refuse(message: str) -> web.Response:
    return web.json_response({"error": {"code": 403, "message": message, "type": "forbidden"}}, status=403)


def bad_request(message: str) -> web.Response:
    return web.json_response({"error": {"code": 400, "message": message, "type": "bad_request"}}, status=400)


class WebServer(Server):
    """textual-serve's Server mounted under a per-launch token, behind the loopback guard."""

    def __init__(self, command: str, *, host: str = "127.0.0.1", port: int = 0, token: str | None = None) -> None:
        super().__init__(command, host=host, port=port, title=TITLE)
        self.token = token or secrets.token_urlsafe(24)
        self.bound(port)
        self._sockets: set[asyncio.Task[Any]] = set()  # the handlers of open tabs, ended at shutdown

    def bound(self, port: int) -> None:
        """The port actually listened on (0 asks the system for a free one): URLs and the Host check use it."""
        self.port = port
        self.public_url = f"http://{url_host(self.host)}:{port}"

    @property
    def url(self) -> str:
        """The address to open: the only one that serves the app."""
        return f"{self.public_url}/{self.token}/"

    @property
    def open_tabs(self) -> int:
        return len(self._sockets)

    def make_app(self) -> web.Application:
        tab = web.Application()
        aiohttp_jinja2.setup(tab, loader=jinja2.FileSystemLoader(self.templates_path))
        # The same routes and names as textual-serve's own app: its index template asks the router for them.
        tab.add_routes([
            web.get("/", self.handle_index, name="index"),
            web.get("/ws", self.handle_websocket, name="websocket"),
            web.static("/static", self.statics_path, name="static"),
        ])
        root = web.Application(middlewares=[self.guard()])
        root.add_routes([web.get("/download/{key}", self.handle_download, name="download")])
        root.add_subapp(f"/{self.token}/", tab)
        root.on_shutdown.append(self.on_shutdown)
        return root

    def refusal(self, request: web.Request) -> str | None:
        """Why this request is refused, or None to let it through."""
        hosts = allowed_hosts(self.port)
        if request.headers.get("Host", "").lower() not in hosts:
            return "Host not allowed: this server only answers on its loopback address"
        origin = request.headers.get("Origin")
        if origin is not None and origin.lower() not in {f"http://{h}" for h in hosts}:
            return "Cross-origin requests are not allowed"
        if request.path.startswith("/download/"):
            return None  # the key is the capability (see the module doc)
        given = request.path.lstrip("/").split("/", 1)[0]
        if not hmac.compare_digest(given.encode(), self.token.encode()):
            return "Missing or wrong token: open the URL `mix-tui web` printed"
        return None

    def guard(self) -> Any:
        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            reason = self.refusal(request)
            if reason is not None:
                return refuse(reason)
            response = await handler(request)
            if not response.prepared:  # a websocket has sent its headers already
                response.headers["Referrer-Policy"] = "no-referrer"  # the token never leaves in a Referer
                response.headers["Content-Security-Policy"] = "frame-ancestors 'none'"
                response.headers["Cache-Control"] = "no-store"
            return response

        return guard

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's handler (it starts this tab's app and stops it when the socket closes),
        recorded so that shutting down can end the tabs still open."""
        if not web.WebSocketResponse().can_prepare(request).ok:  # textual-serve would drop the connection unanswered
            return bad_request("this address takes a websocket upgrade only")  # type: ignore[return-value]
        task = asyncio.current_task()
        assert task is not None
        self._sockets.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self._sockets.discard(task)

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve prints its banner here; `mix-tui web` prints its own line instead."""

    async def on_shutdown(self, app: web.Application) -> None:
        """Cancelled, textual-serve's handler closes the socket and tells the tab's app to quit."""
        for task in list(self._sockets):
            task.cancel()
        if self._sockets:
            await asyncio.wait(list(self._sockets), timeout=10)


def tab_command(app_args: Sequence[str]) -> str:
    """The shell command textual-serve runs for each tab: this app, with the options `web` was given.
    `exec`: the app replaces the shell, so its parent is this process and it can die with it."""
    return "exec " + shlex.join([sys.executable, "-m", "tui", *app_args])


def open_in_browser(url: str, folder: Path) -> Path:
    """Open `url` through a 0600 redirect file, so the token is not on the browser's command line."""
    page = folder / "open.html"
    fd = os.open(page, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(f'<!DOCTYPE html><meta http-equiv="refresh" content="0;url={url}"><title>mix-tui</title>'
                  f'<a href="{url}">Open mix-tui</a>\n')
    webbrowser.open(page.as_uri())
    return page


async def serve_web(*, host: str, port: int, config: Any, paths: Any, app_args: Sequence[str] = (),
                    open_browser: bool = False, out: TextIO = sys.stdout) -> int:
    """Listen, start the shared embedded server, then serve tabs until SIGINT/SIGTERM; 0 on a clean stop."""
    from tui.server.launcher import EmbeddedServer, ServerStartError

    server = WebServer(tab_command(app_args), host=host, port=port)
    runner = web.AppRunner(server.make_app(), handle_signals=False, access_log=None)
    embedded = EmbeddedServer.for_app(config, paths)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="mix-tui-web-") as private:  # mode 0700
        try:
            await runner.setup()
            try:
                await web.TCPSite(runner, host, port).start()
            except OSError as exc:  # before anything was started
                print(f"mix-tui web: error: cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
                return 1
            server.bound(runner.addresses[0][1])
            if config.server:
                os.environ[SERVER_URL_ENV] = config.server
            else:
                try:
                    await embedded.start()
                except ServerStartError as exc:
                    print(f"mix-tui web: error: {exc}", file=sys.stderr)
                    return 1
                # Set only now: the embedded server was started without them; each tab's app inherits them.
                os.environ[SERVER_URL_ENV] = embedded.url
                os.environ[SERVER_TOKEN_ENV] = embedded.token
            os.environ[PARENT_PID_ENV] = str(os.getpid())  # a tab's app ends with this process, even on SIGKILL
            # Only now is the URL known to anyone: no tab can connect before the environment is set.
            print(f"mix-tui web: open {server.url} in a browser (loopback only; Ctrl+C stops)", file=out, flush=True)
            if open_browser:
                open_in_browser(server.url, Path(private))
            await stop.wait()
        finally:
            await runner.cleanup()
            await embedded.stop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
    return 0
