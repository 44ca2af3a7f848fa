"""Session files: upload, list, serve (Range, thumbnails), delete, and every way out of the folder."""

from __future__ import annotations

import io
import os
import socket
import uuid

from PIL import Image

from tests.fixtures.mix_server import running_server


def _png(w: int = 400, h: int = 200) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def test_upload_list_get_delete(mix_server):
    sid = mix_server.create_session()["id"]
    with mix_server.client() as c:
        assert c.get(f"/api/sessions/{sid}/files").json() == []
        r = c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("my  report .txt", b"hello world")})
        assert r.status_code == 201
        info = r.json()
        assert info["name"] == "my_report_.txt" and info["originalName"] == "my  report .txt"
        assert info["size"] == 11 and info["isDir"] is False and isinstance(info["modified"], int)
        plain = c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("plain.txt", b"x")}).json()
        assert "originalName" not in plain
        assert [f["name"] for f in c.get(f"/api/sessions/{sid}/files").json()] == ["my_report_.txt", "plain.txt"]
        r = c.get(f"/api/sessions/{sid}/files/my_report_.txt")
        assert r.status_code == 200 and r.content == b"hello world"
        assert r.headers["cache-control"] == "no-cache, no-store, must-revalidate"
        r = c.get(f"/api/sessions/{sid}/files/my_report_.txt", headers={"Range": "bytes=6-10"})
        assert r.status_code == 206 and r.content == b"world"
        # same name again overwrites
        c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("plain.txt", b"second")})
        assert c.get(f"/api/sessions/{sid}/files/plain.txt").content == b"second"
        assert c.delete(f"/api/sessions/{sid}/files/plain.txt").status_code == 204
        r = c.delete(f"/api/sessions/{sid}/files/plain.txt")
        assert r.status_code == 404 and r.json()["error"]["type"] == "not_found"
        assert c.get(f"/api/sessions/{sid}/files/plain.txt").status_code == 404


def test_upload_errors(tmp_path):
    with running_server(tmp_path, max_upload_bytes=1000) as server, server.client() as c:
        sid = server.create_session()["id"]
        r = c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("big.bin", b"x" * 5000)})
        assert r.status_code == 413 and r.json()["error"]["code"] == 413
        r = c.post(f"/api/sessions/{sid}/files/upload", files={"other": ("a.txt", b"x")})
        assert r.status_code == 400 and "file upload required" in r.json()["error"]["message"]
        r = c.post(f"/api/sessions/{sid}/files/upload", json={"file": "x"})
        assert r.status_code == 400 and "multipart" in r.json()["error"]["message"]
        r = c.post(f"/api/sessions/{uuid.uuid4()}/files/upload", files={"file": ("a.txt", b"x")})
        assert r.status_code == 404
        assert c.get(f"/api/sessions/{sid}/files").json() == []


def test_chunked_upload_over_the_cap_is_413(tmp_path):
    with running_server(tmp_path, max_upload_bytes=1000) as server, server.client() as c:
        sid = server.create_session()["id"]
        body = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n" + b"x" * 5000 + b"\r\n--b--\r\n"

        def chunks():
            for i in range(0, len(body), 512):
                yield body[i:i + 512]

        r = c.post(f"/api/sessions/{sid}/files/upload", content=chunks(),
                   headers={"content-type": "multipart/form-data; boundary=b"})
        assert r.status_code == 413
        assert not (server.settings.storage_dir / sid / "a.bin").exists()


def test_bad_session_ids(mix_server):
    with mix_server.client() as c:
        for bad in ("not-a-uuid", "a..b", "123", "%2e%2e"):
            r = c.get(f"/api/sessions/{bad}/files")
            assert r.status_code == 400 and r.json()["error"]["type"] == "validation_error", bad
        assert c.get(f"/api/sessions/{uuid.uuid4()}/files").status_code == 404


