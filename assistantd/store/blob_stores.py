"""Which blob store a server uses: S3-compatible object storage where ``ASSISTANTD_BLOB_URL`` is
set (shared by every process), else files under the data dir (this machine only)."""

from __future__ import annotations

from pathlib import Path

from assistantd.store.blobs import BlobStore, BlobStoreUnavailable, LocalBlobStore

__all__ = ["BlobStoreUnavailable", "open_blob_store"]


async def open_blob_store(blob_url: str | None, files_dir: Path) -> BlobStore:
    """The store, checked; raises BlobStoreUnavailable naming the setting to fix. Local
    staging (and the local store's blobs) live in ``files_dir``."""
    if not blob_url:
        local = LocalBlobStore(files_dir)
        local.discard_stale_staging()
        return local
    try:
        # Imported here: the client is the optional `s3` extra.
        from assistantd.store.s3_blobs import S3BlobStore
    except ImportError as error:
        raise BlobStoreUnavailable(
            f"ASSISTANTD_BLOB_URL is set but the S3 client is not installed ({error}); "
            "install assistantd with its `s3` extra: pip install 'assistantd[s3]'"
        ) from None
    return await S3BlobStore.open(blob_url, files_dir)
