"""Ranked search results (score, source, snippet). `a` or `enter` asks to attach the highlighted one."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.api.mixpeek.models import SearchResult


def result_prompt(result: SearchResult, width: int = 160) -> Text:
    score = f"{result.score:.3f}" if result.score is not None else "  –  "
    text = Text.assemble((f"{result.rank:>2}. ", "dim"), (score, "bold"), "  ", (result.source, "underline"))
    text.append("\n    ")
    text.append(result.snippet(width) or "(no text)", style="" if result.text else "dim italic")
    return text


class ResultList(OptionList):
    HELP = """\
## Search results

- `↑`/`↓`: move · `a` or `enter`: attach the result (its text and source) to your next chat message
- `n`: fetch the next page of results, when there is one
"""

    BINDINGS = [Binding("a", "attach", "Attach", show=True), Binding("n", "more", "More results", show=True)]

    class AttachRequested(Message):
        def __init__(self, result: SearchResult) -> None:
            super().__init__()
            self.result = result

    class MoreRequested(Message):
        """The user wants the next page of the current search."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, markup=False)
        self.results: list[SearchResult] = []

    def show_results(self, results: list[SearchResult]) -> None:
        self.results = list(results)
        self.clear_options()
        self.add_options([Option(result_prompt(r), id=f"r{i}") for i, r in enumerate(results)])
        if results:
            self.highlighted = 0

    def add_results(self, results: list[SearchResult]) -> None:
        """Append a further page; the highlight moves to its first result."""
        start = len(self.results)
        self.results.extend(results)
        self.add_options([Option(result_prompt(r), id=f"r{start + i}") for i, r in enumerate(results)])
        if results:
            self.highlighted = start

    def action_more(self) -> None:
        self.post_message(self.MoreRequested())

    @property
    def current(self) -> SearchResult | None:
        if self.highlighted is None or not 0 <= self.highlighted < len(self.results):
            return None
        return self.results[self.highlighted]

    def action_attach(self) -> None:
        if self.current is not None:
            self.post_message(self.AttachRequested(self.current))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_attach()
