"""Vector-store files: who is indexing each (``claimed_by``), until when the claim holds unless
renewed (``lease_expires_at``, Unix seconds), and how many claims it took (``claims``).

Several server processes on one database then index each file once, and a file whose indexer
died is taken over when its lease lapses (``retrieval/ingestion_worker.py``).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("vector_store_files") as files:
        files.add_column(sa.Column("claimed_by", sa.String(64), nullable=True))
        files.add_column(sa.Column("lease_expires_at", sa.Float, nullable=True))
        files.add_column(sa.Column("claims", sa.Integer, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("vector_store_files") as files:
        files.drop_column("claims")
        files.drop_column("lease_expires_at")
        files.drop_column("claimed_by")
