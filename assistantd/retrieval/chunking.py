"""Token-window chunking with overlap, in the tokens of ``assistantd.tokens`` (o200k_base).

``auto`` is 800-token windows overlapping by 400, as OpenAI documents. ``static`` takes
``max_chunk_size_tokens`` in 100..4096 and ``chunk_overlap_tokens`` of at most half of it (the
API's rule, in ``wire/chunking_strategy.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from assistantd import tokens
from assistantd.wire.chunking_strategy import (
    AUTO_MAX_TOKENS,
    AUTO_OVERLAP_TOKENS,
    static_strategy_error,
)


@dataclass(frozen=True)
class ChunkingStrategy:
    max_chunk_size_tokens: int = AUTO_MAX_TOKENS
    chunk_overlap_tokens: int = AUTO_OVERLAP_TOKENS

    @property
    def stride(self) -> int:
        return self.max_chunk_size_tokens - self.chunk_overlap_tokens


AUTO = ChunkingStrategy()


@dataclass(frozen=True)
class Chunk:
    """One window of a file: its text and where it sits in the file's token sequence."""

    index: int
    text: str
    start_token: int
    end_token: int


def strategy_from_request(param: dict | None) -> ChunkingStrategy:
    """The strategy of a ``ChunkingStrategyRequestParam``; raises ``ValueError`` when invalid."""
    if not param or param.get("type") == "auto":
        return AUTO
    if param.get("type") != "static":
        raise ValueError(f"Unknown chunking strategy type: {param.get('type')!r}")
    static = param.get("static") or {}
    size = int(static.get("max_chunk_size_tokens", AUTO_MAX_TOKENS))
    overlap = int(static.get("chunk_overlap_tokens", AUTO_OVERLAP_TOKENS))
    error = static_strategy_error(size, overlap)
    if error:
        raise ValueError(error)
    return ChunkingStrategy(size, overlap)


def window_spans(total_tokens: int, strategy: ChunkingStrategy) -> list[tuple[int, int]]:
    """``(start, end)`` token spans covering ``total_tokens``; the last window ends at the end."""
    spans: list[tuple[int, int]] = []
    start = 0
    while start < total_tokens:
        end = min(start + strategy.max_chunk_size_tokens, total_tokens)
        spans.append((start, end))
        if end == total_tokens:
            break
        start += strategy.stride
    return spans


def chunk_tokens(token_ids: list[int], strategy: ChunkingStrategy = AUTO) -> list[Chunk]:
    """Chunks of already-encoded text."""
    return [
        Chunk(index=i, text=tokens.decode(token_ids[start:end]), start_token=start, end_token=end)
        for i, (start, end) in enumerate(window_spans(len(token_ids), strategy))
    ]


def chunk_text(text: str, strategy: ChunkingStrategy = AUTO) -> list[Chunk]:
    """Split ``text`` into overlapping token windows."""
    return chunk_tokens(tokens.encode(text), strategy)
