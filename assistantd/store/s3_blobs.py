"""Blobs as objects in an S3-compatible bucket (AWS S3, MinIO, Ceph RGW, R2, …), so that every
server process, on any machine, sees the same file bytes (``ASSISTANTD_BLOB_URL=s3://bucket/prefix``).

The client is aiobotocore: botocore (the engine of the AWS SDK for Python, kept by AWS) driven
on asyncio through aiohttp, which the server already uses. Being botocore, it reads the standard
configuration itself (``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``,
profiles, instance roles, retry and checksum settings); only ``AWS_REGION``, which botocore
leaves to ``AWS_DEFAULT_REGION``, is passed on here. Being async, no request blocks the event
loop, and bodies stream: nothing here holds a whole blob in memory (uploads may be 512 MB).

Writes are staged in a local temporary file (counted and hashed as they arrive, as for the
local store) and uploaded on ``commit``: in one PUT when small, else as a multipart upload read
from the file a part at a time. An object appears whole or not at all, so readers never see a
partial blob. Keys are the blob keys under the URL's prefix.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import anyio
from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from assistantd.store.blobs import (
    READ_CHUNK_BYTES,
    BlobStoreUnavailable,
    SpooledBlob,
    check_key,
    discard_stale_staging,
)

# Parts of a multipart upload: S3 wants at least 5 MiB (but the last) and at most 10,000 parts;
# 8 MiB keeps a 512 MB file at 64 parts and one part in memory at a time.
PART_BYTES = 8 * 1024 * 1024
SETTINGS_HINT = (
    "check ASSISTANTD_BLOB_URL and the AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, "
    "AWS_SECRET_ACCESS_KEY and AWS_REGION variables"
)


def parse_blob_url(url: str) -> tuple[str, str]:
    """``s3://bucket/some/prefix`` → (bucket, "some/prefix")."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise BlobStoreUnavailable(
            f"ASSISTANTD_BLOB_URL={url!r} is not of the form s3://bucket or s3://bucket/prefix"
        )
    return parts.netloc, parts.path.strip("/")


class S3StagedBlob(SpooledBlob):
    def __init__(self, store: S3BlobStore, max_bytes: int | None) -> None:
        super().__init__(store.staging_dir, max_bytes)
        self._store = store

    async def commit(self, key: str) -> None:
        """Upload the staged bytes as ``key``'s object; the temporary file goes either way."""
        check_key(key)
        self.close_file(durable=False)  # read back from the page cache; no fsync needed
        try:
            await self._store.upload_file(self.path, self.size, key)
        finally:
            self.discard()


