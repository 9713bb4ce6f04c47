"""Where file bytes live: a blob store keyed by object id (never by a client's filename).

``LocalBlobStore`` keeps each blob as one file under a directory. Writes are staged in a
temporary file beside their destination and renamed into place on ``commit``, so a failed or
abandoned upload leaves nothing behind. An S3-like store can provide the same interface later.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import BinaryIO, Protocol

import anyio

READ_CHUNK_BYTES = 1024 * 1024
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")


class BlobTooLarge(Exception):
    """More bytes were written than the staged blob allows."""


class StagedBlob(Protocol):
    size: int

    def write(self, data: bytes) -> None: ...

    def md5_hex(self) -> str: ...

    def commit(self, key: str) -> None: ...

    def discard(self) -> None: ...


class BlobStore(Protocol):
    def stage(self, max_bytes: int | None = None) -> StagedBlob: ...

    def size(self, key: str) -> int: ...

    async def read(self, key: str) -> bytes: ...

    async def head(self, key: str, size: int) -> bytes: ...

    def iter_bytes(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...


class LocalStagedBlob:
    """A blob being written: bytes go straight to a temporary file, counted and hashed."""

    def __init__(self, root: Path, max_bytes: int | None) -> None:
        self._root = root
        self._max_bytes = max_bytes
        handle, name = tempfile.mkstemp(dir=root, prefix=".staging-")
        self._path = Path(name)
        self._file: BinaryIO | None = os.fdopen(handle, "wb")
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def write(self, data: bytes) -> None:
        if self._file is None:
            raise RuntimeError("the staged blob is closed")
        self.size += len(data)
        if self._max_bytes is not None and self.size > self._max_bytes:
            raise BlobTooLarge(f"more than {self._max_bytes} bytes")
        self._md5.update(data)
        self._file.write(data)

    def md5_hex(self) -> str:
        return self._md5.hexdigest()

    def commit(self, key: str) -> None:
        """Make the bytes durable and visible under ``key`` (an atomic rename)."""
        if self._file is None:
            raise RuntimeError("the staged blob is closed")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        destination = _blob_path(self._root, key)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self._path, destination)

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self._path.unlink(missing_ok=True)


class LocalBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def stage(self, max_bytes: int | None = None) -> LocalStagedBlob:
        return LocalStagedBlob(self.root, max_bytes)

    def size(self, key: str) -> int:
        return _blob_path(self.root, key).stat().st_size

    async def read(self, key: str) -> bytes:
        return await anyio.Path(_blob_path(self.root, key)).read_bytes()

    async def head(self, key: str, size: int) -> bytes:
        """The first ``size`` bytes (fewer if the blob is shorter), e.g. to see its type."""
        return await anyio.to_thread.run_sync(_read_head, _blob_path(self.root, key), size)

    async def iter_bytes(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(_blob_path(self.root, key), "rb") as handle:
            while chunk := await handle.read(READ_CHUNK_BYTES):
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(_blob_path(self.root, key).unlink, True)

    def discard_stale_staging(self) -> None:
        """Remove temporary files a crash left behind (called at start-up)."""
        for stale in self.root.glob(".staging-*"):
            stale.unlink(missing_ok=True)


def _read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def _blob_path(root: Path, key: str) -> Path:
    # Keys are server-made ids; refuse anything else so no key can point outside the root.
    if not _SAFE_KEY.match(key):
        raise ValueError(f"invalid blob key {key!r}")
    return root / key
