"""A real headless Chromium driven over the Chrome DevTools Protocol (plain JSON over a websocket).

Small on purpose: launch, open a tab, evaluate, type, press a key, screenshot, close the tab, and
collect what the page's websockets receive (textual.js draws on a canvas, so the text the app sent
is read from its frames). aiohttp (a runtime dependency through textual-serve) is the websocket client.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# CSI (cursor moves, colours), OSC (titles, clipboard) and two-byte escapes, as Textual writes them.
_ESCAPES = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in CHROMIUM_NAMES:
        if path := shutil.which(name):
            return path
    return None


def plain_text(raw: bytes) -> str:
    """What a terminal stream says, without its escape sequences."""
    return _ESCAPES.sub("", raw.decode("utf-8", "replace"))


class CDPError(RuntimeError):
    pass


class Page:
    """One tab, attached in flat mode: every command carries its session id."""

    def __init__(self, browser: Chromium, target_id: str, session_id: str) -> None:
        self.browser = browser
        self.target_id = target_id
        self.session_id = session_id
        self.received = bytearray()  # every websocket frame the page received, in order
        self.sockets_closed = 0

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.browser.send(method, params, session_id=self.session_id)

    def on_event(self, method: str, params: dict[str, Any]) -> None:
        if method == "Network.webSocketFrameReceived":
            response = params["response"]
            data = response["payloadData"]
            self.received += base64.b64decode(data) if response.get("opcode") == 2 else data.encode()
        elif method == "Network.webSocketClosed":
            self.sockets_closed += 1

    @property
    def text(self) -> str:
        return plain_text(bytes(self.received))

    async def evaluate(self, expression: str) -> Any:
        result = await self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in result:
            raise CDPError(f"{expression!r} raised: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    async def wait_for(self, expression: str, timeout: float, what: str) -> Any:
        """Evaluate until truthy (a state, not a fixed pause)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not (value := await self.evaluate(expression)):
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
            await asyncio.sleep(0.05)
        return value

    async def wait_for_text(self, needle: str, timeout: float) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        while needle not in self.text:
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out after {timeout:g} s waiting for {needle!r}; the page received: {self.text[-1500:]!r}")
            await asyncio.sleep(0.05)

    async def bring_to_front(self) -> None:
        """Make this the active tab, its terminal focused: keys go to the focused page only."""
        await self.send("Page.bringToFront")
        await self.evaluate("document.querySelector('.xterm-helper-textarea').focus(), true")

    async def insert_text(self, text: str) -> None:
        await self.send("Input.insertText", {"text": text})

    async def press(self, key: str, code: str, key_code: int, text: str = "", *, ctrl: bool = False) -> None:
        common = {"key": key, "code": code, "windowsVirtualKeyCode": key_code, "modifiers": 2 if ctrl else 0}
        await self.send("Input.dispatchKeyEvent", {"type": "keyDown", **common, **({"text": text} if text else {})})
        await self.send("Input.dispatchKeyEvent", {"type": "keyUp", **common})

    async def press_enter(self) -> None:
        await self.press("Enter", "Enter", 13, "\r")

    async def screenshot(self, path: Path) -> Path:
        result = await self.send("Page.captureScreenshot", {"format": "png"})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(result["data"]))
        return path

    async def close(self) -> None:
        await self.browser.send("Target.closeTarget", {"targetId": self.target_id})


class Chromium:
    """`async with Chromium(binary, profile_dir) as browser: page = await browser.open(url)`."""

    def __init__(self, binary: str, profile_dir: Path, *, width: int = 1280, height: int = 800) -> None:
        self.binary = binary
        self.profile_dir = profile_dir
        self.size = (width, height)
        self.proc: subprocess.Popen[bytes] | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._pages: dict[str, Page] = {}
        self._reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Chromium:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self, timeout: float = 30.0) -> None:
        self.profile_dir.mkdir(parents=True, exist_ok=True)
        port_file = self.profile_dir / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile_dir}", f"--window-size={self.size[0]},{self.size[1]}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = asyncio.get_running_loop().time() + timeout
        while not (port_file.exists() and port_file.read_text().count("\n") >= 1):
            if self.proc.poll() is not None:
                raise CDPError(f"chromium exited with code {self.proc.returncode} before DevTools was up")
            if asyncio.get_running_loop().time() > deadline:
                raise CDPError(f"chromium did not open DevTools within {timeout:g} s")
            await asyncio.sleep(0.05)
        port, path = port_file.read_text().split("\n")[:2]
        self._http = aiohttp.ClientSession()
        self._ws = await self._http.ws_connect(f"ws://127.0.0.1:{port}{path}", max_msg_size=0)
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self._ws is not None
        async for message in self._ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            data = json.loads(message.data)
            if "id" in data:
                future = self._pending.pop(data["id"], None)
                if future is not None and not future.done():
                    if "error" in data:
                        future.set_exception(CDPError(f"{data['error'].get('message')}"))
                    else:
                        future.set_result(data.get("result", {}))
            elif (page := self._pages.get(data.get("sessionId", ""))) is not None:
                page.on_event(data["method"], data.get("params", {}))
        for future in self._pending.values():
            if not future.done():
                future.set_exception(CDPError("the DevTools connection closed"))

    async def send(self, method: str, params: dict[str, Any] | None = None, *, session_id: str | None = None,
                   timeout: float = 30.0) -> dict[str, Any]:
        assert self._ws is not None
        message_id = next(self._ids)
        message: dict[str, Any] = {"id": message_id, "method": method, "params": params or {}}
        if session_id:
            message["sessionId"] = session_id
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self._ws.send_str(json.dumps(message))
        return await asyncio.wait_for(future, timeout)

    async def allow_clipboard(self, origin: str) -> None:
        """What a person grants when the page first asks to use the clipboard."""
        await self.send("Browser.grantPermissions", {"origin": origin, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})

    async def open(self, url: str) -> Page:
        """A new tab with the network watched from its first request on, then navigated to `url`."""
        target = await self.send("Target.createTarget", {"url": "about:blank"})
        attached = await self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})
        page = Page(self, target["targetId"], attached["sessionId"])
        self._pages[page.session_id] = page
        await page.send("Network.enable")
        await page.send("Page.enable")
        await page.send("Emulation.setDeviceMetricsOverride",
                        {"width": self.size[0], "height": self.size[1], "deviceScaleFactor": 1, "mobile": False})
        await page.send("Page.navigate", {"url": url})
        return page

    async def stop(self) -> None:
        if self._ws is not None:
            try:
                await self.send("Browser.close", timeout=5)
            except (CDPError, asyncio.TimeoutError, ConnectionError):
                pass
            await self._ws.close()
        if self._reader is not None:
            self._reader.cancel()
        if self._http is not None:
            await self._http.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
