from __future__ import annotations

import itertools

import pytest

from assistantd import tokens
from assistantd.retrieval import (
    AUTO,
    ChunkingStrategy,
    chunk_text,
    static_strategy_error,
    strategy_from_request,
)

TEXT = " ".join(f"word{i}" for i in range(3000))


def test_auto_is_800_tokens_with_400_overlap() -> None:
    assert (AUTO.max_chunk_size_tokens, AUTO.chunk_overlap_tokens) == (800, 400)
    ids = tokens.encode(TEXT)
    chunks = chunk_text(TEXT)
    assert all(c.end_token - c.start_token <= 800 for c in chunks)
    assert [c.start_token for c in chunks] == list(range(0, 400 * len(chunks), 400))
    assert chunks[-1].end_token == len(ids)
    assert [c.index for c in chunks] == list(range(len(chunks)))


def test_static_chunks_have_the_requested_size_and_overlap() -> None:
    strategy = ChunkingStrategy(max_chunk_size_tokens=100, chunk_overlap_tokens=30)
    chunks = chunk_text(TEXT, strategy)
    ids = tokens.encode(TEXT)
    for before, after in itertools.pairwise(chunks):
        assert before.end_token - before.start_token == 100
        assert before.end_token - after.start_token == 30
    # Every chunk's text is exactly its token window.
    for chunk in chunks:
        assert tokens.encode(chunk.text) == ids[chunk.start_token : chunk.end_token]


def test_short_text_is_one_chunk_and_empty_text_none() -> None:
    chunks = chunk_text("A short note about lamps.")
    assert len(chunks) == 1 and chunks[0].text == "A short note about lamps."
    assert chunk_text("") == []


def test_no_overlap_tiles_the_text() -> None:
    chunks = chunk_text(TEXT, ChunkingStrategy(200, 0))
    assert "".join(c.text for c in chunks) == TEXT


@pytest.mark.parametrize(
    ("size", "overlap", "ok"),
    [(100, 50, True), (4096, 2048, True), (800, 400, True), (99, 0, False), (4097, 0, False),
     (800, 401, False), (800, -1, False)],
)  # fmt: skip
def test_static_rule(size: int, overlap: int, ok: bool) -> None:
    assert (static_strategy_error(size, overlap) is None) is ok


def test_strategy_from_request() -> None:
    assert strategy_from_request(None) == AUTO
    assert strategy_from_request({"type": "auto"}) == AUTO
    static = {"type": "static", "static": {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 0}}
    assert strategy_from_request(static) == ChunkingStrategy(300, 0)
    with pytest.raises(ValueError, match="half"):
        too_much = {"max_chunk_size_tokens": 300, "chunk_overlap_tokens": 151}
        strategy_from_request({"type": "static", "static": too_much})
