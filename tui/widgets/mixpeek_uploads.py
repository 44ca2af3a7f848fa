"""One progress bar per file being uploaded and processed (upload, confirm, batch, task)."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.css.query import NoMatches
from textual.widgets import Label, ProgressBar

from tui.api.mixpeek.ingest import IngestProgress


class UploadRow(Horizontal):
    """A file's name, its bar, and what is happening (the failure reason when it failed)."""

    def __init__(self, path: Path, *, id: str | None = None) -> None:
        super().__init__(id=id, classes="mp-upload-row")
        self.path = path
        self.progress: IngestProgress | None = None

    def compose(self) -> ComposeResult:
        yield Label(self.path.name, classes="mp-upload-name", markup=False)
        yield ProgressBar(total=100, show_eta=False, classes="mp-upload-bar")
        yield Label("waiting", classes="mp-upload-state", markup=False)

    def show(self, progress: IngestProgress) -> None:
        self.progress = progress
        try:
            bar = self.query_one(ProgressBar)
            state = self.query_one(".mp-upload-state", Label)
        except NoMatches:
            return  # the screen is closing (a cancelled upload reports one last time)
        bar.update(progress=round(progress.fraction * 100, 1))
        if progress.stage == "completed":
            state.update(f"✓ {progress.message or progress.status}")
        elif progress.failed:
            state.update(f"✗ {progress.status}: {progress.message}")
        else:
            state.update(progress.message)
        self.set_class(progress.stage == "completed", "-completed")
        self.set_class(progress.failed, "-failed")

    @property
    def stage(self) -> str:
        return self.progress.stage if self.progress else "queued"

    @property
    def state_text(self) -> str:
        return str(self.query_one(".mp-upload-state", Label).content)


class UploadList(VerticalScroll):
    """The rows of the files of this screen's uploads, newest last."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._count = 0

    def add_file(self, path: Path) -> UploadRow:
        self._count += 1
        row = UploadRow(path, id=f"mp-upload-{self._count}")
        self.mount(row)
        self.display = True
        self.scroll_end(animate=False)
        return row

    @property
    def rows(self) -> list[UploadRow]:
        return list(self.query(UploadRow))
