"""Per-session files under <data_dir>/storage/<session-uuid>/: list, upload, serve (thumbnails), delete.

Containment is the point of this module: a file name is one path segment, checked by text
(no separators, no `..`, no NUL) and then by resolving the final path and verifying it is still
inside the session folder — so a symlink planted inside the folder that points outside is refused.
"""

from __future__ import annotations

import asyncio
import io
import mimetypes
import os
import re
import stat
import uuid
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from tui.server import safefs
from tui.server.errors import error, not_found, validation

THUMB_DIR = ".thumbnails"
IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".tiff", ".tif"}
VIDEO_EXTS = {".mp4", ".webm", ".mov", ".avi", ".mkv", ".wmv", ".flv", ".m4v"}
NO_CACHE = {"Cache-Control": "no-cache, no-store, must-revalidate", "Pragma": "no-cache", "Expires": "0"}
_THUMB = re.compile(r"^([wh]?)(\d{1,4})$")


class UploadTooLarge(Exception):
    pass


class Unsafe(Exception):
    """The name or path would leave the session folder."""


def sanitize_name(raw: str) -> str:
    """Keep the last path segment, whitespace -> `_`, runs of `_` collapsed, no leading dots."""
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    name = re.sub(r"\s+", "_", name.strip())
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)
    name = re.sub(r"_+", "_", name).lstrip(".")
    return _fit_bytes(name, 255)


def _fit_bytes(name: str, limit: int) -> str:
    """File systems limit names to 255 *bytes*: shorten the stem, keep the extension."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 16:
        stem, ext, dot = name, "", ""
    room = limit - len((dot + ext).encode("utf-8"))
    return stem.encode("utf-8")[:room].decode("utf-8", "ignore") + dot + ext


def _session_folder(request: Request, create: bool = False) -> Path | Response:
    sid = request.path_params["id"]
    try:
        if str(uuid.UUID(sid)) != sid.lower():
            raise ValueError
    except ValueError:
        return validation("sessionId", "invalid session ID format")
    state = request.app.state
    if not state.store.session_exists(sid):
        return not_found("Session", sid)
    folder = state.settings.storage_dir / sid
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def contained(folder: Path, name: str) -> Path:
    """The path of `name` in `folder`, or Unsafe when it would point anywhere else."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name or name.startswith(THUMB_DIR):
        raise Unsafe(name)
    candidate = folder / name
    root = folder.resolve()
    target = candidate.resolve()
    if target.parent != root:
        raise Unsafe(name)
    return candidate


def file_info(path: Path, original: str | None = None, request: Request | None = None) -> dict:
    """FileInfo; with the request, the latest spec's `url` of the file (the seed spec has none)."""
    st = path.stat()
    info = {"name": path.name, "size": st.st_size, "modified": int(st.st_mtime), "isDir": path.is_dir()}
    if original and original != path.name:
        info["originalName"] = original
    if request is not None and request.app.state.protocol.native_content_types:
        sid = quote(request.path_params["id"], safe="")
        info["url"] = f"{str(request.base_url).rstrip('/')}/api/sessions/{sid}/files/{quote(path.name, safe='')}"
    return info


async def list_files(request: Request) -> Response:
    folder = _session_folder(request)
    if isinstance(folder, Response):
        return folder
    if not folder.is_dir():
        return JSONResponse([])
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name == THUMB_DIR:
            continue
        try:
            contained(folder, entry.name)
            out.append(file_info(entry, request=request))
        except (Unsafe, OSError):
            continue  # an escaping symlink or a vanished entry is not the user's file
    return JSONResponse(out)


