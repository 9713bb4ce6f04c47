"""The search entry point: query string(s) in, ranked chunks out."""

from __future__ import annotations

from assistantd.retrieval.embedder import Embedder
from assistantd.retrieval.index import MAX_NUM_RESULTS, RANKERS, ChunkIndex, SearchHit


async def search(
    index: ChunkIndex,
    embedder: Embedder,
    store_ids: list[str],
    query: str | list[str],
    max_num_results: int = 10,
    score_threshold: float = 0.0,
    filters: dict | None = None,
    ranker: str = "auto",
) -> list[SearchHit]:
    """Hybrid search of one or more stores (e.g. the assistant's and the thread's).

    A list of queries is searched as one: a chunk's similarity is its best over the queries and
    the keyword search matches any of their words. Raises ``ValueError`` for out-of-range
    arguments (the API layer should have rejected them with a 400 already).
    """
    queries = [query] if isinstance(query, str) else list(query)
    if not queries or not all(q.strip() for q in queries):
        raise ValueError("query must be a non-empty string or list of strings")
    if not 1 <= max_num_results <= MAX_NUM_RESULTS:
        raise ValueError(f"max_num_results must be between 1 and {MAX_NUM_RESULTS}")
    if not 0.0 <= score_threshold <= 1.0:
        raise ValueError("score_threshold must be between 0 and 1")
    if ranker not in RANKERS:
        raise ValueError(f"unknown ranker {ranker!r}")
    if not store_ids:
        return []
    vectors = await embedder.embed(queries)
    return await index.search(
        store_ids, queries, vectors, max_num_results, score_threshold, filters, ranker
    )
