"""Where file bytes live: a blob store keyed by object id (never by a client's filename).

``LocalBlobStore`` keeps each blob as one file under a directory; ``S3BlobStore``
(``store/s3_blobs.py``) keeps it as one object in an S3-compatible bucket. Either way writes are
staged in a local temporary file first (counted and hashed as they arrive, never whole in
memory) and only become visible under their key on ``commit``, so a failed or abandoned upload
leaves nothing behind. ``commit`` and ``size`` are async: for S3 they are network calls.
A missing blob raises FileNotFoundError in every store; callers turn it into a 404 or skip it.
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
STAGING_PREFIX = ".staging-"
_SAFE_KEY = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")


class BlobTooLarge(Exception):
    """More bytes were written than the staged blob allows."""


class BlobStoreUnavailable(Exception):
    """The configured blob store cannot be used (said at start-up, naming what to fix)."""


class StagedBlob(Protocol):
    size: int

    def write(self, data: bytes) -> None: ...

    def md5_hex(self) -> str: ...

    async def commit(self, key: str) -> None: ...

    def discard(self) -> None: ...


class BlobStore(Protocol):
    # True where every server process sees the same blobs (object storage); False where they
    # are on this machine's disk, so only processes sharing the data dir see them.
    shared: bool

    def stage(self, max_bytes: int | None = None) -> StagedBlob: ...

    async def size(self, key: str) -> int: ...

    async def read(self, key: str) -> bytes: ...

    async def head(self, key: str, size: int) -> bytes: ...

    def iter_bytes(self, key: str) -> AsyncIterator[bytes]: ...

    async def delete(self, key: str) -> None: ...

    async def close(self) -> None: ...


class SpooledBlob:
    """Bytes being written to a temporary file in ``directory``, counted and hashed."""

    def __init__(self, directory: Path, max_bytes: int | None) -> None:
        self._max_bytes = max_bytes
        handle, name = tempfile.mkstemp(dir=directory, prefix=STAGING_PREFIX)
        self.path = Path(name)
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

    def close_file(self, *, durable: bool) -> None:
        """Stop writing; ``durable`` also waits until the bytes are on disk."""
        if self._file is None:
            raise RuntimeError("the staged blob is closed")
        self._file.flush()
        if durable:
            os.fsync(self._file.fileno())
        self._file.close()
        self._file = None

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)


def discard_stale_staging(directory: Path) -> None:
    """Remove temporary files a crash left behind (called at start-up)."""
    for stale in directory.glob(f"{STAGING_PREFIX}*"):
        stale.unlink(missing_ok=True)


class LocalStagedBlob(SpooledBlob):
    """Staged beside its destination, so ``commit`` is an atomic rename."""

    def __init__(self, root: Path, max_bytes: int | None) -> None:
        super().__init__(root, max_bytes)
        self._root = root

    async def commit(self, key: str) -> None:
        """Make the bytes durable and visible under ``key`` (an atomic rename)."""
        destination = blob_path(self._root, key)  # checked before anything happens
        # fsync of up to 512 MB would stall the event loop; the thread is waited for even if
        # the caller is cancelled, so the rename is never half done.
        await anyio.to_thread.run_sync(self._move, destination)

    def _move(self, destination: Path) -> None:
        self.close_file(durable=True)
        destination.parent.mkdir(parents=True, exist_ok=True)
        os.replace(self.path, destination)


class LocalBlobStore:
    shared = False

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def stage(self, max_bytes: int | None = None) -> LocalStagedBlob:
        return LocalStagedBlob(self.root, max_bytes)

    async def size(self, key: str) -> int:
        stat = await anyio.Path(blob_path(self.root, key)).stat()
        return stat.st_size

    async def read(self, key: str) -> bytes:
        return await anyio.Path(blob_path(self.root, key)).read_bytes()

    async def head(self, key: str, size: int) -> bytes:
        """The first ``size`` bytes (fewer if the blob is shorter), e.g. to see its type."""
        return await anyio.to_thread.run_sync(_read_head, blob_path(self.root, key), size)

    async def iter_bytes(self, key: str) -> AsyncIterator[bytes]:
        async with await anyio.open_file(blob_path(self.root, key), "rb") as handle:
            while chunk := await handle.read(READ_CHUNK_BYTES):
                yield chunk

    async def delete(self, key: str) -> None:
        await anyio.to_thread.run_sync(blob_path(self.root, key).unlink, True)

    def discard_stale_staging(self) -> None:
        discard_stale_staging(self.root)

    async def close(self) -> None:
        """Nothing to release; here so every store can be closed the same way."""


def _read_head(path: Path, size: int) -> bytes:
    with path.open("rb") as handle:
        return handle.read(size)


def check_key(key: str) -> str:
    # Keys are server-made ids; refuse anything else so no key can point outside the root (or
    # the bucket prefix).
    if not _SAFE_KEY.match(key):
        raise ValueError(f"invalid blob key {key!r}")
    return key


def blob_path(root: Path, key: str) -> Path:
    return root / check_key(key)
