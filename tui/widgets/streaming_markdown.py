"""Markdown for chat answers: cheap to stream, cheap to keep.

Why not Textual's `Markdown` widget: it builds a widget per block, list item, bullet and table
cell (a 13 kB answer becomes ~2,000 widgets), and laying those out dominates the cost of
streaming (measured: ~3 s to render such an answer once). Here a document is a handful of
`MarkdownChunk` widgets, each drawing a run of finished top-level blocks with Rich's Markdown
renderer (Pygments highlighting for fenced code, a light or dark code theme following the app
theme), plus one *tail* chunk for the last, still growing block.

`sync_text(text)` is given everything received so far (the transcript calls it at most once per
frame). Only the unfinished remainder is re-parsed: blocks that are followed by another top-level
block are final, go into a new chunk that is never redrawn again, and the tail shows the rest.
"""

from __future__ import annotations

import io
import time
from typing import ClassVar

from markdown_it import MarkdownIt
from rich.markdown import Heading
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.theme import Theme as RichTheme
from textual.app import ComposeResult
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.theme import Theme as TextualTheme
from textual.timer import Timer
from textual.visual import RenderOptions, RichVisual
from textual.widget import Widget

from tui.widgets import input_priority

DARK_CODE_THEME = "monokai"
LIGHT_CODE_THEME = "friendly"


class _LeftHeading(Heading):
    LEVEL_ALIGN: ClassVar[dict[str, str]] = {tag: "left" for tag in ("h1", "h2", "h3", "h4", "h5", "h6")}  # type: ignore[assignment]


class _ChatMarkdown(RichMarkdown):
    elements = {**RichMarkdown.elements, "heading_open": _LeftHeading}


_rich_themes: dict[str, RichTheme] = {}


def rich_theme_for(theme: TextualTheme) -> RichTheme:
    """Rich's Markdown styles (headings, inline code, links, bullets) in the colours of the app theme."""
    cached = _rich_themes.get(theme.name)
    if cached is None:
        primary = theme.primary or "blue"
        accent = theme.accent or primary
        secondary = theme.secondary or primary
        warning = theme.warning or accent
        cached = RichTheme(
            {
                "markdown.h1": f"bold {primary}",
                "markdown.h1.border": primary,
                "markdown.h2": f"bold {primary}",
                "markdown.h3": f"bold {accent}",
                "markdown.h4": f"bold italic {accent}",
                "markdown.h5": "bold",
                "markdown.h6": "italic",
                "markdown.code": f"bold {warning}",
                "markdown.link": f"underline {accent}",
                "markdown.link_url": f"underline {accent}",
                "markdown.item.bullet": f"bold {accent}",
                "markdown.item.number": f"bold {accent}",
                "markdown.block_quote": f"italic {secondary}",
                "markdown.hr": secondary,
                "markdown.table.header": f"bold {primary}",
                "markdown.table.border": secondary,
            },
            inherit=True,
        )
        _rich_themes[theme.name] = cached
    return cached


