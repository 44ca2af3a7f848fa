"""Command line: `mix-tui [--server URL] ...` opens the app; `mix-tui serve ...` runs the embedded server.

argparse (stdlib) rather than click: two commands and a handful of flags do not justify a dependency.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from typing import NoReturn, Sequence
from urllib.parse import urlparse

from tui import __version__

LOOPBACK_NAMES = {"localhost"}


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
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser, metavar="{serve}")
    serve = sub.add_parser("serve", help="run the embedded Mix-compatible server alone")
    serve.add_argument("--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=port_number, default=8088, help="port (default 8088; 0 picks a free one)")
    serve.add_argument("--data-dir", dest="serve_data_dir", metavar="DIR", help="where the server keeps its database and session folders")
    # Used by the app when it starts its own server: a per-launch token, and a file to report the port in.
    serve.add_argument("--token", help=argparse.SUPPRESS)
    serve.add_argument("--ready-file", help=argparse.SUPPRESS)
    serve.add_argument("--agent-delay", type=float, default=None, help="seconds between streamed chunks of the offline agent")
    serve.add_argument("--heartbeat", type=float, default=None, help="seconds between SSE heartbeats (default 45)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    from tui.config import ConfigError, load_config, resolve_paths, setup_logging

    paths = resolve_paths(args.data_dir)
    try:
        config = load_config(paths.config_file)
    except ConfigError as exc:
        print(f"mix-tui: error: {exc}", file=sys.stderr)
        return 2

    if args.command == "serve":
        if not is_loopback_host(args.host):
            parser.exit(
                2,
                f"mix-tui serve: error: refusing to bind {args.host}: the Mix protocol has no authentication, "
                "and this server's agent can run commands; use a loopback address such as 127.0.0.1\n",
            )
        from tui.server.run import serve

        data_dir = args.serve_data_dir or args.data_dir
        server_dir = paths.ensure().server_data_dir if data_dir is None else resolve_paths(data_dir).data_dir
        setup_logging(paths.ensure())
        return serve(
            host=args.host,
            port=args.port,
            data_dir=server_dir,
            config=config,
            token=args.token,
            ready_file=args.ready_file,
            agent_delay=args.agent_delay,
            heartbeat=args.heartbeat,
        )

    if args.theme:
        config.theme = args.theme
    if args.server:
        config.server = args.server
    setup_logging(paths.ensure())
    server = None
    if not config.server:
        # Spawned before the UI's imports: the server boots on the other core while the app loads.
        from tui.server.launcher import for_app

        server = for_app(config, paths)
        server.spawn()
    try:
        from tui.app import MixApp

        MixApp(config=config, paths=paths, server=server).run()
    finally:
        if server is not None:
            server.stop_sync()  # normally stopped already by the app; not left behind if it failed
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
