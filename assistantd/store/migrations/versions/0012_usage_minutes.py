"""Model usage per tenant, model and minute, for the Usage API (``/v1/organization/usage/…``).

Every model call whose tokens are known adds to its minute's row: each turn of a run (in the
turn's own transaction) and each pass-through chat completion or embeddings call. ``kind`` is
``completions`` or ``embeddings``. ``slot`` spreads one busy minute of one project and model
over up to 16 rows on PostgreSQL (picked at random per write), so concurrent runs do not queue on
one row's lock (SQLite, one writer, keeps one); reads sum the slots.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_minutes",
        sa.Column("minute", sa.BigInteger, primary_key=True),  # unix seconds, a multiple of 60
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(256), primary_key=True),
        sa.Column("slot", sa.SmallInteger, primary_key=True),
        sa.Column("input_tokens", sa.BigInteger, nullable=False),
        sa.Column("input_cached_tokens", sa.BigInteger, nullable=False),
        sa.Column("output_tokens", sa.BigInteger, nullable=False),
        sa.Column("requests", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("usage_minutes")
