"""Choosing a local path: a file to upload (directory tree + typed path) or where to save a copy.

Both are modal screens that dismiss with a `Path` or None. Neither touches the network; the caller
checks what it needs (readable, size, does the destination exist).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Static


class LocalTree(DirectoryTree):
    """The directory tree without hidden entries (dot files clutter home directories)."""

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        return [p for p in paths if not p.name.startswith(".")]


def _expand(text: str, base: Path) -> Path:
    path = Path(text.strip()).expanduser()
    return path if path.is_absolute() else base / path


class FilePicker(ModalScreen["Path | None"]):
    """Pick a local file: ↑/↓ and enter in the tree, or type a path and press enter."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, start: Path | None = None, *, title: str = "Choose a file to upload") -> None:
        super().__init__(classes="dialog-screen")
        self.start = (start or Path.cwd()).resolve()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="picker-box"):
            yield Static(self.title_text, classes="dialog-title", markup=False)
            yield LocalTree(self.start, id="picker-tree")
            yield Input(placeholder="or type a path and press enter", id="picker-path")
            yield Static("enter chooses · tab switches between the tree and the path · esc cancels",
                         classes="dialog-hint", id="picker-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one(LocalTree).focus()

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(Path(event.path))

    @on(DirectoryTree.DirectorySelected)
    def _dir_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        self.query_one("#picker-path", Input).value = str(event.path) + "/"

    @on(Input.Submitted, "#picker-path")
    def _typed(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            return
        path = _expand(event.value, self.start)
        if path.is_dir():
            self.query_one(LocalTree).path = path
            self.query_one("#picker-hint", Static).update(f"{path} is a folder: choose a file in it")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SaveAsPicker(ModalScreen["Path | None"]):
    """Where to save a copy. Dismisses with the destination, never one that exists already:
    an existing name is refused here with a sentence, so nothing is overwritten silently."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, filename: str, start: Path | None = None) -> None:
        super().__init__(classes="dialog-screen")
        self.filename = filename
        self.start = (start or Path.cwd()).resolve()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog dialog-wide", id="save-box"):
            yield Static(f"Save a copy of {self.filename}", classes="dialog-title", markup=False)
            yield LocalTree(self.start, id="save-tree")
            yield Input(str(self.start / self.filename), id="save-path")
            yield Static("enter saves · choose a folder in the tree to save there · esc cancels",
                         classes="dialog-hint", id="save-hint", markup=False)

    def on_mount(self) -> None:
        self.query_one("#save-path", Input).focus()

    @on(DirectoryTree.DirectorySelected)
    def _dir_selected(self, event: DirectoryTree.DirectorySelected) -> None:
        event.stop()
        self.query_one("#save-path", Input).value = str(Path(event.path) / self.filename)

    @on(DirectoryTree.FileSelected)
    def _file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.query_one("#save-path", Input).value = str(Path(event.path).parent / self.filename)

    @on(Input.Submitted, "#save-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        hint = self.query_one("#save-hint", Static)
        if not event.value.strip():
            return
        path = _expand(event.value, self.start)
        if path.is_dir():
            path = path / self.filename
        if path.exists():
            hint.update(f"{path} already exists: choose another name (nothing was overwritten)")
            hint.add_class("view-error")
            return
        if not path.parent.is_dir():
            hint.update(f"The folder {path.parent} does not exist")
            hint.add_class("view-error")
            return
        self.dismiss(path)

    def action_cancel(self) -> None:
        self.dismiss(None)
