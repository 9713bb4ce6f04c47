"""The shared chunk index's postings: one row per (store, lexeme, chunk) with the lexeme's
count in the chunk and the chunk's length, so a keyword search's BM25 is a range read of one
index per query lexeme and a sum, with nothing to compute per chunk from its ``tsvector``.

Why: the BM25 statement found the matching chunks through the GIN index, then decompressed,
filtered and unnested each one's ``tsvector`` (≈8 µs a chunk); at 100k chunks a 4-word query
matches ≈3,200 of them and that statement was most of a search's time
(bench/bench_retrieval.py --indexes). The primary key carries the rest of the row
(``INCLUDE``), so the read is an index-only scan. ``chunk_index_keywords`` stays: quoted
identifiers are phrase searches, which need the positions. ``retrieval/postgres_index.py``
keeps the postings as it adds and deletes files.

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_UPGRADE = [
    """CREATE TABLE chunk_index_postings (
        store_id text NOT NULL,
        lexeme text NOT NULL,
        chunk_id bigint NOT NULL,
        file_id text NOT NULL,
        occurrences integer NOT NULL,
        tokens integer NOT NULL,
        PRIMARY KEY (store_id, lexeme, chunk_id) INCLUDE (file_id, occurrences, tokens)
    )""",
    """INSERT INTO chunk_index_postings (store_id, lexeme, chunk_id, file_id, occurrences, tokens)
       SELECT k.store_id, u.lexeme, k.id, k.file_id, cardinality(u.positions), k.tokens
       FROM chunk_index_keywords k, unnest(k.tsv) AS u""",
]
_DOWNGRADE = ["DROP TABLE chunk_index_postings"]


def _has_chunk_index(connection: sa.Connection) -> bool:
    """Migration 0005 made the index only where pgvector could be had."""
    if connection.dialect.name != "postgresql":
        return False
    found = connection.execute(sa.text("SELECT to_regclass('chunk_index_chunks')")).scalar()
    return found is not None


def upgrade() -> None:
    if _has_chunk_index(op.get_bind()):
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if _has_chunk_index(op.get_bind()):
        for statement in _DOWNGRADE:
            op.execute(statement)
