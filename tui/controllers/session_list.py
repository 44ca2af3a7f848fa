"""The sessions of the chat's backend, and what this client keeps about each in its store: local titles
(for servers that cannot rename), drafts, unseen marks and the last session open. Also the requests
on a whole session: create, rename, delete, fork, export. Slash-command answers are kept here too
(`commands`, see command_log), since no server keeps them.

Drafts and marks are keyed `<backend name>:<conversation id>`, with `new` for the composer of a
session not created yet; the backend name is read when needed (it is known once the backend is up).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Callable

from tui.api.backend import ChatBackend, Conversation
from tui.controllers import backend_info
from tui.controllers.command_log import CommandLog
from tui.controllers.export import CommandText, export_markdown, export_path, write_export
from tui.controllers.session import SessionController
from tui.controllers.wording import error_text, title_from
from tui.store import ClientStore

NEW_KEY = "new"  # draft key of the composer when no session is open
RETRY_FIRST, RETRY_MOST = 0.5, 10.0  # seconds between attempts to list the sessions, doubling
RELIST_EVERY = 10.0  # seconds between quiet listings: renames have no event, and with no session open no stream brings any


class ExportFailed(Exception):
    """The export did not happen; the message says why, in one sentence."""


class SessionList:
    def __init__(self, store: ClientStore, backend_name: Callable[[], str],
                 backend: Callable[[], ChatBackend | None]) -> None:
        self.store = store
        self._backend_name = backend_name
        self._backend = backend
        self.loaded = False  # listed at least once
        self.last_failure: BaseException | None = None  # why the last listing failed
        self.pending_open: str | None = None  # the session to reopen once the list is in
        self.commands = CommandLog(store, self.key)  # slash-command answers, kept here for every session

    @property
    def backend(self) -> ChatBackend | None:
        return self._backend()

    def key(self, conversation_id: str | None) -> str:
        return f"{self._backend_name()}:{conversation_id or NEW_KEY}"

    # ------------------------------------------------------------------ listing

    async def load(self, on_failure: Callable[[str], None], *, first_wait: float = RETRY_FIRST) -> list[Conversation] | None:
        """Every conversation, with local titles applied; None without a backend. Retries until it
        works, telling `on_failure` why each attempt failed (never raises: the app keeps running)."""
        backend = self.backend
        if backend is None:
            return None
        delay = first_wait
        while True:
            try:
                conversations = await backend.list_conversations()
                break
            except Exception as exc:  # every failure: say it, keep trying
                self.last_failure = exc  # (whether the server answered at all decides the wording)
                on_failure(error_text(exc))
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MOST)
        titles = self.store.titles()
        for conv in conversations:
            local = titles.get(self.key(conv.id))
            if local:
                conv.title = local
        self.loaded = True
        return conversations

    async def relist(self, shown: list[Conversation]) -> list[Conversation] | None:
        """One quiet listing (another client may have created, renamed or deleted sessions): the new
        list when it differs from `shown` in ids, order or titles; None when it does not, or failed
        (the event streams report the connection; this only keeps the list fresh)."""
        backend = self.backend
        if backend is None or not self.loaded:
            return None
        try:
            conversations = await backend.list_conversations()
        except Exception:  # noqa: BLE001 — the next listing tries again
            return None
        titles = self.store.titles()
        for conv in conversations:
            conv.title = titles.get(self.key(conv.id)) or conv.title
        if [(c.id, c.title) for c in conversations] == [(c.id, c.title) for c in shown]:
            return None
        return conversations

    def unseen(self, conversations: list[Conversation]) -> list[str]:
        """The ids of the sessions whose last answer came while they were not on screen."""
        marked = self.store.unseen()
        return [c.id for c in conversations if self.key(c.id) in marked]

    def last_open(self) -> str | None:
        return self.store.setting(f"{self._backend_name()}:last_session")

    def take_pending(self, conversations: list[Conversation]) -> Conversation | None:
        """The session to reopen, when it is listed; asked once."""
        match = next((c for c in conversations if c.id == self.pending_open), None) if self.pending_open else None
        self.pending_open = None
        return match

    def opened(self, conversation_id: str) -> None:
        """Seen now, and the one to reopen next time."""
        self.store.mark_seen(self.key(conversation_id))
        self.store.set_setting(f"{self._backend_name()}:last_session", conversation_id)

    def mark_unseen(self, conversation_id: str) -> None:
        self.store.mark_unseen(self.key(conversation_id))

    # ------------------------------------------------------------------ drafts

    def draft(self, conversation_id: str | None) -> str:
        return self.store.draft(self.key(conversation_id))

    def save_draft(self, conversation_id: str | None, text: str) -> None:
        self.store.set_draft(self.key(conversation_id), text)
        self.store.flush()

    def clear_draft(self, conversation_id: str | None) -> None:
        self.store.clear_draft(self.key(conversation_id))

    def keep_unsent(self, key: str, text: str) -> bool:
        """A failed message goes back as the draft of `key` unless one was typed since. True if kept."""
        if self.store.draft(key).strip():
            return False
        self.store.set_draft(key, text)
        self.store.flush()
        return True

    def remember_prompt(self, text: str) -> None:
        self.store.add_prompt(self._backend_name(), text)

    # ------------------------------------------------------------------ requests on a whole session
    # Each raises what the backend raised; the caller says it in a sentence (wording.error_text).

    async def create(self, first_message: str, *, title: str | None = None) -> Conversation:
        backend = self.backend
        assert backend is not None
        return await backend.create_conversation(title or title_from(first_message))

    async def rename(self, conversation: Conversation, title: str) -> None:
        try:
            await self.backend.rename_conversation(conversation.id, title)  # type: ignore[union-attr]
        except NotImplementedError:
            self.store.set_title(self.key(conversation.id), title)  # kept locally: this server cannot rename
        conversation.title = title

    async def delete(self, conversation: Conversation) -> None:
        await self.backend.delete_conversation(conversation.id)  # type: ignore[union-attr]
        self.store.forget(self.key(conversation.id))

    def can_fork(self, conversation_id: str) -> bool:
        backend = self.backend
        return backend is not None and backend_info.capabilities(backend, conversation_id).fork

    async def fork(self, conversation: Conversation, message_index: int) -> Conversation:
        """A new session holding the messages up to and including `message_index` (check `can_fork` first)."""
        return await self.backend.fork(conversation.id, message_index + 1,  # type: ignore[union-attr]
                                       title=f"{conversation.title} (fork)")

    async def export(self, session: SessionController, folder: Path, now: datetime | None = None,
                     command_text: CommandText | None = None) -> Path:
        """The session as a Markdown file in `folder`, with its kept slash commands (`command_text` writes
        their answers); raises ExportFailed with the sentence to show."""
        try:
            messages = await session.all_messages(with_commands=True)
        except Exception as exc:
            raise ExportFailed(f"Could not export: {error_text(exc)}") from exc
        path = export_path(folder, session.conversation, now)
        try:
            await write_export(path, export_markdown(session.conversation, messages, command_text))
        except OSError as exc:
            raise ExportFailed(f"Could not write {path}: {exc.strerror}") from exc
        return path
