"""Which server, session and model one run uses.

The server is the embedded one (started like the app starts it, on the app's data, so `--continue`
finds what the app and earlier runs left) unless a URL is given. The session is a new one, the
given one, or the last one: on the app's own server, the session the app or a run last used when
the server still has it; else the server's newest. `--model PROVIDER/MODEL` sets the server's preferences for
the run and puts the previous ones back afterwards.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator

from tui.api.backend import Conversation
from tui.api.errors import BadRequest, NotFound
from tui.api.mix.stream import ReconnectPolicy
from tui.config import Config, Paths

LAST_SESSION = "mix:last_session"  # the app's own setting (tui/screens/chat.py): both continue one thread
RECONNECT = ReconnectPolicy(base=0.25, cap=2.0, max_attempts=6)  # a script fails, it does not wait forever


class UsageError(Exception):
    """The run cannot start as asked (unknown session, unknown model): exit code 2."""


@dataclass(frozen=True)
class ModelChoice:
    provider: str
    model: str

    @classmethod
    def parse(cls, value: str) -> "ModelChoice":
        provider, sep, model = value.partition("/")
        if not sep or not provider or not model:
            raise ValueError(f"'{value}' is not PROVIDER/MODEL, e.g. anthropic/claude-4-sonnet or offline/offline-1")
        return cls(provider.strip().lower(), model.strip())


@contextlib.asynccontextmanager
async def connect(config: Config, paths: Paths, server: str | None) -> AsyncIterator[Any]:
    """A MixBackend on `server`, or on an embedded server started for this run and stopped after."""
    from tui.api.mix import MixBackend
    from tui.api.mix.client import MixClient

    embedded = None
    url, token = server, None
    if not url:
        from tui.server.launcher import EmbeddedServer

        child_paths = Paths(config_dir=paths.config_dir, data_dir=paths.server_data_dir, state_dir=paths.state_dir)
        embedded = EmbeddedServer(paths.server_data_dir, config=config, paths=child_paths)
        await embedded.start()
        url, token = embedded.url, embedded.token
    backend = MixBackend(MixClient(url, token=token, reconnect=RECONNECT))
    try:
        yield backend
    finally:
        with contextlib.suppress(Exception):
            await backend.close()
        if embedded is not None:
            await embedded.stop()


def _remembered(paths: Paths) -> tuple[Any, str | None]:
    try:
        from tui.store import ClientStore

        store = ClientStore(paths.client_db)
    except Exception:  # noqa: BLE001 — no store: --continue falls back to the server's newest session
        return None, None
    return store, store.setting(LAST_SESSION)


def remember(paths: Paths, session_id: str) -> None:
    store, _ = _remembered(paths)
    if store is not None:
        with contextlib.suppress(Exception):
            store.set_setting(LAST_SESSION, session_id)
        store.close()


def _created(conversation: Conversation) -> float:
    created = conversation.created_at
    if created is None:
        return 0.0
    return (created if created.tzinfo else created.replace(tzinfo=timezone.utc)).timestamp()


async def choose_session(backend: Any, paths: Paths | None, *, session: str | None, continue_last: bool,
                         title: str) -> Conversation:
    """`paths` None: the server is not the app's, so the app's remembered session means nothing there."""
    if session:
        try:
            return await backend.get_conversation(session)
        except NotFound:
            raise UsageError(f"there is no session {session} on the server") from None
    if continue_last:
        store, remembered = _remembered(paths) if paths is not None else (None, None)
        if store is not None:
            store.close()
        if remembered:
            with contextlib.suppress(NotFound):
                return await backend.get_conversation(remembered)
        conversations = await backend.list_conversations()
        if conversations:
            return max(conversations, key=_created)
    return await backend.create_conversation(title)


def title_from(prompt: str) -> str:
    line = next((ln.strip() for ln in prompt.splitlines() if ln.strip()), "")
    return (line[:60] + "…") if len(line) > 60 else (line or f"run {datetime.now():%Y-%m-%d %H:%M}")


@contextlib.asynccontextmanager
async def model_for_run(backend: Any, choice: ModelChoice | None) -> AsyncIterator[None]:
    """The server's preferences point at `choice` while the run lasts; the earlier ones come back after."""
    if choice is None:
        yield
        return
    client = backend.client
    before = (await client.get_preferences()).preferences
    try:
        await client.update_preferences(preferred_provider=choice.provider, main_agent_model=choice.model)
    except BadRequest as exc:
        raise UsageError(f"cannot use {choice.provider}/{choice.model}: {getattr(exc, 'server_message', '') or exc}") from None
    try:
        yield
    finally:
        if before is not None:
            with contextlib.suppress(Exception):
                # The efforts too: a change of provider turns them off on the server.
                await client.update_preferences(preferred_provider=before.preferred_provider,
                                                main_agent_model=before.main_agent_model,
                                                main_agent_reasoning_effort=before.main_agent_reasoning_effort,
                                                sub_agent_reasoning_effort=before.sub_agent_reasoning_effort)
