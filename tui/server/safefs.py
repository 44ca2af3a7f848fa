"""File access beneath a session folder that a concurrent symlink swap cannot redirect.

Checking a path and then using it leaves a gap: a folder inside the session can be replaced by a
symlink to somewhere else while, say, a permission prompt waits. So every access here starts from
a descriptor of the session folder (opened with O_NOFOLLOW) and walks to its target one component
at a time with `dir_fd` and O_NOFOLLOW: a component that is a symlink at that moment fails the
open (ELOOP / ENOTDIR) instead of being followed. Callers pass the session folder's own path (opened
with O_NOFOLLOW, so a swapped session folder is refused too) and components already resolved inside
it (tui.server.agent.tools.resolve_in_session): links that stay inside still work, since they were
replaced by their real target before the walk.
"""

from __future__ import annotations

import errno
import os
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_SWAPPED = {errno.ELOOP, errno.ENOTDIR}


class Escape(OSError):
    """The path leads out of the session folder (or a part of it is a symlink right now)."""

    def __init__(self, what: str) -> None:
        super().__init__(errno.EPERM, f"refused: {what} is not inside the session folder (a symlink on the way)")


def parts_beneath(root: Path, path: Path) -> list[str]:
    """The components of `path` (as resolved by the caller) below the real path of `root`; Escape when
    not below. `root` itself is given unresolved: the accessors open it with O_NOFOLLOW."""
    try:
        parts = list(path.relative_to(root.resolve()).parts)
    except ValueError:
        raise Escape(str(path)) from None
    if any(p in ("", ".", "..") for p in parts):
        raise Escape(str(path))
    return parts


def open_root(root: Path) -> int:
    """A descriptor of the session folder itself, refused when it has become a symlink."""
    try:
        return os.open(root, _DIR_FLAGS)
    except OSError as exc:
        if exc.errno in _SWAPPED:
            raise Escape("the session folder") from None
        raise


@contextmanager
def folder_fd(root: Path, parts: list[str], *, create: bool = False) -> Iterator[int]:
    """A descriptor of root/parts…, each step opened without following links; `create` makes missing folders."""
    fd = open_root(root)
    try:
        for part in parts:
            try:
                child = _open_dir_step(part, fd)
            except FileNotFoundError:
                if not create:
                    raise
                try:
                    os.mkdir(part, 0o755, dir_fd=fd)
                except FileExistsError:
                    pass
                child = _open_dir_step(part, fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _open_dir_step(part: str, fd: int) -> int:
    try:
        return os.open(part, _DIR_FLAGS, dir_fd=fd)
    except OSError as exc:
        if exc.errno in _SWAPPED:
            raise Escape(part) from None
        raise


def _open_file(name: str, flags: int, dir_fd: int, mode: int = 0o644) -> int:
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise Escape(name) from None
        raise


def open_file(root: Path, name: str) -> int:
    """A read-only descriptor of one regular file directly in `root`, neither being a symlink now."""
    with folder_fd(root, []) as dir_fd:
        fd = _open_file(name, os.O_RDONLY, dir_fd)
    if os.fstat(fd).st_mode & 0o170000 != 0o100000:
        os.close(fd)
        raise IsADirectoryError(errno.EISDIR, f"{name} is not a regular file")
    return fd


def read_bytes(root: Path, parts: list[str], limit: int) -> bytes:
    """The file's bytes (at most `limit` + 1, so the caller can tell it was too big)."""
    if not parts:
        raise IsADirectoryError(errno.EISDIR, "the session folder is a folder, not a file")
    with folder_fd(root, parts[:-1]) as dir_fd:
        fd = _open_file(parts[-1], os.O_RDONLY, dir_fd)
        with os.fdopen(fd, "rb") as handle:
            if os.fstat(handle.fileno()).st_mode & 0o170000 == 0o040000:
                raise IsADirectoryError(errno.EISDIR, f"{parts[-1]} is a folder, not a file")
            return handle.read(limit + 1)


def write_bytes(root: Path, parts: list[str], data: bytes, *, make_folders: bool = True) -> None:
    """Write through a temporary file in the same folder, then rename it over the target."""
    if not parts:
        raise IsADirectoryError(errno.EISDIR, "the session folder is a folder, not a file")
    with folder_fd(root, parts[:-1], create=make_folders) as dir_fd:
        write_into(dir_fd, parts[-1], data)


def write_into(dir_fd: int, name: str, data: bytes | None = None, source=None) -> None:
    """Create `name` in the open folder `dir_fd` from `data` or a readable `source`, atomically."""
    try:
        if os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode & 0o170000 in (0o040000, 0o120000):
            raise IsADirectoryError(errno.EISDIR, f"{name} exists and is not a regular file")
    except FileNotFoundError:
        pass
    tmp = f".tmp-{uuid.uuid4().hex}"
    fd = _open_file(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, dir_fd)
    try:
        with os.fdopen(fd, "wb") as out:
            if data is not None:
                out.write(data)
            else:
                while block := source.read(1024 * 1024):
                    out.write(block)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except OSError:
            pass
        raise


def unlink(root: Path, name: str) -> None:
    """Remove one entry of the session folder (a file or a link itself, never what a link points to)."""
    with folder_fd(root, []) as dir_fd:
        if os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode & 0o170000 == 0o040000:
            raise IsADirectoryError(errno.EISDIR, "cannot delete a directory")
        os.unlink(name, dir_fd=dir_fd)


def entry_stat(root: Path, parts: list[str]) -> os.stat_result:
    """The status of root/parts… itself (a link is not followed), reached through the safe walk."""
    if not parts:
        with folder_fd(root, []) as fd:
            return os.fstat(fd)
    with folder_fd(root, parts[:-1]) as dir_fd:
        return os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)


def list_folder(root: Path, parts: list[str]) -> list[tuple[str, str, int]]:
    """(name, "dir" | "file" | "link", size) of each entry of root/parts…, read from a descriptor of
    that folder: a folder swapped for a link meanwhile is refused (Escape), links are not followed."""
    out = []
    with folder_fd(root, parts) as fd, os.scandir(fd) as entries:
        for entry in entries:
            if entry.is_symlink():
                out.append((entry.name, "link", 0))
            elif entry.is_dir(follow_symlinks=False):
                out.append((entry.name, "dir", 0))
            else:
                out.append((entry.name, "file", entry.stat(follow_symlinks=False).st_size))
    return out


def walk_files(root: Path, parts: list[str], skip: frozenset[str] | set[str] = frozenset()) -> Iterator[tuple[str, bool]]:
    """("sub/dir/name", is_link) of every non-folder beneath root/parts…, in sorted order, folders named
    in `skip` left out. Walked with os.fwalk from a descriptor: no folder link is followed, and a folder
    swapped for a link during the walk is skipped (fwalk compares what it opened with what it listed)."""
    with folder_fd(root, parts) as fd:
        for dirpath, dirnames, filenames, dir_fd in os.fwalk(".", dir_fd=fd):
            dirnames[:] = sorted(d for d in dirnames if d not in skip)  # (links among them: not entered)
            prefix = "" if dirpath == "." else dirpath[2:] + "/"
            for name in sorted(filenames):
                try:
                    is_link = os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode & 0o170000 == 0o120000
                except FileNotFoundError:
                    continue
                yield prefix + name, is_link
