"""`mix-tui web` refuses what is not its own page, over plain HTTP: no token, a wrong token, a
foreign Host (DNS rebinding), a foreign Origin (a cross-site page), on the page, the static files and
the websocket upgrade alike; the one tab it serves gets its own app, which ends with the socket."""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
import httpx
import pytest

from tests.web.conftest import RunningWeb, start_web, stop_web, wait_until
from tui.web import SERVER_TOKEN_ENV, SERVER_URL_ENV, take_shared_server
from tui.web.server import WebServer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc to find the tab apps")

UPGRADE = {"Connection": "Upgrade", "Upgrade": "websocket", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": base64.b64encode(os.urandom(16)).decode()}


def get(web: RunningWeb, path: str, **headers: str) -> httpx.Response:
    return httpx.get(f"{web.origin}{path}", headers=headers, timeout=10)


def test_the_printed_url_serves_the_page_and_names_the_websocket_under_the_token(running_web):
    web = running_web
    assert web.url.startswith("http://127.0.0.1:") and len(web.token) >= 30
    page = get(web, f"/{web.token}/")
    assert page.status_code == 200
    assert f'data-session-websocket-url="ws://127.0.0.1:{web.port}/{web.token}/ws"' in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"  # the token never leaves in a Referer
    assert get(web, f"/{web.token}/static/js/textual.js").status_code == 200


@pytest.mark.parametrize("path", ["/", "/ws", "/static/js/textual.js", "/{wrong}/", "/{wrong}/ws", "/{short}/"])
def test_without_the_right_token_everything_is_refused(running_web, path):
    web = running_web
    path = path.format(wrong="A" * len(web.token), short=web.token[:-1])
    response = get(web, path)
    assert response.status_code == 403
    assert "token" in response.json()["error"]["message"]
    assert web.token not in response.text


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "127.0.0.1.nip.io:{port}"])
def test_a_foreign_host_is_refused(running_web, host):
    web = running_web
    response = get(web, f"/{web.token}/", Host=host.format(port=web.port))
    assert response.status_code == 403 and "Host" in response.json()["error"]["message"]
    assert get(web, "/download/anything", Host=host.format(port=web.port)).status_code == 403


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1", "https://127.0.0.1:{port}"])
def test_a_foreign_origin_is_refused(running_web, origin):
    web = running_web
    response = get(web, f"/{web.token}/", Origin=origin.format(port=web.port))
    assert response.status_code == 403 and "Cross-origin" in response.json()["error"]["message"]


@pytest.mark.parametrize("case", ["no token", "wrong token", "foreign Host", "foreign Origin"])
def test_the_websocket_upgrade_is_refused_the_same_way(running_web, case):
    web = running_web
    path = {"no token": "/ws", "wrong token": f"/{'B' * len(web.token)}/ws"}.get(case, f"/{web.token}/ws")
    headers = {**UPGRADE, "Origin": web.origin}
    if case == "foreign Host":
        headers["Host"] = f"evil.example:{web.port}"
    if case == "foreign Origin":
        headers["Origin"] = "http://evil.example"
    response = httpx.get(f"{web.origin}{path}", headers=headers, timeout=10)
    assert response.status_code == 403
    assert not web.tab_apps()  # nothing was started for a refused socket


@pytest.mark.parametrize("path", ["ws", "ws?width=abc&height=-1", "static/js/nope.js", "static/../../../../etc/passwd"])
def test_malformed_requests_get_a_4xx_never_a_5xx_or_silence(running_web, path):
    web = running_web
    response = httpx.get(f"{web.origin}/{web.token}/{path}", timeout=10)
    assert 400 <= response.status_code < 500


def test_a_download_needs_its_one_time_key(running_web):
    assert get(running_web, "/download/0123456789abcdef").status_code == 404


async def test_each_socket_gets_its_own_app_which_ends_when_the_socket_closes(running_web):
    web = running_web
    async with aiohttp.ClientSession() as http:
        first = await http.ws_connect(f"ws://127.0.0.1:{web.port}/{web.token}/ws?width=100&height=30", origin=web.origin)
        second = await http.ws_connect(f"ws://127.0.0.1:{web.port}/{web.token}/ws?width=100&height=30", origin=web.origin)
        try:
            message = await first.receive(timeout=60)
            assert message.type == aiohttp.WSMsgType.BINARY and message.data  # the app draws
            wait_until(lambda: len(web.tab_apps()) == 2, 30, f"two tab apps expected: {web.processes()}")
            apps = set(web.tab_apps())
            for pid in apps:  # neither token is on a command line (`ps` shows those to every user)
                argv = " ".join(web.processes()[pid])
                assert web.token not in argv and "TOKEN" not in argv
            await first.close()
            wait_until(lambda: len(web.tab_apps()) == 1, 30, "the closed socket's app did not end")
        finally:
            await second.close()
    wait_until(lambda: not web.tab_apps(), 30, "the second app did not end")


