"""Markdown drawn by Rich, in the colours of the app theme: the one drawing path of chat answers.

Why not Textual's `Markdown` widget: it builds a widget per block, list item, bullet and table
cell (a 13 kB answer becomes ~2,000 widgets), and laying those out dominates the cost of
streaming (measured: ~3 s to render such an answer once). Here Rich's Markdown renderer draws
the text (Pygments highlighting for fenced code, a light or dark code theme following the app
theme) into strips, and a widget shows the strips: `MarkdownChunk` for a finished text, and
`StreamingMarkdown` (streaming_markdown.py) for one that grows.
"""

from __future__ import annotations

import io
import re
from typing import ClassVar

from rich.console import Console
from pygments.lexers import find_lexer_class_by_name
from pygments.util import ClassNotFound
from rich.markdown import CodeBlock, Heading
from rich.markdown import Markdown as RichMarkdown
from rich.segment import Segment
from rich.style import Style as RichStyle
from rich.theme import Theme as RichTheme
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.theme import Theme as TextualTheme
from textual.visual import RenderOptions, RichVisual
from textual.widget import Widget

DARK_CODE_THEME = "monokai"
LIGHT_CODE_THEME = "friendly"


class _LeftHeading(Heading):
    LEVEL_ALIGN: ClassVar[dict[str, str]] = {tag: "left" for tag in ("h1", "h2", "h3", "h4", "h5", "h6")}  # type: ignore[assignment]


# Pygments compiles a lexer's regular expressions the first time the lexer is used: 15-35 ms for
# python, sql or typescript. The lexers used so far (highlighted once, so compiled), by class.
_warm_lexers: set[type] = set()
_lexer_classes: dict[str, type | None] = {}


def _lexer_class(name: str) -> type | None:
    if name not in _lexer_classes:
        try:
            _lexer_classes[name] = find_lexer_class_by_name(name)
        except ClassNotFound:
            _lexer_classes[name] = None  # Rich draws it as plain text: nothing to compile
    return _lexer_classes[name]


class _ChatCodeBlock(CodeBlock):
    """A fenced block; drawn without colours when asked to (`plain_cold_code`) and its lexer was
    never used yet, so drawing it costs no compilation. The caller draws it again later."""

    @classmethod
    def create(cls, markdown: RichMarkdown, token: object) -> CodeBlock:
        block = super().create(markdown, token)  # type: ignore[arg-type]
        lexer = _lexer_class(block.lexer_name)
        if lexer is not None and lexer not in _warm_lexers:
            if getattr(markdown, "plain_cold_code", False):
                markdown.drew_plain = True  # type: ignore[attr-defined]
                block.lexer_name = "text"
            else:
                _warm_lexers.add(lexer)  # compiled by this drawing
        return block


class ChatMarkdown(RichMarkdown):
    elements = {**RichMarkdown.elements, "heading_open": _LeftHeading, "fence": _ChatCodeBlock, "code_block": _ChatCodeBlock}

    def __init__(self, markup: str, *, plain_cold_code: bool = False, **options: object) -> None:
        self.plain_cold_code = plain_cold_code
        self.drew_plain = False  # set while drawing: a fenced block was drawn without its colours
        super().__init__(markup, **options)  # type: ignore[arg-type]


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


def code_theme(widget: Widget) -> str:
    return DARK_CODE_THEME if widget.app.current_theme.dark else LIGHT_CODE_THEME


