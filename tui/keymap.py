"""Every key of the app in one table: bindings are built from it, the F1 help and the palette read it.

Each action has a stable id (the binding id), which is also the name used in the config file:

    [keys]
    new_session = "alt+n"
    toggle_sidebar = "f9"

`MixApp` passes `config.keys` to `App.set_keymap`, which rebinds by id. Unknown ids are reported
once as a notification rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class ActionSpec:
    id: str  # binding id and config name
    key: str  # default key(s), comma separated
    action: str  # Textual action string
    description: str  # short, for the footer
    help: str  # one sentence, for F1 and the palette
    show: bool = True  # shown in the footer
    priority: bool = False
    scope: str = "app"  # "app" | "chat"


ACTIONS: tuple[ActionSpec, ...] = (
    ActionSpec("help", "f1", "app.help", "Help", "Show every key and what it does"),
    ActionSpec("command_palette", "ctrl+p", "app.command_palette", "Commands", "Open the command palette", show=False),
    ActionSpec("quit", "ctrl+q", "app.quit", "Quit", "Quit mix-tui (drafts are kept)", priority=True),
    ActionSpec("toggle_theme", "ctrl+t", "app.toggle_theme", "Theme", "Switch between the dark and the light theme", show=False),
    ActionSpec("new_session", "ctrl+n", "new_session", "New", "Start a new session", scope="chat"),
    ActionSpec("toggle_sidebar", "ctrl+b", "toggle_sidebar", "Sidebar", "Hide or show the session list", scope="chat"),
    ActionSpec("focus_sessions", "ctrl+s", "focus_sessions", "Sessions", "Move the focus to the session list (type to filter)", show=False, scope="chat"),
    ActionSpec("focus_composer", "ctrl+l", "focus_composer", "Compose", "Move the focus to the composer", show=False, scope="chat"),
    ActionSpec("rename_session", "f2", "rename_session", "Rename", "Rename the current session", show=False, scope="chat"),
    ActionSpec("delete_session", "f8", "delete_session", "Delete", "Delete the current session (asks first)", show=False, scope="chat"),
    ActionSpec("cancel_turn", "escape", "cancel_turn", "Cancel", "Stop the running answer; what arrived so far stays", scope="chat"),
    ActionSpec("fork_session", "ctrl+f", "fork_session", "Fork", "Fork the session at a message you choose", show=False, scope="chat"),
    ActionSpec("export_session", "ctrl+o", "export_session", "Export", "Export the session to a Markdown file", show=False, scope="chat"),
    ActionSpec("copy_last", "ctrl+g", "copy_last", "Copy", "Copy the last answer to the clipboard", show=False, scope="chat"),
)

BY_ID = {a.id: a for a in ACTIONS}


def bindings(scope: str) -> list[Binding]:
    return [
        Binding(a.key, a.action.removeprefix("app.") if scope == "app" else a.action, a.description,
                show=a.show, priority=a.priority, id=a.id, tooltip=a.help)
        for a in ACTIONS
        if a.scope == scope
    ]


def unknown_ids(keymap: dict[str, str]) -> list[str]:
    return [k for k in keymap if k not in BY_ID]


def key_for(action_id: str, keymap: dict[str, str] | None = None) -> str:
    """The key currently bound to an action, after config overrides."""
    if keymap and action_id in keymap:
        return keymap[action_id]
    return BY_ID[action_id].key


def display_key(key: str) -> str:
    """ctrl+n -> Ctrl+N, escape -> Esc; several keys are joined with ' / '."""
    names = {"escape": "Esc", "enter": "Enter", "up": "↑", "down": "↓", "tab": "Tab", "space": "Space",
             "pageup": "PgUp", "pagedown": "PgDn", "home": "Home", "end": "End", "delete": "Del"}
    out = []
    for one in key.split(","):
        parts = one.strip().split("+")
        out.append("+".join(names.get(p, p.upper() if len(p) == 1 else p.capitalize()) for p in parts))
    return " / ".join(out)
