"""Command line: `mix-tui [--server URL] ...` opens the app; `mix-tui serve ...` runs the embedded server;
`mix-tui web ...` serves the app to browser tabs (tui/web).

argparse (stdlib) rather than click: two commands and a handful of flags do not justify a dependency.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from pathlib import Path
from typing import NoReturn, Sequence
from urllib.parse import urlparse

from tui import __version__

LOOPBACK_NAMES = {"localhost"}
# The addresses the server's Host guard answers on (tui/server/security.py): another loopback
# address (127.0.0.2) would bind, then refuse every request with 403.
SERVED_HOSTS = {"127.0.0.1", "localhost", "::1"}
TOKEN_ENV = "MIX_TUI_SERVER_TOKEN"  # the app hands its child the per-launch token here, never in argv
PRIVATE_UMASK = 0o077  # files and folders this process creates are the user's alone


class OneLineParser(argparse.ArgumentParser):
    """Bad arguments: one line on stderr and exit 2, never a usage dump or a traceback."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def is_loopback_host(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def server_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise argparse.ArgumentTypeError(f"'{value}' is not an http(s) URL, e.g. http://127.0.0.1:8088")
    return value.rstrip("/")


def positive_seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a number of seconds") from None
    if not seconds > 0 or seconds == float("inf"):
        raise argparse.ArgumentTypeError(f"{value} seconds: must be more than 0")
    return seconds


def served_host_problem(host: str) -> str | None:
    """Why `serve` cannot use this address, or None."""
    bare = host.strip("[]").lower()
    if not is_loopback_host(bare):
        return (f"refusing to bind {host}: the Mix protocol has no authentication, and this server's agent "
                "can run commands; use a loopback address such as 127.0.0.1")
    if bare not in SERVED_HOSTS:
        return f"{host} is a loopback address, but this server answers only on 127.0.0.1, localhost or ::1"
    return None


def url_host(host: str) -> str:
    """An address as it goes in a URL: IPv6 in brackets (http://[::1]:8088)."""
    bare = host.strip("[]")
    return f"[{bare}]" if ":" in bare else bare


def port_number(value: str) -> int:
    try:
        port = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is outside 0-65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="mix-tui", description="Terminal chat for Mix agent servers, MixerLead and Mixpeek.")
    parser.add_argument("--version", action="version", version=f"mix-tui {__version__}")
    parser.add_argument("--server", type=server_url, metavar="URL", help="use this Mix server instead of starting the embedded one")
    parser.add_argument("--data-dir", metavar="DIR", help="keep config, data and logs under DIR")
    parser.add_argument("--theme", metavar="NAME", help="colour theme (mix-dark, mix-light)")
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser, metavar="{serve,run,web}")
    serve = sub.add_parser("serve", help="run the embedded Mix-compatible server alone")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8088, help="port (default 8088; 0 picks a free one)")
    serve.add_argument("--data-dir", dest="serve_data_dir", metavar="DIR", help="where the server keeps its database and session folders")
    # Used by the app when it starts its own server: a file to report the port in. (The per-launch
    # token comes in the environment, MIX_TUI_SERVER_TOKEN: a command line is readable by every local user.)
    serve.add_argument("--ready-file", help=argparse.SUPPRESS)
    serve.add_argument("--agent-delay", type=float, default=None, help="seconds between streamed chunks of the offline agent")
    serve.add_argument("--heartbeat", type=positive_seconds, default=None, help="seconds between SSE heartbeats (default 45)")
    serve.add_argument("--protocol", choices=("latest", "seed"), default="latest",
                       help="the Mix spec to speak: latest (openapi-latest.yaml, default) or seed (openapi-seed.yaml)")
    web = sub.add_parser("web", help="serve the app to browser tabs (loopback only, per-launch token)")
    web.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    web.add_argument("--port", type=port_number, default=8089, help="port (default 8089; 0 picks a free one)")
    web.add_argument("--open", action="store_true", help="open the page in the default browser")
    from tui.scripting.command import add_run_command

    add_run_command(sub, server_url)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    os.umask(PRIVATE_UMASK)  # databases, logs, session folders: 0600 / 0700
    from tui.config import Config, ConfigError, load_config, resolve_paths, setup_logging_or_explain

    if args.command == "serve":
        problem = served_host_problem(args.host)
        if problem:
            parser.exit(2, f"mix-tui serve: error: {problem}\n")
    if args.command == "web" and not is_loopback_host(args.host):
        parser.exit(2, f"mix-tui web: error: refusing to bind {args.host}: the page runs the agent, "
                       "which can run commands; use a loopback address such as 127.0.0.1\n")

    # Nothing local stops the app: a broken config, an unwritable folder or log is one line each.
    notes: list[str] = []
    # `serve --data-dir D` is the server's own home: its config.toml is D's (the app's child is told
    # the app's config dir through MIX_TUI_CONFIG_DIR, which still wins).
    serve_dir = getattr(args, "serve_data_dir", None) if args.command == "serve" else None
    paths = resolve_paths(serve_dir or args.data_dir)
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        notes.append(f"{exc}; using the default settings")
        config = Config()
    problem = paths.ensure_or_explain()
    if problem is None:
        problem = setup_logging_or_explain(paths)
    if problem:
        notes.append(problem)

    if args.command == "serve":
        from tui.server.run import serve

        for note in notes:
            print(f"mix-tui serve: warning: {note}", file=sys.stderr, flush=True)
        if args.serve_data_dir:  # said explicitly: beats MIX_TUI_DATA_DIR (which the app sets for its child's logs)
            server_dir = Path(args.serve_data_dir).expanduser().resolve()
        else:
            server_dir = paths.data_dir if args.data_dir else paths.server_data_dir
        return serve(
            host=args.host.strip("[]"),  # "[::1]" is how a URL writes it; the socket wants "::1"
            port=args.port,
            data_dir=server_dir,
            config=config,
            token=os.environ.pop(TOKEN_ENV, None),  # popped: the agent's shell commands must not inherit it
            ready_file=args.ready_file,
            agent_delay=args.agent_delay,
            heartbeat=args.heartbeat,
            protocol=args.protocol,
        )

    if args.command == "run":
        from tui.scripting import run_command

        return run_command(args, paths, config)

    if args.theme:
        config.theme = args.theme
    if args.server:
        config.server = args.server
    if args.command == "web":
        import asyncio

        from tui.web.server import serve_web

        tab_args = [*(["--data-dir", args.data_dir] if args.data_dir else []), *(["--theme", args.theme] if args.theme else [])]
        return asyncio.run(serve_web(host=args.host, port=args.port, config=config, paths=paths.ensure(),
                                     app_args=tab_args, open_browser=args.open))

    from tui.web import join_shared_server

    server_token = join_shared_server(config)  # when this app is one tab of `mix-tui web`
    server = None
    if not config.server:
        # Spawned before the UI's imports: the server boots on the other core while the app loads.
        from tui.server.launcher import EmbeddedServer

        try:
            server = EmbeddedServer.for_app(config, paths)
            server.spawn()
        except Exception:  # the app tries again itself and says what is wrong in one line
            server = None
    try:
        from tui import graphics
        from tui.app import MixApp

        graphics.prepare()  # asks a terminal that announces pictures about them, before the app owns it
        MixApp(config=config, paths=paths, server_token=server_token, notes=notes, server=server).run()
    finally:
        if server is not None:
            server.stop_sync()  # normally stopped already by the app; not left behind if it failed
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
