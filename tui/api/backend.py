"""The one interface the UI knows. Each chat backend (Mix, MixerLead) implements it in its own
subpackage; the UI never branches on the backend's type, only on `capabilities`."""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from datetime import datetime
from typing import AsyncIterator, Callable

from tui.api.events import Event
from tui.api.turn import ToolCall


@dataclass(frozen=True)
class Capabilities:
    fork: bool = False
    files: bool = False
    permissions: bool = False
    cancel: bool = False  # server-side cancel; otherwise cancelling closes the stream
    thinking: bool = False
    tools: bool = False
    plan_mode: bool = False
    slash_commands: bool = False
    continuity: bool = True  # False: each message starts a new server-side conversation


@dataclass
class Conversation:
    id: str
    title: str
    backend: str  # "mix" | "mixerlead"
    created_at: datetime | None = None
    message_count: int = 0
    preview: str = ""  # first user message, for the sidebar
    cost: float = 0.0
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass
class ChatMessage:
    """A finished message of the history, in a backend-neutral shape."""

    id: str
    role: str  # "user" | "assistant" | "tool" | "system"
    text: str = ""
    reasoning: str = ""
    reasoning_duration: float | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    model: str = ""
    index: int = 0  # position in the conversation (what fork counts)
    note: str = ""  # what the app says about the message, shown beside it, never part of it ("not sent: …")
    ended: str = ""  # an answer cut short, as stored: "canceled", "interrupted" or "error" ("": it finished)


@dataclass
class MessagePage:
    messages: list[ChatMessage]
    start: int  # index of the first message of this page in the whole conversation
    total: int

    @property
    def has_older(self) -> bool:
        return self.start > 0


class ChatBackend(abc.ABC):
    name: str = ""
    label: str = ""
    capabilities: Capabilities = Capabilities()

    @abc.abstractmethod
    async def list_conversations(self) -> list[Conversation]: ...

    @abc.abstractmethod
    async def create_conversation(self, title: str) -> Conversation: ...

    @abc.abstractmethod
    async def rename_conversation(self, conversation_id: str, title: str) -> None: ...

    @abc.abstractmethod
    async def delete_conversation(self, conversation_id: str) -> None: ...

    @abc.abstractmethod
    async def load_messages(self, conversation_id: str, *, before: int | None = None, limit: int = 50) -> MessagePage:
        """The newest `limit` messages before index `before` (None: the newest of all)."""

    @abc.abstractmethod
    async def send(self, conversation_id: str, text: str, *, plan_mode: bool = False,
                   on_sent: Callable[[], None] | None = None) -> None:
        """Start a turn. Its output arrives through `events`; this returns once the server accepted it.
        `on_sent` is called once the request has left (all written): the caller may draw meanwhile
        without holding it back."""

    @abc.abstractmethod
    def events(self, conversation_id: str) -> AsyncIterator[Event]:
        """Events of one conversation, for as long as the caller iterates (reconnecting as needed)."""

    async def cancel(self, conversation_id: str) -> None:
        raise NotImplementedError

    async def answer_permission(self, request_id: str, granted: bool, remember: str | None = None) -> bool:
        """Allow or deny; `remember` ("session" or "always": this tool in this folder) also keeps the
        answer where the server can. Returns False when a standing answer was asked for and the server
        keeps none (the request was then allowed once)."""
        raise NotImplementedError

    async def fork(self, conversation_id: str, message_count: int, title: str | None = None) -> Conversation:
        raise NotImplementedError

    async def close(self) -> None:
        return None
