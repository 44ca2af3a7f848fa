"""The session list: newest first, title and age, a mark per session, filtered by typing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from rich.cells import cell_len, chop_cells
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.events import Key
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from tui.api.backend import Conversation

# The mark shown left of a title, by session state (most urgent first).
MARKS = {
    "permission": ("?", "bold $text-warning"),
    "busy": ("●", "$text-accent"),
    "unseen": ("◆", "$text-primary"),
    "": (" ", ""),
}


@dataclass
class SessionItem:
    conversation: Conversation
    state: str = ""  # "permission" | "busy" | "unseen" | ""

    @property
    def id(self) -> str:
        return self.conversation.id

    @property
    def title(self) -> str:
        return self.conversation.title or self.conversation.preview or "untitled"


def age(created: datetime | None, now: float | None = None) -> str:
    """A short age: now, 5m, 3h, 2d, 6w."""
    if created is None:
        return ""
    stamp = created.timestamp() if created.tzinfo else created.replace(tzinfo=timezone.utc).timestamp()
    seconds = max(0.0, (time.time() if now is None else now) - stamp)
    if seconds < 60:
        return "now"
    for size, unit in ((7 * 86400, "w"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return "now"


class SessionList(OptionList):
    """The options; printable keys go to the filter box so typing filters at once."""

    def on_key(self, event: Key) -> None:
        typed = event.is_printable and event.character and event.key != "space"
        if typed or event.key == "backspace":
            box = self.screen.query_one("#session-filter", Input)
            box.focus()
            box.cursor_position = len(box.value)
            if typed:
                box.insert_text_at_cursor(event.character)  # type: ignore[arg-type]
            else:
                box.action_delete_left()  # the filter is edited from the list too
            event.stop()
            event.prevent_default()

    def on_resize(self) -> None:
        # The labels are padded to this list's width, which is only known once it is laid out
        # (it is hidden while there are no sessions): draw them again with the real width.
        for ancestor in self.ancestors:
            if isinstance(ancestor, Sidebar):
                ancestor.refresh_labels()
                break


class Sidebar(Vertical):
    """Sessions newest first. Posts `Sidebar.Selected` when the user opens one."""

    HELP = """\
## Sessions

Newest first. Type to filter by title. Marks: `●` answering, `?` waiting for your permission,
`◆` finished while you were elsewhere.

