"""The shared chunk index (PostgreSQL with pgvector): chunks, their files, per-store statistics.

Acts only on PostgreSQL, and only where the ``vector`` extension can be created; elsewhere it
does nothing and the server keeps its local SQLite chunk index (``retrieval/file_services.py``
says so in the log). The HNSW indexes are made per embedding size by the index itself, on the
first file of that size (``retrieval/postgres_index.py``): the size is not known before.

Keyword search uses a text search configuration of its own: English snowball stemming without
a stop-word list, so that, as in the SQLite index, every word counts in a chunk's length and
statistics and only the query drops function words (``retrieval/keyword_query.py``).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_UPGRADE = [
    "CREATE TEXT SEARCH DICTIONARY assistantd_stem (TEMPLATE = snowball, LANGUAGE = english)",
    "CREATE TEXT SEARCH CONFIGURATION assistantd_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION assistantd_english"
    " ALTER MAPPING REPLACE english_stem WITH assistantd_stem",
    """CREATE TABLE chunk_index_stores (
        store_id text PRIMARY KEY,
        chunks bigint NOT NULL DEFAULT 0,
        tokens bigint NOT NULL DEFAULT 0,
        dims integer
    )""",
    """CREATE TABLE chunk_index_files (
        store_id text NOT NULL,
        file_id text NOT NULL,
        attributes jsonb NOT NULL,
        chunks integer NOT NULL,
        tokens bigint NOT NULL,
        PRIMARY KEY (store_id, file_id)
    )""",
    # Punctuation becomes a space before parsing, so words split where SQLite's unicode61
    # tokenizer splits them ("E-4411" is the words "e" and "4411", as a phrase).
    """CREATE TABLE chunk_index_chunks (
        id bigserial PRIMARY KEY,
        store_id text NOT NULL,
        file_id text NOT NULL,
        position integer NOT NULL,
        start_token integer NOT NULL,
        end_token integer NOT NULL,
        text text NOT NULL,
        tokens integer NOT NULL,
        dims integer NOT NULL,
        embedding vector NOT NULL,
        tsv tsvector GENERATED ALWAYS AS (
            to_tsvector('assistantd_english'::regconfig,
                        regexp_replace(text, '[[:punct:]]+', ' ', 'g'))
        ) STORED
    )""",
    # Embeddings stay in the row (pgvector's default moves them out to TOAST, where an exact
    # scan read three pages a chunk): random floats do not compress anyway.
    "ALTER TABLE chunk_index_chunks ALTER COLUMN embedding SET STORAGE MAIN",
    "CREATE INDEX chunk_index_chunks_by_file ON chunk_index_chunks (store_id, file_id, position)",
    "CREATE INDEX chunk_index_chunks_tsv ON chunk_index_chunks USING gin (tsv)",
]
_DOWNGRADE = [
    "DROP TABLE IF EXISTS chunk_index_chunks",
    "DROP TABLE IF EXISTS chunk_index_files",
    "DROP TABLE IF EXISTS chunk_index_stores",
    "DROP TEXT SEARCH CONFIGURATION IF EXISTS assistantd_english",
    "DROP TEXT SEARCH DICTIONARY IF EXISTS assistantd_stem",
]


def _vector_extension(connection: sa.Connection) -> bool:
    """Create the extension where it can be; a failure (not installed, no right) leaves the
    transaction as it was, thanks to the savepoint."""
    available = connection.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
    ).first()
    if available is None:
        return False
    savepoint = connection.begin_nested()
    try:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    except sa.exc.DBAPIError:
        savepoint.rollback()
        return False
    savepoint.commit()
    return True


def upgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name != "postgresql" or not _vector_extension(connection):
        return
    for statement in _UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DOWNGRADE:
            op.execute(statement)
