"""The message pane: history, the live turn, and the window that keeps long sessions light.

Performance rules this widget lives by:
- A live turn is *polled*: a timer looks at `turn.version` (60 Hz, a compare) and redraws at most
  ~30 times a second, writing only the text that arrived since the last frame.
- Finished messages are rendered once and never touched again.
- Only a window of messages has widgets; all loaded messages are kept as plain data, so scrolling
  back re-creates widgets from memory and a 2,000-message session stays a few dozen widgets.
- Showing a place (the end of a history, its top) first mounts about two screens of messages
  (estimated from their lines), so that frame comes soon; the rest of the window follows in idle
  steps after it is painted.
- The view follows the bottom (Textual's anchor) only while the user is there.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Awaitable, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.events import Click
from textual.message import Message
from textual.widget import AwaitMount, Widget
from textual.await_remove import AwaitRemove
from textual.widgets import Static

from tui.api.backend import MessagePage
from tui.api.turn import PermissionState, TurnModel
from tui.widgets import input_priority
from tui.widgets.markdown_render import warm_up_next
from tui.widgets.message import AssistantMessage, MessageAction, widget_for_entry
from tui.widgets.one_layout import virtual_size_set_by_layout
from tui.widgets.permission_prompt import PermissionAnswered
from tui.widgets.tool_card import TodoCard, ToolCard
from tui.widgets.transcript_entries import Entry, first_screens

FRAME = 1 / 30  # the most often the live answer is redrawn
POLL = 1 / 60  # how often the model's version is checked (cheap)
QUICK_DRAWS = 3  # the first draws of an answer follow each other at the poll rate (the first words soon)
FIRST_POLL = 1 / 250  # until the first block is drawn: the first token is painted as early as possible
FIRST_PAINT_WAIT = 0.1  # the most a stream waits for its first words to be painted
CLOCK_TICK = 0.1  # spinners and running durations
WARM_UP_DELAY = 0.05  # after the transcript's first frame, so warming up does not slow it
WARM_UP_STEP = 0.015  # between steps (each one lexer, ≤ 35 ms): keys and frames get through
WARM_UP_AFTER_KEY = 0.3  # no warm-up step while the user types: only in pauses this long
FALLBACK_HEIGHT = 50  # rows assumed for the pane before it has a size


class NewOutputMarker(Static):
    """Docked at the bottom of the pane while the user reads above new output."""

    def __init__(self) -> None:
        super().__init__("new output below ↓  (end)", classes="new-output-marker", markup=False)

    def on_click(self, event: Click) -> None:
        event.stop()
        transcript = self.parent
        if isinstance(transcript, Transcript):
            transcript.action_jump_to_bottom()


class Transcript(VerticalScroll, can_focus=True):
    """The scrolling list of messages of one conversation."""

    virtual_size = virtual_size_set_by_layout()  # see one_layout.py

    HELP = """\
## Messages

The conversation. It follows the answer while it streams; scroll up and it stays put, showing
"new output below" until you come back. Scrolling to the top loads older messages.

