"""The files of one Mix session: list, upload (with progress), preview, delete, save a copy.

Every network call runs in a worker; errors land in the status line as one plain sentence.
Also home of `error_text`, which the other management views share; they take `mix_client_of`
(tui.api.mix.backend) and `human_size`/`human_time` (tui.formatting) from here too.
"""

from __future__ import annotations

import io
import stat
from pathlib import Path
from typing import Any

from rich.syntax import Syntax
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Footer, ProgressBar, Static

from tui.api.errors import ApiError, PayloadTooLarge
from tui.api.mix.backend import mix_client_of
from tui.api.mix.models import FileInfo
from tui.formatting import human_size, human_time
from tui.screens.confirm import ConfirmScreen
from tui.themes import themes_dir
from tui.widgets.file_picker import FilePicker, SaveAsPicker

DEFAULT_MAX_UPLOAD = 100 * 1024 * 1024  # the embedded server's default cap (bytes); others may differ
PREVIEW_MAX_BYTES = 256 * 1024  # larger text files are previewed from their start
THUMB_BOX = 256
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tiff")
VIDEO_EXTENSIONS = (".mp4", ".webm", ".mov", ".avi", ".mkv", ".wmv", ".flv", ".m4v")


# ---------------------------------------------------------------- shared by the management views


def error_text(exc: BaseException, doing: str = "") -> str:
    """One sentence a person can act on: the server's own words first."""
    prefix = f"Could not {doing}: " if doing else ""
    if isinstance(exc, ApiError):
        return prefix + exc.message
    if isinstance(exc, OSError):
        return f"{prefix}{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
    return f"{prefix}unexpected error ({type(exc).__name__}: {exc})"


# ---------------------------------------------------------------- kinds of files


def is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def is_video(name: str) -> bool:
    return name.lower().endswith(VIDEO_EXTENSIONS)


def looks_like_text(data: bytes) -> bool:
    if b"\x00" in data[:8192]:
        return False
    try:
        data[:8192].decode("utf-8")
    except UnicodeDecodeError as exc:
        return exc.start > 8180  # a multi-byte character cut at the sample's end
    return True


def check_local_file(path: Path, max_bytes: int) -> tuple[int, str | None]:
    """(size, problem) for a file about to be uploaded; problem is a sentence or None."""
    try:
        info = path.stat()
        if path.is_dir():
            return 0, f"{path} is a folder: choose a file"
        if not stat.S_ISREG(info.st_mode):
            return 0, f"{path} is not a regular file (a pipe or a device cannot be uploaded)"
        size = info.st_size
        with path.open("rb") as handle:
            handle.read(1)
    except FileNotFoundError:
        return 0, f"{path} does not exist"
    except PermissionError:
        return 0, f"Cannot read {path}: permission denied"
    except OSError as exc:
        return 0, f"Cannot read {path}: {exc.strerror or exc}"
    if size > max_bytes:
        return size, f"{path.name} is {human_size(size)}; the server takes at most {human_size(max_bytes)}"
    return size, None


# ---------------------------------------------------------------- the screen


