"""The model's thinking: streamed live, collapsed to one line once the answer starts."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.events import Click
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Static


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes} m {rest:02d} s"


class ThinkingView(Widget, can_focus=True):
    """A collapsible block of thinking text with its duration."""

    HELP = """\
## Thinking

What the model reasoned before answering. It streams while the model thinks and folds away
when the answer starts.

- `enter` or a click on the header: show or hide the thinking
"""

    BINDINGS = [Binding("enter", "toggle", "Show/hide thinking")]

    collapsed: reactive[bool] = reactive(False)

    def __init__(self, text: str = "", *, duration: float | None = None, live: bool = False, collapsed: bool = False) -> None:
        super().__init__(classes="thinking")
        self._text = text
        self._duration = duration
        self._is_live = live
        self._user_toggled = False
        self._ready = False
        self.set_reactive(ThinkingView.collapsed, collapsed)

    def compose(self) -> ComposeResult:
        yield Static(self._header(), classes="thinking-header", markup=False)
        yield Static(Content(self._text), classes="thinking-body", markup=False)

    def on_mount(self) -> None:
        self._ready = True
        self.set_class(self.collapsed, "-collapsed")
        if not self.query(".thinking-header"):
            return  # removed as soon as mounted (a transcript's window moved on): nothing left to draw
        # Updates that came between compose and now were not drawn (`_ready` was False): draw them.
        self._refresh_header()
        if not self.collapsed:
            self.query_one(".thinking-body", Static).update(Content(self._text))

    def _header(self) -> Content:
        arrow = "▸" if self.collapsed else "▾"
        if self._is_live:
            label = "Thinking…"
        else:
            label = "Thought"
        duration = format_duration(self._duration)
        if duration:
            label = f"{label} for {duration}" if not self._is_live else f"{label} {duration}"
        return Content.from_markup(f"{arrow} [i]$label[/]", label=label)

    def watch_collapsed(self, collapsed: bool) -> None:
        self.set_class(collapsed, "-collapsed")
        self._refresh_header()

    def _refresh_header(self) -> None:
        if self._ready:
            self.query_one(".thinking-header", Static).update(self._header())

    def update_view(self, text: str, duration: float | None, live: bool) -> None:
        """Show new text/duration; the body is only redrawn while visible."""
        header_changed = duration != self._duration or live != self._is_live
        self._duration, self._is_live = duration, live
        if text != self._text:
            self._text = text
            if not self.collapsed and self._ready:
                self.query_one(".thinking-body", Static).update(Content(text))
        if header_changed:
            self._refresh_header()

    def auto_collapse(self) -> None:
        """The answer started: fold the thinking, unless the user opened it by hand."""
        if not self._user_toggled and not self.collapsed:
            self.collapsed = True

    @property
    def text(self) -> str:
        return self._text

    def action_toggle(self) -> None:
        self._user_toggled = True
        self.collapsed = not self.collapsed
        if not self.collapsed and self._ready:
            self.query_one(".thinking-body", Static).update(Content(self._text))

    def on_click(self, event: Click) -> None:
        event.stop()
        self.action_toggle()