class S3BlobStore:
    shared = True

    def __init__(
        self, client: Any, stack: AsyncExitStack, bucket: str, prefix: str, staging_dir: Path
    ) -> None:
        self._client = client
        self._stack = stack
        self.bucket = bucket
        self.prefix = prefix
        self.staging_dir = staging_dir

    @classmethod
    async def open(cls, url: str, staging_dir: Path) -> S3BlobStore:
        """Connect and check that the bucket is there and ours to use; BlobStoreUnavailable
        otherwise. Buckets are never created: an operator makes them, with their own policies
        (a typo in the URL must not quietly put files somewhere new)."""
        bucket, prefix = parse_blob_url(url)
        staging_dir.mkdir(parents=True, exist_ok=True)
        discard_stale_staging(staging_dir)
        stack = AsyncExitStack()
        try:
            client = await stack.enter_async_context(_client())
            await _check_bucket(client, url, bucket)
        except BaseException:
            await stack.aclose()
            raise
        return cls(client, stack, bucket, prefix, staging_dir)

    async def check(self) -> None:
        """Raises BlobStoreUnavailable unless the bucket answers and is ours (``/ready``)."""
        await _check_bucket(self._client, f"s3://{self.bucket}/{self.prefix}", self.bucket)

    def stage(self, max_bytes: int | None = None) -> S3StagedBlob:
        return S3StagedBlob(self, max_bytes)

    async def size(self, key: str) -> int:
        with _missing_as_file_not_found(key):
            found = await self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        return int(found["ContentLength"])

    async def read(self, key: str) -> bytes:
        found = await self._get(key)
        async with found["Body"] as body:
            return await body.read()

    async def head(self, key: str, size: int) -> bytes:
        """The first ``size`` bytes (fewer if the object is shorter): a ranged GET."""
        if size <= 0:
            return b""
        try:
            found = await self._get(key, Range=f"bytes=0-{size - 1}")
        except ClientError as error:
            if _status(error) == 416:  # an empty object has no byte 0
                return b""
            raise
        async with found["Body"] as body:
            return (await body.read())[:size]

    async def iter_bytes(self, key: str) -> AsyncIterator[bytes]:
        found = await self._get(key)
        async with found["Body"] as body:  # releases the connection if the reader stops early
            async for chunk in body.iter_chunks(READ_CHUNK_BYTES):
                yield chunk

    async def delete(self, key: str) -> None:
        # S3 answers a missing key with success too, as the local store's unlink(missing_ok).
        await self._client.delete_object(Bucket=self.bucket, Key=self._key(key))

    async def close(self) -> None:
        await self._stack.aclose()

    async def upload_file(self, path: Path, size: int, key: str) -> None:
        if size <= PART_BYTES:
            data = await anyio.Path(path).read_bytes()
            await self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
            return
        await self._upload_parts(path, key)

    async def _upload_parts(self, path: Path, key: str) -> None:
        name = self._key(key)
        started = await self._client.create_multipart_upload(Bucket=self.bucket, Key=name)
        upload_id = started["UploadId"]
        try:
            parts = []
            async with await anyio.open_file(path, "rb") as source:
                while data := await source.read(PART_BYTES):
                    number = len(parts) + 1
                    sent = await self._client.upload_part(
                        Bucket=self.bucket,
                        Key=name,
                        UploadId=upload_id,
                        PartNumber=number,
                        Body=data,
                    )
                    parts.append({"PartNumber": number, "ETag": sent["ETag"]})
            await self._client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=name,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            # Parts of an unfinished upload are stored (and billed) until aborted.
            with anyio.CancelScope(shield=True):
                await self._client.abort_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id
                )
            raise

    async def _get(self, key: str, **extra: str) -> dict[str, Any]:
        with _missing_as_file_not_found(key):
            return await self._client.get_object(Bucket=self.bucket, Key=self._key(key), **extra)

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key


def _client() -> Any:
    region = os.environ.get("AWS_REGION") or None  # None: botocore's own (AWS_DEFAULT_REGION…)
    # Timeouts below botocore's 60 s connect default: a dead endpoint should fail a request (and
    # start-up) soon. Enough pooled connections for concurrent uploads, downloads and runs.
    config = AioConfig(connect_timeout=10, read_timeout=60, max_pool_connections=64)
    return get_session().create_client("s3", region_name=region, config=config)


async def _check_bucket(client: Any, url: str, bucket: str) -> None:
    endpoint = client.meta.endpoint_url
    try:
        await client.head_bucket(Bucket=bucket)
    except ClientError as error:
        status = _status(error)
        if status == 404:
            reason = "does not exist (assistantd does not create buckets)"
        elif status == 403:
            reason = "is not accessible with these credentials (access denied)"
        else:
            reason = f"could not be checked ({error})"
        raise BlobStoreUnavailable(
            f"ASSISTANTD_BLOB_URL={url}: bucket {bucket!r} at {endpoint} {reason}; {SETTINGS_HINT}"
        ) from None
    except (BotoCoreError, aiohttp.ClientError, OSError) as error:
        raise BlobStoreUnavailable(
            f"ASSISTANTD_BLOB_URL={url}: the S3 endpoint {endpoint} is not reachable or not "
            f"usable ({type(error).__name__}: {error}); {SETTINGS_HINT}"
        ) from None


@contextmanager
def _missing_as_file_not_found(key: str) -> Iterator[None]:
    """A missing object raises FileNotFoundError, as the local store's open does."""
    try:
        yield
    except ClientError as error:
        if _status(error) == 404:
            raise FileNotFoundError(f"no blob {key!r}") from None
        raise


def _status(error: ClientError) -> int | None:
    return error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
