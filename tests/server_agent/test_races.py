"""Check-then-use races: a folder swapped for a symlink to the outside while the permission prompt
waits (or between a path's check and its use) must not let a tool touch anything outside."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

import pytest

from tests.server_agent.context import RecordingContext
from tui.server import safefs
from tui.server.agent.tools import _read_text, execute_tool, resolve_in_session
from tui.server.sandbox import Sandbox

CALL = "toolu_race"


def _swap_for_link(folder: Path, target: Path) -> None:
    """Replace `folder` by a symlink to `target` (what an attacker's process would do)."""
    shutil.rmtree(folder)
    folder.symlink_to(target, target_is_directory=True)


def _swapping(folder: Path, target: Path) -> RecordingContext:
    async def swap_then_grant(request: dict) -> bool:
        _swap_for_link(folder, target)
        return True

    return RecordingContext(folder if folder.name != "sub" else folder.parent, permission_answer=swap_then_grant)


@pytest.fixture
def sub(session_dir: Path) -> Path:
    folder = session_dir / "sub"
    folder.mkdir()
    (folder / "notes.txt").write_text("inside\n")
    return folder


@pytest.mark.parametrize("tool,params", [
    ("write", {"file_path": "sub/notes.txt", "content": "pwned\n"}),
    ("write", {"file_path": "sub/new.txt", "content": "pwned\n"}),
    ("edit", {"file_path": "sub/notes.txt", "old_string": "inside", "new_string": "pwned"}),
])
async def test_changes_refused_when_a_folder_became_a_link_while_the_prompt_waited(tool, params, sub, outside):
    (outside / "notes.txt").write_text("inside\n")  # same content, so only the path check can stop the edit
    ctx = _swapping(sub, outside)
    result = await execute_tool(ctx, CALL, tool, params)
    assert result.is_error and "session folder" in result.text
    assert (outside / "notes.txt").read_text() == "inside\n" and not (outside / "new.txt").exists()
    assert sorted(p.name for p in outside.iterdir()) == ["notes.txt", "secret.txt"]


async def test_bash_refused_when_the_session_folder_became_a_link_while_the_prompt_waited(session_dir, outside):
    ctx = _swapping(session_dir, outside)
    result = await execute_tool(ctx, CALL, "bash", {"command": "touch made-here"})
    assert result.is_error and "session folder" in result.text
    assert not (outside / "made-here").exists()


async def test_read_resolves_at_the_moment_of_use(session_dir, sub, outside):
    path = resolve_in_session(session_dir, "sub/secret.txt")  # checked while "sub" is a real folder
    (sub / "secret.txt").write_text("mine\n")
    _swap_for_link(sub, outside)
    with pytest.raises(Exception) as refused:
        _read_text(session_dir, path)
    assert "session folder" in str(refused.value) and "top secret" not in str(refused.value)


@pytest.mark.parametrize("tool,params", [("ls", {"path": "sub"}), ("glob", {"pattern": "*.txt", "path": "sub"}),
                                         ("grep", {"pattern": "secret", "path": "sub"})])
async def test_listing_tools_list_the_folder_they_checked_not_a_link_swapped_in_after(tool, params, session_dir, sub,
                                                                                      outside, monkeypatch):
    """The folder is checked, then swapped for a link to outside before it is listed (what a process
    racing the tool would do): nothing of outside is named or read."""
    from tui.server.agent import tools

    checked = tools.resolve_in_session

    def check_then_swap(session: Path, raw: object, **kwargs) -> Path:
        path = checked(session, raw, **kwargs)
        if sub.is_dir() and not sub.is_symlink():
            _swap_for_link(sub, outside)
        return path

    monkeypatch.setattr(tools, "resolve_in_session", check_then_swap)
    result = await execute_tool(RecordingContext(session_dir), "call-1", tool, params)
    assert "secret" not in result.text and "secret" not in str(result.metadata), result.text
    assert result.is_error and "session folder" in result.text
    assert sub.is_symlink()  # the swap did happen before the listing


def test_the_safe_walk_refuses_every_swapped_component(session_dir, outside):
    (session_dir / "a" / "b").mkdir(parents=True)
    _swap_for_link(session_dir / "a" / "b", outside)
    with pytest.raises(safefs.Escape):
        safefs.read_bytes(session_dir, ["a", "b", "secret.txt"], 100)
    with pytest.raises(safefs.Escape):
        safefs.write_bytes(session_dir, ["a", "b", "x.txt"], b"x")
    (session_dir / "link.txt").symlink_to(outside / "secret.txt")
    with pytest.raises(safefs.Escape):
        safefs.read_bytes(session_dir, ["link.txt"], 100)
    safefs.unlink(session_dir, "link.txt")  # deleting a link removes the link, never its target
    assert (outside / "secret.txt").read_text() == "top secret\n"
    assert not os.path.lexists(session_dir / "link.txt")


# ------------------------------------------------------------------------------- the sandbox

needs_bwrap = pytest.mark.skipif(not Sandbox.detect().active, reason="bubblewrap (bwrap) cannot run here")


@needs_bwrap
async def test_sandboxed_bash_writes_only_in_the_session_folder_and_has_no_network(session_dir, outside):
    ctx = RecordingContext(session_dir)
    ctx.sandbox = Sandbox.detect()  # type: ignore[attr-defined]
    inside = await execute_tool(ctx, CALL, "bash", {"command": "echo hi > made.txt && cat made.txt"})
    assert not inside.is_error and (session_dir / "made.txt").read_text() == "hi\n"
    escape = await execute_tool(ctx, CALL, "bash", {"command": f"echo x > {outside}/planted.txt"})
    assert escape.is_error and not (outside / "planted.txt").exists()
    reads = await execute_tool(ctx, CALL, "bash", {"command": "cat /etc/hostname >/dev/null && echo readable"})
    assert "readable" in reads.text
    with socket.socket() as listener:  # a server on the host's loopback: reachable only with the network
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        # the real interpreter, not the venv's link: the sandbox's /tmp is private, and a checkout (CI's
        # included) may live under /tmp
        probe = (f"{os.path.realpath(sys.executable)} -c \"import socket; socket.create_connection(('127.0.0.1', "
                 f"{listener.getsockname()[1]}), 2); print('connected')\"")
        confined = await execute_tool(ctx, CALL, "bash", {"command": probe})
        ctx.sandbox = Sandbox.detect(network=True)  # type: ignore[attr-defined]
        allowed = await execute_tool(ctx, CALL, "bash", {"command": probe})
    assert confined.is_error and "connected" not in confined.text
    assert not allowed.is_error and "connected" in allowed.text


def test_the_sandbox_can_be_turned_off_and_says_so():
    off = Sandbox.detect(wanted=False)
    assert not off.active and off.argv("ls", 3, "/x") == ["sh", "-c", "ls"]
    assert off.describe() == "off (turned off in the settings)"
    assert Sandbox(True, False, None).describe().startswith("off (bwrap is not installed")
    on = Sandbox(True, False, "/usr/bin/bwrap")
    assert "--unshare-net" in on.argv("ls", 3, "/x") and on.describe().endswith("no network)")
    assert "--unshare-net" not in Sandbox(True, True, "/usr/bin/bwrap").argv("ls", 3, "/x")


def test_upload_and_delete_refuse_a_session_folder_swapped_for_a_link(tmp_path):
    from tests.fixtures.mix_server import running_server

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not yours\n")
    with running_server(tmp_path / "srv") as server, server.client() as c:
        sid = server.create_session()["id"]
        folder = server.settings.storage_dir / sid
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "keep.txt").write_text("mine\n")
        _swap_for_link(folder, outside)
        up = c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("planted.txt", b"x")})
        assert up.status_code == 400 and up.json()["error"]["type"] == "validation_error"
        gone = c.delete(f"/api/sessions/{sid}/files/keep.txt")
        assert gone.status_code == 400
        served = c.get(f"/api/sessions/{sid}/files/keep.txt")
        assert served.status_code == 400 and "not yours" not in served.text
    assert sorted(p.name for p in outside.iterdir()) == ["keep.txt"]
    assert (outside / "keep.txt").read_text() == "not yours\n"


