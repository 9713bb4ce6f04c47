"""Fixtures for scale-out tests: what several real ``assistantd`` processes of one deployment
share — a fresh PostgreSQL database with pgvector, Redis, an S3-compatible bucket — and the
scripted model they all use."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.databases import fresh_database, unavailable_reason
from tests.harness.redis_server import REDIS_URL, redis_unavailable_reason
from tests.harness.s3 import S3Server, running_s3
from tests.runs.conftest import model, scripted

__all__ = ["model", "scripted"]


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    with running_s3() as server:
        yield server


@pytest.fixture
def shared_env(
    scripted_model_url: str, s3_server: S3Server, tmp_path: Path
) -> Iterator[dict[str, str]]:
    """The environment every process of one deployment gets."""
    for reason in (unavailable_reason("pgvector"), redis_unavailable_reason()):
        if reason:
            pytest.skip(reason)
    bucket = s3_server.new_bucket()
    with fresh_database("pgvector", tmp_path) as url:
        yield {
            "ASSISTANTD_DATABASE_URL": url,
            "ASSISTANTD_REDIS_URL": REDIS_URL,
            "ASSISTANTD_BLOB_URL": f"s3://{bucket}/deployment",
            **s3_server.environment(),
            "ASSISTANTD_LLM_BASE_URL": scripted_model_url,
            "ASSISTANTD_RUN_WORKERS": "8",
            # The scripted model's embeddings: no process spends seconds loading a local model.
            "ASSISTANTD_EMBEDDING_BACKEND": "openai",
            "ASSISTANTD_EMBEDDING_BASE_URL": scripted_model_url,
            "ASSISTANTD_EMBEDDING_DIMENSIONS": "256",
            "ASSISTANTD_INGESTION_SWEEP_INTERVAL_SECONDS": "0.2",
        }
