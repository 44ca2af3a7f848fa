"""The session file browser against the real embedded server over loopback."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, ProgressBar, Static

from tests.fixtures.mix_server import running_server
from tests.ui.views.host import FIXED_TIME, Host, put_file, settle, text_of, wait_until
from tui.api.mix import MixClient
from tui.screens.confirm import ConfirmScreen
from tui.screens.files import FilesScreen, human_time
from tui.widgets.file_picker import FilePicker, SaveAsPicker

SIZE = (110, 30)


def status(app: Host) -> str:
    return text_of(app.shown.query_one("#files-status", Static))


def names(app: Host) -> list[str]:
    table = app.shown.query_one(DataTable)
    return [str(table.get_row_at(i)[0]) for i in range(table.row_count)]


@pytest.fixture
def served(tmp_path: Path):
    with running_server(tmp_path / "server", max_upload_bytes=4096) as server:
        session = server.create_session("files demo")
        yield server, session["id"]


def png_bytes(width: int = 40, height: int = 20) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


async def test_lists_files_with_size_and_date_without_the_thumbnail_folder(served) -> None:
    server, sid = served
    put_file(server, sid, "notes.md", b"# Notes\n")
    put_file(server, sid, "data.json", b'{"a": 1}\n' * 300)
    (server.settings.storage_dir / sid / ".thumbnails").mkdir()
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid, title="files demo"))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        table = app.shown.query_one(DataTable)
        assert names(app) == ["data.json", "notes.md"]
        row = table.get_row_at(0)
        assert str(row[1]) == "2.6 KB" and str(row[2]) == human_time(__import__("datetime").datetime.fromtimestamp(FIXED_TIME).astimezone())
        assert "2 files" in status(app)
        # the first file is previewed, highlighted by Pygments
        await wait_until(pilot, lambda: '"a": 1' in app.shown.preview_text)
        assert app.shown.preview_lexer == "JSON"
    await client.aclose()


async def test_text_preview_is_syntax_highlighted(served) -> None:
    server, sid = served
    put_file(server, sid, "script.py", b"def hello():\n    return 42\n")
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await wait_until(pilot, lambda: "return 42" in app.shown.preview_text)
        assert app.shown.preview_lexer == "Python"
        # Pygments colours the keyword: the first line's segments carry more than one colour
        preview = app.shown.query_one("#files-preview", Static)
        styles = {seg.style.color for seg in preview.render_line(0) if seg.text.strip() and seg.style}
        assert len(styles) > 1
    await client.aclose()


async def test_image_preview_says_dimensions_and_that_no_picture_is_shown(served) -> None:
    server, sid = served
    put_file(server, sid, "red.png", png_bytes(400, 200))
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await wait_until(pilot, lambda: "terminal shows no image" in app.shown.preview_text)
        text = app.shown.preview_text
        assert "Image · red.png" in text
        assert "Thumbnail from the server: 256×128 JPEG" in text
        assert "Full size: 400×200" in text
    await client.aclose()


async def test_a_terminal_announcing_kitty_graphics_gets_the_picture(served, monkeypatch) -> None:
    from textual_image.widget import TGPImage

    from tui import graphics

    assert graphics.announced({"TERM": "xterm-kitty"}) == "kitty" and graphics.announced({"TERM": "xterm-256color"}) == ""
    assert graphics.announced({"TERM": "foot", "MIX_TUI_GRAPHICS": "none"}) == ""
    monkeypatch.setattr(graphics, "protocol", "kitty")
    server, sid = served
    put_file(server, sid, "red.png", png_bytes(400, 200))
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await wait_until(pilot, lambda: app.shown.query(TGPImage))
        assert "Full size: 400×200" in app.shown.preview_text and "shows no image" not in app.shown.preview_text
    await client.aclose()


async def test_upload_through_the_picker_shows_progress_and_lists_the_file(served, tmp_path: Path) -> None:
    server, sid = served
    local = tmp_path / "local"
    local.mkdir()
    (local / "hello world.txt").write_text("hi there\n" * 100)
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid, local_dir=local))
    seen: list[float] = []
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        bar = app.shown.query_one(ProgressBar)
        original = bar.update

        def spy(**kw):
            if "progress" in kw:
                seen.append(kw["progress"])
            return original(**kw)

        bar.update = spy  # type: ignore[method-assign]
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker))
        app.screen.query_one("#picker-path", Input).value = "hello world.txt"
        app.screen.query_one("#picker-path", Input).focus()
        await pilot.press("enter")
        await settle(pilot, app)
        assert names(app) == ["hello_world.txt"]
        assert "Uploaded hello world.txt (stored as hello_world.txt)" in status(app)
        assert seen and seen[-1] >= 900  # the bar followed the bytes sent
        assert not bar.display
    assert (server.settings.storage_dir / sid / "hello_world.txt").read_text() == "hi there\n" * 100
    await client.aclose()


async def test_unreadable_and_missing_local_files_are_refused_plainly(served, tmp_path: Path) -> None:
    server, sid = served
    loop = tmp_path / "loop"
    os.symlink(loop, loop)  # unreadable even for root: "too many levels of symbolic links"
    locked = tmp_path / "locked.txt"
    locked.write_text("secret")
    locked.chmod(0)
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.shown.upload(loop)
        assert status(app).startswith("Not uploaded: Cannot read") and "symbolic links" in status(app)
        assert "view-error" in app.shown.query_one("#files-status").classes
        app.shown.upload(tmp_path / "nope.txt")
        assert status(app) == f"Not uploaded: {tmp_path / 'nope.txt'} does not exist"
        fifo = tmp_path / "pipe"
        os.mkfifo(fifo)
        app.shown.upload(fifo)  # never opened: reading a pipe would hang
        assert status(app) == f"Not uploaded: {fifo} is not a regular file (a pipe or a device cannot be uploaded)"
        if os.geteuid() != 0:
            app.shown.upload(locked)
            assert "permission denied" in status(app)
        await settle(pilot, app)
        assert names(app) == []
    await client.aclose()


async def test_oversized_files_are_refused_locally_and_by_the_server(served, tmp_path: Path) -> None:
    server, sid = served
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 10_000)
    client = MixClient(server.url)
    # the screen knows the cap: checked before anything is sent
    app = Host(lambda: FilesScreen(client, sid, max_upload_bytes=4096))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.shown.upload(big)
        assert status(app) == "Not uploaded: big.bin is 9.8 KB; the server takes at most 4.0 KB"
    # the screen thinks it may: the server's 413 is shown
    app = Host(lambda: FilesScreen(client, sid))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        app.shown.upload(big)
        await settle(pilot, app)
        assert "refused big.bin as too large" in status(app) and "the limit is 4096 bytes" in status(app)
        assert names(app) == []
    await client.aclose()


async def test_delete_asks_first_and_no_keeps_the_file(served) -> None:
    server, sid = served
    put_file(server, sid, "a.txt", b"a")
    put_file(server, sid, "b.txt", b"b")
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "Delete a.txt" in app.screen.question
        await pilot.press("n")
        await settle(pilot, app)
        assert names(app) == ["a.txt", "b.txt"]
        await pilot.press("down", "d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("y")
        await settle(pilot, app)
        assert names(app) == ["a.txt"] and status(app) == "Deleted b.txt"
    assert not (server.settings.storage_dir / sid / "b.txt").exists()
    await client.aclose()


async def test_save_a_copy_never_overwrites(served, tmp_path: Path) -> None:
    server, sid = served
    put_file(server, sid, "report.txt", b"the report\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.txt").write_text("mine, keep me")
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid, local_dir=out))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        await wait_until(pilot, lambda: isinstance(app.screen, SaveAsPicker))
        field = app.screen.query_one("#save-path", Input)
        assert field.value == str(out / "report.txt")
        await pilot.press("enter")  # exists: refused in the dialog
        assert "already exists" in text_of(app.screen.query_one("#save-hint"))
        field.value = str(out / "copy.txt")
        await pilot.press("enter")
        await settle(pilot, app)
        assert f"Saved a copy of report.txt to {out / 'copy.txt'}" in status(app)
        # a destination that appeared meanwhile is not overwritten either
        (out / "late.txt").write_text("late")
        app.shown.save_copy(app.shown.files[0], out / "late.txt")
        await settle(pilot, app)
        assert "already exists (nothing was overwritten)" in status(app)
    assert (out / "copy.txt").read_text() == "the report\n"
    assert (out / "report.txt").read_text() == "mine, keep me"
    assert (out / "late.txt").read_text() == "late"
    await client.aclose()


async def test_server_errors_are_shown_plainly(tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        sid = server.create_session("x")["id"]
        put_file(server, sid, "a.txt", b"a")
        client = MixClient(server.url)
        app = Host(lambda: FilesScreen(client, sid))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, app)
            assert names(app) == ["a.txt"]
            # an unknown session: the server's 404
            app.shown.session_id = "00000000-0000-0000-0000-000000000000"
            await pilot.press("r")
            await settle(pilot, app)
            assert status(app).startswith("Could not list the files: Mix server at") and "404" in status(app)
            app.shown.session_id = sid
            server_url = server.url
    # the server is gone: a refused connection, said plainly
    app = Host(lambda: FilesScreen(client, sid))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert status(app) == f"Could not list the files: Mix server at {server_url} refused the connection while listing files: is it running?"
    await client.aclose()


async def test_escape_goes_back(served) -> None:
    server, sid = served
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        assert "No files in this session yet" in status(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.results == [None] and not isinstance(app.screen, FilesScreen)
    await client.aclose()


def test_snapshot_of_the_files_screen(snap_compare, tmp_path: Path) -> None:
    with running_server(tmp_path / "server") as server:
        sid = server.create_session("snap")["id"]
        put_file(server, sid, "main.py", b"import sys\n\n\ndef main() -> int:\n    print('hello')\n    return 0\n")
        put_file(server, sid, "notes.md", b"# Notes\n\n- one\n- two\n")
        put_file(server, sid, "photo.png", png_bytes())
        client = MixClient(server.url)

        async def loaded(pilot) -> None:
            await settle(pilot, pilot.app)
            await wait_until(pilot, lambda: "main()" in pilot.app.shown.preview_text)
            await settle(pilot, pilot.app)

        assert snap_compare(Host(lambda: FilesScreen(client, sid, title="snap")), terminal_size=SIZE, run_before=loaded)


async def test_upload_by_choosing_in_the_folder_tree(served, tmp_path: Path) -> None:
    server, sid = served
    local = tmp_path / "tree"
    local.mkdir()
    (local / "chosen.csv").write_text("a,b\n1,2\n")
    (local / ".hidden").write_text("not listed")
    client = MixClient(server.url)
    app = Host(lambda: FilesScreen(client, sid, local_dir=local))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, app)
        await pilot.press("u")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePicker))
        tree = app.screen.query_one("#picker-tree")
        await wait_until(pilot, lambda: len(tree.root.children) == 1)  # the dot file is not offered
        await pilot.press("down", "enter")
        await settle(pilot, app)
        assert names(app) == ["chosen.csv"] and status(app).startswith("Uploaded chosen.csv")
    await client.aclose()
