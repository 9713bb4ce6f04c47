from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistantd.retrieval import Chunk, SqliteChunkIndex
from assistantd.retrieval.sqlite_index import fts_query


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def chunks_of(*texts: str) -> list[Chunk]:
    return [
        Chunk(index=i, text=t, start_token=i * 10, end_token=i * 10 + 10)
        for i, t in enumerate(texts)
    ]


async def add_corpus(index: SqliteChunkIndex) -> None:
    await index.add(
        "vs_a",
        "file_lamps",
        chunks_of("Desk lamps with warm light", "Lamp bulbs last ten thousand hours"),
        np.stack([unit(1, 0, 0), unit(1, 0.2, 0)]),
        {"category": "lighting", "year": 2023},
    )
    await index.add(
        "vs_a",
        "file_chairs",
        chunks_of("Office chairs with lumbar support"),
        np.stack([unit(0, 1, 0)]),
        {"category": "furniture", "year": 2021},
    )
    await index.add(
        "vs_b",
        "file_tables",
        chunks_of("Oak tables seat eight people"),
        np.stack([unit(0, 0.2, 1)]),
        {"category": "furniture", "year": 2024},
    )


async def test_search_ranks_by_both_vector_and_words(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    hits = await index.search(["vs_a"], ["lamp bulbs"], unit(1, 0.2, 0), max_num_results=5)
    assert [(h.file_id, h.chunk_index) for h in hits][:2] == [("file_lamps", 1), ("file_lamps", 0)]
    top = hits[0]
    assert top.content == "Lamp bulbs last ten thousand hours"
    assert top.attributes == {"category": "lighting", "year": 2023}
    assert top.store_id == "vs_a"
    assert all(0.0 <= h.score <= 1.0 for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


async def test_none_ranker_scores_a_double_first_place_as_one(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    hits = await index.search(["vs_a"], ["bulbs"], unit(1, 0.2, 0), ranker="none")
    assert hits[0].chunk_index == 1 and hits[0].score == pytest.approx(1.0)


async def test_search_spans_several_stores_and_only_those(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    hits = await index.search(["vs_a", "vs_b"], ["tables"], unit(0, 0.2, 1))
    assert hits[0].file_id == "file_tables" and hits[0].store_id == "vs_b"
    assert {h.store_id for h in hits} == {"vs_a", "vs_b"}
    only_a = await index.search(["vs_a"], ["tables"], unit(0, 0.2, 1))
    assert "file_tables" not in {h.file_id for h in only_a}
    assert await index.search(["vs_missing"], ["tables"], unit(0, 0.2, 1)) == []


async def test_filters_restrict_both_methods(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    furniture = {"type": "eq", "key": "category", "value": "furniture"}
    hits = await index.search(["vs_a", "vs_b"], ["lamp"], unit(1, 0, 0), filters=furniture)
    assert {h.file_id for h in hits} == {"file_chairs", "file_tables"}
    recent_furniture = {
        "type": "and",
        "filters": [furniture, {"type": "gte", "key": "year", "value": 2022}],
    }
    hits = await index.search(["vs_a", "vs_b"], ["oak"], unit(0, 1, 0), filters=recent_furniture)
    assert [h.file_id for h in hits] == ["file_tables"]


async def test_threshold_and_max_results(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    everything = await index.search(["vs_a"], ["lamp"], unit(1, 0, 0), max_num_results=50)
    assert len(everything) == 3
    assert len(await index.search(["vs_a"], ["lamp"], unit(1, 0, 0), max_num_results=1)) == 1
    cut = everything[1].score
    kept = await index.search(["vs_a"], ["lamp"], unit(1, 0, 0), score_threshold=cut)
    assert [h.score for h in kept] == [h.score for h in everything if h.score >= cut]
    strict = await index.search(["vs_a"], ["lamp"], unit(1, 0, 0), score_threshold=0.999)
    assert [h.score for h in strict] == [h.score for h in everything if h.score >= 0.999]


async def test_delete_file_update_attributes_and_delete_store(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    assert await index.file_chunks("vs_a", "file_lamps") == [
        "Desk lamps with warm light",
        "Lamp bulbs last ten thousand hours",
    ]
    await index.delete_file("vs_a", "file_lamps")
    assert await index.file_chunks("vs_a", "file_lamps") == []
    hits = await index.search(["vs_a"], ["lamp"], unit(1, 0, 0))
    assert {h.file_id for h in hits} == {"file_chairs"}

    await index.update_attributes("vs_a", "file_chairs", {"category": "seating"})
    seating = {"type": "eq", "key": "category", "value": "seating"}
    hits = await index.search(["vs_a"], ["chairs"], unit(0, 1, 0), filters=seating)
    assert [h.attributes for h in hits] == [{"category": "seating"}]

    await index.delete_store("vs_a")
    assert await index.search(["vs_a"], ["chairs"], unit(0, 1, 0)) == []
    assert len(await index.search(["vs_b"], ["oak"], unit(0, 0, 1))) == 1


async def test_re_adding_a_file_replaces_its_chunks(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    await index.add("vs_a", "file_lamps", chunks_of("Floor lamps"), np.stack([unit(1, 0, 0)]), {})
    assert await index.file_chunks("vs_a", "file_lamps") == ["Floor lamps"]
    hits = await index.search(["vs_a"], ["bulbs"], unit(0, 0, 1), max_num_results=50)
    assert all("bulbs" not in h.content for h in hits)


async def test_the_index_survives_a_reopen(tmp_path: Path) -> None:
    path = tmp_path / "chunks.sqlite3"
    first = SqliteChunkIndex(path)
    await add_corpus(first)
    await first.close()
    second = SqliteChunkIndex(path)
    hits = await second.search(["vs_a"], ["bulbs"], unit(1, 0.2, 0))
    await second.close()
    assert hits[0].content == "Lamp bulbs last ten thousand hours"


async def test_query_syntax_is_never_interpreted(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    assert fts_query(['lamp" OR NEAR(x', "AND*"]) == '"lamp" OR "near" OR "x"'
    hits = await index.search(["vs_a"], ['"(*^ AND'], unit(1, 0, 0))
    assert hits  # dense still answers when no word is usable


async def test_mismatched_dimensions_are_an_error(index: SqliteChunkIndex) -> None:
    await add_corpus(index)
    with pytest.raises(ValueError, match="dimensional"):
        await index.search(["vs_a"], ["lamp"], np.ones(5, dtype=np.float32))


def at_cosine(cosine: float) -> np.ndarray:
    """A unit vector with this cosine to the query vector ``unit(1, 0)``."""
    return unit(cosine, float(np.sqrt(1 - cosine**2)))


async def add_notes(index: SqliteChunkIndex, notes: list[tuple[str, float]]) -> None:
    """One file per ``(text, cosine to unit(1, 0))``, attributes ``{"n": its position}``."""
    for n, (text, cosine) in enumerate(notes):
        vectors = np.stack([at_cosine(cosine)])
        await index.add("vs", f"file_{n}", chunks_of(text), vectors, {"n": n})


async def test_the_chunk_quoting_a_rare_identifier_outranks_closer_look_alikes(
    index: SqliteChunkIndex,
) -> None:
    # Nine notes of one template; the one quoting E-1004 is the farthest in meaning.
    notes = [(f"Error code E-100{n}: printer fault number {n}.", 0.7 - n / 100) for n in range(9)]
    notes[4] = ("Error code E-1004: the drum overheated.", 0.4)
    await add_notes(index, notes)
    asked = ["What is the fix for error code E-1004?"]
    hits = await index.search(["vs"], asked, unit(1, 0))
    assert hits[0].file_id == "file_4" and hits[0].score >= 0.5
    assert all(hit.score <= notes[int(hit.file_id[5:])][1] + 1e-6 for hit in hits[1:])
    # Under "none" the fused order is unchanged by it.
    assert (await index.search(["vs"], asked, unit(1, 0), ranker="none"))[0].score < 1.0
    # A chunk the filters exclude is not brought back by quoting the identifier.
    not_4 = {"type": "ne", "key": "n", "value": 4}
    filtered = await index.search(["vs"], asked, unit(1, 0), filters=not_4)
    assert "file_4" not in {hit.file_id for hit in filtered}


@pytest.mark.parametrize(("quoting", "lifted"), [(3, True), (4, False)])
async def test_only_identifiers_at_most_root_n_chunks_quote_lift_them(
    index: SqliteChunkIndex, quoting: int, lifted: bool
) -> None:
    # 9 chunks: an identifier quoted by 3 (= √9) has specificity ln 3 / ln 9 = ½, so its chunks
    # score at least ½ × ½; one quoted by 4 is an ordinary word and scores at most its cosine.
    notes = [(f"Release notes, firmware 2024 build {n}.", 0.1) for n in range(quoting)]
    notes += [(f"Release notes, firmware 2023 build {n}.", 0.6) for n in range(9 - quoting)]
    await add_notes(index, notes)
    hits = await index.search(["vs"], ["firmware 2024"], unit(1, 0))
    scores = [hit.score for hit in hits if "2024" in hit.content]
    assert len(scores) == quoting
    assert all(score >= 0.25 if lifted else score <= 0.1 + 1e-6 for score in scores)
