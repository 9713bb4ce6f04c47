"""Keyword search per store: restriction without a join, per-store BM25, the old-schema upgrade."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from assistantd.retrieval import Chunk, SqliteChunkIndex


def chunks_of(*texts: str) -> list[Chunk]:
    return [Chunk(index=i, text=t, start_token=i, end_token=i + 1) for i, t in enumerate(texts)]


def vectors(count: int, dims: int = 4) -> np.ndarray:
    # All chunks share one direction, so dense search cannot tell them apart: the order below
    # is the keyword order.
    return np.tile(np.eye(1, dims, dtype=np.float32), (count, 1))


QUERY = np.eye(1, 4, dtype=np.float32)[0]


async def test_keyword_search_stays_inside_the_asked_stores(index: SqliteChunkIndex) -> None:
    await index.add("vs_mine", "f_mine", chunks_of("zebra notes", "other text"), vectors(2), {})
    # Another tenant's store matches the query word far better and far more often.
    others = chunks_of(*["zebra zebra zebra stripes"] * 30)
    await index.add("vs_other", "f_other", others, vectors(30), {})
    hits = await index.search(
        ["vs_mine"], ["zebra"], QUERY, max_num_results=50, ranker="none", mode="keyword"
    )
    assert {h.store_id for h in hits} == {"vs_mine"}
    assert hits[0].content == "zebra notes"
    both = await index.search(["vs_mine", "vs_other"], ["zebra"], QUERY, max_num_results=50)
    assert {h.store_id for h in both} == {"vs_mine", "vs_other"}


async def test_bm25_statistics_are_the_stores_own(index: SqliteChunkIndex) -> None:
    texts = ("the quokka eats leaves", "the wombat digs burrows", "a quokka and a wombat")
    await index.add("vs_a", "f", chunks_of(*texts), vectors(3), {})
    before = await index.search(["vs_a"], ["quokka wombat"], QUERY, ranker="none")
    # Another store full of "quokka" makes the word common there, not in vs_a.
    await index.add("vs_b", "f", chunks_of(*["quokka"] * 40), vectors(40), {})
    after = await index.search(["vs_a"], ["quokka wombat"], QUERY, ranker="none")
    assert [(h.content, h.score) for h in after] == [(h.content, h.score) for h in before]


async def test_a_deleted_store_can_be_refilled(index: SqliteChunkIndex) -> None:
    await index.add("vs", "f1", chunks_of("old heron text"), vectors(1), {})
    await index.delete_store("vs")
    await index.add("vs", "f2", chunks_of("new heron text"), vectors(1), {})
    hits = await index.search(["vs"], ["heron"], QUERY)
    assert [h.file_id for h in hits] == ["f2"]


async def test_filters_restrict_keyword_matches_per_file(index: SqliteChunkIndex) -> None:
    for n in range(6):
        texts = [f"otter report {n} part {i}" for i in range(40)]
        await index.add("vs", f"f{n}", chunks_of(*texts), vectors(40), {"n": n})
    only_five = {"type": "eq", "key": "n", "value": 5}
    hits = await index.search(
        ["vs"], ["otter"], QUERY, 50, filters=only_five, ranker="none", mode="keyword"
    )
    # f5's chunks are 40 of 240 equally good matches: the others are read past, not kept.
    assert len(hits) == 40 and {h.file_id for h in hits} == {"f5"}


OLD_SCHEMA = """
CREATE TABLE files (
    store_id TEXT NOT NULL, file_id TEXT NOT NULL, attributes TEXT NOT NULL,
    PRIMARY KEY (store_id, file_id)
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY, store_id TEXT NOT NULL, file_id TEXT NOT NULL,
    position INTEGER NOT NULL, start_token INTEGER NOT NULL, end_token INTEGER NOT NULL,
    text TEXT NOT NULL, vector BLOB NOT NULL
);
CREATE VIRTUAL TABLE chunks_fts USING fts5(
    text, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
);
"""


async def test_an_index_with_the_old_shared_fts_table_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    blob = np.eye(1, 4, dtype=np.float32)[0].tobytes()
    for chunk_id, (store, text) in enumerate([("vs_a", "pelican facts"), ("vs_b", "pelicans")]):
        db.execute("INSERT INTO files VALUES (?, 'f', '{}')", (store,))
        db.execute(
            "INSERT INTO chunks VALUES (?, ?, 'f', 0, 0, 1, ?, ?)", (chunk_id, store, text, blob)
        )
        db.execute("INSERT INTO chunks_fts (rowid, text) VALUES (?, ?)", (chunk_id, text))
    db.commit()
    db.close()
    index = SqliteChunkIndex(path)
    hits = await index.search(["vs_a"], ["pelican"], QUERY, ranker="none")
    await index.close()
    assert [h.content for h in hits] == ["pelican facts"]
    with sqlite3.connect(path) as db:
        names = {name for (name,) in db.execute("SELECT name FROM sqlite_master")}
    assert "chunks_fts" not in names
