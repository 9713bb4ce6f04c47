from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistantd.retrieval.local_embedder import LocalEmbedder
from assistantd.retrieval.sqlite_index import SqliteChunkIndex


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The ONNX models are built from the shipped weights into a fresh directory (~10 s each),
    # so the tests exercise the build, not a cache left by an earlier run.
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def local_embedder(model_cache: Path) -> LocalEmbedder:
    # The default runtime ("auto": onnxruntime int8), loaded once for the whole session.
    return LocalEmbedder(cache_dir=model_cache)


@pytest.fixture(scope="session")
def torch_embedder() -> LocalEmbedder:
    return LocalEmbedder(runtime="torch")


@pytest.fixture
async def index(tmp_path: Path) -> AsyncIterator[SqliteChunkIndex]:
    chunk_index = SqliteChunkIndex(tmp_path / "chunks.sqlite3")
    yield chunk_index
    await chunk_index.close()
