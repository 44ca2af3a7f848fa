"""Every key of the app in one table: bindings are built from it, the F1 help and the palette read it.

Each action has a stable id (the binding id), which is also the name used in the config file:

    [keys]
    new_session = "alt+n"
    toggle_sidebar = "f9"

`MixApp` passes `config.keys` to `App.set_keymap`, which rebinds by id. Unknown ids, and keys the
overrides give to two actions at once, are reported once as a notification rather than silently ignored.

Scopes say who binds an action: "app" (MixApp.BINDINGS), "chat" (the chat screen's BINDINGS), and
"integration" (the MixerLead / Mixpeek actions of tui/integration.py, which MixApp mixes in with
their bindings; their palette entries come from that module, which knows when they apply).
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
    scope: str = "app"  # "app" | "chat" | "integration"


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
    # Shown in the footer only while a request waits (ChatPermissions.check_action); otherwise the
    # key goes to the composer as usual.
    ActionSpec("answer_permission", "ctrl+y", "focus_permission", "Answer",
               "Go to the waiting request: a permission (y once, s this session, a always here, n deny) or the agent's question", scope="chat"),
    # The management views (tui/screens/files.py, models.py, credentials.py, tools.py).
    # Not f6/f7: the composer (a TextArea) uses them to select a line / everything.
    # (Help in lower case: the palette's titles, "Files: this session's files ...", stay as they were.)
    ActionSpec("files", "f3", "app.files", "Files", "this session's files (upload, preview, save, delete)", show=False),
    ActionSpec("models", "f4", "app.models", "Models", "providers, models and agent preferences", show=False),
    ActionSpec("credentials", "f5", "app.credentials", "Credentials", "provider sign-in and API keys", show=False),
    ActionSpec("tools", "f9", "app.tools", "Tools", "tool status and MCP servers", show=False),
    ActionSpec("restart_server", "f10", "app.restart_server", "Restart server",
               "Start the embedded server again after it kept stopping", show=False),
    # MixerLead and Mixpeek (tui/integration.py): without a key they say how to add one.
    ActionSpec("mixpeek_knowledge", "alt+k", "app.mixpeek_knowledge", "Knowledge",
               "Open your Mixpeek files: browse, upload, search, attach a result to the next message",
               show=False, scope="integration"),
    ActionSpec("choose_model", "alt+m", "app.choose_model", "Model",
               "Choose the MixerLead model (Auto by default; ★ needs a paid plan)", show=False, scope="integration"),
    ActionSpec("remove_attachment", "ctrl+r", "app.remove_attachment", "Detach",
               "Remove the context attached to the next message", show=False, scope="integration"),
)

BY_ID = {a.id: a for a in ACTIONS}


# Keys a focused text field or popup also answers (the completion popup and the session filter close
# on Esc): their actions run only when the focused widget leaves the key alone.
SHARED_KEYS = {"escape"}


def bindings(scope: str) -> list[Binding]:
    """The Bindings of one scope (app and integration actions run on the app: no "app." prefix).

    Every other action key is a priority binding, checked before the focused widget sees the key:
    a terminal sends Alt+K as ESC k, which the composer or the filter would type as "k", and a key
    rebound in the config (F6, F7) would otherwise go to the composer's own binding for it."""
    return [
        Binding(a.key, a.action if scope == "chat" else a.action.removeprefix("app."), a.description,
                show=a.show, priority=a.priority or a.key not in SHARED_KEYS, id=a.id, tooltip=a.help)
        for a in ACTIONS
        if a.scope == scope
    ]


def unknown_ids(keymap: dict[str, str]) -> list[str]:
    return [k for k in keymap if k not in BY_ID]


def keys_of(key: str) -> list[str]:
    """"f1, ctrl+h" -> ["f1", "ctrl+h"]."""
    return [k.strip() for k in key.split(",") if k.strip()]


def collisions(keymap: dict[str, str]) -> list[tuple[str, list[str]]]:
    """Keys the overrides give to more than one action: (key, [action ids]) in table order.

    Only clashes an override takes part in are reported (the defaults are chosen not to clash), and
    all scopes count: on the chat screen the app's, the screen's and the integration's keys are live at once."""
    owners: dict[str, list[str]] = {}
    for spec in ACTIONS:
        for key in keys_of(key_for(spec.id, keymap)):
            owners.setdefault(key, []).append(spec.id)
    return [(key, ids) for key, ids in owners.items() if len(ids) > 1 and any(i in keymap for i in ids)]


def collision_message(clashes: list[tuple[str, list[str]]]) -> str:
    """One sentence for the notification, naming the key and every action sharing it."""
    parts = [f"{display_key(key)} is bound to {'both ' if len(ids) == 2 else ''}{' and '.join(ids)}" for key, ids in clashes]
    return f"config [keys]: {'; '.join(parts)}. Only one of them will run: give the other a free key (F1 lists them)."


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
