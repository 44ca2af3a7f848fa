"""`mix-tui web` in a real headless Chromium, driven over the DevTools protocol: the page loads, the
app connects, a prompt typed in the page is answered by the offline agent, copy reaches the browser's
clipboard, a second tab is a second app on the same server that shows the first tab's turns live, and
closing a tab ends its app. The screenshot is what Chromium drew
(`make screenshots` copies it to screenshots/web.png for the README)."""

from __future__ import annotations

import os
import shutil
import struct
import sys
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.cdp import Chromium, find_chromium
from tests.web.conftest import RunningWeb, start_web, stop_web, wait_until
from tui.web import server as web_server

CHROMIUM = find_chromium()
pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the tab apps"),
    pytest.mark.skipif(CHROMIUM is None, reason=(
        "Chromium not found, so the browser test of `mix-tui web` is skipped: install Debian's `chromium` "
        "(`make test` does it when run as root where apt-get exists) or set CHROMIUM=/path/to/chromium")),
]

REPO_SCREENSHOT = Path(__file__).resolve().parents[2] / "screenshots" / "web.png"
PROMPT = "hello from the browser"
FIRST_BYTE = "!!document.body && document.body.classList.contains('-first-byte')"
TWO_FRAMES = "new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


@pytest.fixture(scope="module")
def running_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningWeb]:
    """The offline agent streams its answer at 1 ms a chunk (the default 12 ms only costs the test time)."""
    home = tmp_path_factory.mktemp("web") / "home"
    home.mkdir()
    (home / "config.toml").write_text("[embedded]\nagent_delay = 0.001\n")
    web = start_web(home)
    try:
        yield web
    finally:
        stop_web(web.proc)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


async def test_the_app_in_chromium_answers_a_prompt_and_each_tab_is_its_own_app(running_web, tmp_path, monkeypatch):
    web = running_web
    async with Chromium(CHROMIUM, tmp_path / "profile") as browser:  # type: ignore[arg-type]
        await browser.allow_clipboard(web.origin)
        first = await browser.open(web.url)
        await first.wait_for(FIRST_BYTE, 60, "the app's first drawing in the page")
        await first.wait_for_text("connected", 60)  # the tab's app reached the shared server
        await first.wait_for_text("offline-1", 30)
        wait_until(lambda: len(web.tab_apps()) == 1, 30, f"one tab app expected: {web.processes()}")

        await first.evaluate("document.querySelector('.xterm-helper-textarea').focus()")
        await first.insert_text(PROMPT)
        await first.press_enter()
        await first.wait_for_text("Here is what I understand", 60)  # the offline agent's answer
        await first.wait_for_text("To use a real model", 60)  # ... to its last paragraph
        await first.wait_for_text("done", 30)
        await first.evaluate(TWO_FRAMES)
        shot = await first.screenshot(tmp_path / "web.png")
        assert png_size(shot) == (1280, 800)
        assert shot.stat().st_size > 20_000  # a drawn app, not a blank page
        if os.environ.get("MIX_TUI_SCREENSHOTS"):  # set by `make screenshots`
            shutil.copyfile(shot, REPO_SCREENSHOT)

        # Copy (Ctrl+G, the last answer) travels as OSC 52, which the page hands to the browser's clipboard.
        await first.press("g", "KeyG", 71, ctrl=True)
        await first.wait_for("navigator.clipboard.readText().then(t => t.includes('Here is what I understand'))", 30,
                             "the last answer in the browser's clipboard")

        # A second tab: its own app process, on the same server, reopening the session the first tab
        # used last with its history; the first tab's app goes on answering on its own.
        # It is opened the way `--open` opens the page: through the redirect file handed to the browser.
        opened: list[str] = []
        monkeypatch.setattr(web_server.webbrowser, "open", opened.append)
        web_server.open_in_browser(web.url, tmp_path)
        second = await browser.open(opened[0])
        await second.wait_for(FIRST_BYTE, 60, "the second tab's first drawing")
        await second.wait_for_text("Here is what I understand", 60)
        wait_until(lambda: len(web.tab_apps()) == 2, 30, f"two tab apps expected: {web.processes()}")
        apps = set(web.tab_apps())
        await first.bring_to_front()
        await first.insert_text("list files")
        await first.press_enter()
        await first.wait_for_text("is empty. You can upload files", 60)
        # ... and the second tab, with the same session open, shows that turn live: it follows the
        # session's event stream, not only during its own turns.
        await second.wait_for_text("is empty. You can upload files", 30)

        await second.close()
        wait_until(lambda: len(web.tab_apps()) == 1, 30, "closing the second tab did not end its app")
        assert set(web.tab_apps()) < apps
    wait_until(lambda: not web.tab_apps(), 30, "closing the browser did not end the first tab's app")
