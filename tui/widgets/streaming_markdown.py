"""A chat answer that grows: one widget that draws its own lines (Textual's line API).

The text is kept as *parts*: runs of finished top-level blocks of about PART_CHARS (a block is
finished once another top-level block follows it), each drawn by Rich once per width and theme,
and the *tail*, the last block, still growing, drawn again as text arrives. A part is not a
widget: a layout of the screen sees one widget however long the answer, no widget is mounted
while text streams in, and a paint asks only for the lines on screen.

`sync_text(text)` is given everything received so far (the transcript calls it at most once per
frame). A step hands Rich at most `catch_up_chars()` new characters. When the text is further
ahead (a fast stream's burst, a long answer shown at once), the blocks above the newest text
become parts at once without being drawn: layout gives them an estimated height, and they are
drawn when first painted or by an idle step, newest first. A paint spends at most PAINT_BUDGET
drawing such parts; a part it has no time for stays blank for a frame or two, so no frame (and no
key waiting behind it) pays for a screenful of Markdown at once.
"""

from __future__ import annotations

import time
from bisect import bisect_right
from itertools import accumulate

from rich.style import Style as RichStyle
from textual.app import RenderResult
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget

from tui.widgets import input_priority
from tui.widgets.markdown_render import ChatMarkdown, code_theme, draw_markdown, estimated_height, block_starts
from tui.widgets.one_layout import virtual_size_set_by_layout

PART_CHARS = 500  # a part holds whole blocks up to about this much text (drawn in one go: ~5 ms)
PAINT_BUDGET = 0.006  # seconds a paint may spend drawing parts not drawn yet
PAINT_BUDGET_TYPING = 0.0  # while the user types: none, the frame that paints a key stays short (idle steps draw them)
CATCH_UP_CHARS = 2_000  # the most new text one step draws (warm: ~10 ms of Rich rendering)
FIRST_LINE_CHARS = 60  # the most the very first part holds: the first words, on one line
FIRST_PART_CHARS = 300  # the first part drawn; the next ones may be 4x what is shown, up to CATCH_UP_CHARS
CATCH_UP_CHARS_TYPING = 500  # the same while the user types (~3 ms of Rich rendering)
TYPING_WINDOW = 0.5  # seconds after a key during which the user counts as typing
CATCH_UP_INTERVAL = 1 / 40  # between two catch-up steps: the frame in between paints and takes keys

DrawKey = tuple[int, RichStyle, str]  # width, the widget's style, the code theme
_EMPTY = Strip([])


def catch_up_chars() -> int:
    """The most new text one step hands Rich: less while the user types, so a key never waits
    behind a long redraw (the rest follows a frame later)."""
    return CATCH_UP_CHARS_TYPING if input_priority.seconds_since_key() < TYPING_WINDOW else CATCH_UP_CHARS


class _Part:
    """A run of Markdown blocks and its lines as last drawn."""

    __slots__ = ("source", "strips", "key", "plain")

    def __init__(self, source: str) -> None:
        self.source = source
        self.strips: list[Strip] = []
        self.key: DrawKey | None = None  # what the strips were drawn for; None: never drawn
        self.plain = False  # a fenced block was drawn without colours (its lexer not compiled yet)

    def height(self, key: DrawKey) -> int:
        if self.key is not None and self.key[0] == key[0]:
            return len(self.strips)  # drawn at this width (maybe in another theme: the same lines)
        return estimated_height(self.source, key[0]) if self.source.strip() else 0

    def draw(self, widget: Widget, key: DrawKey) -> None:
        """Drawn for `key`. While the user types, a fenced block whose lexer was never used is drawn
        without colours (compiling a lexer takes 15-35 ms, a key would wait): coloured in a pause."""
        self.plain = False
        if self.source.strip():
            typing = input_priority.seconds_since_key() < TYPING_WINDOW
            markdown = ChatMarkdown(self.source.strip("\n"), code_theme=key[2], hyperlinks=False, plain_cold_code=typing)
            self.strips = draw_markdown(widget, markdown, key[0], key[1])
            self.plain = markdown.drew_plain
        else:
            self.strips = []
        self.key = key

    def wants_drawing(self, key: DrawKey, typing: bool) -> bool:
        return self.key != key or (self.plain and not typing)


