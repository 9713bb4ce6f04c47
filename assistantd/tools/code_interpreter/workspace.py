"""The host side of a session's ``/mnt/data``: placing inputs and collecting outputs safely.

The sandboxed code controls this directory, so every host access goes through directory file
descriptors with ``O_NOFOLLOW``: a symlink planted by the code (say ``out.csv -> /etc/shadow``)
is never followed by the host, whether reading results or writing inputs.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from assistantd.tools.code_interpreter.result import OutputFile

MAX_NAME_BYTES = 255
MAX_OUTPUT_FILES = 100
Snapshot = dict[str, tuple[int, int, int]]  # relative path -> (inode, size, mtime_ns)


def checked_name(name: str) -> str:
    """An uploaded file's name, accepted only if it is a plain basename."""
    if (
        not name
        or name in (".", "..")
        or "/" in name
        or "\0" in name
        or len(name.encode()) > MAX_NAME_BYTES
    ):
        raise ValueError(f"invalid file name for /mnt/data: {name!r}")
    return name


def place_files(root: Path, files: Mapping[str, bytes], uid: int | None) -> None:
    """Write ``files`` into ``root``, replacing whatever entry (file, symlink) had the name."""
    names = {checked_name(name): data for name, data in files.items()}
    dir_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    try:
        for name, data in names.items():
            _write_new(dir_fd, name, data, uid)
    finally:
        os.close(dir_fd)


def _write_new(dir_fd: int, name: str, data: bytes, uid: int | None) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass
    except IsADirectoryError as exc:
        raise ValueError(f"/mnt/data/{name} is a directory") from exc
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    fd = os.open(name, flags, 0o644, dir_fd=dir_fd)
    try:
        if uid is not None:
            os.fchown(fd, uid, uid)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def snapshot(root: Path) -> Snapshot:
    """Regular files under ``root`` (not following symlinks) with what identifies a change."""
    found: Snapshot = {}
    try:
        for dirpath, _dirs, filenames, dir_fd in os.fwalk(root, follow_symlinks=False):
            rel_dir = os.path.relpath(dirpath, root)
            for name in filenames:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
                if stat.S_ISREG(st.st_mode):
                    rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                    found[rel] = (st.st_ino, st.st_size, st.st_mtime_ns)
    except (OSError, RecursionError):
        pass  # a tree the code made hostile (too deep, vanishing); report what was seen
    return found


@dataclass
class Collected:
    """The outputs of one call, and the names of those left out, each with why."""

    files: list[OutputFile] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def changed_files(root: Path, before: Snapshot, max_file_bytes: int, budget: int) -> Collected:
    """Files created or modified since ``before``, read without following symlinks, while their
    bytes add up to at most ``budget``; a file that does not fit is refused (named in
    ``refused``), and smaller ones after it may still fit."""
    after = snapshot(root)
    changed = sorted(rel for rel, ident in after.items() if before.get(rel) != ident)
    collected = Collected()
    for rel in changed[:MAX_OUTPUT_FILES]:
        limit = min(max_file_bytes, budget)
        data = _read_regular(root, rel, limit + 1)
        if data is None:
            continue
        if len(data) > limit:  # counted as read, i.e. as it would be stored: holes included
            collected.refused.append(safe_name(rel))
            continue
        budget -= len(data)
        collected.files.append(OutputFile(name=safe_name(rel), data=data))
    return collected


def safe_name(rel: str) -> str:
    """``rel`` as valid UTF-8 text: the code may name a file with any bytes, which ``os`` hands
    back as lone surrogates that no database or JSON encoder accepts; each undecodable byte
    becomes U+FFFD. (The file itself is read under its real name before this.)"""
    return rel.encode(errors="surrogateescape").decode(errors="replace")


def _read_regular(root: Path, rel: str, max_bytes: int) -> bytes | None:
    """At most ``max_bytes`` of the regular file ``rel``; ``None`` if it is not one."""
    dir_fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    fds = [dir_fd]
    try:
        *parts, name = rel.split("/")
        for part in parts:
            dir_fd = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=dir_fd)
            fds.append(dir_fd)
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=dir_fd)
        fds.append(fd)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            return None
        with os.fdopen(os.dup(fd), "rb") as handle:
            return handle.read(max_bytes)
    except OSError:
        return None  # replaced by a symlink or removed meanwhile
    finally:
        for fd in fds:
            os.close(fd)
