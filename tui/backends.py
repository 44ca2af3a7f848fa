"""Which chat backends the app can offer, and the one ChatBackend that routes each conversation to its own.

The chat screen holds a single `ChatBackend`. With MixerLead configured beside Mix, that is a
`RoutedBackend`: it lists the conversations of every backend together, creates a new one on the
backend the user chose (`choose_for_new`), and sends every later call to the backend that owns the
conversation. The screen therefore never asks which backend a conversation is on; it reads
`capabilities_for(id)` and `continuity_state(id)`, which the router answers from the owner.

No Textual here: this module is plain Python, imported only once the backend is being built.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Callable

from tui.api import events as ev
from tui.api.backend import Capabilities, ChatBackend, Conversation, MessagePage
from tui.config import SECRET_ENV_VARS

log = logging.getLogger(__name__)

MIX = "mix"
MIXERLEAD = "mixerlead"
LABELS = {MIX: "Mix", MIXERLEAD: "MixerLead"}
# Short marks the sidebar shows left of a title once conversations of several backends are listed.
MARKS = {MIX: "mx", MIXERLEAD: "ML"}
RATE_LIMITED = "rate_limited"  # a connection state: the backend waits out a 429 before retrying


@dataclass(frozen=True)
class BackendOption:
    """One line of the new-conversation chooser."""

    name: str
    label: str
    available: bool
    detail: str  # what it is, or (unavailable) how to make it available


def key_hint(service: str, secrets_file: Any) -> str:
    """How to give the app a key for `service` ("mixerlead", "mixpeek"), in one sentence."""
    env = SECRET_ENV_VARS[service]
    return (f"Needs an API key: set {env} in the environment, or add \"{service}\": \"<your key>\" to "
            f"{secrets_file} (mode 0600), then restart mix-tui.")


def backend_options(available: list[str] | tuple[str, ...], secrets_file: Any, *, labels: dict[str, str] | None = None) -> list[BackendOption]:
    """Mix always; MixerLead too, disabled with how to add a key when it is not among `available`."""
    labels = {**LABELS, **(labels or {})}
    details = {MIX: "agent server: tools, files, permissions, forks",
               MIXERLEAD: "hosted chat grounded in your MixerLead knowledge"}
    out: list[BackendOption] = []
    for name in (MIX, MIXERLEAD, *[n for n in available if n not in (MIX, MIXERLEAD)]):
        on = name in available or name == MIX
        detail = details.get(name, "") if on else key_hint(name, secrets_file)
        out.append(BackendOption(name, labels.get(name, name), on, detail))
    return out


def build_mixerlead(config: Any, secrets: Any, paths: Any) -> ChatBackend | None:
    """The MixerLead backend when a key is configured, else None (building it makes no request)."""
    if not secrets.get(MIXERLEAD):
        return None
    from tui.api.mixerlead.backend import MixerLeadBackend

    try:
        return MixerLeadBackend.from_settings(config, secrets, paths)
    except Exception:  # a broken setting must not keep the app (and Mix) from starting
        log.exception("MixerLead backend could not be built")
        return None


def _newest_first(conversation: Conversation) -> float:
    created = conversation.created_at
    if created is None:
        return 0.0
    return created.timestamp() if created.tzinfo else created.replace(tzinfo=timezone.utc).timestamp()


class RoutedBackend(ChatBackend):
    """Several backends behind one: `primary` (Mix) plus any others, each conversation on its owner.

    The name stays the primary's, so draft keys, prompt history and the remembered last session
    are the same as with the primary alone. Attributes this class does not define are looked up on
    the primary (for optional extras a screen may probe with getattr)."""

    def __init__(self, primary: ChatBackend, others: list[ChatBackend] | tuple[ChatBackend, ...] = ()) -> None:
        self.primary = primary
        self.name = primary.name or MIX
        self.label = primary.label or LABELS.get(self.name, self.name)
        self.backends: dict[str, ChatBackend] = {self.name: primary}
        for other in others:
            self.backends[other.name] = other
        self.new_backend = self.name  # where the next create_conversation goes
        self._owner: dict[str, str] = {}  # conversation id -> backend name

    def __getattr__(self, attr: str) -> Any:
        # Only called for attributes not found normally: optional extras of the primary (base_url, ...).
        if attr in ("primary", "backends", "_owner"):
            raise AttributeError(attr)
        return getattr(self.primary, attr)

    # ------------------------------------------------------------ routing

    @property
    def names(self) -> list[str]:
        return list(self.backends)

    def backend(self, name: str) -> ChatBackend | None:
        return self.backends.get(name)

    def owner_name(self, conversation_id: str | None) -> str:
        if conversation_id is None:
            return self.new_backend
        return self._owner.get(conversation_id, self.name)

    def backend_of(self, conversation_id: str | None) -> ChatBackend:
        return self.backends.get(self.owner_name(conversation_id), self.primary)

    def choose_for_new(self, name: str) -> None:
        """The backend the next new conversation is created on."""
        if name not in self.backends:
            raise KeyError(f"no backend named {name!r}")
        self.new_backend = name

    def label_of(self, name: str) -> str:
        backend = self.backends.get(name)
        return (backend.label if backend is not None and backend.label else LABELS.get(name, name))

    @property
    def capabilities(self) -> Capabilities:  # type: ignore[override]
        return self.backend_of(None).capabilities

    def capabilities_for(self, conversation_id: str | None) -> Capabilities:
        return self.backend_of(conversation_id).capabilities

    def continuity_state(self, conversation_id: str) -> str:
        """"yes" | "no" | "unknown" from the owning backend; "yes" for one that always continues."""
        backend = self.backend_of(conversation_id)
        state = getattr(backend, "continuity_state", None)
        if state is not None:
            return state(conversation_id)
        return "yes" if backend.capabilities.continuity else "no"

    async def current_model(self) -> str:
        """The label for a new conversation (on the backend chosen for it)."""
        return await self.model_label(None)

    async def model_label(self, conversation_id: str | None) -> str:
        """The status bar's model label for a conversation (None: the next new one)."""
        getter = getattr(self.backend_of(conversation_id), "current_model", None)
        return str(await getter(conversation_id) or "") if getter is not None else ""

    def marks(self) -> dict[str, str]:
        """Backend name -> sidebar mark; empty while a single backend exists (nothing to tell apart)."""
        return {name: MARKS.get(name, name[:2]) for name in self.backends} if len(self.backends) > 1 else {}

    # ------------------------------------------------------------ conversations

    async def list_conversations(self) -> list[Conversation]:
        merged: list[Conversation] = []
        for name, backend in self.backends.items():
            try:
                conversations = await backend.list_conversations()
            except Exception:
                if backend is self.primary:
                    raise  # the screen says the server is unreachable and keeps trying
                log.exception("listing %s conversations", name)
                continue
            for conv in conversations:
                self._owner[conv.id] = name
                if not conv.backend:
                    conv.backend = name
            merged.extend(conversations)
        merged.sort(key=_newest_first, reverse=True)
        return merged

    async def create_conversation(self, title: str) -> Conversation:
        name = self.new_backend
        conv = await self.backends[name].create_conversation(title)
        self._owner[conv.id] = name
        if not conv.backend:
            conv.backend = name
        if conv.created_at is None:
            conv.created_at = datetime.now(timezone.utc)
        return conv

    async def rename_conversation(self, conversation_id: str, title: str) -> None:
        await self.backend_of(conversation_id).rename_conversation(conversation_id, title)

    async def delete_conversation(self, conversation_id: str) -> None:
        await self.backend_of(conversation_id).delete_conversation(conversation_id)
        self._owner.pop(conversation_id, None)

    async def load_messages(self, conversation_id: str, *, before: int | None = None, limit: int = 50) -> MessagePage:
        return await self.backend_of(conversation_id).load_messages(conversation_id, before=before, limit=limit)

    async def fork(self, conversation_id: str, message_count: int, title: str | None = None) -> Conversation:
        name = self.owner_name(conversation_id)
        conv = await self.backends[name].fork(conversation_id, message_count, title)
        self._owner[conv.id] = name
        return conv

    # ------------------------------------------------------------ turns

    async def send(self, conversation_id: str, text: str, *, plan_mode: bool = False,
                   on_sent: Callable[[], None] | None = None) -> None:
        await self.backend_of(conversation_id).send(conversation_id, text, plan_mode=plan_mode, on_sent=on_sent)

    async def events(self, conversation_id: str) -> AsyncIterator[ev.Event]:  # type: ignore[override]
        backend = self.backend_of(conversation_id)
        async for event in backend.events(conversation_id):
            if type(event) is ev.ConnectionChanged and event.state == "reconnecting" and _waits_for_429(backend, conversation_id):
                # A rate limit is not a lost connection: the screen says "rate limited" with the countdown.
                event = replace(event, state=RATE_LIMITED)
            yield event

    async def cancel(self, conversation_id: str) -> None:
        await self.backend_of(conversation_id).cancel(conversation_id)

    async def answer_permission(self, request_id: str, granted: bool, remember: str | None = None) -> bool:
        # Permission ids carry no conversation; only backends with the capability ask for them.
        for backend in self.backends.values():
            if backend.capabilities.permissions:
                return await backend.answer_permission(request_id, granted, remember)
        return await self.primary.answer_permission(request_id, granted, remember)

    async def close(self) -> None:
        results = await asyncio.gather(*(b.close() for b in self.backends.values()), return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                log.warning("closing a backend: %s", type(result).__name__)


def _waits_for_429(backend: ChatBackend, conversation_id: str) -> bool:
    """True when the backend says the retry it is waiting for was caused by a 429."""
    waiting = getattr(backend, "waiting", None)
    notice = waiting.get(conversation_id) if isinstance(waiting, dict) else None
    return getattr(notice, "status", None) == 429


def route(primary: ChatBackend, config: Any, secrets: Any, paths: Any) -> ChatBackend:
    """What the app talks to: the primary alone, or a RoutedBackend when another backend is configured."""
    mixerlead = build_mixerlead(config, secrets, paths)
    if mixerlead is None:
        return RoutedBackend(primary)
    return RoutedBackend(primary, [mixerlead])