- `end`: jump to the newest output and follow it again
- `home`: go to the top (loads older messages)
- `tab` on a message, then `c` copy, `f` fork here, `enter` fold a thinking block or tool card
"""

    BINDINGS = [
        Binding("end", "jump_to_bottom", "Newest output"),
        Binding("home", "scroll_home", "Top", show=False),
    ]

    WINDOW = 50  # messages given widgets around what is shown (once the idle steps filled it)
    FIRST_SCREENS = 2  # the first frame of a place shown mounts about this many screens of messages
    FILL_STEP = 10  # messages mounted per idle step until the window holds WINDOW
    MAX_MOUNTED = 120  # upper bound of message widgets at any time
    STEP = 25  # messages re-created from memory per scroll step
    EDGE = 3  # rows from the top/bottom that count as "near"

    PermissionAnswered = PermissionAnswered

    class _Posted(Message):
        """Base of the messages a Transcript posts; `control` is that transcript."""

        transcript: "Transcript | None" = None

        @property
        def control(self) -> "Transcript | None":
            return self.transcript

    class LoadOlder(_Posted):
        """The user scrolled to the top and the server has older messages. Handler: `on_transcript_load_older`."""

        def __init__(self, before: int, limit: int | None = None) -> None:
            super().__init__()
            self.before = before  # index of the oldest message loaded so far
            self.limit = limit  # how many at most (None: a page); Home asks for all of them

    class ForkRequested(_Posted):
        def __init__(self, message_index: int) -> None:
            super().__init__()
            self.message_index = message_index

    class CopyRequested(_Posted):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class PermissionsChanged(_Posted):
        def __init__(self, pending: list[PermissionState]) -> None:
            super().__init__()
            self.pending = pending

    def __init__(self, *, id: str | None = None, classes: str | None = None, clock: Callable[[], float] | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._clock = clock
        self._entries: list[Entry] = []
        self._lo = 0  # entries[_lo:_hi] have widgets
        self._hi = 0
        self._has_older = False
        self._older_requested = False
        self._going_home = False  # Home pressed: loading the older pages, then showing the top
        self._live: Entry | None = None
        self._turn_expected = False  # a message is on its way: its turn starts in a moment
        self._drawn_version = -1
        self._text_draws = 0
        self._last_draw = 0.0
        self._last_clock_tick = 0.0
        self._pending_ids: tuple[str, ...] = ()
        self._edge_check_scheduled = False
        self._adjusting = False
        self._fill_direction = 0  # -1: the window grows upwards in idle steps, 1: downwards, 0: it is full
        self._fill_generation = 0  # a step of an older fill (the place shown changed) stops
        self._marker = NewOutputMarker()
        self._waiting: AssistantMessage | None = None  # the next answer's widget, mounted hidden (prepare_answer)

    def compose(self) -> ComposeResult:
        yield self._marker

    def on_mount(self) -> None:
        self._marker.display = False
        self.set_timer(WARM_UP_DELAY, self._warm_up)
        self._poll = self.set_interval(POLL, self._poll_tick, pause=True)
        self._first_poll = self.set_interval(FIRST_POLL, self._poll_tick, pause=True)
        if self._live is not None:
            self._poll.resume()
            self._first_poll.resume()
        self.anchor()

    # ------------------------------------------------------------------ public API

    @property
    def message_widgets(self) -> list[Widget]:
        return [e.widget for e in self._entries[self._lo : self._hi] if e.widget is not None]

    @property
    def loaded_count(self) -> int:
        return len(self._entries)

    @property
    def live_view(self) -> AssistantMessage | None:
        widget = self._live.widget if self._live is not None else None
        return widget if isinstance(widget, AssistantMessage) else None

    @property
    def following(self) -> bool:
        return self._anchored and not self._anchor_released

    @property
    def new_output_below(self) -> bool:
        return bool(self._marker.display)

    def show_history(self, page: MessagePage) -> None:
        """Replace the content with this (newest) page and show its last messages."""
        self._reset()
        self._entries = [Entry(index=m.index, message=m) for m in page.messages]
        self._has_older = page.has_older
        self._lo = self._hi = len(self._entries)
        self._show_bottom()
        self.anchor()

    def prepend_history(self, page: MessagePage) -> None:
        """Add older messages above, keeping what is on screen where it is."""
        self._older_requested = False
        self._has_older = page.has_older
        known = {e.index for e in self._entries if e.message is not None}
        new = [Entry(index=m.index, message=m) for m in page.messages if m.index not in known]
        self._entries[0:0] = new
        self._lo += len(new)
        self._hi += len(new)
        if self._going_home:
            self._go_home()  # the next older page, or the top at last
        elif new and self._lo == len(new):  # the top of the window was the oldest message: extend it upwards
            self._extend_top(min(len(new), self.WINDOW))  # the rest waits in memory until scrolled to

    def add_user_message(self, text: str) -> None:
        self._append_entry(Entry(index=self._next_index(), user_text=text))

    def expect_turn(self) -> None:
        """A message is being sent: idle work (lexer warm-up) waits, the reply is close."""
        self._turn_expected = True

    def start_turn(self, turn: TurnModel) -> None:
        """Render this live turn block by block, polled per frame, until it finishes."""
        self._turn_expected = False
        if self._live is not None:
            self._stop_live()
        entry = Entry(index=self._next_index(), turn=turn)
        self._live = entry
        self._drawn_version = -1
        self._text_draws = 0
        self._last_draw = 0.0
        self._pending_ids = ()
        self._append_entry(entry)
        if hasattr(self, "_poll"):  # else on_mount starts polling
            self._poll.resume()
            self._first_poll.resume()

    def finish_turn(self) -> None:
        """Final render of the live turn, then stop polling."""
        entry = self._live
        if entry is None:
            return
        self._stop_live()
        view = entry.widget
        if isinstance(view, AssistantMessage):
            self.call_later(self._final_sync, view, entry.turn)

    def clear(self) -> None:
        self._reset()

    def scroll_home(self, *args: Any, **kwargs: Any) -> None:
        """Home goes to the very first message: everything older is asked for in one request (indexes
        count stored messages, so `before` older ones at most), no widget is made for the messages in
        between, and the window jumps to the top."""
        if self._lo > 0 or self._has_older:
            self._going_home = True
            self._go_home()
            return
        super().scroll_home(*args, **kwargs)

    def _go_home(self) -> None:
        if self._has_older:
            if not self._older_requested and self._entries:
                self._older_requested = True
                oldest = self._entries[0].index
                self._post(self.LoadOlder(before=oldest, limit=oldest))
            return
        self._going_home = False
        if self.following:
            self.release_anchor()
        if self._lo > 0:
            self._remove_range(self._lo, self._hi)
            self._lo = self._hi = 0
            self._fill(self._mount_range(0, self._first_screens(0, 1)), 1)
        self._adjusting = True  # no edge check until the top is shown

        def show_top() -> None:
            self._adjusting = False
            super(Transcript, self).scroll_home(animate=False, immediate=True)

        self.call_after_refresh(show_top)

    def action_jump_to_bottom(self) -> None:
        self._going_home = False
        if self._hi < len(self._entries):
            self._remove_range(self._lo, self._hi)
            self._lo = self._hi = len(self._entries)
            self._show_bottom()
        self._marker.display = False
        self.anchor()

    # ------------------------------------------------------------------ entries and widgets

    def _next_index(self) -> int:
        return self._entries[-1].index + 1 if self._entries else 0

    def prepare_answer(self) -> None:
        """A send is likely soon: the next answer's widget is mounted now, hidden, at the bottom; the
        send only shows it, and its mount no longer falls where the first words arrive."""
        if (self._waiting is None or not self._waiting.is_attached) and self.is_mounted and self._hi == len(self._entries):
            self._waiting = AssistantMessage(turn=TurnModel(clock=self._clock), clock=self._clock)
            self._waiting.display = False
            self.mount(self._waiting)

    def _widget_for(self, entry: Entry, previous: Entry | None = None) -> Widget:
        waiting = self._waiting if entry.turn is not None else None
        if waiting is not None and waiting.is_attached:
            self._waiting = None
            waiting.adopt(entry.turn, entry.index)  # type: ignore[arg-type]
            return waiting
        return widget_for_entry(entry, previous, self._clock)

    def _mount_range(self, lo: int, hi: int, *, before: Widget | None = None) -> AwaitMount | None:
        widgets = []
        mounted: AwaitMount | None = None
        if before is None and self._waiting is not None and self._waiting.is_attached:
            before = self._waiting  # the waiting answer stays the last child
        for position in range(lo, hi):
            entry = self._entries[position]
            entry.widget = self._widget_for(entry, self._entries[position - 1] if position > 0 else None)
            if entry.widget.parent is None:  # (a waiting answer is mounted already)
                widgets.append(entry.widget)
        if widgets:
            mounted = self.mount_all(widgets, before=before) if before is not None else self.mount_all(widgets)
        self._lo = min(self._lo, lo)
        self._hi = max(self._hi, hi)
        return mounted

    def _remove_range(self, lo: int, hi: int) -> AwaitRemove | None:
        widgets = []
        for entry in self._entries[lo:hi]:
            if entry.widget is not None:
                widgets.append(entry.widget)
                entry.widget = None
        if widgets:
            return self.remove_children(widgets)
        return None

    def _first_screens(self, start: int, direction: int) -> int:
        """From `start` (an end of the entries) going `direction` (-1: up, 1: down): where the messages
        for the first frame end, about FIRST_SCREENS screens of them, at most WINDOW."""
        rows = self.FIRST_SCREENS * (self.size.height or FALLBACK_HEIGHT)
        return first_screens(self._entries, start, direction, rows, self.WINDOW)

    def _show_bottom(self) -> None:
        end = len(self._entries)
        self._fill(self._mount_range(self._first_screens(end, -1), end), -1)

    def _fill(self, mounted: AwaitMount | None, direction: int) -> None:
        """Once `mounted` is painted, grow the window towards `direction` in idle steps up to WINDOW."""
        self._fill_generation += 1
        self._fill_direction = direction
        generation = self._fill_generation

        async def after_mount() -> None:
            if mounted is not None:
                await mounted
            self.call_after_refresh(self._fill_step, generation)

        self.call_later(after_mount)

    def _fill_step(self, generation: int) -> None:
        if generation != self._fill_generation or not self.is_attached:
            return
        room = min(self.FILL_STEP, self.WINDOW - (self._hi - self._lo))
        mounted: AwaitMount | None = None
        if room > 0 and self._fill_direction < 0 and self._lo > 0:
            if self.following:  # the anchor keeps the bottom where it is
                lo = max(0, self._lo - room)
                mounted = self._mount_range(lo, self._lo, before=self._first_mounted())
            else:
                self._extend_top(room)  # keeps what is on screen in place
        elif room > 0 and self._fill_direction > 0 and self._hi < len(self._entries):
            mounted = self._mount_range(self._hi, min(len(self._entries), self._hi + room))
        else:
            self._fill_direction = 0
            return
        self._fill(mounted, self._fill_direction)

    def _append_entry(self, entry: Entry) -> None:
        self._entries.append(entry)
        if self._hi == len(self._entries) - 1:  # the bottom is mounted: mount the new one too
            self._mount_range(len(self._entries) - 1, len(self._entries))
            if self._hi - self._lo > self.MAX_MOUNTED and self.following:
                self._trim_top(self._hi - self._lo - self.MAX_MOUNTED)
        if entry.turn is not None or entry.user_text is not None:
            # The user just sent something: show it, and follow from here.
            self.action_jump_to_bottom()

    def _first_mounted(self) -> Widget | None:
        for entry in self._entries[self._lo : self._hi]:
            if entry.widget is not None:
                return entry.widget
        return None

    def _keep_position(self, reference: Widget | None, change: Callable[[], Awaitable[object] | None]) -> None:
        """Change the widgets above `reference` (mount or remove), then scroll so that it stays at the
        same row. Its row is read first: widgets being removed leave the layout at once."""
        if reference is None or not reference.is_mounted:
            change()
            return
        offset = reference.virtual_region.y - self.scroll_y
        changed = change()
        self._adjusting = True

        def restore() -> None:
            self._adjusting = False
            if reference.is_attached:
                self.scroll_to(y=reference.virtual_region.y - offset, animate=False, immediate=True)

        async def after_change() -> None:
            if changed is not None:
                await changed  # the new widgets are mounted; the next refresh lays them out
            self.call_after_refresh(restore)

        self.call_later(after_change)

    def _extend_top(self, count: int) -> None:
        if self._lo == 0 or count <= 0:
            return
        reference = self._first_mounted()
        lo = max(0, self._lo - count)
        if self.following:
            self.release_anchor()
        self._keep_position(reference, lambda: self._mount_range(lo, self._lo, before=reference))
        self._lo = lo
        excess = (self._hi - self._lo) - self.MAX_MOUNTED
        if excess > 0:
            self._remove_range(self._hi - excess, self._hi)
            self._hi -= excess

    def _extend_bottom(self, count: int) -> None:
        if self._hi >= len(self._entries) or count <= 0:
            return
        hi = min(len(self._entries), self._hi + count)
        self._mount_range(self._hi, hi)
        if (self._hi - self._lo) > self.MAX_MOUNTED:
            # After the scroll that brought the view here is applied (a key's scroll waits for the
            # refresh): the shift below then moves where the view is, not where it was.
            self.call_after_refresh(self._trim_excess)

    def _trim_excess(self) -> None:
        excess = (self._hi - self._lo) - self.MAX_MOUNTED
        if excess > 0:
            self._trim_top(excess)

    def _trim_top(self, count: int) -> None:
        keep = self._entries[self._lo + count].widget if self._lo + count < self._hi else None
        first = self._first_mounted()
        # The rows that go (read first: removed widgets leave the layout at once); the view moves up by
        # as many in the same step, so the frame without them shows the same messages.
        rows = keep.virtual_region.y - first.virtual_region.y if keep is not None and first is not None else 0
        self._remove_range(self._lo, self._lo + count)
        self._lo += count
        if rows > 0 and not self.following:
            self.scroll_to(y=max(0, self.scroll_target_y - rows), animate=False, immediate=True)

    def _reset(self) -> None:
        self._stop_live()
        self._remove_range(0, len(self._entries))
        self._entries = []
        self._lo = self._hi = 0
        self._has_older = False
        self._older_requested = False
        self._going_home = False
        self._fill_generation += 1
        self._fill_direction = 0
        self._marker.display = False

    # ------------------------------------------------------------------ scrolling

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)  # at the bottom, this follows again (Textual's anchor)
        if not self.is_mounted:
            return
        if self._hi < len(self._entries) and self.following:
            # The bottom of a window above the newest messages: following it would carry the view
            # past the messages mounted next; the edge check below mounts them instead.
            self.release_anchor()
        if new_value >= self.max_scroll_y - 1 and self._marker.display and self._hi >= len(self._entries):
            self._marker.display = False
        if not self._edge_check_scheduled and not self._adjusting:
            self._edge_check_scheduled = True
            self.call_after_refresh(self._check_edges)

    def _check_edges(self) -> None:
        self._edge_check_scheduled = False
        if self._adjusting or self._going_home or not self._entries:
            return
        if self.max_scroll_y > 0 and self.scroll_y <= self.EDGE:
            if self._lo > 0:
                self._extend_top(self.STEP)
            elif self._has_older and not self._older_requested:
                self._older_requested = True
                oldest = self._entries[0].index
                self._post(self.LoadOlder(before=oldest))
        elif self.scroll_y >= self.max_scroll_y - self.EDGE and self._hi < len(self._entries):
            self._extend_bottom(self.STEP)

    # ------------------------------------------------------------------ the live turn

    def _warm_up(self) -> None:
        """One small warm-up step per idle moment, on the UI thread (a thread would fight it for the
        GIL); stops as soon as a turn is live, which then pays only what it really uses."""
        if self._live is not None or self._turn_expected:
            self.set_timer(1.0, self._warm_up)  # after the turn
        elif self._fill_direction:
            self.set_timer(WARM_UP_DELAY, self._warm_up)  # after the window is filled
        elif input_priority.seconds_since_key() < WARM_UP_AFTER_KEY:
            self.set_timer(WARM_UP_AFTER_KEY, self._warm_up)  # a step (up to 35 ms) would hold the next key
        elif warm_up_next():
            self.set_timer(WARM_UP_STEP, self._warm_up)

    def _stop_live(self) -> None:
        self._live = None
        if hasattr(self, "_poll"):
            self._poll.pause()
            self._first_poll.pause()

    async def _final_sync(self, view: AssistantMessage, turn: TurnModel | None) -> None:
        if view.is_attached:
            await view.sync(final=True)
        if turn is not None:
            self._post_permissions(turn)
        if self.following:
            self.scroll_end(animate=False, immediate=False)

    def _post_permissions(self, turn: TurnModel) -> None:
        pending = turn.pending_permissions
        ids = tuple(p.request.id for p in pending)
        if ids != self._pending_ids:
            self._pending_ids = ids
            self._post(self.PermissionsChanged(pending))

    async def draw_live(self) -> None:
        """Draw the live turn now (its first block just arrived) instead of at the next poll, and
        return once that is on screen: the caller (a fast stream) would otherwise hold the frame back."""
        if not self.is_mounted:
            return
        await self._poll_tick()
        painted = asyncio.Event()
        self.call_after_refresh(painted.set)
        try:
            await asyncio.wait_for(painted.wait(), FIRST_PAINT_WAIT)
        except asyncio.TimeoutError:
            pass

    async def _poll_tick(self) -> None:
        entry = self._live
        if entry is None or entry.turn is None:
            return
        turn = entry.turn
        now = time.perf_counter()
        view = entry.widget if isinstance(entry.widget, AssistantMessage) and entry.widget.is_mounted else None
        version = turn.version
        if version != self._drawn_version or (view is not None and view.behind):
            # The first change is drawn at once (first token as early as possible), then ≤ 30 Hz.
            if self._text_draws >= QUICK_DRAWS and not turn.status.finished and (
                now - self._last_draw < FRAME or input_priority.redraw_waits(self._last_draw, now)
            ):
                return
            self._post_permissions(turn)
            if view is None:  # the live message is outside the window (the user is far up)
                if turn.status.finished:
                    self.finish_turn()
                return
            self._drawn_version = version
            if turn.blocks:  # an empty turn drawn does not hold the first token back
                self._text_draws += 1
            self._last_draw = now
            self._last_clock_tick = now
            grew = await view.sync()
            if turn.blocks:
                self._first_poll.pause()
            if grew and not self.following:
                self._marker.display = True
            if turn.status.finished:
                self.finish_turn()
        elif view is not None and now - self._last_clock_tick >= CLOCK_TICK:
            self._last_clock_tick = now
            await view.sync()

    # ------------------------------------------------------------------ messages from children

    def _post(self, message: _Posted) -> None:
        message.transcript = self
        self.post_message(message)

    def on_message_action(self, event: MessageAction) -> None:
        event.stop()
        if event.action == "copy":
            self._post(self.CopyRequested(event.text))
        elif event.action == "fork" and event.index is not None:
            self._post(self.ForkRequested(event.index))

    def on_todo_card_shown(self, event: TodoCard.Shown) -> None:
        """One checklist: every todo_write after the first updates the list, across turns and in history
        (where each step is its own message), so only the newest card stays open."""
        event.stop()
        cards = list(self.query(TodoCard))
        for card in cards[:-1]:
            card.supersede()

    def on_tool_card_copy(self, event: ToolCard.Copy) -> None:
        event.stop()
        self._post(self.CopyRequested(event.text))
