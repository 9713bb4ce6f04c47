"""Retrieval for vector stores and file_search: parse, chunk, embed, index, search.

Typical use::

    index = SqliteChunkIndex(settings.data_dir / "chunks.sqlite3")
    embedder = make_embedder(settings)
    await ingest_file(index, embedder, store_id, file_id, data, "notes.pdf", attributes={...})
    hits = await search(index, embedder, [store_id], "what is the refund policy?")
"""

from assistantd.retrieval.chunking import (
    AUTO,
    Chunk,
    ChunkingStrategy,
    chunk_text,
    strategy_from_request,
)
from assistantd.retrieval.embedder import Embedder, EmbeddingError, embed_chunks, make_embedder
from assistantd.retrieval.errors import FileIndexingError, InvalidFile, UnsupportedFile
from assistantd.retrieval.filters import matches
from assistantd.retrieval.index import ChunkIndex, SearchHit
from assistantd.retrieval.ingest import ingest_file
from assistantd.retrieval.parse import parse
from assistantd.retrieval.search import search
from assistantd.retrieval.sqlite_index import SqliteChunkIndex

# The API's validation rules, re-exported beside what applies them.
from assistantd.wire.chunking_strategy import static_strategy_error
from assistantd.wire.search_filters import filter_error

__all__ = [
    "AUTO",
    "Chunk",
    "ChunkIndex",
    "ChunkingStrategy",
    "Embedder",
    "EmbeddingError",
    "FileIndexingError",
    "InvalidFile",
    "SearchHit",
    "SqliteChunkIndex",
    "UnsupportedFile",
    "chunk_text",
    "embed_chunks",
    "filter_error",
    "ingest_file",
    "make_embedder",
    "matches",
    "parse",
    "search",
    "static_strategy_error",
    "strategy_from_request",
]
