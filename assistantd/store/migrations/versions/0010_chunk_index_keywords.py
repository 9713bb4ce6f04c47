"""The shared chunk index's keyword side in tables of its own: each chunk's ``tsvector`` in a
narrow table, and each store's document frequency per lexeme kept up to date.

Why: a search's BM25 read the ``tsvector`` of every matching chunk from ``chunk_index_chunks``,
whose rows carry the embedding inline (≈2 KB a row), so the ``tsvector`` went to TOAST and each
matching chunk cost a wide heap page plus TOAST pages; and the document frequencies were
counted over those matches on every search. At 100k chunks that statement took ≈30 of a
search's ≈43 ms (bench/bench_retrieval.py --indexes). ``chunk_index_keywords`` holds only
what the keyword side reads, ``chunk_index_terms`` the frequencies
(``retrieval/postgres_index.py`` maintains both as it adds and deletes files).

Numbered 0010 to stay clear of a 0009 on another branch; it follows 0008 here.

Revision ID: 0010
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None

_UPGRADE = [
    """CREATE TABLE chunk_index_keywords (
        id bigint PRIMARY KEY,
        store_id text NOT NULL,
        file_id text NOT NULL,
        tokens integer NOT NULL,
        tsv tsvector NOT NULL
    )""",
    # Compressed in the row rather than moved to TOAST: a TOASTed value costs an index and a
    # heap lookup more per matching chunk.
    "ALTER TABLE chunk_index_keywords ALTER COLUMN tsv SET STORAGE MAIN",
    """CREATE TABLE chunk_index_terms (
        store_id text NOT NULL,
        lexeme text NOT NULL,
        chunks bigint NOT NULL,
        PRIMARY KEY (store_id, lexeme)
    )""",
    """INSERT INTO chunk_index_keywords (id, store_id, file_id, tokens, tsv)
       SELECT id, store_id, file_id, tokens, tsv FROM chunk_index_chunks""",
    """INSERT INTO chunk_index_terms (store_id, lexeme, chunks)
       SELECT store_id, lexeme, count(*)
       FROM chunk_index_keywords, unnest(tsvector_to_array(tsv)) AS lexeme
       GROUP BY store_id, lexeme""",
    "CREATE INDEX chunk_index_keywords_tsv ON chunk_index_keywords USING gin (tsv)",
    # No index by file: deletes find a file's rows through chunk_index_chunks, and with one the
    # planner ANDed it into filtered keyword searches (a bitmap of ~50k rows, ≈8 ms at 100k).
    # Its GIN index goes with it.
    "ALTER TABLE chunk_index_chunks DROP COLUMN tsv",
]
_DOWNGRADE = [
    """ALTER TABLE chunk_index_chunks ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
        to_tsvector('assistantd_english'::regconfig,
                    regexp_replace(text, '[[:punct:]]+', ' ', 'g'))
    ) STORED""",
    "CREATE INDEX chunk_index_chunks_tsv ON chunk_index_chunks USING gin (tsv)",
    "DROP TABLE chunk_index_terms",
    "DROP TABLE chunk_index_keywords",
]


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
