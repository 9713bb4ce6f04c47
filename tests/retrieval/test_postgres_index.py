"""What only the shared PostgreSQL index has to show: every process answers alike, and its
approximate (HNSW) dense search still returns the best chunks that pass a filter.

The behaviour both indexes share is tested on each in ``test_sqlite_index.py`` and
``test_search.py`` (the ``index`` fixture is parametrised)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np
import pytest

from assistantd.retrieval import Chunk, SqliteChunkIndex
from assistantd.retrieval.postgres_index import PostgresChunkIndex, asyncpg_url
from tests.harness.databases import fresh_database
from tests.harness.databases import unavailable_reason as pgvector_unavailable
from tests.retrieval.conftest import _emptied

DIMS = 16
FILES = 20
PER_FILE = 100


@pytest.fixture
async def pg_index(pgvector_url: str) -> AsyncIterator[PostgresChunkIndex]:
    await _emptied(pgvector_url)
    index = await PostgresChunkIndex.connect(pgvector_url)
    yield index
    await index.close()


def random_corpus(seed: int = 3) -> tuple[np.ndarray, list[list[Chunk]]]:
    rng = np.random.default_rng(seed)
    vectors = rng.standard_normal((FILES * PER_FILE, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    words = [f"term{n}" for n in range(300)]
    files = [
        [
            Chunk(i, " ".join(rng.choice(words, size=12)), i * 12, i * 12 + 12)
            for i in range(PER_FILE)
        ]
        for _ in range(FILES)
    ]
    return vectors, files


async def add_random_corpus(index: PostgresChunkIndex | SqliteChunkIndex) -> np.ndarray:
    vectors, files = random_corpus()
    for n, chunks in enumerate(files):
        rows = vectors[n * PER_FILE : (n + 1) * PER_FILE]
        await index.add("vs", f"file_{n:02d}", chunks, rows, {"n": n, "even": n % 2 == 0})
    return vectors


@dataclass(frozen=True)
class BothIndexes:
    """The random corpus in the PostgreSQL index and in a SQLite one, to compare rankings."""

    postgres: PostgresChunkIndex
    sqlite: SqliteChunkIndex
    vectors: np.ndarray

    async def search(self, *args: Any, **options: Any) -> tuple[list, list]:
        """One search of each: (PostgreSQL's hits, SQLite's)."""
        return (
            await self.postgres.search(*args, **options),
            await self.sqlite.search(*args, **options),
        )


@pytest.fixture
async def both_indexes(pg_index: PostgresChunkIndex, tmp_path: Path) -> AsyncIterator[BothIndexes]:
    sqlite = SqliteChunkIndex(tmp_path / "chunks.sqlite3")
    try:
        vectors = await add_random_corpus(pg_index)
        await add_random_corpus(sqlite)
        yield BothIndexes(pg_index, sqlite, vectors)
    finally:
        await sqlite.close()


def hit_keys(hits: list) -> list[tuple[str, int, float]]:
    return [(h.file_id, h.chunk_index, h.score) for h in hits]


def test_only_the_postgres_index_is_shared(pg_index: PostgresChunkIndex, tmp_path) -> None:
    assert pg_index.shared is True
    assert SqliteChunkIndex(tmp_path / "chunks.sqlite3").shared is False


async def test_two_processes_answer_every_search_the_same(
    pg_index: PostgresChunkIndex, pgvector_url: str
) -> None:
    vectors = await add_random_corpus(pg_index)
    other = await PostgresChunkIndex.connect(pgvector_url)  # its own pool, as another process
    try:
        for query, n in (("term1 term7 term99", 5), ("term42", 17)):
            for filters in (None, {"type": "eq", "key": "even", "value": True}):
                ours = await pg_index.search(["vs"], [query], vectors[n], 10, 0.0, filters)
                theirs = await other.search(["vs"], [query], vectors[n], 10, 0.0, filters)
                assert hit_keys(ours) == hit_keys(theirs) and len(ours) == 10
    finally:
        await other.close()


@pytest.mark.parametrize(
    "filters",
    [
        None,
        {"type": "eq", "key": "n", "value": 7},  # one file of twenty
        {"type": "in", "key": "n", "value": [3, 11]},
        {"type": "eq", "key": "even", "value": True},
    ],
)
async def test_approximate_dense_search_returns_the_best_chunks_that_pass_the_filter(
    pgvector_url: str, filters: dict | None
) -> None:
    # exact_scan_chunks=0: the HNSW index answers even a store this small.
    index = await PostgresChunkIndex.connect(pgvector_url, exact_scan_chunks=0)
    await _emptied(pgvector_url)
    try:
        vectors = await add_random_corpus(index)
        query = vectors[123]
        hits = await index.search(["vs"], ["x"], query, 10, 0.0, filters, "none", mode="dense")
    finally:
        await index.close()
    passing = [
        row for row in range(len(vectors)) if filters is None or _passes(filters, row // PER_FILE)
    ]
    cosines = vectors[passing] @ query
    best = [passing[i] for i in np.argsort(-cosines)[:10]]
    expected = [(f"file_{row // PER_FILE:02d}", row % PER_FILE) for row in best]
    assert [(h.file_id, h.chunk_index) for h in hits] == expected


def _passes(filters: dict, n: int) -> bool:
    if filters["key"] == "even":
        return n % 2 == 0
    values = filters["value"] if filters["type"] == "in" else [filters["value"]]
    return n in values


async def test_keyword_scores_are_bm25_as_sqlite_computes_it(both_indexes: BothIndexes) -> None:
    # Same corpus, keyword side alone, ranker "none": the fused score is BM25 / best BM25.
    query = both_indexes.vectors[0]
    ours, theirs = await both_indexes.search(
        ["vs"], ["term5 term77"], query, 20, 0.0, None, "none", mode="keyword"
    )
    assert [(h.file_id, h.chunk_index) for h in ours] == [
        (h.file_id, h.chunk_index) for h in theirs
    ]
    assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], abs=1e-5)


async def _term_counts(url: str) -> tuple[dict[tuple[str, str], int], dict[tuple[str, str], int]]:
    """The kept document frequencies, and those counted afresh from the chunks' lexemes."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        kept = await connection.fetch("SELECT store_id, lexeme, chunks FROM chunk_index_terms")
        counted = await connection.fetch(
            "SELECT store_id, lexeme, count(*) AS chunks FROM chunk_index_keywords,"
            " unnest(tsvector_to_array(tsv)) AS lexeme GROUP BY store_id, lexeme"
        )
    finally:
        await connection.close()
    as_dict = lambda rows: {(r["store_id"], r["lexeme"]): r["chunks"] for r in rows}  # noqa: E731
    return as_dict(kept), as_dict(counted)


