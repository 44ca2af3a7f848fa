"""The mix-tui application: themes, keys, the client store, and the backend's life cycle.

First paint never waits for the network: the chat screen and the composer (with the restored
draft) appear at once, while a worker starts the embedded server (or connects to `config.server`)
and builds the Mix backend. Modules only the backend needs (httpx, the server) are imported there.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui import frame_rate

frame_rate.apply()  # before Textual is imported

from textual import events  # noqa: E402
from textual.app import App  # noqa: E402
from textual.message import Message  # noqa: E402

from tui.config import Config, Paths, resolve_paths
from tui.gc_policy import IdleCollector
from tui.widgets import input_priority
from tui.integration import INTEGRATION_BINDINGS, IntegrationActions, integration_commands
from tui.keymap import bindings, collision_message, collisions, unknown_ids
from tui.store import ClientStore
from tui.theme_defs import DEFAULT_THEME, THEME_NAMES, THEMES
from tui.themes import themes_dir

if TYPE_CHECKING:
    from tui.api.backend import ChatBackend
    from tui.screens.chat import ChatScreen

log = logging.getLogger(__name__)

GC_TICK = 0.25  # seconds between two looks at whether older generations are due (gc_policy.py)
GC_FREEZE_AFTER = 1.0  # seconds after start-up: freeze what exists (full collections then skip it)


class BackendUnavailable(Exception):
    """The backend could not be started or reached; the message says why."""


class MixApp(IntegrationActions, App[None]):
    TITLE = "mix-tui"
    # app.tcss first, then every other stylesheet in themes/ (the message pane's, the views'...).
    CSS_PATH = [themes_dir() / "app.tcss"] + sorted(p for p in themes_dir().glob("*.tcss") if p.name != "app.tcss")
    # Every key comes from the table in tui/keymap.py (the views F3-F5, F9 included);
    # the MixerLead / Mixpeek keys come with their actions from tui/integration.py.
    BINDINGS = bindings("app") + INTEGRATION_BINDINGS
    COMMANDS = App.COMMANDS | {lambda: _mix_commands(), lambda: _plan_mode_commands(), lambda: _server_commands(), integration_commands, lambda: _mixerlead_commands()}
    ENABLE_COMMAND_PALETTE = True

    def __init__(self, config: Config | None = None, paths: Paths | None = None, *, backend: ChatBackend | None = None,
                 server_token: str | None = None, notes: list[str] | None = None, server: Any = None) -> None:
        """`server`: an EmbeddedServer already spawned (not yet waited for) by the command line."""
        super().__init__()
        self._gc = IdleCollector(input_priority.quiet_for)
        self.config = config or Config()
        self.server_token = server_token  # bearer token for config.server (given by `mix-tui web` to its tabs)
        # Nothing local stops the app: what was wrong (config, folders, a damaged store) is one line each.
        self.startup_notes: list[str] = list(notes or [])
        self.paths = paths or resolve_paths()
        self._note(self.paths.ensure_or_explain())
        self.store, note = ClientStore.open_or_explain(self.paths.client_db)
        self._note(note)
        self.backend: ChatBackend | None = backend
        self.backend_name = backend.name if backend is not None and backend.name else "mix"
        self.server: Any = server  # the EmbeddedServer this app started, if any
        self.supervisor: Any = None  # its ServerSupervisor (tui/server/supervisor.py)
        self.restart_policy: Any = None  # a RestartPolicy (None: the default one)
        self._supervision: asyncio.Task[None] | None = None
        self._mix_backend: Any = None  # the Mix backend talking to that server (behind the router)
        self.server_url = ""
        self.alert_log: list[str] = []  # bell/OSC 9 alerts sent (shown nowhere else; read by tests)
        self.last_copied = ""
        self.clock = time.monotonic  # durations and countdowns; screenshots freeze it
        self._backend_ready = asyncio.Event() if backend is not None else None
        self._backend_error: str | None = None
        self._injected_backend = backend is not None
        self._backend_started = False
        self._warm_up: asyncio.Future[None] | None = None  # the message pane's imports, in a thread
        for theme in THEMES:
            self.register_theme(theme)
        self._set_initial_theme(self._initial_theme())
        self.keymap_overrides = dict(self.config.keys)
        if self.keymap_overrides:
            self.set_keymap(self.keymap_overrides)

    # ------------------------------------------------------------------ screens

    def get_default_screen(self) -> ChatScreen:
        from tui.screens.chat import ChatScreen

        return ChatScreen()

    @property
    def chat(self) -> ChatScreen:
        from tui.screens.chat import ChatScreen

        for screen in self.screen_stack:
            if isinstance(screen, ChatScreen):
                return screen
        raise LookupError("the chat screen is not running")

    @property
    def export_dir(self) -> Path:
        return self.paths.data_dir / "exports"

    def post_message(self, message: Message) -> bool:
        if isinstance(message, events.Key):
            # Noted where a key first reaches the event loop, before it is routed to a widget: a
            # streaming answer's redraw that is due now waits, and the key's frame goes out first.
            input_priority.key_pressed()
        return super().post_message(message)

    def _note(self, line: str | None) -> None:
        if line and line not in self.startup_notes:  # the command line may have said it already
            log.warning("%s", line)
            self.startup_notes.append(line)

    def on_mount(self) -> None:
        for line in self.startup_notes:
            self.notify(line, severity="warning", timeout=15)
        # Only cheap young collections happen on their own; the older generations are collected in
        # quiet moments (gc_policy.py). Once started, what start-up made is set aside, so later full
        # collections do not walk it again.
        IdleCollector.install()
        self.set_interval(GC_TICK, self._gc.tick)
        # At the end of each start-up phase (first frame, backend and message pane imported, and
        # in any case after GC_FREEZE_AFTER): an answer streamed right after launch otherwise paid a
        # 40-60 ms full collection of start-up's objects in the middle of its first frames.
        self.call_after_refresh(self._freeze_startup_objects)
        self.set_timer(GC_FREEZE_AFTER, self._freeze_startup_objects)
        unknown = unknown_ids(self.keymap_overrides)
        if unknown:
            self.notify(f"config [keys]: unknown action(s) {', '.join(unknown)}; see F1 for the names",
                        severity="warning", timeout=10)
        clashes = collisions({k: v for k, v in self.keymap_overrides.items() if k not in unknown})
        if clashes:
            self.notify(collision_message(clashes), severity="warning", timeout=10)

    def _freeze_startup_objects(self) -> None:
        # No collection first: with start-up's ~90,000 objects still young, even gc.collect(1) took
        # 45-100 ms, long enough to hold a key or a streaming frame. The garbage frozen with them
        # is what start-up left (~6,000 objects, about 1 MB), kept for good: cheaper than the stall.
        gc.freeze()

    def start_backend(self) -> None:
        """Called by the chat screen once it is mounted (it shows the progress)."""
        if self._backend_started:
            return
        self._backend_started = True
        # After the first frame: the composer is painted before anything else takes the CPU.
        self.call_after_refresh(self._start_backend)

    # ------------------------------------------------------------------ backend

    def _ready_event(self) -> asyncio.Event:
        if self._backend_ready is None:
            self._backend_ready = asyncio.Event()
        return self._backend_ready

    async def wait_backend(self, timeout: float = 30.0) -> ChatBackend:
        """The backend once it is up; raises BackendUnavailable with a reason otherwise."""
        if self.backend is not None and self._ready_event().is_set():
            return self.backend
        if self._backend_error:
            raise BackendUnavailable(self._backend_error)
        try:
            await asyncio.wait_for(self._ready_event().wait(), timeout)
        except asyncio.TimeoutError:
            raise BackendUnavailable("the server is still starting") from None
        if self.backend is None:
            raise BackendUnavailable(self._backend_error or "the server did not start")
        return self.backend

    def _start_backend(self) -> None:
        self.run_worker(self._bring_up_backend(), group="backend", exclusive=True, name="backend start")

    async def _bring_up_backend(self) -> None:
        chat = self.chat
        ready = self._ready_event()
        if self._injected_backend:
            self.server_url = str(getattr(self.backend, "base_url", "") or getattr(self.backend, "url", "") or "")
            chat.backend_starting("connecting")
            ready.set()
            chat.backend_ready(self.server_url)
            return
        # The client layer (httpx, the Mix client: ~90 modules) is imported in a thread while the
        # server boots, instead of holding the event loop (and the keys) for ~0.1 s.
        client_layer = asyncio.ensure_future(asyncio.to_thread(_import_client_layer))
        try:
            if self.config.server:
                chat.backend_starting("connecting")
                url, token = self.config.server, self.server_token
            else:
                chat.backend_starting("starting")
                if self.server is None:  # not spawned by the command line before the UI's imports
                    from tui.server.launcher import EmbeddedServer

                    self.server = EmbeddedServer.for_app(self.config, self.paths)
                server = self.server
                await server.start()
                for line in server.notes:
                    self.notify(line, severity="warning", timeout=15)
                url, token = server.url, getattr(server, "token", None)
                chat.backend_starting("connecting")
            await client_layer
            from tui.api.mix import MixBackend
            from tui.backends import route
            from tui.config import Secrets

            # Mix, plus MixerLead when a key is configured: each conversation is routed to its own.
            self._mix_backend = _make_mix_backend(MixBackend, url, token, self.store)
            self.backend = route(self._mix_backend, self.config, Secrets(self.paths.secrets_file), self.paths)
            self.attach_router(self.backend)
            self.backend_name = self.backend.name or "mix"
            self.server_url = url
        except Exception as exc:  # noqa: BLE001 — shown to the user, the app keeps running
            log.exception("backend start failed")
            self._backend_error = f"could not start the server: {exc}" if not self.config.server else f"could not connect to {self.config.server}: {exc}"
            chat.backend_failed(self._backend_error)
            ready.set()
            return
        ready.set()
        chat.backend_ready(url)
        # The message pane (Markdown, pygments: ~150 modules), for the session reopened once the
        # list is loaded: also off the event loop, and not before the way to "connected" is clear.
        self._warm_up = asyncio.ensure_future(asyncio.to_thread(_import_message_pane))
        self._warm_up.add_done_callback(lambda _: self._freeze_startup_objects())
        if self.server is not None:
            self._supervise(self.server)

    # ------------------------------------------------------------------ the embedded server's supervision

    def _supervise(self, server: Any) -> None:
        """Watch the server this app started, session open or not; a dead one is replaced (supervisor.py)."""
        from tui.server.supervisor import ServerSupervisor

        self.supervisor = ServerSupervisor(server, self._server_report, policy=self.restart_policy)
        self._supervision = asyncio.create_task(self.supervisor.run(), name="server supervisor")

    def _server_report(self, event: Any) -> None:
        from tui.server.supervisor import ServerDied, ServerGaveUp, ServerRestarted

        try:
            chat = self.chat
        except LookupError:
            return  # the app is closing
        if isinstance(event, ServerDied):
            chat.backend_starting("starting")  # the status bar: "starting server…"
        elif isinstance(event, ServerRestarted):
            if self._mix_backend is not None:
                if event.url_changed:
                    self._mix_backend.client.move_to(event.url)
                self._mix_backend.client.server_back()  # streams waiting out their backoff reconnect now
            self.server_url = event.url
            self._hide_server_down()
            chat.backend_ready(event.url)  # the session list reloads; open streams reconnect and resync
            self.notify(event.line, severity="warning", timeout=8)
            for line in self.server.notes:  # the new one may have found the database damaged
                self.notify(line, severity="warning", timeout=15)
        elif isinstance(event, ServerGaveUp):
            self._show_server_down(event)

    def _show_server_down(self, event: Any) -> None:
        from tui.keymap import display_key, key_for
        from tui.widgets.server_down import ServerDownBanner

        chat = self.chat
        chat.backend_starting("offline")
        key = display_key(key_for("restart_server", self.keymap_overrides))
        banner = ServerDownBanner(event.line, event.log_tail, key)
        self._hide_server_down()
        chat.mount(banner)
        self.notify(f"{event.line} Press {key} to try again.", severity="error", timeout=15)

    def _hide_server_down(self) -> None:
        from tui.widgets.server_down import ServerDownBanner

        for banner in self.query(ServerDownBanner):
            banner.remove()

    def action_restart_server(self) -> None:
        if self.supervisor is None:
            self.notify("This app did not start the server it uses: there is nothing to restart.", severity="warning")
        elif not self.supervisor.gave_up:
            self.notify("The server is running (or already being restarted).")
        else:
            self._hide_server_down()
            self.chat.backend_starting("starting")
            self.supervisor.retry()

    async def on_unmount(self) -> None:
        """Drafts are flushed, the backend closed and the embedded server stopped, whatever ended the app."""
        gc.unfreeze()  # this app's objects may be freed again (another app may run in this process)
        IdleCollector.uninstall()
        if self._supervision is not None:
            self._supervision.cancel()  # first: stopping the server below is not a crash to recover from
        try:
            self.chat._save_draft_now()
        except Exception:
            pass
        try:
            self.store.close()
        except Exception:
            log.exception("closing the client store")
        if self.backend is not None and not self._injected_backend:
            try:
                await asyncio.wait_for(self.backend.close(), 3)
            except Exception:
                log.exception("closing the backend")
        if self.server is not None:
            try:
                await asyncio.wait_for(self.server.stop(), 10)
            except Exception:
                log.exception("stopping the embedded server")

    # ------------------------------------------------------------------ management views

    def _push_view(self, make: Any) -> None:
        """Push a view built by `make(backend)`; a plain sentence when that cannot be done."""
        if self.backend is None or self._backend_error:
            self.notify(self._backend_error or "The server is not ready yet; try again in a moment.", severity="warning")
            return
        try:
            screen = make(self.backend)
        except TypeError as exc:  # not a Mix server behind this backend
            self.notify(str(exc), severity="warning")
            return
        if type(self.screen) is type(screen):
            return
        self.push_screen(screen)

    def attach_session_file(self, session_id: str, name: str) -> bool:
        """`@name` into the composer of the open session (the message then names the file for the
        agent to read: tui/widgets/completion.py attach_files). False when that session is not open."""
        chat = self.chat
        if chat.current is None or chat.current.id != session_id:
            return False
        chat.composer.insert(f"@{name} ")
        if chat.completion.need_files is not None:
            chat.completion.need_files()  # the names the mention is checked against
        chat.composer.focus()
        self.notify(f"{name} is attached to your next message.")
        return True

    def action_files(self) -> None:
        from tui.screens.files import FilesScreen

        current = self.chat.current
        if current is None:
            self.notify("Open a session first: files belong to a session.", severity="warning")
            return
        self._push_view(lambda backend: FilesScreen(backend, current.id, title=current.conversation.title))

    def action_models(self) -> None:
        from tui.screens.models import ModelsScreen

        self._push_view(ModelsScreen)

    def action_credentials(self) -> None:
        from tui.screens.credentials import CredentialsScreen

        self._push_view(CredentialsScreen)

    def action_tools(self) -> None:
        from tui.screens.tools import ToolsScreen

        self._push_view(ToolsScreen)

    def on_models_screen_preferences_changed(self, message: Any) -> None:
        try:
            self.chat.status.set(model=message.model)
        except LookupError:
            pass

    def run_slash_command(self, name: str) -> None:
        """Send `/name` as a message in the current session (the palette's server commands)."""
        from tui.widgets.composer import Composer

        composer = self.chat.composer
        text = f"/{name.lstrip('/')}"
        composer.post_message(Composer.Submitted(composer, text))

    # ------------------------------------------------------------------ themes and help

    def _set_initial_theme(self, name: str) -> None:
        """Set the theme before the stylesheet is first parsed, so it is parsed once with it: assigning
        `self.theme` queues a full re-parse of every stylesheet (~15 ms) behind the first one. What
        else the theme's watcher does is setting these classes, and re-mapping ANSI colours when the
        terminal theme flips between dark and light: then the ordinary assignment is kept."""
        theme = self.get_theme(name)
        if theme is None or theme.dark != self.current_theme.dark:
            self.theme = name
            return
        self.set_reactive(App.theme, name)
        self.stylesheet.set_variables(self.get_css_variables())  # made in App.__init__ from the default theme
        self.update_classes({**{c: False for c in self.classes if c.startswith("-theme-")}, f"-theme-{name}": True},
                            update=False)

    def _initial_theme(self) -> str:
        wanted = self.config.theme
        if wanted and wanted != Config().theme and wanted in self.available_themes:
            return wanted  # --theme or config.toml chose one explicitly
        stored = self.store.setting("theme")
        if stored and stored in self.available_themes:
            return stored
        if wanted in self.available_themes:
            return wanted
        return DEFAULT_THEME

    def watch_theme(self, theme: str) -> None:
        if getattr(self, "store", None) is not None and theme:
            self.store.set_setting("theme", theme)

    def set_theme_named(self, name: str) -> None:
        self.theme = name

    def action_toggle_theme(self) -> None:
        names = list(THEME_NAMES)
        current = names.index(self.theme) if self.theme in names else -1
        self.theme = names[(current + 1) % len(names)]
        self.notify(f"Theme: {self.theme}")

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen, help_markdown
        from tui.widgets.composer import Composer
        from tui.widgets.permission_prompt import PermissionPrompt
        from tui.widgets.sidebar import Sidebar
        from tui.widgets.transcript import Transcript

        if any(type(s).__name__ == "HelpScreen" for s in self.screen_stack):
            return
        widgets: list[type] = [Composer, Transcript, PermissionPrompt, Sidebar]
        if getattr(self.screen, "HELP", None):
            widgets.insert(0, type(self.screen))  # a management view: its own keys first
        # The integration's keys are listed because this app mixes IntegrationActions in (it binds them).
        scopes = ("app", "chat", "integration") if isinstance(self, IntegrationActions) else ("app", "chat")
        self.push_screen(HelpScreen(help_markdown(self.keymap_overrides, widgets, scopes=scopes)))


def _mix_commands() -> type:
    from tui.screens.palette import MixCommands  # the palette is not needed for the first paint

    return MixCommands


def _server_commands() -> type:
    from tui.screens.palette import ServerCommands

    return ServerCommands


def _plan_mode_commands() -> type:
    from tui.widgets.plan_card import PlanModeCommands

    return PlanModeCommands


def _mixerlead_commands() -> type:
    from tui.screens.mixerlead_commands import MixerLeadCommands  # offers nothing until MixerLead is configured

    return MixerLeadCommands


def _import_client_layer() -> None:
    """What connecting imports (run in a thread, see _bring_up_backend)."""
    import anyio
    import httpcore  # noqa: F401  (httpx imports its transport layer only when the first client is made)

    anyio.run(anyio.sleep, 0)  # the first request would import anyio's asyncio backend on the event loop (~30 ms)

    import tui.api.mix  # noqa: F401
    import tui.api.mix.backend  # noqa: F401
    import tui.backends  # noqa: F401


def _import_message_pane() -> None:
    """What opening a session imports (run in a thread, see _bring_up_backend)."""
    import tui.widgets.transcript  # noqa: F401


def _make_mix_backend(cls: Any, url: str, token: str | None, store: ClientStore) -> Any:
    """Build the Mix backend with whatever its constructor accepts (the local-title store, a token)."""
    import inspect

    params = inspect.signature(cls).parameters
    kwargs: dict[str, Any] = {}
    if token and "token" in params:
        kwargs["token"] = token
    if "local_titles" in params:  # titles kept locally where the server cannot rename (keys: session ids)
        kwargs["local_titles"] = lambda: {k[4:]: v for k, v in store.titles().items() if k.startswith("mix:")}
    return cls(url, **kwargs)
