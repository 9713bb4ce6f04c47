from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from assistantd.retrieval.index import ChunkIndex
from assistantd.retrieval.local_embedder import LocalEmbedder
from assistantd.retrieval.postgres_index import PostgresChunkIndex, asyncpg_url
from assistantd.retrieval.sqlite_index import SqliteChunkIndex
from assistantd.store.database import Database
from tests.harness.databases import fresh_database, unavailable_reason

# The chunk index tables, emptied between tests that share one migrated database.
CHUNK_TABLES = (
    "chunk_index_chunks, chunk_index_keywords, chunk_index_terms, chunk_index_postings,"
    " chunk_index_files, chunk_index_stores"
)


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # The ONNX models are built from the shipped weights into a fresh directory (~3 s each),
    # so the tests exercise the build, not a cache left by an earlier run.
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def local_embedder(model_cache: Path) -> LocalEmbedder:
    # The default runtime ("auto": onnxruntime int8), loaded once for the whole session.
    return LocalEmbedder(cache_dir=model_cache)


@pytest.fixture(scope="session")
def fp32_embedder(model_cache: Path) -> LocalEmbedder:
    return LocalEmbedder(runtime="onnx-fp32", cache_dir=model_cache)


@pytest.fixture(scope="session")
def torch_embedder() -> LocalEmbedder:
    # The optional runtime: serving installs have no torch, and the tests of the other
    # runtimes compare with stored vectors instead (tests/retrieval/minilm_reference.py).
    pytest.importorskip("torch", reason="the torch runtime needs the local-embeddings-torch extra")
    return LocalEmbedder(runtime="torch")


async def _migrate(url: str) -> None:
    db = Database(url)
    await db.migrate()
    await db.dispose()


@pytest.fixture(scope="session")
def pgvector_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database on a PostgreSQL with pgvector, shared by the session's index tests."""
    reason = unavailable_reason("pgvector")
    if reason:
        pytest.skip(reason)
    with fresh_database("pgvector", tmp_path_factory.mktemp("pgvector")) as url:
        asyncio.run(_migrate(url))
        yield url


@pytest.fixture(params=["sqlite", "pgvector"])
def index_database(request: pytest.FixtureRequest) -> str | None:
    """None for the SQLite index, else the PostgreSQL database URL (asked for here, outside the
    event loop, since setting it up runs its own)."""
    return None if request.param == "sqlite" else request.getfixturevalue("pgvector_url")


async def _emptied(url: str) -> None:
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        await connection.execute(f"TRUNCATE {CHUNK_TABLES}")
    finally:
        await connection.close()


@pytest.fixture
async def index(index_database: str | None, tmp_path: Path) -> AsyncIterator[ChunkIndex]:
    """Each chunk index, empty: the embedded SQLite one and the shared PostgreSQL one."""
    if index_database is None:
        chunk_index: ChunkIndex = SqliteChunkIndex(tmp_path / "chunks.sqlite3")
    else:
        await _emptied(index_database)
        chunk_index = await PostgresChunkIndex.connect(index_database)
    yield chunk_index
    await chunk_index.close()
