"""The API's rule for a ``static`` chunking strategy: ``max_chunk_size_tokens`` in 100..4096
and ``chunk_overlap_tokens`` of at most half of it; ``auto`` is 800-token windows overlapping by
400, as OpenAI documents.

Part of the protocol, so request validation (``wire/vector_stores.py``) checks it without
importing retrieval; the chunker (``retrieval/chunking.py``) applies the same numbers.
"""

from __future__ import annotations

AUTO_MAX_TOKENS = 800
AUTO_OVERLAP_TOKENS = 400
MIN_CHUNK_TOKENS = 100
MAX_CHUNK_TOKENS = 4096


def static_strategy_error(max_chunk_size_tokens: int, chunk_overlap_tokens: int) -> str | None:
    """Why a ``static`` chunking strategy is invalid, or None if it is valid (the API's rule)."""
    if not MIN_CHUNK_TOKENS <= max_chunk_size_tokens <= MAX_CHUNK_TOKENS:
        return (
            f"max_chunk_size_tokens must be between {MIN_CHUNK_TOKENS} and {MAX_CHUNK_TOKENS}, "
            f"got {max_chunk_size_tokens}"
        )
    if chunk_overlap_tokens < 0:
        return "chunk_overlap_tokens must not be negative"
    if chunk_overlap_tokens > max_chunk_size_tokens // 2:
        return "chunk_overlap_tokens must not exceed half of max_chunk_size_tokens"
    return None