def _png_bytes(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 32), colour).save(buf, "PNG")
    return buf.getvalue()


def test_thumbnails_never_read_or_write_through_a_swapped_link(tmp_path):
    """The image, the thumbnail cache folder and the cached file are opened without following links:
    a session folder or a `.thumbnails` folder swapped for a link outside gives a 400, reads nothing
    from outside (no thumbnail of its picture, no planted cache file served) and writes nothing there."""
    import io

    from PIL import Image

    from tests.fixtures.mix_server import running_server

    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pic.png").write_bytes(_png_bytes((0, 200, 0)))  # the secret picture: green
    planted = b"\xff\xd8 planted, not a thumbnail of yours"
    (outside / "pic.png.b32.jpg").write_bytes(planted)
    with running_server(tmp_path / "srv") as server, server.client() as c:
        sid = server.create_session()["id"]
        assert c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("pic.png", _png_bytes((200, 0, 0)))}).status_code == 201
        folder = server.settings.storage_dir / sid
        made = c.get(f"/api/sessions/{sid}/files/pic.png", params={"thumb": "32"})
        assert made.status_code == 200
        assert Image.open(io.BytesIO(made.content)).convert("RGB").getpixel((5, 5))[0] > 150  # red: ours

        # The cache folder swapped for a link to outside, where a "cached thumbnail" waits.
        thumbs = folder / ".thumbnails"
        _swap_for_link(thumbs, outside)
        cached = c.get(f"/api/sessions/{sid}/files/pic.png", params={"thumb": "32"})
        assert cached.status_code == 400 and planted not in cached.content
        fresh = c.get(f"/api/sessions/{sid}/files/pic.png", params={"thumb": "w40"})
        assert fresh.status_code == 400
        thumbs.unlink()

        # The whole session folder swapped: its picture of the same name is not read.
        _swap_for_link(folder, outside)
        swapped = c.get(f"/api/sessions/{sid}/files/pic.png", params={"thumb": "h16"})
        assert swapped.status_code == 400 and swapped.headers["content-type"].startswith("application/json")
    assert sorted(p.name for p in outside.iterdir()) == ["pic.png", "pic.png.b32.jpg"]  # nothing written there
    assert (outside / "pic.png.b32.jpg").read_bytes() == planted
