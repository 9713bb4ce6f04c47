"""The chunk index interface the file_search feature builds on, and what a search returns.

``SqliteChunkIndex`` is the embedded default; ``PostgresChunkIndex`` (PostgreSQL with pgvector)
is shared by every server process on one database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import numpy as np

from assistantd.retrieval.chunking import Chunk

# "none" returns the fused order; the other names all mean our default rerank (see ranking.py).
Ranker = Literal["none", "auto", "default-2024-11-15", "default_2024_08_21"]
RANKERS = frozenset({"none", "auto", "default-2024-11-15", "default_2024_08_21"})
# What a search ranks by: both methods fused (the API's), or one alone (for measuring).
Mode = Literal["hybrid", "dense", "keyword"]
MAX_NUM_RESULTS = 50


@dataclass(frozen=True)
class SearchHit:
    store_id: str
    file_id: str
    chunk_index: int
    score: float  # 0..1, higher is more relevant
    content: str
    attributes: dict[str, Any] = field(default_factory=dict)


class ChunkIndex(Protocol):
    # True when every server process on the database searches this same index (PostgreSQL);
    # False for an index local to one process (SQLite), which several processes cannot share.
    shared: bool

    async def add(
        self,
        store_id: str,
        file_id: str,
        chunks: list[Chunk],
        vectors: np.ndarray,
        attributes: dict[str, Any],
    ) -> None:
        """Index a file's chunks (replacing any earlier chunks of the same file in the store)."""

    async def delete_file(self, store_id: str, file_id: str) -> None: ...

    async def delete_store(self, store_id: str) -> None: ...

    async def update_attributes(
        self, store_id: str, file_id: str, attributes: dict[str, Any]
    ) -> None: ...

    async def search(
        self,
        store_ids: list[str],
        queries: list[str],
        query_vectors: np.ndarray,
        max_num_results: int = 10,
        score_threshold: float = 0.0,
        filters: dict | None = None,
        ranker: str = "auto",
    ) -> list[SearchHit]: ...

    async def file_chunks(self, store_id: str, file_id: str) -> list[str]:
        """The file's chunk texts in order (for ``GET …/files/{id}/content``)."""

    async def close(self) -> None: ...