def test_no_token_is_on_any_command_line(running_web):
    web = running_web
    server = [pid for pid, argv in web.processes().items() if "serve" in argv]
    assert len(server) == 1  # the one embedded server every tab shares
    environ = Path(f"/proc/{server[0]}/environ").read_bytes().split(b"\0")
    server_token = next(v.split(b"=", 1)[1] for v in environ if v.startswith(b"MIX_TUI_SERVER_TOKEN="))
    for argv in web.processes().values():
        line = " ".join(argv).encode()
        assert server_token not in line and web.token.encode() not in line


def test_every_launch_has_its_own_token():
    assert len({WebServer("true").token for _ in range(5)}) == 5


def test_a_tab_takes_the_shared_server_out_of_its_environment():
    environ = {SERVER_URL_ENV: "http://127.0.0.1:5", SERVER_TOKEN_ENV: "secret", "OTHER": "x"}
    assert take_shared_server(environ) == ("http://127.0.0.1:5", "secret")
    assert environ == {"OTHER": "x"}  # the tools it runs never inherit the token
    assert take_shared_server({}) is None


def test_a_public_address_is_refused_before_anything_starts(tmp_path):
    import subprocess

    result = subprocess.run([sys.executable, "-m", "tui", "--data-dir", str(tmp_path), "web", "--host", "0.0.0.0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "refusing to bind 0.0.0.0" in result.stderr
    assert not any(tmp_path.iterdir())  # refused before any folder was made


async def test_stopping_ends_the_open_tabs_apps_and_the_shared_server(tmp_path):
    web = start_web(tmp_path / "home")
    async with aiohttp.ClientSession() as http:
        tab = await http.ws_connect(f"ws://127.0.0.1:{web.port}/{web.token}/ws", origin=web.origin)
        assert (await tab.receive(timeout=60)).type == aiohttp.WSMsgType.BINARY
        wait_until(lambda: len(web.tab_apps()) == 1, 30, "no tab app")
        assert any("serve" in argv for argv in web.processes().values())
        closed = asyncio.create_task(until_closed(tab))  # reading, as a browser does, answers the close
        started = time.monotonic()
        assert await asyncio.to_thread(stop_web, web.proc) == 0
        assert time.monotonic() - started < 8  # nothing waited out a timeout
        await asyncio.wait_for(closed, 10)
        wait_until(lambda: not web.processes(), 15, f"left behind: {web.processes()}")


async def until_closed(socket: aiohttp.ClientWebSocketResponse) -> None:
    ends = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSING, aiohttp.WSMsgType.CLOSED)
    while (await socket.receive()).type not in ends:  # what the app drew before, then the close
        pass


async def test_a_killed_web_process_takes_its_tabs_apps_and_server_along(tmp_path):
    web = start_web(tmp_path / "home")
    try:
        async with aiohttp.ClientSession() as http:
            tab = await http.ws_connect(f"ws://127.0.0.1:{web.port}/{web.token}/ws", origin=web.origin)
            assert (await tab.receive(timeout=60)).type == aiohttp.WSMsgType.BINARY
            wait_until(lambda: len(web.tab_apps()) == 1, 30, "no tab app")
            assert all(argv[0] != "/bin/sh" for argv in web.processes().values())  # the app replaced its shell
            web.proc.kill()  # no chance to clean up
            web.proc.wait()
            wait_until(lambda: not web.processes(), 15, f"left behind: {web.processes()}")
    finally:
        for pid in web.processes():  # only ever this test's own processes (found by its data dir)
            os.kill(pid, signal.SIGKILL)


def test_open_hands_the_browser_a_private_redirect_file_not_the_url(tmp_path, monkeypatch):
    from tui.web import server as web_server

    opened: list[str] = []
    monkeypatch.setattr(web_server.webbrowser, "open", opened.append)  # the edge: no desktop browser here
    url = "http://127.0.0.1:8089/SECRET-token/"
    page = web_server.open_in_browser(url, tmp_path)
    assert opened == [page.as_uri()] and "SECRET" not in opened[0]  # the browser's argv shows in `ps`
    assert page.stat().st_mode & 0o777 == 0o600
    assert f'url={url}"' in page.read_text()


def test_a_busy_port_is_one_clear_line_and_nothing_left_running(tmp_path):
    import socket
    import subprocess

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "tui", "--data-dir", str(tmp_path / "home"), "web", "--port", str(port)],
                                capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert f"mix-tui web: error: cannot listen on 127.0.0.1:{port}" in result.stderr and "Traceback" not in result.stderr
    leftover = RunningWeb(None, "", tmp_path / "home")  # type: ignore[arg-type]
    wait_until(lambda: not leftover.processes(), 15, f"left behind: {leftover.processes()}")
