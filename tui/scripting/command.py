"""`mix-tui run [options] PROMPT`: the subcommand's arguments, and the process around one run.

Exit codes: 0 the turn completed, 1 it failed (or the server could not be reached), 2 a usage error,
3 a permission was refused (the turn itself ended), 130 interrupted by Ctrl+C (the turn is cancelled
on the server first), 141 the reader of stdout went away (the turn is cancelled too).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from typing import Any, TextIO

from tui.config import Config, Paths

DONE, FAILED, USAGE, REFUSED, INTERRUPTED = 0, 1, 2, 3, 130
PIPE_CLOSED = 141  # 128 + SIGPIPE, as a shell reports a writer whose reader left
PROG = "mix-tui run"


def add_run_command(sub: Any, server_url: Any) -> argparse.ArgumentParser:
    """Register `run` on the top-level subparsers; `server_url` validates --server like the app's."""
    run = sub.add_parser(
        "run", help="answer one prompt and exit (for scripts, Makefiles and CI)",
        description="Send one prompt to the agent, print the answer as it streams, and exit "
                    "(0 done, 1 failed, 2 usage error, 3 a permission was refused, 130 interrupted).")
    run.add_argument("prompt", metavar="PROMPT", help="the prompt; - reads it from standard input")
    run.add_argument("--server", dest="run_server", type=server_url, metavar="URL",
                     help="use this Mix server instead of starting the embedded one")
    run.add_argument("--json", action="store_true", help="one JSON object per event on stdout, ending with the completion")
    run.add_argument("--allow-all", action="store_true", help="allow every tool that writes or runs")
    run.add_argument("--allow", action="append", default=[], metavar="TOOL",
                     help="allow this tool (write, edit, bash, ...); repeatable")
    run.add_argument("--plan", action="store_true", help="plan mode: the agent may only read")
    where = run.add_mutually_exclusive_group()
    where.add_argument("--continue", dest="continue_last", action="store_true", help="go on in the last session")
    where.add_argument("--session", metavar="ID", help="go on in this session")
    run.add_argument("--model", metavar="PROVIDER/MODEL", help="the model for this run, e.g. anthropic/claude-4-sonnet")
    return run


def _fail(err: TextIO, message: str, code: int) -> int:
    err.write(f"{PROG}: error: {message}\n")
    err.flush()
    return code


def _prompt(value: str, stdin: TextIO) -> str:
    return stdin.read() if value == "-" else value


def run_command(args: argparse.Namespace, paths: Paths, config: Config, *, stdin: TextIO | None = None,
                stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    from tui.scripting.session import ModelChoice

    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        model = ModelChoice.parse(args.model) if args.model else None
    except ValueError as exc:
        return _fail(stderr, str(exc), USAGE)
    try:
        text = _prompt(args.prompt, stdin)
    except (OSError, UnicodeDecodeError) as exc:
        return _fail(stderr, f"could not read the prompt from standard input: {exc}", USAGE)
    if not text.strip():
        return _fail(stderr, "the prompt is empty", USAGE)
    server = args.run_server or getattr(args, "server", None) or config.server or None
    return asyncio.run(_run(args, paths, config, text, server, model, stdout, stderr))


async def _run(args: argparse.Namespace, paths: Paths, config: Config, text: str, server: str | None,
               model: Any, stdout: TextIO, stderr: TextIO) -> int:
    from tui.api.errors import ApiError
    from tui.scripting.output import JsonLines, PlainText, Progress, Sink
    from tui.scripting.session import UsageError, choose_session, connect, model_for_run, remember, title_from
    from tui.scripting.turn import PermissionRules, ScriptedTurn
    from tui.server.launcher import ServerStartError

    sink = Sink(stdout)
    answer = None if args.json else PlainText(sink)
    progress = Progress(stderr, enabled=_is_tty(stderr), answer=answer if _is_tty(stdout) else None)
    rules = PermissionRules(args.allow_all, frozenset(a.strip().lower() for a in args.allow if a.strip()))
    loop = asyncio.get_running_loop()
    interrupts: list[asyncio.Task] = []
    main = asyncio.current_task()
    scripted: ScriptedTurn | None = None

    def on_sigint() -> None:
        if scripted is None or interrupts:  # before the turn, or a second Ctrl+C: stop now
            if main is not None:
                main.cancel()
            return
        interrupts.append(asyncio.ensure_future(scripted.interrupt()))

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGINT, on_sigint)
    try:
        async with connect(config, paths, server) as backend:
            apps_server = server == (config.server or None)  # the server the app itself would use
            conversation = await choose_session(backend, paths if apps_server else None, session=args.session,
                                                continue_last=args.continue_last, title=title_from(text))
            if apps_server:
                remember(paths, conversation.id)
            async with model_for_run(backend, model):
                scripted = ScriptedTurn(backend, conversation.id, text, plan_mode=args.plan, rules=rules, err=stderr,
                                        answer=answer, json_lines=JsonLines(sink) if args.json else None,
                                        progress=progress)
                outcome = await scripted.run()
                for task in interrupts:
                    await task
    except asyncio.CancelledError:
        return _fail(stderr, "interrupted", INTERRUPTED)
    except UsageError as exc:
        return _fail(stderr, str(exc), USAGE)
    except (ApiError, ServerStartError, OSError) as exc:
        return _fail(stderr, str(exc), FAILED)
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGINT)
    if sink.closed:
        _silence(stdout)
        return PIPE_CLOSED
    return _exit_code(outcome, stderr)


def _silence(stdout: TextIO) -> None:
    """The reader of stdout is gone: point it at /dev/null so the interpreter's last flush is quiet."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)


def _exit_code(outcome: Any, stderr: TextIO) -> int:
    from tui.api.turn import TurnStatus

    if outcome.interrupted:
        return _fail(stderr, "interrupted: the turn was cancelled", INTERRUPTED)
    if outcome.status is not TurnStatus.COMPLETE:
        return _fail(stderr, f"the turn failed: {outcome.error or outcome.status.value}", FAILED)
    if outcome.refused:
        return _fail(stderr, f"{len(outcome.refused)} permission(s) refused: {'; '.join(outcome.refused)}", REFUSED)
    return DONE


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