async def test_document_frequencies_follow_the_files_as_they_come_and_go(
    pg_index: PostgresChunkIndex, pgvector_url: str
) -> None:
    vectors = await add_random_corpus(pg_index)
    await pg_index.add("other", "file_00", [Chunk(0, "term1 only here", 0, 3)], vectors[:1], {})
    # A file replaced by other text, one deleted: words only they held must leave the counts.
    await pg_index.add("vs", "file_03", [Chunk(0, "brandnew term1", 0, 2)], vectors[:1], {})
    await pg_index.delete_file("vs", "file_05")
    kept, counted = await _term_counts(pgvector_url)
    assert kept == counted
    assert kept["vs", "brandnew"] == 1 and ("other", "here") in kept
    await pg_index.delete_file("vs", "file_03")
    kept, counted = await _term_counts(pgvector_url)
    assert kept == counted and ("vs", "brandnew") not in kept
    await pg_index.delete_store("vs")
    kept, _ = await _term_counts(pgvector_url)
    assert {store for store, _ in kept} == {"other"}


async def _postings(url: str) -> tuple[set[tuple], set[tuple]]:
    """The kept postings, and those made afresh from the chunks' text."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        kept = await connection.fetch(
            "SELECT store_id, lexeme, chunk_id, file_id, occurrences, tokens"
            " FROM chunk_index_postings"
        )
        made = await connection.fetch(
            "SELECT c.store_id, u.lexeme, c.id, c.file_id, cardinality(u.positions), c.tokens"
            " FROM chunk_index_chunks c, unnest(to_tsvector('assistantd_english',"
            " regexp_replace(c.text, '[[:punct:]]+', ' ', 'g'))) AS u"
        )
    finally:
        await connection.close()
    return {tuple(r) for r in kept}, {tuple(r) for r in made}


async def test_postings_follow_the_files_as_they_come_and_go(
    pg_index: PostgresChunkIndex, pgvector_url: str
) -> None:
    # BM25 reads each lexeme's postings (count in the chunk, chunk length) from a table of
    # their own: it must hold exactly the chunks' lexemes through adds, a replaced file, a
    # deleted file and a deleted store.
    vectors = await add_random_corpus(pg_index)
    await pg_index.add("other", "file_00", [Chunk(0, "term1 term1 here", 0, 3)], vectors[:1], {})
    kept, made = await _postings(pgvector_url)
    assert kept == made and ("other", "term1", 2, 3) in {(r[0], r[1], r[4], r[5]) for r in kept}
    await pg_index.add("vs", "file_03", [Chunk(0, "brandnew term1", 0, 2)], vectors[:1], {})
    await pg_index.delete_file("vs", "file_05")
    kept, made = await _postings(pgvector_url)
    assert kept == made
    assert {r[3] for r in kept if r[0] == "vs"} == {f"file_{n:02d}" for n in range(20)} - {
        "file_05"
    }
    await pg_index.delete_store("vs")
    kept, made = await _postings(pgvector_url)
    assert kept == made and {r[0] for r in kept} == {"other"}


async def test_keyword_scores_stay_as_sqlite_computes_them_after_files_change(
    both_indexes: BothIndexes,
) -> None:
    # The statistics are kept, not counted per search: they must follow a replaced and a
    # deleted file (with a filter too: the statistics still count the files it drops).
    replacement = [Chunk(i, f"term5 term5 term77 extra{i}", 0, 4) for i in range(30)]
    even = {"type": "eq", "key": "even", "value": True}
    vectors = both_indexes.vectors
    for index in (both_indexes.postgres, both_indexes.sqlite):
        await index.add("vs", "file_04", replacement, vectors[:30], {"n": 4, "even": True})
        await index.delete_file("vs", "file_06")
    found = [
        await both_indexes.search(
            ["vs"], ["term5 term77"], vectors[0], 20, 0.0, filters, "none", mode="keyword"
        )
        for filters in (None, even)
    ]
    for ours, theirs in found:
        assert [(h.file_id, h.chunk_index) for h in ours] == [
            (h.file_id, h.chunk_index) for h in theirs
        ]
        assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], abs=1e-5)
    assert found[0][0][0].file_id == "file_04"


async def test_quoted_identifiers_weigh_as_in_sqlite_whether_rare_or_common(
    pg_index: PostgresChunkIndex, tmp_path
) -> None:
    # 400 chunks: an identifier counts when at most 20 quote it. "2024" (one lexeme) is in 60,
    # so it counts for nothing; "q7" (one lexeme) in 3 and "E-4411" (a phrase) in 1 count. The
    # PostgreSQL index tells the single lexemes apart by their kept document frequencies.
    rng = np.random.default_rng(8)
    texts = [" ".join(rng.choice([f"term{n}" for n in range(50)], size=8)) for _ in range(400)]
    for row in range(60):
        texts[row * 6] += " released 2024"
    for row in (7, 101, 333):
        texts[row] += " model q7"
    texts[250] += " error E-4411"
    vectors = rng.standard_normal((400, DIMS)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    query = rng.standard_normal(DIMS).astype(np.float32)
    query /= np.linalg.norm(query)
    sqlite = SqliteChunkIndex(tmp_path / "chunks.sqlite3")
    queries = ["fix for q7 in 2024", "error E-4411 of 2024", "term3 2024"]
    try:
        found = []
        for index in (pg_index, sqlite):
            for f in range(4):
                chunks = [Chunk(i, texts[f * 100 + i], 0, 10) for i in range(100)]
                await index.add("vs", f"file_{f}", chunks, vectors[f * 100 : (f + 1) * 100], {})
            found.append([await index.search(["vs"], [q], query, 10) for q in queries])
    finally:
        await sqlite.close()
    for ours, theirs in zip(*found, strict=True):
        assert [(h.file_id, h.chunk_index) for h in ours] == [
            (h.file_id, h.chunk_index) for h in theirs
        ]
        assert [h.score for h in ours] == pytest.approx([h.score for h in theirs], abs=1e-5)
    # The rare identifiers' chunks score at least ln(N/k)/ln(N)/2 (ranking.py): 0.41 for q7's
    # three, 0.5 for E-4411's one.
    scores = [{(h.file_id, h.chunk_index): h.score for h in hits} for hits in found[0]]
    assert all(scores[0].get(key, 0) >= 0.41 for key in (("file_0", 7), ("file_1", 1)))
    assert scores[0].get(("file_3", 33), 0) >= 0.41
    assert scores[1].get(("file_2", 50), 0) >= 0.5


def test_migration_0014_gives_an_indexed_store_its_postings(tmp_path) -> None:
    # A database whose chunks were indexed before the postings table existed: the upgrade
    # makes their postings, and searches score as on a store indexed afterwards.
    reason = pgvector_unavailable("pgvector")
    if reason:
        pytest.skip(reason)
    with fresh_database("pgvector", tmp_path) as url:
        asyncio.run(_upgrade_to(url, "0013"))
        asyncio.run(_keyword_rows(url, "vs", "file_00", ["term1 term2 term1", "term3, term2"]))
        asyncio.run(_upgrade_to(url, "heads"))
        kept, made = asyncio.run(_postings(url))
    assert kept == made and len(kept) == 4


async def _upgrade_to(url: str, revision: str) -> None:
    from alembic import command
    from sqlalchemy.ext.asyncio import create_async_engine

    from assistantd.store.migrate import alembic_config

    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(lambda c: command.upgrade(alembic_config(c), revision))
    await engine.dispose()


async def _keyword_rows(url: str, store_id: str, file_id: str, texts: list[str]) -> None:
    """Chunks with their keyword rows, as the index wrote them before migration 0014."""
    connection = await asyncpg.connect(asyncpg_url(url))
    try:
        for position, text in enumerate(texts):
            await connection.execute(
                "WITH c AS (INSERT INTO chunk_index_chunks (store_id, file_id, position,"
                " start_token, end_token, text, tokens, dims, embedding)"
                " VALUES ($1, $2, $3, 0, 3, $4, 3, 2, '[1,0]') RETURNING *)"
                " INSERT INTO chunk_index_keywords (id, store_id, file_id, tokens, tsv)"
                " SELECT id, store_id, file_id, tokens, to_tsvector('assistantd_english',"
                " regexp_replace(text, '[[:punct:]]+', ' ', 'g')) FROM c",
                store_id,
                file_id,
                position,
                text,
            )
    finally:
        await connection.close()


async def test_several_query_vectors_rank_as_in_sqlite(both_indexes: BothIndexes) -> None:
    # Two queries (as a rewritten query searches): each chunk's cosine is its best over both,
    # and each query's nearest chunks are candidates, in the one search statement.
    queries, query_vectors = ["term5 term77", "term9"], both_indexes.vectors[[3, 1500]]
    found = [
        await both_indexes.search(["vs"], queries, query_vectors, 20, 0.0, filters, "auto")
        for filters in (None, {"type": "eq", "key": "even", "value": True})
    ]
    # Ties (both queries' own chunks score alike) are broken by each index's chunk ids.
    for ours, theirs in found:
        rounded = [
            sorted((f, c, round(score, 5)) for f, c, score in hit_keys(hits))
            for hits in (ours, theirs)
        ]
        assert rounded[0] == rounded[1]
    assert {(h.file_id, h.chunk_index) for h in found[0][0][:2]} == {("file_00", 3), ("file_15", 0)}
