"""An S3-compatible server for the tests: moto's server mode on a free loopback port, and the
standard ``AWS_*`` variables that point a client (the server's, the test's) at it.

Where ``moto[server]`` (or the ``s3`` extra) is not installed, the S3 tests skip and say why.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest

BUCKET_PREFIX = "assistantd-test"


@dataclass(frozen=True)
class S3Server:
    endpoint_url: str

    def environment(self) -> dict[str, str]:
        """What an operator sets to point assistantd at this store."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
        }

    def client(self) -> Any:
        """A plain (synchronous) S3 client, to look at the bucket behind the server's back."""
        import boto3

        env = self.environment()
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
            region_name=env["AWS_REGION"],
        )

    def new_bucket(self) -> str:
        name = f"{BUCKET_PREFIX}-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> set[str]:
        pages = (
            self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        )
        return {item["Key"] for page in pages for item in page.get("Contents", [])}


def moto_unavailable_reason() -> str | None:
    """Why the S3 tests cannot run here (the server's client or moto missing), or None."""
    try:
        import aiobotocore  # noqa: F401
    except ImportError as error:
        return f"the S3 client is not installed ({error}); `pip install -e '.[s3]'`"
    try:
        from moto.server import ThreadedMotoServer  # noqa: F401
    except ImportError as error:
        return f"moto[server] is not installed ({error}); `pip install -e '.[test]'`"
    return None


@contextmanager
def running_s3() -> Iterator[S3Server]:
    reason = moto_unavailable_reason()
    if reason:
        pytest.skip(reason)
    from moto.server import ThreadedMotoServer

    # werkzeug logs every request it serves; a benchmark's table would drown in them.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3Server(f"http://{host}:{port}")
    finally:
        server.stop()


@contextmanager
def aws_environment(s3: S3Server) -> Iterator[None]:
    """The ``AWS_*`` variables set for the block (the server reads them as botocore does)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in s3.environment().items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        yield
