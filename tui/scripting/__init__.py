"""Scripting mode: `mix-tui run [options] PROMPT` answers one prompt from a shell, a Makefile or CI.

It drives one turn through the same `MixBackend` and `TurnModel` the app uses (tui/api), on the
embedded server or any Mix server, and never imports Textual:

- `command`: the `run` subcommand's arguments, exit codes and the process around one run;
- `session`: which server, which session and which model a run uses;
- `turn`: one turn, from send to its end, answering permission prompts by the rules given;
- `output`: the answer as plain text, or one JSON object per event, and progress on stderr.
"""

from tui.scripting.command import add_run_command, run_command

__all__ = ["add_run_command", "run_command"]
