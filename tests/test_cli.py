import os
import subprocess
import sys
import time

import httpx
import pytest

from tui import __version__
from tui.cli import build_parser, is_loopback_host, main


def run_cli(*args: str, env_extra: dict[str, str] | None = None, tmp_path=None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if tmp_path is not None:
        env["MIX_TUI_HOME"] = str(tmp_path)
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "tui", *args], capture_output=True, text=True, env=env, timeout=60)


def test_version_flag(tmp_path):
    result = run_cli("--version", tmp_path=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"mix-tui {__version__}"


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--server", "not a url"], "is not an http(s) URL"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["serve", "--port", "99999"], "outside 0-65535"),
        (["serve", "--port", "http"], "is not a port number"),
        (["serve", "--host", "0.0.0.0"], "refusing to bind 0.0.0.0"),
        (["serve", "--host", "192.168.1.10"], "refusing to bind 192.168.1.10"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(tmp_path, args, fragment):
    result = run_cli(*args, tmp_path=tmp_path)
    assert result.returncode == 2
    assert fragment in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("content, fragment", [
    (b"theme = [unclosed\n", "is not valid TOML"),
    (b"theme = \"mix-\xff\xfe\"\n", "is not UTF-8 text"),
    (b"[embedded]\nheartbeat = 0\n", "'embedded.heartbeat' must be more than 0"),
])
def test_broken_config_file_is_one_line_and_the_server_still_starts(tmp_path, content, fragment):
    (tmp_path / "config.toml").write_bytes(content)
    ready = tmp_path / "ready.json"
    env = {**os.environ, "MIX_TUI_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--port", "0", "--ready-file", str(ready)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline()  # the warning comes before the server listens
        assert fragment in line and "using the default settings" in line
        deadline = time.monotonic() + 20
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.02)
    finally:
        proc.kill()
        proc.wait()
        rest = proc.stderr.read()
        proc.stderr.close()
    assert "Traceback" not in rest


@pytest.mark.parametrize("args, fragment", [
    (["serve", "--heartbeat", "0"], "must be more than 0"),
    (["serve", "--heartbeat", "-1"], "must be more than 0"),
    (["serve", "--heartbeat", "nan"], "must be more than 0"),
    (["serve", "--host", "127.0.0.2"], "answers only on 127.0.0.1, localhost or ::1"),
])
def test_settings_the_server_cannot_honour_are_refused(tmp_path, args, fragment):
    result = run_cli(*args, tmp_path=tmp_path)
    assert result.returncode == 2 and fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_ipv6_host_is_bracketed_in_the_printed_url(tmp_path, host):
    import socket

    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback here")
    env = {**os.environ, "MIX_TUI_HOME": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "tui", "serve", "--host", host, "--port", "0"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split(" on ", 1)[1].split()[0]
        assert url.startswith("http://[::1]:")
        assert httpx.get(url + "/health").status_code == 200  # the printed URL works as printed
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


@pytest.mark.parametrize("host, ok", [("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.0.0.2", True), ("0.0.0.0", False), ("example.com", False), ("10.0.0.1", False)])
def test_loopback_detection(host, ok):
    assert is_loopback_host(host) is ok


def test_parser_accepts_documented_forms():
    parser = build_parser()
    args = parser.parse_args(["--server", "http://127.0.0.1:8088/", "--theme", "mix-light", "--data-dir", "/tmp/x"])
    assert args.server == "http://127.0.0.1:8088"
    assert args.theme == "mix-light" and args.data_dir == "/tmp/x" and args.command is None
    args = parser.parse_args(["serve", "--port", "0", "--data-dir", "/tmp/y"])
    assert args.command == "serve" and args.port == 0 and args.serve_data_dir == "/tmp/y" and args.host == "127.0.0.1"


def test_main_refuses_public_host_without_starting(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--data-dir", str(tmp_path), "serve", "--host", "0.0.0.0"])
    assert exc.value.code == 2
    assert "no authentication" in capsys.readouterr().err