async def upload_file(request: Request) -> Response:
    folder = _session_folder(request, create=True)
    if isinstance(folder, Response):
        return folder
    cap = request.app.state.settings.max_upload_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > cap:
        return error(413, f"File too large: the limit is {cap} bytes", "validation_error")
    if "multipart/form-data" not in request.headers.get("content-type", ""):
        return validation("file", "failed to parse multipart form: expected multipart/form-data")

    seen = 0
    receive = request.receive

    async def counting_receive() -> dict:
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > cap:
            raise UploadTooLarge
        return message

    counted = Request(request.scope, counting_receive)
    try:
        form = await counted.form(max_files=1, max_fields=20)
    except UploadTooLarge:
        return error(413, f"File too large: the limit is {cap} bytes", "validation_error")
    except Exception as exc:  # python-multipart's and Starlette's parse errors
        return validation("file", f"failed to parse multipart form: {exc}")
    try:
        upload = form.get("file")
        if upload is None or isinstance(upload, str) or not upload.filename:
            return validation("file", "file upload required")
        original = upload.filename
        name = sanitize_name(original)
        if not name or name == THUMB_DIR:
            return validation("file", f"unusable file name '{original}'")
        try:
            target = contained(folder, name)
        except Unsafe:
            return validation("file", f"unusable file name '{original}'")
        if target.is_symlink() or target.is_dir():
            return validation("file", f"'{name}' exists and is not a regular file")
        try:
            await asyncio.to_thread(_save_upload, upload.file, folder, name)
        except safefs.Escape:
            return validation("file", "the session folder is not a plain folder (a symlink); nothing was written")
        except IsADirectoryError:
            return validation("file", f"'{name}' exists and is not a regular file")
        except OSError as exc:
            return error(500, f"Internal error during file upload: {exc.strerror or exc}", "internal_error")
        _drop_thumbnails(folder, name)
        return JSONResponse(file_info(target, original, request), status_code=201)
    finally:
        await form.close()


def _save_upload(source: BinaryIO, folder: Path, name: str) -> None:
    """Copy the (possibly spooled-to-disk) upload into the folder, opened without following links."""
    source.seek(0)
    with safefs.folder_fd(folder, []) as dir_fd:
        safefs.write_into(dir_fd, name, source=source)


def _drop_thumbnails(folder: Path, name: str) -> None:
    thumbs = folder / THUMB_DIR
    if thumbs.is_dir():
        for p in thumbs.glob(f"{glob_escape(name)}.*.jpg"):
            p.unlink(missing_ok=True)


def glob_escape(name: str) -> str:
    return re.sub(r"([*?\[\]])", r"[\1]", name)


def _resolve_existing(request: Request) -> tuple[Path, Path] | Response:
    folder = _session_folder(request)
    if isinstance(folder, Response):
        return folder
    name = request.path_params["filename"]
    try:
        path = contained(folder, name)
    except Unsafe:
        return validation("filename", "invalid file name")
    if not path.exists():
        return not_found("File", name)
    return folder, path


async def get_file(request: Request) -> Response:
    resolved = _resolve_existing(request)
    if isinstance(resolved, Response):
        return resolved
    folder, path = resolved
    if path.is_dir():
        return validation("filename", "Cannot serve directory")
    thumb = request.query_params.get("thumb")
    if thumb is None:
        # The seed spec knows two content types only: the file as octets, or a JPEG thumbnail.
        native = request.app.state.protocol.native_content_types
        media_type = (mimetypes.guess_type(path.name)[0] or "text/plain") if native else "application/octet-stream"
        try:  # opened now, without following links; served from that descriptor, closed when sent
            fd = safefs.open_file(folder, path.resolve().name)  # a link inside leads to a file inside
        except safefs.Escape:
            return validation("filename", "the session folder is not a plain folder (a symlink)")
        except IsADirectoryError:
            return validation("filename", "Cannot serve directory")
        return FileResponse(f"/proc/self/fd/{fd}", headers=NO_CACHE, media_type=media_type,
                            background=BackgroundTask(os.close, fd))
    ext = path.suffix.lower()
    if ext not in IMAGE_EXTS:
        if ext in VIDEO_EXTS:
            return validation("thumb", "Video thumbnails are not supported by this server (no ffmpeg)")
        return validation("thumb", "Thumbnails are only available for image files")
    match = _THUMB.match(thumb)
    if not match or not 16 <= int(match.group(2)) <= 1024:
        return validation("thumb", "Invalid thumb value: use N, wN or hN with N from 16 to 1024")
    mode, size = match.group(1), int(match.group(2))
    try:
        jpeg = await asyncio.to_thread(thumbnail, folder, path.resolve().name, f"{path.name}.{mode or 'b'}{size}.jpg",
                                       mode, size)
    except safefs.Escape:
        return validation("filename", "the session folder is not a plain folder (a symlink)")
    except IsADirectoryError:
        return validation("thumb", "Thumbnails are only available for image files")
    except Exception as exc:  # Pillow cannot read it: say so instead of a 500
        return validation("thumb", f"Thumbnail generation failed: {exc}")
    return Response(jpeg, media_type="image/jpeg", headers=NO_CACHE)


