"""Widgets of the MixerLead knowledge screen: the table of sources, and one row per addition
that shows its progress (upload bytes, then the indexing status) until it is indexed or failed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.css.query import NoMatches
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, ProgressBar, Static

from tui.api.mixerlead.models import KnowledgeSource

COLUMNS = ("On", "Source", "Type", "Status", "Chunks", "Indexed", "Last error")


def status_text(source: KnowledgeSource) -> str:
    status = source.status or "?"
    if source.is_indexed:
        return "✓ indexed"
    if source.has_failed:
        return f"✗ {status}"
    if status.lower() == "indexing":
        return "… indexing"
    return status  # a status the docs do not list: shown as MixerLead wrote it


def short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class SourceTable(DataTable):
    """One row per knowledge source; the row key is the source id."""

    HELP = """\
## Knowledge sources (MixerLead)

- `space` or `e` turns the highlighted source on or off (only enabled sources ground answers)
- `r` re-indexes it (use it after a failure) · `d` or `delete` deletes it after asking
"""

    BINDINGS = [
        ("space,e", "screen.toggle_source", "On/off"),
        ("r", "screen.reindex_source", "Re-index"),
        ("d,delete", "screen.delete_source", "Delete"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=False)
        self.sources: list[KnowledgeSource] = []

    def on_mount(self) -> None:
        self.add_columns(*COLUMNS)

    def set_sources(self, sources: list[KnowledgeSource]) -> None:
        keep = self.selected_source.id if self.selected_source else None
        self.sources = list(sources)
        self.clear()
        for source in self.sources:
            self.add_row(
                "● on" if source.enabled else "○ off",
                short(source.label, 48),
                source.type or "?",
                status_text(source),
                "—" if source.chunk_count is None else str(source.chunk_count),
                source.indexed_at.strftime("%Y-%m-%d %H:%M") if source.indexed_at else "—",
                short(source.last_error or "", 40),
                key=source.id,
            )
        if keep is not None:
            index = next((i for i, s in enumerate(self.sources) if s.id == keep), None)
            if index is not None:
                self.move_cursor(row=index)

    @property
    def selected_source(self) -> KnowledgeSource | None:
        if not self.sources or self.cursor_row is None or not (0 <= self.cursor_row < len(self.sources)):
            return None
        return self.sources[self.cursor_row]


class AdditionRow(Horizontal):
    """What is being added: its name, a bar (bytes for a file, indeterminate while indexing), a status.

    Updates may arrive before the row is mounted; they are kept and drawn on mount."""

    def __init__(self, label: str, *, total: int | None = None) -> None:
        super().__init__(classes="ml-addition")
        self.label = label
        self.state = "adding"  # adding | indexing | indexed | failed | started
        self.text = "sending…"
        self.bar_total: float | None = total
        self.bar_progress: float = 0
        self.states: list[str] = [self.state]  # every state it went through (tests read it)

    def compose(self) -> ComposeResult:
        yield Static(short(self.label, 40), classes="ml-addition-label", markup=False)
        yield ProgressBar(total=self.bar_total, show_eta=False, classes="ml-addition-bar")
        yield Static(self.text, classes="ml-addition-status", markup=False)

    def on_mount(self) -> None:
        self._draw()

    def set_bytes(self, sent: int, total: int) -> None:
        self.bar_total, self.bar_progress = max(total, 1), sent
        self.text = f"uploading {sent:,} of {total:,} bytes"
        self._draw()

    def set_status(self, state: str, text: str) -> None:
        if state != self.state:
            self.states.append(state)
        self.state = state
        if state == "indexing":
            self.bar_total = None  # indeterminate: MixerLead gives no percentage
        elif state in ("indexed", "failed", "started"):
            self.bar_total, self.bar_progress = 1, 1
        self.set_class(state == "failed", "ml-failed")
        self.set_class(state == "indexed", "ml-done")
        self.text = text
        self._draw()

    def _draw(self) -> None:
        try:
            bar = self.query_one(ProgressBar)
            status = self.query_one(".ml-addition-status", Static)
        except NoMatches:
            return  # not composed yet: on_mount draws
        bar.update(total=self.bar_total, progress=self.bar_progress)
        status.update(self.text)


class AdditionList(Vertical):
    """The additions of this visit, newest last."""

    def add(self, label: str, *, total: int | None = None) -> AdditionRow:
        row = AdditionRow(label, total=total)
        self.display = True
        self.mount(row)
        return row

    @property
    def rows(self) -> list[AdditionRow]:
        return list(self.query(AdditionRow))
