from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistantd.retrieval.local_embedder import LocalEmbedder
from assistantd.retrieval.sqlite_index import SqliteChunkIndex


@pytest.fixture(scope="session")
def local_embedder() -> LocalEmbedder:
    # One model load (~5 s) for the whole session.
    return LocalEmbedder()


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[SqliteChunkIndex]:
    chunk_index = SqliteChunkIndex(tmp_path / "chunks.sqlite3")
    yield chunk_index
    await chunk_index.close()
