"""Index one file: parse → chunk → embed → add, the work of one vector-store file job."""

from __future__ import annotations

import asyncio
from typing import Any

from assistantd import tokens
from assistantd.retrieval.chunking import AUTO, Chunk, ChunkingStrategy, chunk_tokens
from assistantd.retrieval.embedder import Embedder, embed_chunks
from assistantd.retrieval.index import ChunkIndex
from assistantd.retrieval.parse import parse
from assistantd.retrieval.parse_limits import DEFAULT_LIMITS, ParseLimits


async def ingest_file(
    index: ChunkIndex,
    embedder: Embedder,
    store_id: str,
    file_id: str,
    data: bytes,
    filename: str,
    mime_type: str | None = None,
    strategy: ChunkingStrategy = AUTO,
    attributes: dict[str, Any] | None = None,
    limits: ParseLimits = DEFAULT_LIMITS,
) -> int:
    """Index the file and return its number of chunks.

    Raises ``UnsupportedFile`` / ``InvalidFile`` (``.code`` is the ``last_error.code``) or
    ``EmbeddingError`` (a ``server_error``).
    """
    token_ids, chunks = await asyncio.to_thread(
        _parse_and_chunk, data, filename, mime_type, strategy, limits
    )
    vectors = await embed_chunks(embedder, token_ids, chunks)
    await index.add(store_id, file_id, chunks, vectors, attributes or {})
    return len(chunks)


def _parse_and_chunk(
    data: bytes,
    filename: str,
    mime_type: str | None,
    strategy: ChunkingStrategy,
    limits: ParseLimits,
) -> tuple[list[int], list[Chunk]]:
    token_ids = tokens.encode(parse(data, filename, mime_type, limits))
    return token_ids, chunk_tokens(token_ids, strategy)
