"""Keyword search over one FTS5 table per vector store, inside the chunk index's SQLite file.

Why per store: restricting one shared FTS table to a store meant joining every match to
``chunks`` (≈3x the cost of the FTS query itself at 100k chunks), and BM25's document statistics
mixed all tenants' files. A store's own table needs no restriction, and its IDF and average
length are the store's. ``keyword_stores`` maps each store to its table ``fts_<key>``; the key
is never reused, so a name cannot come to mean another store.

The tables are external-content FTS5 over ``chunks`` (no second copy of the text); a row is
forgotten only when told its old text, which ``forget_file`` does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

import numpy as np

from assistantd.retrieval.keyword_query import phrase_tokens, query_words

SCHEMA = """
CREATE TABLE IF NOT EXISTS keyword_stores (
    key INTEGER PRIMARY KEY AUTOINCREMENT, store_id TEXT NOT NULL UNIQUE
);
"""
_TOKENIZER = "porter unicode61 remove_diacritics 2"


def fts_query(queries: list[str]) -> str:
    """An FTS5 expression matching any word of the queries, each quoted so none is syntax."""
    return " OR ".join(f'"{word}"' for word in query_words(queries))


def fts_phrase(word: str) -> str:
    """An FTS5 phrase of the tokens of ``word``: ``E-4411`` → ``"e 4411"``."""
    return '"' + " ".join(phrase_tokens(word)) + '"'


def table_of(db: sqlite3.Connection, store_id: str) -> str | None:
    row = db.execute("SELECT key FROM keyword_stores WHERE store_id = ?", (store_id,)).fetchone()
    return f"fts_{row[0]}" if row else None


def ensure_table(db: sqlite3.Connection, store_id: str) -> str:
    """The store's table, created (inside the caller's transaction) on its first file."""
    table = table_of(db, store_id)
    if table is None:
        cursor = db.execute("INSERT INTO keyword_stores (store_id) VALUES (?)", (store_id,))
        table = f"fts_{cursor.lastrowid}"
        db.execute(
            f"CREATE VIRTUAL TABLE {table} USING fts5(text, content='chunks',"
            f" content_rowid='id', tokenize='{_TOKENIZER}')"
        )
    return table


def index_rows(db: sqlite3.Connection, table: str, rows: Iterable[tuple[int, str]]) -> None:
    """Add ``(chunk id, text)`` rows to the store's table."""
    db.executemany(f"INSERT INTO {table} (rowid, text) VALUES (?, ?)", rows)


def forget_file(db: sqlite3.Connection, store_id: str, file_id: str) -> None:
    """Remove a file's chunks from the store's table (call before deleting them from chunks)."""
    table = table_of(db, store_id)
    if table is not None:
        db.execute(
            f"INSERT INTO {table} ({table}, rowid, text) SELECT 'delete', id, text"
            " FROM chunks WHERE store_id = ? AND file_id = ?",
            (store_id, file_id),
        )


def drop_store(db: sqlite3.Connection, store_id: str) -> None:
    table = table_of(db, store_id)
    if table is not None:
        db.execute(f"DROP TABLE {table}")
        db.execute("DELETE FROM keyword_stores WHERE store_id = ?", (store_id,))


def ranked_ids(
    db: sqlite3.Connection,
    table: str,
    expression: str,
    pool: int,
    allowed_ids: np.ndarray | None = None,
) -> list[tuple[int, float]]:
    """``(chunk id, bm25)`` of the ``pool`` best matches, best (lowest bm25) first.

    ``allowed_ids`` (sorted) keeps only those chunks, e.g. the files passing a filter: matches
    are read best first in batches until ``pool`` of them pass.
    """
    sql = f"SELECT rowid, bm25({table}) AS score FROM {table} WHERE {table} MATCH ? ORDER BY score"
    if allowed_ids is None:
        return db.execute(sql + " LIMIT ?", (expression, pool)).fetchall()
    if not len(allowed_ids):
        return []
    cursor = db.execute(sql, (expression,))
    kept: list[tuple[int, float]] = []
    while len(kept) < pool and (batch := cursor.fetchmany(max(4 * pool, 256))):
        ids = np.fromiter((row[0] for row in batch), dtype=np.int64, count=len(batch))
        at = np.minimum(np.searchsorted(allowed_ids, ids), len(allowed_ids) - 1)
        keep = allowed_ids[at] == ids
        kept.extend(row for row, ok in zip(batch, keep.tolist(), strict=True) if ok)
    cursor.close()
    return kept[:pool]


def quoting_ids(db: sqlite3.Connection, table: str, phrase: str, limit: int) -> list[int]:
    """Ids of up to ``limit`` chunks whose text holds ``phrase`` (no ranking: ids only)."""
    sql = f"SELECT rowid FROM {table} WHERE {table} MATCH ? LIMIT ?"
    return [chunk_id for (chunk_id,) in db.execute(sql, (phrase, limit))]


def migrate_shared_table(db: sqlite3.Connection) -> None:
    """Move an index built with the old shared ``chunks_fts`` table to per-store tables."""
    if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'chunks_fts'").fetchone():
        return
    with db:
        for (store_id,) in db.execute("SELECT DISTINCT store_id FROM chunks").fetchall():
            table = ensure_table(db, store_id)
            db.execute(
                f"INSERT INTO {table} (rowid, text) SELECT id, text FROM chunks WHERE store_id = ?",
                (store_id,),
            )
        db.execute("DROP TABLE chunks_fts")