def estimated_height(source: str, width: int) -> int:
    """About the lines Rich will draw `source` in at `width`, without drawing it (a few µs)."""
    width = max(1, width)
    return sum(max(1, -(-len(line) // width)) for line in source.strip("\n").split("\n"))


class _RenderedOnce(RichVisual):
    """A Rich renderable drawn once per (width, style): Textual asks for the height and then for
    the lines, which would otherwise render (and re-parse) the Markdown twice per layout.

    `deferred`: until it is first painted (or drawn by `draw_now`), layout gets an estimated height
    and nothing is drawn. Blocks a fast stream left far above the bottom cost nothing until seen."""

    def __init__(self, widget: Widget, source: str, code_theme: str, *, deferred: bool = False) -> None:
        super().__init__(widget, "")
        self._source = source
        self._code_theme = code_theme
        self._parsed = False  # Rich's Markdown parses in its constructor: not done for a deferred chunk
        self._key: tuple[int, RichStyle] | None = None
        self._strips: list[Strip] = []
        self._deferred_source = source if deferred else None

    @property
    def deferred(self) -> bool:
        return self._deferred_source is not None

    def draw_now(self, width: int) -> bool:
        """Draw a deferred renderable at `width`; True if its height differs from the estimate."""
        source = self._deferred_source
        if source is None:
            return False
        self._deferred_source = None
        return len(self._render(width, self._widget.rich_style)) != estimated_height(source, width)

    def _render(self, width: int, rich_style: RichStyle) -> list[Strip]:
        key = (width, rich_style)
        if key != self._key:
            if not self._parsed:
                self._renderable = _ChatMarkdown(self._source.strip("\n"), code_theme=self._code_theme, hyperlinks=False)
                self._parsed = True
            app = self._widget.app  # the active app (public API; it falls back to the widget's ancestors)
            options = app.console_options.update(highlight=False, width=width, height=None)
            renderable = self._widget.post_render(self._renderable, rich_style)
            with app.console.use_theme(rich_theme_for(app.current_theme)):
                segments = app.console.render(renderable, options.update_width(width))
                lines = Segment.split_and_crop_lines(segments, width, include_new_lines=False, pad=False)
                self._strips = [Strip(line) for line in lines]
            self._key = key
        return self._strips

    def get_height(self, rules: RulesMap, width: int) -> int:
        if self._deferred_source is not None:
            return estimated_height(self._deferred_source, width)
        return len(self._render(width, self._widget.rich_style))

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        if self.draw_now(width):
            self._widget.call_later(self._widget.refresh, layout=True)  # the estimate was off: lay out again
        strips = self._render(width, style.rich_style)
        return strips if height is None else strips[:height]


class MarkdownChunk(Widget):
    """A run of Markdown blocks drawn by Rich. Redrawn only when its source or the theme changes."""

    DEFAULT_CSS = """
    MarkdownChunk {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, source: str = "", *, classes: str | None = None, deferred: bool = False) -> None:
        super().__init__(classes=classes)
        self._source = source
        self._visual: _RenderedOnce | None = None
        self._visual_dark: bool | None = None
        self._deferred = deferred  # drawn when first painted or by draw_deferred, not before

    @property
    def deferred(self) -> bool:
        return self._deferred and (self._visual is None or self._visual.deferred)

    def draw_deferred(self) -> None:
        """Draw a deferred chunk now (an idle moment), laying out again if its estimate was off."""
        width = self.content_size.width
        if not self.deferred or not width:
            return
        if self.render().draw_now(width):
            self.refresh(layout=True)

    @property
    def source(self) -> str:
        return self._source

    def set_source(self, source: str) -> None:
        if source == self._source:
            return
        self._source = source
        self._visual = None
        width, height = self.content_size
        if width and height and self.is_mounted:
            # Drawn now at the laid-out width (the frame reuses it): when the height stays the same
            # (a streamed line growing), only this widget is repainted, with no layout of the screen.
            if self.render().get_height(self.styles, width) == height:
                self.refresh()
                return
        self.refresh(layout=True)

    def render(self) -> _RenderedOnce:
        dark = self.app.current_theme.dark
        if self._visual is None or dark != self._visual_dark:
            self._visual = _RenderedOnce(self, self._source, DARK_CODE_THEME if dark else LIGHT_CODE_THEME,
                                         deferred=self._deferred and self._visual is None)
            self._visual_dark = dark
        return self._visual

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh(layout=True)  # the code theme follows dark/light (checked in render)


# Only the block structure is needed (where top-level blocks start): inline parsing off, 3x faster.
_parser = MarkdownIt("gfm-like").disable(["inline", "linkify", "replacements", "smartquotes", "text_join"], ignoreInvalid=True)
GROUP = 8  # top-level blocks per frozen chunk; the tail redraws at most this many plus the growing one
# Blocks per deferred chunk: small, because one is drawn whole when it first shows or in an idle step
# (a chunk with two fenced blocks and a table took 20-30 ms).
DEFERRED_GROUP = 3
CATCH_UP_CHARS = 2_000  # the most new text one frame draws (warm: ~10 ms of Rich rendering)
FIRST_LINE_CHARS = 60  # the most the very first part holds: the first words, on one line
FIRST_PART_CHARS = 300  # the first part drawn; the next ones may be 4x what is shown, up to CATCH_UP_CHARS
CATCH_UP_CHARS_TYPING = 500  # the same while the user types (~3 ms of Rich rendering)
TYPING_WINDOW = 0.5  # seconds after a key during which the user counts as typing
CATCH_UP_INTERVAL = 1 / 40  # between two catch-up steps: the frame in between paints and takes keys

# The languages answers most often fence, most likely first. Pygments compiles a lexer's regexes on
# its first use (python and sql ~35 ms each): paid here, one per idle step, instead of in a frame.
WARM_UP_LANGUAGES = ("", "python", "bash", "typescript", "javascript", "json", "sql", "diff", "yaml",
                     "go", "rust", "toml", "html", "c", "cpp", "java")
_warm_up_left = list(WARM_UP_LANGUAGES)  # once per process, whichever transcript runs the steps


def catch_up_chars() -> int:
    """The most new text one frame hands Rich: less while the user types, so a key never waits
    behind a long redraw (the rest follows a frame later)."""
    return CATCH_UP_CHARS_TYPING if input_priority.seconds_since_key() < TYPING_WINDOW else CATCH_UP_CHARS


def warm_up_step(language: str) -> None:
    """Pay one one-time cost early (Rich Markdown's parser, one Pygments lexer and its regexes), so the
    first answer of a session does not pay it in its first frame. A few milliseconds each."""
    from rich.console import Console

    console = Console(width=80, file=io.StringIO(), color_system="truecolor")
    sample = f"# t\n\n- **a** `b` <http://x.io>\n\n| a | b |\n| - | - |\n| 1 | 2 |\n" if not language else f"```{language}\nx = 1\n```\n"
    if not language:
        top_level_starts(sample)
    for theme in (DARK_CODE_THEME, LIGHT_CODE_THEME):
        console.print(_ChatMarkdown(sample, code_theme=theme))


def warm_up_next() -> bool:
    """Run the next warm-up step of this process, if any; True while more steps remain."""
    if _warm_up_left:
        warm_up_step(_warm_up_left.pop(0))
    return bool(_warm_up_left)


def top_level_starts(source: str) -> list[int]:
    """Line numbers where top-level blocks start (markdown-it token maps)."""
    return [t.map[0] for t in _parser.parse(source) if t.level == 0 and t.map is not None and t.nesting >= 0]


class StreamingMarkdown(Widget):
    """Markdown that grows: `sync_text` with the whole text so far; finished blocks are never redrawn.

    A frame hands Rich at most `CATCH_UP_CHARS` new characters: when text arrives faster (a fast
    stream's burst, or a long answer shown at once), the rest is drawn over the next frames by the
    widget's own timer, so each frame's layout stays short and keys and paints get through."""

    DEFAULT_CSS = """
    StreamingMarkdown {
        height: auto;
        width: 1fr;
        layout: vertical;
    }
    StreamingMarkdown > MarkdownChunk {
        margin-bottom: 1;  /* the blank line Rich puts between blocks, here between chunks */
    }
    StreamingMarkdown > MarkdownChunk.tail {
        margin-bottom: 0;
    }
    """

    def __init__(self, markdown: str = "", *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._written = markdown  # everything given so far
        self._shown = markdown[: self._next_end(markdown, 0)]  # the prefix of `_written` handed to the chunks
        self._stable = 0  # characters of `_shown` that are in finished chunks
        # Born with its first part: painted in the frame that mounts it (blocks are frozen later).
        self._tail = MarkdownChunk(self._shown, classes="tail")
        self._ready = False
        self._catch_up_timer: Timer | None = None
        self._last_advance = 0.0

    def compose(self) -> ComposeResult:
        yield self._tail

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
    def chunks(self) -> list[MarkdownChunk]:
        return [c for c in self.children if isinstance(c, MarkdownChunk)]

    async def sync_text(self, text: str) -> None:
        """Show `text` (the full text so far). Appends when it extends what was shown, else starts over."""
        if text == self._written:
            return
        if not text.startswith(self._shown):
            # The server replaced the text (`complete.content` differs from the deltas).
            await self.remove_children([c for c in self.chunks if c is not self._tail])
            self._stable = 0
            self._shown = ""
        self._written = text
        if self._ready and self._catch_up_timer is None:
            self._advance()  # else the catch-up timer takes the new text with the rest

    def _advance(self) -> None:
        """Hand the chunks the next part of the text (at most CATCH_UP_CHARS more)."""
        self._catch_up_timer = None
        if not self.is_attached:
            return
        if self._shown and input_priority.redraw_waits(self._last_advance):
            self._catch_up_timer = self.set_timer(CATCH_UP_INTERVAL, self._advance)
            return
        self._last_advance = time.perf_counter()
        text = self._written
        step = catch_up_chars()
        if self._shown and len(text) - len(self._shown) > step:
            self._skip_ahead(text, len(text) - step)
        end = self._next_end(text, len(self._shown), first_words=not self._shown, step=step)
        if end < len(text):
            end = self._after_whole_groups(text, end)
        self._show(text[:end])
        if self.behind:
            self._catch_up_timer = self.set_timer(CATCH_UP_INTERVAL, self._advance)
        elif any(chunk.deferred for chunk in self.chunks):
            self._catch_up_timer = self.set_timer(CATCH_UP_INTERVAL, self._draw_deferred)

    def _skip_ahead(self, text: str, upto: int) -> None:
        """Far behind (a fast stream's burst, a long answer shown at once): whole groups of blocks
        before `upto` go into deferred chunks at once, so the next frame draws the newest text, where
        a view that follows the answer looks; the groups above are drawn when seen or idle."""
        self._freeze_groups(text[self._stable : upto], DEFERRED_GROUP, deferred=True)
        if len(self._shown) < self._stable:
            self._shown = text[: self._stable]

    def _draw_deferred(self) -> None:
        """Idle: draw the deferred chunks one per step, the newest first (nearest what is on screen)."""
        self._catch_up_timer = None
        if not self.is_attached:
            return
        if self.behind:  # new text came while this step waited: it goes first (sync_text left it to this timer)
            self._advance()
            return
        if input_priority.redraw_waits(self._last_advance):
            self._catch_up_timer = self.set_timer(CATCH_UP_INTERVAL, self._draw_deferred)
            return
        self._last_advance = time.perf_counter()
        deferred = [chunk for chunk in self.chunks if chunk.deferred and chunk.is_mounted]
        if deferred:
            deferred[-1].draw_deferred()
        if len(deferred) > 1:
            self._catch_up_timer = self.set_timer(CATCH_UP_INTERVAL, self._draw_deferred)

    @staticmethod
    def _next_end(text: str, shown: int, *, first_words: bool = False, step: int = CATCH_UP_CHARS) -> int:
        """Where the next part to draw ends: all of it, or CATCH_UP_CHARS more cut at a line end."""
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

    def _after_whole_groups(self, text: str, end: int) -> int:
        """A catch-up part ends one line into the block after its last whole group of blocks: those
        groups are frozen at once (drawn once), not drawn in the tail first and again when frozen."""
        rest = text[self._stable : end]
        starts = top_level_starts(rest)
        groups = (len(starts) - 1) // GROUP
        if groups < 1:
            return end
        lines = rest.splitlines(keepends=True)
        return self._stable + sum(len(line) for line in lines[: starts[groups * GROUP] + 1])

    def _show(self, text: str) -> None:
        self._shown = text
        # Grouping by block count (not by what happened to arrive in one frame) makes the result the
        # same however the text was split.
        self._tail.set_source(self._freeze_groups(text[self._stable :], GROUP, deferred=False))

    def _freeze_groups(self, rest: str, size: int, *, deferred: bool) -> str:
        """Whole groups of `size` finished top-level blocks (each group followed by another block) at
        the start of `rest` go into chunks of their own, frozen; returns what is left of `rest`."""
        lines = rest.splitlines(keepends=True)
        starts = top_level_starts(rest)
        while len(starts) > size:
            cut = starts[size]
            final = "".join(lines[:cut])
            self._stable += len(final)
            lines = lines[cut:]
            starts = [start - cut for start in starts[size:]]
            # Not awaited: the chunk is in the DOM at once and draws itself when mounted; waiting
            # for the mount would only hold the caller (the frame timer) for nothing.
            self.mount(MarkdownChunk(final, deferred=deferred), before=self._tail)
        return "".join(lines)

    async def update(self, markdown: str) -> None:
        await self.sync_text(markdown)
