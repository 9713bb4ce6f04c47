"""Which chunk index a server uses: the shared PostgreSQL one where the database can hold it,
else the local SQLite file.

PostgreSQL without pgvector still works, on the local index, but then each server process has
an index of its own: said once, as a warning, at start-up (``index.shared`` tells callers).
"""

from __future__ import annotations

import logging
from pathlib import Path

from assistantd.retrieval.index import ChunkIndex
from assistantd.retrieval.postgres_index import PostgresChunkIndex, schema_present
from assistantd.retrieval.sqlite_index import SqliteChunkIndex
from assistantd.store.database import Database

log = logging.getLogger(__name__)


async def open_chunk_index(db: Database, local_path: Path) -> ChunkIndex:
    if db.is_sqlite:
        return SqliteChunkIndex(local_path)
    if await schema_present(db.url):
        return await PostgresChunkIndex.connect(db.url)
    log.warning(
        "PostgreSQL without the pgvector extension: vector-store chunks are indexed in %s, "
        "local to this process, so other server processes on this database cannot search "
        "them. Install pgvector (>= 0.6) and restart to share the index.",
        local_path,
    )
    return SqliteChunkIndex(local_path)