MAX_THUMBNAIL_BYTES = 8 * 1024 * 1024  # a 1024 px JPEG is far smaller; a bigger cached file is not ours


def thumbnail(folder: Path, source_name: str, cache_name: str, mode: str, size: int) -> bytes:
    """The JPEG thumbnail of `source_name`: cached in THUMB_DIR while newer than the image, else made
    and cached. The image, the cache folder and the cached file are all opened through safefs (no
    link followed), so a file or folder swapped for a symlink cannot make this read or write outside."""
    fd = safefs.open_file(folder, source_name)
    with os.fdopen(fd, "rb") as source:
        changed_at = os.fstat(source.fileno()).st_mtime
        try:
            with safefs.folder_fd(folder, [THUMB_DIR]) as thumbs:
                cached = os.stat(cache_name, dir_fd=thumbs, follow_symlinks=False)
            if stat.S_ISREG(cached.st_mode) and cached.st_mtime >= changed_at:
                return safefs.read_bytes(folder, [THUMB_DIR, cache_name], MAX_THUMBNAIL_BYTES)
        except FileNotFoundError:
            pass
        jpeg = render_thumbnail(source, mode, size)
    safefs.write_bytes(folder, [THUMB_DIR, cache_name], jpeg)
    return jpeg


def render_thumbnail(source: BinaryIO, mode: str, size: int) -> bytes:
    from PIL import Image  # imported on first use: it is the slowest import of the server

    from PIL import ImageOps

    with Image.open(source) as original:
        original.seek(0)
        img = ImageOps.exif_transpose(original)  # phone photos: upright, as the user sees them
        w, h = img.size
        if mode == "w":
            box = (size, max(1, round(h * size / w)))
        elif mode == "h":
            box = (max(1, round(w * size / h)), size)
        else:
            box = (size, size)
        copy = img.convert("RGB")
        copy.thumbnail(box)
        out = io.BytesIO()
        copy.save(out, "JPEG", quality=85)
        return out.getvalue()


async def delete_file(request: Request) -> Response:
    resolved = _resolve_existing(request)
    if isinstance(resolved, Response):
        return resolved
    folder, path = resolved
    if path.is_dir() and not path.is_symlink():
        return validation("filename", "cannot delete a directory")
    try:
        await asyncio.to_thread(safefs.unlink, folder, path.name)
    except safefs.Escape:
        return validation("filename", "the session folder is not a plain folder (a symlink); nothing was deleted")
    except IsADirectoryError:
        return validation("filename", "cannot delete a directory")
    except FileNotFoundError:
        return not_found("File", path.name)
    _drop_thumbnails(folder, path.name)
    return Response(status_code=204)


def routes() -> list[Route]:
    return [
        Route("/api/sessions/{id}/files", list_files, methods=["GET"]),
        Route("/api/sessions/{id}/files/upload", upload_file, methods=["POST"]),
        Route("/api/sessions/{id}/files/{filename:path}", get_file, methods=["GET", "HEAD"]),
        Route("/api/sessions/{id}/files/{filename:path}", delete_file, methods=["DELETE"]),
    ]