class FilesScreen(Screen[None]):
    HELP = """\
## Session files

- `↑`/`↓` move through the files; the preview shows the highlighted one
- `u` uploads a local file (choose it in the folder tree or type its path); a bar shows the progress
- `s` saves a copy of the file on this computer (an existing file is never overwritten)
- `d` deletes the file from the session (asks first)
- `r` reloads the list · `escape` goes back to the chat
- text files are shown highlighted; for images the terminal shows no picture, only its size and dimensions
"""

    CSS_PATH = [themes_dir() / "views.tcss"]
    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("u", "upload", "Upload"),
        Binding("s", "save_copy", "Save copy"),
        Binding("d", "delete", "Delete"),
        Binding("r", "refresh", "Reload"),
    ]

    def __init__(self, client: Any, session_id: str, *, title: str = "", max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
                 local_dir: Path | None = None) -> None:
        super().__init__()
        self.client = mix_client_of(client, session_id)
        self.session_id = session_id
        self.session_title = title or session_id
        self.max_upload_bytes = max_upload_bytes
        self.local_dir = local_dir or Path.cwd()
        self.files: list[FileInfo] = []
        self.preview_text = ""  # what the preview shows, in plain words (tests and screen readers)
        self.preview_lexer = ""  # the Pygments lexer of a text preview ("" for anything else)

    def compose(self) -> ComposeResult:
        yield Static(f"Files · {self.session_title}", id="files-title", classes="view-title", markup=False)
        with Horizontal(id="files-body"):
            yield DataTable(id="files-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="files-preview-box"):
                yield Static("", id="files-preview", markup=False)
        yield ProgressBar(id="files-progress", show_eta=False)
        yield Static("Loading the files…", id="files-status", classes="view-status", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("Name", key="name")
        table.add_column("Size", key="size")
        table.add_column("Modified", key="modified")
        self.query_one(ProgressBar).display = False
        table.focus()
        self.action_refresh()

    # ------------------------------------------------------------------ helpers

    def say(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#files-status", Static)
        status.update(text)
        status.set_class(error, "view-error")

    @property
    def selected(self) -> FileInfo | None:
        table = self.query_one(DataTable)
        if not self.files or table.cursor_row < 0 or table.cursor_row >= len(self.files):
            return None
        return self.files[table.cursor_row]

    def _show_preview(self, text: str, renderable: Any = None, lexer: str = "") -> None:
        self.preview_text = text
        self.preview_lexer = lexer
        self.query_one("#files-preview", Static).update(renderable if renderable is not None else text)

    # ------------------------------------------------------------------ list

    def action_refresh(self) -> None:
        self._load()

    @work(group="files-list", exclusive=True)
    async def _load(self, select: str | None = None, message: str | None = None) -> None:
        try:
            files = await self.client.list_files(self.session_id)
        except Exception as exc:  # noqa: BLE001 — shown, the screen stays usable
            self.say(error_text(exc, "list the files"), error=True)
            return
        self.files = sorted(files, key=lambda f: f.name.lower())
        table = self.query_one(DataTable)
        table.clear()
        for f in self.files:
            name = f.name + ("/" if f.is_dir else "")
            table.add_row(name, "" if f.is_dir else human_size(f.size), human_time(f.modified), key=f.name)
        if select is not None:
            index = next((i for i, f in enumerate(self.files) if f.name == select), 0)
            table.move_cursor(row=index)
        if not self.files:
            self._show_preview("")
        total = sum(f.size for f in self.files)
        summary = (f"{len(self.files)} file{'s' if len(self.files) != 1 else ''} · {human_size(total)}"
                   if self.files else "No files in this session yet: press u to upload one.")
        self.say(message or summary)

    @on(DataTable.RowHighlighted, "#files-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        info = self.selected
        if info is not None:
            self._preview(info)

    # ------------------------------------------------------------------ preview

    @work(group="files-preview", exclusive=True)
    async def _preview(self, info: FileInfo) -> None:
        if info.is_dir:
            self._show_preview(f"{info.name} is a folder")
            return
        if is_image(info.name) or is_video(info.name):
            await self._preview_media(info)
            return
        try:
            content = await self.client.get_file(self.session_id, info.name)
        except Exception as exc:  # noqa: BLE001
            self._show_preview(error_text(exc, f"read {info.name}"))
            return
        data = content.data
        if not looks_like_text(data):
            self._show_preview(f"{info.name} · {human_size(len(data))} · binary file ({content.content_type or 'unknown type'})\n"
                               "No preview for binary files: press s to save a copy.")
            return
        cut = len(data) > PREVIEW_MAX_BYTES
        text = data[:PREVIEW_MAX_BYTES].decode("utf-8", "replace")
        lexer = Syntax.guess_lexer(info.name, text)
        syntax = Syntax(text, lexer, line_numbers=True, word_wrap=False, theme="ansi_dark",
                        background_color="default")
        self._show_preview(text + ("\n… (only the first 256 KB are shown)" if cut else ""), syntax,
                           getattr(syntax.lexer, "name", ""))

    async def _preview_media(self, info: FileInfo) -> None:
        kind = "Image" if is_image(info.name) else "Video"
        lines = [f"{kind} · {info.name} · {human_size(info.size)}"]
        try:
            thumb = await self.client.get_file(self.session_id, info.name, thumb=THUMB_BOX)
            lines.append(f"Thumbnail from the server: {_dimensions(thumb.data)} JPEG, {human_size(len(thumb.data))} "
                         f"(fits {THUMB_BOX}×{THUMB_BOX})")
        except Exception as exc:  # noqa: BLE001 — videos need ffmpeg on the server
            lines.append(error_text(exc, "get a thumbnail"))
        if kind == "Image" and info.size <= 20 * 1024 * 1024:
            try:
                full = await self.client.get_file(self.session_id, info.name)
                lines.append(f"Full size: {_dimensions(full.data)}")
            except Exception as exc:  # noqa: BLE001
                lines.append(error_text(exc, f"read {info.name}"))
        lines.append("The terminal shows no image here: press s to save a copy and open it elsewhere.")
        self._show_preview("\n".join(lines))

    # ------------------------------------------------------------------ upload

    def action_upload(self) -> None:
        self.app.push_screen(FilePicker(self.local_dir), self._upload_chosen)

    def _upload_chosen(self, path: Path | None) -> None:
        if path is None:
            return
        self.upload(path)

    def upload(self, path: Path) -> None:
        """Check the local file (readable, not over the cap), then send it with a progress bar."""
        size, problem = check_local_file(path, self.max_upload_bytes)
        if problem:
            self.say(f"Not uploaded: {problem}", error=True)
            return
        self.local_dir = path.parent
        self._upload(path, size)

    @work(group="files-upload", exclusive=True)
    async def _upload(self, path: Path, size: int) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=max(size, 1), progress=0)
        bar.display = True
        self.say(f"Uploading {path.name} ({human_size(size)})…")

        def progress(sent: int, total: int) -> None:
            bar.update(total=max(total, 1), progress=sent)

        try:
            info = await self.client.upload_file(self.session_id, path, progress=progress)
        except PayloadTooLarge as exc:
            self.say(f"Not uploaded: the server refused {path.name} as too large. {exc.message}", error=True)
            return
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, f"upload {path.name}"), error=True)
            return
        finally:
            bar.display = False
        renamed = f" (stored as {info.name})" if info.name != path.name else ""
        self._load(select=info.name, message=f"Uploaded {path.name}{renamed} · {human_size(info.size or size)}")

    # ------------------------------------------------------------------ delete

    def action_delete(self) -> None:
        info = self.selected
        if info is None:
            self.say("No file selected.", error=True)
            return
        question = f"Delete {info.name} from this session? The server's copy is gone for good."

        def answered(yes: bool | None) -> None:
            if yes:
                self._delete(info)

        self.app.push_screen(ConfirmScreen(question), answered)

    @work(group="files-change")
    async def _delete(self, info: FileInfo) -> None:
        try:
            await self.client.delete_file(self.session_id, info.name)
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, f"delete {info.name}"), error=True)
            return
        self._load(message=f"Deleted {info.name}")

    # ------------------------------------------------------------------ save a copy

    def action_save_copy(self) -> None:
        info = self.selected
        if info is None or info.is_dir:
            self.say("Choose a file first.", error=True)
            return

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.save_copy(info, path)

        self.app.push_screen(SaveAsPicker(info.name, self.local_dir), chosen)

    def save_copy(self, info: FileInfo, destination: Path) -> None:
        self._save(info, destination)

    @work(group="files-save")
    async def _save(self, info: FileInfo, destination: Path) -> None:
        try:
            content = await self.client.get_file(self.session_id, info.name)
        except Exception as exc:  # noqa: BLE001
            self.say(error_text(exc, f"download {info.name}"), error=True)
            return
        try:
            with destination.open("xb") as handle:  # "x": an existing file is never overwritten
                handle.write(content.data)
        except FileExistsError:
            self.say(f"Not saved: {destination} already exists (nothing was overwritten).", error=True)
            return
        except OSError as exc:
            self.say(f"Not saved: {error_text(exc)}", error=True)
            return
        self.say(f"Saved a copy of {info.name} to {destination}")

    def action_back(self) -> None:
        self.dismiss(None)


def _dimensions(data: bytes) -> str:
    try:
        from PIL import Image

        with Image.open(io.BytesIO(data)) as image:
            return f"{image.width}×{image.height}"
    except Exception:  # noqa: BLE001 — unreadable image: say so rather than fail
        return "unknown size"


__all__ = ["FilesScreen", "check_local_file", "error_text", "human_size", "human_time", "mix_client_of"]