def estimated_height(source: str, width: int) -> int:
    """About the lines Rich will draw `source` in at `width`, without drawing it (a few µs)."""
    width = max(1, width)
    return sum(max(1, -(-len(line) // width)) for line in source.strip("\n").split("\n"))


def draw_markdown(widget: Widget, markdown: RichMarkdown | str, width: int, rich_style: RichStyle) -> list[Strip]:
    """`markdown` drawn at `width` in the widget's style and the app's theme, one strip per line."""
    if isinstance(markdown, str):
        markdown = ChatMarkdown(markdown.strip("\n"), code_theme=code_theme(widget), hyperlinks=False)
    app = widget.app  # the active app (public API; it falls back to the widget's ancestors)
    options = app.console_options.update(highlight=False, width=width, height=None)
    renderable = widget.post_render(markdown, rich_style)
    with app.console.use_theme(rich_theme_for(app.current_theme)):
        segments = app.console.render(renderable, options.update_width(width))
        lines = Segment.split_and_crop_lines(segments, width, include_new_lines=False, pad=False)
        return evenly_spaced([Strip(line) for line in lines])


def evenly_spaced(strips: list[Strip]) -> list[Strip]:
    """One empty line between blocks, none before the first or after the last. Rich leaves two
    before some blocks (a table, an h2): made even, a text drawn in parts (each joined to the next
    by one empty line) looks the same wherever the parts were cut, and the same as drawn whole."""
    spaced: list[Strip] = []
    for strip in strips:
        if strip.cell_length or (spaced and spaced[-1].cell_length):
            spaced.append(strip)
    while spaced and not spaced[-1].cell_length:
        spaced.pop()
    return spaced


class _RenderedOnce(RichVisual):
    """A Markdown text drawn once per (width, style): Textual asks for the height and then for the
    lines, which would otherwise render (and re-parse) the Markdown twice per layout."""

    def __init__(self, widget: Widget, source: str, theme: str) -> None:
        super().__init__(widget, "")
        self._source = source
        self._code_theme = theme
        self._markdown: RichMarkdown | None = None  # parsed on first use (Rich parses in its constructor)
        self._key: tuple[int, RichStyle] | None = None
        self._strips: list[Strip] = []

    def _render(self, width: int, rich_style: RichStyle) -> list[Strip]:
        key = (width, rich_style)
        if key != self._key:
            if self._markdown is None:
                self._markdown = ChatMarkdown(self._source.strip("\n"), code_theme=self._code_theme, hyperlinks=False)
            self._strips = draw_markdown(self._widget, self._markdown, width, rich_style)
            self._key = key
        return self._strips

    def get_height(self, rules: RulesMap, width: int) -> int:
        return len(self._render(width, self._widget.visual_style.rich_style))

    def render_strips(self, width: int, height: int | None, style: Style, options: RenderOptions) -> list[Strip]:
        strips = self._render(width, style.rich_style)
        return strips if height is None else strips[:height]


class MarkdownChunk(Widget):
    """A finished Markdown text drawn by Rich (a message from history). Redrawn only when its
    width or the theme changes."""

    DEFAULT_CSS = """
    MarkdownChunk {
        height: auto;
        width: 1fr;
    }
    """

    def __init__(self, source: str = "", *, classes: str | None = None) -> None:
        super().__init__(classes=classes)
        self._source = source
        self._visual: _RenderedOnce | None = None
        self._visual_theme = ""

    @property
    def source(self) -> str:
        return self._source

    def render(self) -> _RenderedOnce:
        theme = code_theme(self)
        if self._visual is None or theme != self._visual_theme:
            self._visual = _RenderedOnce(self, self._source, theme)
            self._visual_theme = theme
        return self._visual

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self.refresh(layout=True)  # the code theme follows dark/light (checked in render)


_LIST_ITEM = re.compile(r"(?:[-*+]|\d{1,9}[.)])(?:[ \t]|$)")


def block_starts(source: str) -> list[int]:
    """Line numbers where a text can be cut into separately drawn parts: a line that follows a
    blank line, outside fenced code, and is not indented (so it continues no list item or indented
    code). Not every block boundary (a heading right under a paragraph is not one here), but every
    one here is a boundary, so parts drawn apart and joined by one empty line look the same as the
    text drawn whole (see `evenly_spaced`). A scan of the lines: 13 kB in ~0.1 ms, where a full
    block parse took 5-10 ms, in a frame, when a fast answer arrived at once."""
    starts: list[int] = []
    fence = ""  # the opening fence (``` or ~~~, at least 3) while inside fenced code
    blank_before = True
    in_list = False  # the last block started is a list
    for number, line in enumerate(source.split("\n")):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence) and not stripped[len(fence):].strip(fence[0]).strip():
                fence = ""  # the closing fence: at least as long, nothing after it
            blank_before = False
            continue
        if not stripped:
            blank_before = True
            continue
        item = _LIST_ITEM.match(line) is not None
        if blank_before and line[0] not in " \t" and not (item and in_list):
            starts.append(number)  # (a list's next item after a blank line is the same list: a loose one)
            in_list = item
        if stripped.startswith(("```", "~~~")):
            marker = stripped[0]
            fence = marker * (len(stripped) - len(stripped.lstrip(marker)))
        blank_before = False
    return starts


# The languages answers most often fence, most likely first. Pygments compiles a lexer's regexes on
# its first use (python and sql ~35 ms each): paid here, one per idle step, instead of in a frame.
WARM_UP_LANGUAGES = ("", "python", "bash", "typescript", "javascript", "json", "sql", "diff", "yaml",
                     "go", "rust", "toml", "html", "c", "cpp", "java")
_warm_up_left = list(WARM_UP_LANGUAGES)  # once per process, whichever transcript runs the steps


def warm_up_step(language: str) -> None:
    """Pay one one-time cost early (Rich Markdown's parser, one Pygments lexer and its regexes), so the
    first answer of a session does not pay it in its first frame. A few milliseconds each."""
    console = Console(width=80, file=io.StringIO(), color_system="truecolor")
    sample = f"# t\n\n- **a** `b` <http://x.io>\n\n| a | b |\n| - | - |\n| 1 | 2 |\n" if not language else f"```{language}\nx = 1\n```\n"
    for theme in (DARK_CODE_THEME, LIGHT_CODE_THEME):
        console.print(ChatMarkdown(sample, code_theme=theme))


def warm_up_next() -> bool:
    """Run the next warm-up step of this process, if any; True while more steps remain."""
    if _warm_up_left:
        warm_up_step(_warm_up_left.pop(0))
    return bool(_warm_up_left)