class StreamingMarkdown(Widget):
    """Markdown that grows: `sync_text` with the whole text so far; finished blocks are never redrawn."""

    virtual_size = virtual_size_set_by_layout()  # see one_layout.py

    DEFAULT_CSS = """
    StreamingMarkdown {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, markdown: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._written = markdown  # everything given so far
        self._shown = markdown[: self._next_end(markdown, 0)]  # the prefix of `_written` handed to the parts
        self._stable = 0  # characters of `_shown` that are in finished parts
        self._parts: list[_Part] = []
        # Born with its first part: painted in the frame that mounts it.
        self._tail = _Part(self._shown)
        self._starts: list[int] = [0]  # the first line of each part, then of the tail, at `_laid_out`
        self._laid_out: DrawKey | None = None
        self._paint_key: DrawKey | None = None
        self._budget_end = 0.0
        self._ready = False
        self._catch_up_timer: Timer | None = None
        self._last_advance = 0.0

    def on_mount(self) -> None:
        self._ready = True  # `is_mounted` is still False inside on_mount
        if self.behind:
            self._catch_up_timer = self.set_timer(CATCH_UP_INTERVAL, self._advance)

    @property
    def written(self) -> str:
        """Everything given so far (what the widget shows once it has caught up)."""
        return self._written

    @property
    def source(self) -> str:
        return self._written

    @property
    def shown(self) -> str:
        return self._shown

    @property
    def behind(self) -> bool:
        """True while part of the text given is still waiting to be drawn."""
        return len(self._shown) < len(self._written)

    @property
    def part_sources(self) -> list[str]:
        """The finished parts' texts, then the tail's."""
        return [part.source for part in self._parts] + [self._tail.source]

    @property
    def undrawn_parts(self) -> int:
        """Finished parts not drawn at the current width and theme (drawn when painted or idle)."""
        key = self._draw_key()
        return sum(1 for part in self._parts if part.key != key)

    @property
    def uncoloured_parts(self) -> int:
        """Parts (the tail included) with a fenced block drawn without colours while the user typed."""
        return sum(1 for part in self._all_parts() if part.plain)

    # ------------------------------------------------------------------ layout and paint

    def _draw_key(self, width: int | None = None) -> DrawKey:
        return (self.content_size.width if width is None else width, self.visual_style.rich_style, code_theme(self))

    def _lay_out(self, key: DrawKey) -> int:
        """Where each part starts at `key`'s width; returns the height. The tail is drawn here if
        it is not yet: its real height, never an estimate."""
        if self._tail.key != key:
            self._tail.draw(self, key)
        starts, y = [], 0
        for part in self._parts:
            starts.append(y)
            y += part.height(key) + 1  # the blank line Rich puts between blocks, here between parts
        starts.append(y)
        self._starts, self._laid_out = starts, key
        return y + len(self._tail.strips)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._lay_out(self._draw_key(width))

    def render(self) -> RenderResult:
        return ""  # drawn line by line (render_line)

    def render_lines(self, crop: Region) -> list[Strip]:
        key = self._paint_key = self._draw_key()
        if key != self._laid_out:
            self._lay_out(key)
        typing = input_priority.seconds_since_key() < TYPING_WINDOW
        self._budget_end = time.perf_counter() + (PAINT_BUDGET_TYPING if typing else PAINT_BUDGET)
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        key = self._paint_key or self._draw_key()
        index = bisect_right(self._starts, y) - 1
        part = self._parts[index] if index < len(self._parts) else self._tail
        if part.key != key:
            if time.perf_counter() > self._budget_end:
                self._schedule(self._draw_deferred)  # blank for now: an idle step draws it
                return _EMPTY
            before = part.height(key)
            part.draw(self, key)
            if len(part.strips) != before:
                self.call_later(self.refresh, layout=True)  # the estimate was off: lay out again
        row = y - self._starts[index]
        return part.strips[row] if row < len(part.strips) else _EMPTY

    def _refresh_from(self, index: int, height_before: int) -> None:
        """Repaint from part `index` down when the height stayed the same (no layout of the
        screen: only these lines are drawn again), else lay out."""
        key = self._laid_out
        if key is None or not self.is_mounted:
            self.refresh(layout=True)
            return
        if self._lay_out(key) != height_before:
            self.refresh(layout=True)
            return
        top = self._starts[index] if index < len(self._starts) else 0
        self.refresh(Region(0, top, key[0], max(1, height_before - top)))

    def on_resize(self) -> None:
        if self.undrawn_parts:
            self._schedule(self._draw_deferred)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._laid_out = None
        self.refresh(layout=True)  # the strips follow the style and the code theme (the draw key)
        if self._parts:
            self._schedule(self._draw_deferred)

    # ------------------------------------------------------------------ text in

    async def sync_text(self, text: str) -> None:
        """Show `text` (the full text so far). Appends when it extends what was shown, else starts over."""
        if text == self._written:
            return
        if not text.startswith(self._shown):
            # The server replaced the text (`complete.content` differs from the deltas).
            self._parts.clear()
            self._stable = 0
            self._shown = ""
            self._laid_out = None
        self._written = text
        if self._ready and self._catch_up_timer is None:
            self._advance()  # else the catch-up timer takes the new text with the rest

    async def update(self, markdown: str) -> None:
        await self.sync_text(markdown)

    def _schedule(self, step) -> None:  # type: ignore[no-untyped-def]
        if self._catch_up_timer is None and self.is_attached:
            self._catch_up_timer = self.set_timer(CATCH_UP_INTERVAL, step)

    def _advance(self) -> None:
        """Hand the parts the next part of the text (at most `catch_up_chars()` more)."""
        self._catch_up_timer = None
        if not self.is_attached:
            return
        if self._shown and input_priority.redraw_waits(self._last_advance):
            self._schedule(self._advance)
            return
        self._last_advance = time.perf_counter()
        input_priority.redrawn()
        text = self._written
        step = catch_up_chars()
        if self._shown and len(text) - len(self._shown) > step:
            self._skip_ahead(text, len(text) - step)
        self._show(text[: self._next_end(text, len(self._shown), first_words=not self._shown, step=step)])
        if self.behind:
            self._schedule(self._advance)
        elif self.undrawn_parts or self.uncoloured_parts:
            self._schedule(self._draw_deferred)

    def _skip_ahead(self, text: str, upto: int) -> None:
        """Far behind: the finished blocks before `upto` become parts at once, undrawn, so the next
        frame draws the newest text, where a view that follows the answer looks."""
        self._freeze(text[self._stable : upto], None)  # (what is left becomes the tail in _show)
        if len(self._shown) < self._stable:
            self._shown = text[: self._stable]

    def _show(self, text: str) -> None:
        self._shown = text
        key = self._laid_out if self.is_mounted else None
        height_before = self.content_size.height
        first_new = len(self._parts)
        self._tail.source = self._freeze(text[self._stable :], key)
        self._tail.key = None  # drawn by the layout below
        self._refresh_from(first_new, height_before)

    def _freeze(self, rest: str, key: DrawKey | None) -> str:
        """The finished blocks at the start of `rest` (each followed by another block) go into parts
        of about PART_CHARS, drawn at once for `key` (None: left undrawn); returns the last block."""
        starts = block_starts(rest)
        if len(starts) < 2:
            return rest
        starts[0] = 0  # blank lines before the first block belong to it
        # Where each line starts in `rest` (block_starts counts lines split at "\n" only).
        offsets = list(accumulate((len(line) + 1 for line in rest.split("\n")), initial=0))
        cuts = [0]
        for block, following in zip(starts, starts[1:]):  # the finished blocks
            if block > cuts[-1] and offsets[following] - offsets[cuts[-1]] > PART_CHARS:
                cuts.append(block)  # this block would make the part too big to draw in one step
        cuts.append(starts[-1])
        for top, bottom in zip(cuts, cuts[1:]):
            part = _Part(rest[offsets[top] : offsets[bottom]])
            if key is not None:
                part.draw(self, key)
            self._parts.append(part)
            self._stable += len(part.source)
        return rest[offsets[starts[-1]] :]

    def _draw_deferred(self) -> None:
        """Idle: draw the parts not drawn yet (or drawn without colours) one per step, the newest
        first (nearest what is on screen)."""
        self._catch_up_timer = None
        if not self.is_attached:
            return
        if self.behind:  # new text came while this step waited: it goes first (sync_text left it to this timer)
            self._advance()
            return
        key = self._draw_key()
        parts = self._all_parts()
        typing = input_priority.seconds_since_key() < TYPING_WINDOW
        waiting = [index for index, part in enumerate(parts) if part.wants_drawing(key, typing)]
        if not waiting or not key[0]:
            if typing and self.uncoloured_parts:
                self._schedule(self._draw_deferred)  # only colours are missing: after a pause in typing
            return
        if input_priority.redraw_waits(self._last_advance):
            self._schedule(self._draw_deferred)
            return
        self._last_advance = time.perf_counter()
        input_priority.redrawn()
        height_before = self.content_size.height
        parts[waiting[-1]].draw(self, key)
        if key == self._laid_out:
            self._refresh_from(waiting[-1], height_before)
        else:
            self.refresh(layout=True)
        if len(waiting) > 1 or parts[waiting[-1]].plain:
            self._schedule(self._draw_deferred)

    def _all_parts(self) -> list[_Part]:
        return [*self._parts, self._tail]

    @staticmethod
    def _next_end(text: str, shown: int, *, first_words: bool = False, step: int = CATCH_UP_CHARS) -> int:
        """Where the next part to draw ends: all of it, or `step` more cut at a line end."""
        if first_words and shown == 0 and len(text) > FIRST_LINE_CHARS:
            # The very first part is the first words: they fit the line a live answer keeps for them,
            # so they are painted without a layout; the rest follows a frame later.
            line_end = text.find("\n", 0, FIRST_LINE_CHARS)
            if line_end > 0:
                return line_end + 1
            space = text.rfind(" ", 0, FIRST_LINE_CHARS)
            return space + 1 if space > 0 else FIRST_LINE_CHARS
        budget = min(step, max(FIRST_PART_CHARS, 4 * shown))  # a small first part: painted sooner
        if len(text) - shown <= budget:
            return len(text)
        cut = text.rfind("\n", shown, shown + budget)
        return cut + 1 if cut >= 0 else shown + budget