def test_thumbnails(mix_server):
    sid = mix_server.create_session()["id"]
    with mix_server.client() as c:
        c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("pic.png", _png())})
        c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("notes.txt", b"text")})
        for thumb, size in (("100", (100, 50)), ("w64", (64, 32)), ("h50", (100, 50))):
            r = c.get(f"/api/sessions/{sid}/files/pic.png", params={"thumb": thumb})
            assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg", thumb
            assert Image.open(io.BytesIO(r.content)).size == size
        assert (mix_server.settings.storage_dir / sid / ".thumbnails").is_dir()
        assert [f["name"] for f in c.get(f"/api/sessions/{sid}/files").json()] == ["notes.txt", "pic.png"]
        for bad in ("8", "2000", "x10", ""):
            r = c.get(f"/api/sessions/{sid}/files/pic.png", params={"thumb": bad})
            assert r.status_code == 400 and r.json()["error"]["type"] == "validation_error", bad
        r = c.get(f"/api/sessions/{sid}/files/notes.txt", params={"thumb": "100"})
        assert r.status_code == 400 and "image" in r.text
        # a broken image is a clear 400, not a 500
        c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("broken.png", b"not an image")})
        r = c.get(f"/api/sessions/{sid}/files/broken.png", params={"thumb": "64"})
        assert r.status_code == 400 and "Thumbnail generation failed" in r.json()["error"]["message"]


def _raw_get(port: int, path: str) -> tuple[int, bytes]:
    """Send the path byte for byte (httpx would normalise `..`)."""
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    status = int(data.split(b" ", 2)[1])
    return status, data.split(b"\r\n\r\n", 1)[1]


def test_traversal_attempts_are_rejected(mix_server, tmp_path):
    sid = mix_server.create_session()["id"]
    secret = mix_server.settings.data_dir / "server.db"
    outside = tmp_path / "outside.txt"
    outside.write_text("top secret")
    folder = mix_server.settings.storage_dir / sid
    folder.mkdir(parents=True, exist_ok=True)
    os.symlink(outside, folder / "escape.txt")
    (folder / "inside.txt").write_text("fine")
    os.symlink(folder / "inside.txt", folder / "alias.txt")
    port = mix_server.port
    base = f"/api/sessions/{sid}/files/"
    attempts = [
        base + "../../server.db", base + "..%2F..%2Fserver.db", base + "%2e%2e/%2e%2e/server.db",
        base + "%2e%2e%2f%2e%2e%2fserver.db", base + "%2Fetc%2Fpasswd", base + "/etc/passwd",
        base + "..", base + "%2e%2e", base + "escape.txt", base + ".thumbnails", base + "sub%5C..%5Cx",
        base + "a%00b",
    ]
    for path in attempts:
        status, body = _raw_get(port, path)
        assert status in (400, 404), path
        assert b"top secret" not in body and b"SQLite" not in body, path
    assert _raw_get(port, base + "alias.txt") == (200, b"fine")  # a link that stays inside is fine
    with mix_server.client() as c:
        assert c.delete(base + "escape.txt").status_code == 400
        assert outside.read_text() == "top secret"
        # listing hides the escaping link
        assert sorted(f["name"] for f in c.get(base.rstrip("/")).json()) == ["alias.txt", "inside.txt"]
        # an upload name cannot climb out either
        r = c.post(base + "upload", files={"file": ("../../evil.txt", b"x")})
        assert r.status_code == 201 and r.json()["name"] == "evil.txt"
        assert (folder / "evil.txt").exists() and not (mix_server.settings.data_dir / "evil.txt").exists()
    assert secret.exists()


def test_long_unicode_names_fit_the_file_system(mix_server):
    sid = mix_server.create_session()["id"]
    with mix_server.client() as c:
        r = c.post(f"/api/sessions/{sid}/files/upload", files={"file": ("é" * 200 + ".txt", b"x")})
        assert r.status_code == 201
        name = r.json()["name"]
        assert name.endswith(".txt") and len(name.encode()) <= 255
        assert c.get(f"/api/sessions/{sid}/files/{name}").content == b"x"
