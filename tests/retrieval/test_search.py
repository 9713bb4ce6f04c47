from __future__ import annotations

import pytest

from assistantd.retrieval import (
    ChunkingStrategy,
    InvalidFile,
    SqliteChunkIndex,
    UnsupportedFile,
    ingest_file,
    search,
)
from assistantd.retrieval.local_embedder import LocalEmbedder

DOCS = {
    "file_refunds": "Refund policy: customers may return any purchase within 30 days for a refund.",
    "file_cat": "Our office cat Whiskers sleeps on the sunny windowsill every afternoon.",
    "file_revenue": "Quarterly revenue grew by ten percent thanks to strong sales in Europe.",
    "file_sku": "Part number QX-7781 is the replacement hinge for the garden gate.",
}


@pytest.fixture
async def corpus(index: SqliteChunkIndex, local_embedder: LocalEmbedder) -> SqliteChunkIndex:
    for i, (file_id, text) in enumerate(DOCS.items()):
        await ingest_file(
            index,
            local_embedder,
            "vs_main",
            file_id,
            text.encode(),
            f"{file_id}.txt",
            attributes={"order": i},
        )
    return index


async def test_meaning_finds_a_paraphrase(
    corpus: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    hits = await search(corpus, local_embedder, ["vs_main"], "Can I get my money back?")
    assert hits[0].file_id == "file_refunds"
    assert hits[0].content == DOCS["file_refunds"]
    assert hits[0].attributes == {"order": 0} and hits[0].chunk_index == 0


async def test_exact_codes_are_found_by_keyword(
    corpus: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    hits = await search(corpus, local_embedder, ["vs_main"], "QX-7781")
    assert hits[0].file_id == "file_sku"


# Support notes of one template: the questions below quote E-4411, whose note is worded least
# like them, so on meaning alone the look-alikes quoting other codes came first.
NOTES = {
    "file_4411": "E-4411 on the LX-20 label printer: the print head overheated, let it cool.",
    "file_4412": "What is the fix for error code E-4412? E-4412 means the paper tray is empty.",
    "file_4413": "What is the fix for error code E-4413? E-4413 means the ink is running low.",
    "file_4414": "What is the fix for error code E-4414? E-4414 means the lid is open.",
}


async def test_the_note_quoting_the_asked_error_code_comes_first(
    index: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    for file_id, text in NOTES.items():
        await ingest_file(index, local_embedder, "vs", file_id, text.encode(), f"{file_id}.txt")
    asked = "What is the fix for error code E-4411?"
    hits = await search(index, local_embedder, ["vs"], asked)
    assert hits[0].file_id == "file_4411" and hits[0].score >= 0.5
    kept = await search(index, local_embedder, ["vs"], asked, score_threshold=0.5)
    assert "file_4411" in {h.file_id for h in kept}
    # Without an identifier, meaning decides.
    hits = await search(index, local_embedder, ["vs"], "my label printer got too hot")
    assert hits[0].file_id == "file_4411"


async def test_auto_ranker_scores_relevant_hits_higher_than_unrelated_ones(
    corpus: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    hits = await search(corpus, local_embedder, ["vs_main"], "pets napping in the sun")
    assert hits[0].file_id == "file_cat"
    # Under "auto" an unrelated chunk scores far below a relevant one; under "none" the scores
    # only reflect rank positions.
    assert hits[0].score > hits[-1].score + 0.2
    kept = await search(
        corpus, local_embedder, ["vs_main"], "pets napping in the sun", score_threshold=0.2
    )
    assert [h.file_id for h in kept] == ["file_cat"]


async def test_several_queries_are_searched_together(
    corpus: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    hits = await search(
        corpus, local_embedder, ["vs_main"], ["sales growth", "cat"], max_num_results=2
    )
    assert {h.file_id for h in hits} == {"file_revenue", "file_cat"}


async def test_thread_and_assistant_stores_are_searched_in_one_call(
    corpus: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    text = b"The thread's attachment says the picnic moved to Saturday."
    await ingest_file(corpus, local_embedder, "vs_thread", "file_picnic", text, "note.md")
    hits = await search(corpus, local_embedder, ["vs_main", "vs_thread"], "when is the picnic?")
    assert (hits[0].store_id, hits[0].file_id) == ("vs_thread", "file_picnic")


async def test_filters_apply_to_hybrid_search(
    corpus: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    hits = await search(
        corpus,
        local_embedder,
        ["vs_main"],
        "Can I get my money back?",
        filters={"type": "gte", "key": "order", "value": 2},
    )
    assert {h.file_id for h in hits} == {"file_revenue", "file_sku"}


async def test_long_files_are_chunked_and_served_back(
    index: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    text = " ".join(f"Paragraph {i} of the handbook covers rule number {i}." for i in range(120))
    count = await ingest_file(
        index,
        local_embedder,
        "vs",
        "file_handbook",
        text.encode(),
        "handbook.md",
        strategy=ChunkingStrategy(200, 50),
    )
    chunks = await index.file_chunks("vs", "file_handbook")
    assert count == len(chunks) > 5
    assert chunks[0].startswith("Paragraph 0 of the handbook")
    hits = await search(index, local_embedder, ["vs"], "rule number 117", max_num_results=3)
    assert hits[0].chunk_index == count - 1


async def test_bad_files_fail_before_touching_the_index(
    index: SqliteChunkIndex, local_embedder: LocalEmbedder
) -> None:
    with pytest.raises(UnsupportedFile):
        await ingest_file(index, local_embedder, "vs", "f1", b"\x89PNG", "image.png")
    with pytest.raises(InvalidFile):
        await ingest_file(index, local_embedder, "vs", "f2", b"%PDF-1.7 garbage", "doc.pdf")
    assert await index.chunk_count("vs") == 0


@pytest.mark.parametrize(
    "kwargs",
    [{"max_num_results": 0}, {"max_num_results": 51}, {"score_threshold": 1.5}, {"ranker": "x"}],
)
async def test_out_of_range_arguments_are_rejected(
    index: SqliteChunkIndex, local_embedder: LocalEmbedder, kwargs: dict
) -> None:
    with pytest.raises(ValueError):
        await search(index, local_embedder, ["vs"], "query", **kwargs)