- `enter`: open the highlighted session
- `escape` in the filter: clear it and go back to the list
"""

    BINDINGS = [Binding("enter", "open", "Open", show=False)]

    class Selected(Message):
        def __init__(self, conversation_id: str) -> None:
            super().__init__()
            self.conversation_id = conversation_id

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._items: dict[str, SessionItem] = {}
        self._order: list[str] = []
        self._current: str | None = None
        self._filter = ""
        self._now: float | None = None  # fixed "now" for screenshots
        self._marks: dict[str, str] = {}  # backend name -> short mark, when conversations of several are listed
        self._label_width = -1  # the list width the labels were padded to

    def compose(self) -> ComposeResult:
        yield Static("Sessions", id="sidebar-title")
        # No select-on-focus: the first key typed in the list focuses the box, and the next key would
        # replace it.
        yield Input(placeholder="filter…", id="session-filter", select_on_focus=False)
        yield SessionList(id="session-list")
        yield Static("", id="sidebar-empty")

    def on_mount(self) -> None:
        self.set_interval(60, self._refresh_options)  # ages move on
        self._refresh_options()

    # ------------------------------------------------------------------ data

    @property
    def items(self) -> list[SessionItem]:
        return [self._items[i] for i in self._order]

    @property
    def visible_ids(self) -> list[str]:
        return [o.id for o in self.query_one(SessionList).options if o.id]  # type: ignore[misc]

    def set_sessions(self, conversations: list[Conversation]) -> None:
        """Replace the list (the backend's order is kept: newest first)."""
        old = self._items
        self._items = {c.id: SessionItem(c, old[c.id].state if c.id in old else "") for c in conversations}
        self._order = [c.id for c in conversations]
        self._refresh_options()

    def add_session(self, conversation: Conversation) -> None:
        self._items[conversation.id] = SessionItem(conversation)
        self._order = [conversation.id] + [i for i in self._order if i != conversation.id]
        self._refresh_options()

    def remove_session(self, conversation_id: str) -> None:
        self._items.pop(conversation_id, None)
        self._order = [i for i in self._order if i != conversation_id]
        self._refresh_options()

    def set_title(self, conversation_id: str, title: str) -> None:
        item = self._items.get(conversation_id)
        if item is not None:
            item.conversation.title = title
            self._refresh_options()

    def set_state(self, conversation_id: str, state: str) -> None:
        item = self._items.get(conversation_id)
        if item is not None and item.state != state:
            item.state = state
            self._redraw_label(item)

    def _redraw_label(self, item: SessionItem) -> None:
        """Only this session's line (at the start and the end of every turn): rebuilding the whole
        list took milliseconds per dozen sessions, in the frames of a streaming answer."""
        if not self.is_mounted or self._label_width <= 0:
            self._refresh_options()
            return
        try:
            self.query_one(SessionList).replace_option_prompt(item.id, self._label(item, max(12, self._label_width)))
        except OptionDoesNotExist:
            pass  # filtered out: drawn when the filter lets it through

    def state_of(self, conversation_id: str) -> str:
        item = self._items.get(conversation_id)
        return item.state if item else ""

    def set_marks(self, marks: dict[str, str]) -> None:
        """Show each conversation's backend (e.g. {"mix": "mx", "mixerlead": "ML"}); empty: no marks."""
        self._marks = dict(marks)
        self._refresh_options()

    def label_text(self, conversation_id: str) -> str:
        """The plain text of a session's line, as drawn (tests and accessibility read it)."""
        item = self._items.get(conversation_id)
        return self._label(item, 40).plain if item is not None else ""

    def set_current(self, conversation_id: str | None) -> None:
        self._current = conversation_id
        self._refresh_options()

    # ------------------------------------------------------------------ view

    def _label(self, item: SessionItem, width: int) -> Content:
        mark, style = MARKS.get(item.state, MARKS[""])
        when = age(item.conversation.created_at, self._now)
        backend = ""
        if self._marks:
            backend = self._marks.get(item.conversation.backend, item.conversation.backend[:2]).ljust(2) + " "
            width -= len(backend)
        # Cells, not characters: ✅ or 🇨🇭 take two cells, and counting them as one pushed the age onto
        # a second line.
        room = max(4, width - len(when) - 3)
        title = item.title.replace("\n", " ")
        if cell_len(title) > room:
            title = chop_cells(title, room - 1)[0].rstrip() + "…"
        pad = " " * max(1, width - 2 - cell_len(title) - len(when))
        return Content.assemble((mark, style), " ", (backend, "$text-secondary"), (title, "bold" if item.id == self._current else ""),
                                pad, (when, "$text-muted"))

    def _refresh_options(self) -> None:
        if not self.is_mounted:
            return
        options = self.query_one(SessionList)
        self._label_width = options.scrollable_content_region.width  # 0 while hidden (no sessions yet)
        width = max(12, self._label_width or (self.content_size.width or 32) - 2)
        needle = self._filter.lower()
        shown = [self._items[i] for i in self._order if not needle or needle in self._items[i].title.lower()]
        previous = options.highlighted_option.id if options.highlighted_option is not None else None
        # The open session is the one highlighted; otherwise keep where the user was.
        highlighted = self._current if self._current in self._items else previous
        options.set_options([Option(self._label(item, width), id=item.id) for item in shown])
        ids = [item.id for item in shown]
        if highlighted in ids:
            options.highlighted = ids.index(highlighted)
        empty = self.query_one("#sidebar-empty", Static)
        empty.display = not shown
        options.display = bool(shown)
        text = f"no match for “{self._filter}”\nesc in the filter clears it" if self._order else "no sessions yet\nctrl+n starts one"
        if str(empty.content) != text:  # an update lays out the screen
            empty.update(text)

    def on_resize(self) -> None:
        self._refresh_options()

    def refresh_labels(self) -> None:
        """Draw the labels again if the list's width changed since they were drawn."""
        if self.query_one(SessionList).scrollable_content_region.width != self._label_width:
            self._refresh_options()

    # ------------------------------------------------------------------ input

    @on(Input.Changed, "#session-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._filter = event.value
        self._refresh_options()

    @on(Input.Submitted, "#session-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        options = self.query_one(SessionList)
        if options.option_count:
            options.highlighted = options.highlighted or 0
            self.action_open()

    def on_key(self, event: Key) -> None:
        box = self.query_one("#session-filter", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            box.value = ""
            self.query_one(SessionList).focus()
        elif event.key == "down" and box.has_focus:
            event.stop()
            self.query_one(SessionList).focus()

    @on(OptionList.OptionSelected, "#session-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.Selected(event.option.id))

    def action_open(self) -> None:
        options = self.query_one(SessionList)
        option = options.highlighted_option
        if option is not None and option.id:
            self.post_message(self.Selected(option.id))

    def focus_list(self) -> None:
        """The list, or the filter box while a leftover filter hides every session (where it can be edited)."""
        options = self.query_one(SessionList)
        if options.display:
            options.focus()
        else:
            self.query_one("#session-filter", Input).focus()
