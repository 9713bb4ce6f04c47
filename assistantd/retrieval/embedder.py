"""The embedding interface, the configured backend, and chunk-level embedding for ingestion."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from assistantd import tokens
from assistantd.retrieval.chunking import Chunk

if TYPE_CHECKING:
    from assistantd.config import Settings


class EmbeddingError(Exception):
    """The embedding backend failed (unreachable, bad answer): a ``server_error`` for the file."""


@runtime_checkable
class Embedder(Protocol):
    """Text → L2-normalised float32 vectors of shape ``(len(texts), dimensions)``."""

    dimensions: int
    # True when a long text's vector is the mean of its parts' vectors, so overlapping chunks can
    # share the embedding of their common text (see ``embed_chunks``).
    averages_windows: bool

    async def embed(self, texts: list[str]) -> np.ndarray: ...


def normalise(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), as float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


async def embed_chunks(embedder: Embedder, token_ids: list[int], chunks: list[Chunk]) -> np.ndarray:
    """One vector per chunk of a file whose token ids are ``token_ids``.

    With a window-averaging embedder the text is cut at every chunk start and end into pieces,
    each piece is embedded once, and a chunk's vector is the token-weighted mean of its pieces'
    vectors. With the default 800/400 windows that halves the embedding work, since every token
    sits in two chunks. Other embedders see each chunk's text whole.
    """
    if not chunks:
        return np.zeros((0, embedder.dimensions), dtype=np.float32)
    if not embedder.averages_windows:
        return await embedder.embed([chunk.text for chunk in chunks])
    bounds = sorted({c.start_token for c in chunks} | {c.end_token for c in chunks})
    pieces = list(itertools.pairwise(bounds))
    piece_vectors = await embedder.embed([tokens.decode(token_ids[a:b]) for a, b in pieces])
    starts = np.array([a for a, _ in pieces])
    lengths = np.array([b - a for a, b in pieces], dtype=np.float32)
    out = np.zeros((len(chunks), piece_vectors.shape[1]), dtype=np.float32)
    for row, chunk in enumerate(chunks):
        inside = (starts >= chunk.start_token) & (starts < chunk.end_token)
        out[row] = lengths[inside] @ piece_vectors[inside]
    return normalise(out)


def make_embedder(settings: Settings) -> Embedder:
    """The embedder the settings choose (``ASSISTANTD_EMBEDDING_BACKEND``)."""
    if settings.embedding_backend == "openai":
        from assistantd.retrieval.openai_embedder import OpenAIEmbedder

        base_url = settings.embedding_base_url or settings.llm_base_url
        if not base_url:
            raise ValueError("ASSISTANTD_EMBEDDING_BASE_URL is required for the openai backend")
        return OpenAIEmbedder(
            base_url=base_url,
            api_key=settings.embedding_api_key or settings.llm_api_key,
            model=settings.embedding_model,
            dimensions=settings.embedding_dimensions,
            batch_size=max(settings.embedding_batch_size, 1),
        )
    from assistantd.retrieval.local_embedder import LocalEmbedder

    # ASSISTANTD_EMBEDDING_BATCH_SIZE sizes remote requests; the local model batches by word
    # pieces (see LocalEmbedder), where smaller batches ran faster.
    return LocalEmbedder(
        runtime=settings.embedding_local_runtime,
        cache_dir=settings.embedding_model_cache_dir,
    )
