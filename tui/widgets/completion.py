"""Completion in the composer: `/` completes the server's slash commands, `@` the session's files.

Three parts, each with one job:
- `completion_at(text, row, col)`: what is being completed at the cursor (pure, no Textual);
- `CompletionPopup`: the list shown above the composer;
- `ComposerCompletion`: glues a composer (a TextArea) and the popup — filters as the text changes,
  and takes the keys it needs while the popup is open (↑/↓ move, tab/enter accept, esc closes).
`attach_files(text, names)` turns the `@name` references of a message into a line the agent reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable

from textual.widgets import OptionList
from textual.widgets.option_list import Option

MAX_ITEMS = 12
_TOKEN = re.compile(r"(?:^|(?<=\s))@([^\s@]*)$")
_REF = re.compile(r"(?:^|(?<=\s))@([^\s@]+)")


@dataclass(frozen=True)
class Query:
    kind: str  # "/" or "@"
    text: str  # what was typed after the trigger
    row: int
    start: int  # column of the trigger character
    end: int  # column of the cursor


@dataclass(frozen=True)
class Item:
    kind: str  # "/" or "@"
    value: str  # the command name or the file name
    description: str = ""

    @property
    def insert(self) -> str:
        return f"{self.kind}{self.value} "


def completion_at(text: str, row: int, col: int) -> Query | None:
    """The `/command` (first word of the message) or `@file` token that ends at the cursor, if any."""
    lines = text.split("\n")
    if not 0 <= row < len(lines):
        return None
    before = lines[row][:col]
    if row == 0 and before.startswith("/") and " " not in before:
        return Query("/", before[1:], 0, 0, col)
    match = _TOKEN.search(before)
    if match:
        return Query("@", match.group(1), row, match.start(1) - 1, col)
    return None


def rank(items: Iterable[Item], typed: str) -> list[Item]:
    """Items whose value starts with what was typed first, then those containing it."""
    typed = typed.lower()
    starts, contains = [], []
    for item in items:
        value = item.value.lower()
        if value.startswith(typed):
            starts.append(item)
        elif typed and typed in value:
            contains.append(item)
    return (starts + contains)[:MAX_ITEMS]


def referenced_files(text: str, names: Iterable[str]) -> list[str]:
    """The known session files the text mentions as `@name`, in order, each once."""
    known = set(names)
    out: list[str] = []
    for match in _REF.finditer(text):
        name = match.group(1).rstrip(".,;:!?)")
        if name in known and name not in out:
            out.append(name)
    return out


def attach_files(text: str, names: Iterable[str]) -> str:
    """The message with a closing line naming the `@` files it refers to, as paths in the session
    folder (where the agent's read tool looks), so the agent knows to read them."""
    refs = referenced_files(text, names)
    if not refs:
        return text
    paths = ", ".join(f"./{name}" for name in refs)
    return f"{text.rstrip()}\n\n(Attached session files: {paths})"


class CompletionPopup(OptionList):
    """The candidates, shown above the composer while something can be completed."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.can_focus = False  # the composer keeps the focus; keys are passed in
        self.items: list[Item] = []

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    def show(self, items: list[Item]) -> None:
        self.items = items
        self.clear_options()
        self.add_options([Option(_prompt(item), id=f"{item.kind}{item.value}") for item in items])
        self.highlighted = 0 if items else None
        self.set_class(bool(items), "-open")

    def close(self) -> None:
        self.items = []
        self.clear_options()
        self.remove_class("-open")

    def move(self, step: int) -> None:
        if not self.items:
            return
        current = self.highlighted or 0
        self.highlighted = (current + step) % len(self.items)

    @property
    def current(self) -> Item | None:
        if not self.items or self.highlighted is None:
            return None
        return self.items[self.highlighted]


def _prompt(item: Item) -> str:
    label = f"{item.kind}{item.value}"
    return f"{label}  — {item.description}" if item.description else label


class ComposerCompletion:
    """Completion for one composer. The owner sets the candidates (`set_commands`, `set_files`);
    `need_files` is called when an `@` completion starts, so the owner can load the session's files."""

    def __init__(self, composer: Any, popup: CompletionPopup, *, need_files: Callable[[], None] | None = None,
                 need_commands: Callable[[], None] | None = None) -> None:
        self.composer = composer
        self.popup = popup
        self.need_files = need_files
        self.need_commands = need_commands
        self.commands: list[Item] = []
        self.files: list[Item] = []
        self.files_session: str | None = None  # the session the files belong to
        self.query: Query | None = None

    @property
    def file_names(self) -> list[str]:
        return [item.value for item in self.files]

    def set_commands(self, commands: Iterable[Any]) -> None:
        """Commands as the client's `Command` objects (name, description)."""
        self.commands = [Item("/", str(c.name).lstrip("/"), getattr(c, "description", "") or "") for c in commands]
        self.refresh()

    def set_files(self, files: Iterable[Any], session_id: str | None = None) -> None:
        """Files as the client's `FileInfo` objects; folders are left out."""
        from tui.formatting import human_size

        self.files_session = session_id
        self.files = [Item("@", f.name, human_size(f.size)) for f in files if not getattr(f, "is_dir", False)]
        self.refresh()

    def refresh(self) -> None:
        """Look at the text at the cursor again and show (or hide) the candidates."""
        row, col = self.composer.cursor_location
        query = completion_at(self.composer.text, row, col)
        starting = query is not None and (self.query is None or self.query.kind != query.kind)
        self.query = query
        if query is None:
            self.popup.close()
            return
        if starting and query.kind == "@" and self.need_files is not None:
            self.need_files()  # the session's files change: asked again each time an @ starts
        if starting and query.kind == "/" and not self.commands and self.need_commands is not None:
            self.need_commands()  # the server's commands do not change: asked until we have them
        pool = self.commands if query.kind == "/" else self.files
        items = rank(pool, query.text)
        if len(items) == 1 and items[0].value == query.text and query.kind == "/":
            items = []  # typed in full: nothing left to offer
        if items:
            self.popup.show(items)
        else:
            self.popup.close()

    def attach(self, text: str, session_id: str | None) -> str:
        """The message to send: `@` references to this session's files named as paths (see attach_files)."""
        if session_id is None or session_id != self.files_session:
            return text
        return attach_files(text, self.file_names)

    def handle_key(self, key: str) -> bool:
        """True when the key was used by the open popup (the composer then ignores it)."""
        if not self.popup.is_open:
            return False
        if key == "escape":
            self.popup.close()
            return True
        if key == "up":
            self.popup.move(-1)
            return True
        if key == "down":
            self.popup.move(+1)
            return True
        if key in ("tab", "enter"):
            return self.accept()
        return False

    def accept(self) -> bool:
        item, query = self.popup.current, self.query
        if item is None or query is None:
            return False
        start, end = (query.row, query.start), (query.row, query.end)
        self.composer.replace(item.insert, start, end)
        self.popup.close()
        self.query = None
        return True


# ---------------------------------------------------------------- the chat screen's side


def install(screen: Any) -> ComposerCompletion:
    """Wire completion into a chat screen that has a `Composer` and a `CompletionPopup`: the commands
    and the current session's files are fetched from the Mix server in workers when first needed."""
    popup = screen.query_one(CompletionPopup)
    completion = ComposerCompletion(screen.composer, popup)

    async def mix_client() -> Any:
        from tui.api.mix.backend import mix_client_of  # (httpx is imported only when first needed)

        backend = await screen.app.wait_backend()
        current = getattr(screen, "current", None)
        return mix_client_of(backend, current.id if current is not None else None)

    async def load_commands() -> None:
        try:
            client = await mix_client()
            commands = await client.list_commands()
        except Exception:  # noqa: BLE001 — no completion then; typing still works
            return
        completion.set_commands(commands)

    async def load_files() -> None:
        current = getattr(screen, "current", None)
        if current is None:
            completion.set_files([])
            return
        try:
            client = await mix_client()
            files = await client.list_files(current.id)
        except Exception:  # noqa: BLE001
            return
        if getattr(screen, "current", None) is current:  # still the same session
            completion.set_files(files, current.id)

    completion.need_commands = lambda: screen.run_worker(load_commands(), group="completion-commands", exclusive=True)
    completion.need_files = lambda: screen.run_worker(load_files(), group="completion-files", exclusive=True)
    screen.composer.completion = completion
    return completion
