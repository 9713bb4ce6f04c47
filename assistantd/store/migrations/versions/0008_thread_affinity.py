"""Thread affinity: which worker holds a thread's code_interpreter session, and until when.

A worker claims no run of a thread whose session another live worker holds, so a thread's
Python state stays with its runs (see ``store/thread_affinity.py``).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "thread_affinity",
        sa.Column("thread_id", sa.String(64), primary_key=True),
        sa.Column("worker", sa.String(128), nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("thread_affinity")
