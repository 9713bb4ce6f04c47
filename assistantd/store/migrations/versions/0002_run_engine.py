"""The run engine: leases and bookkeeping on runs, history position on run steps.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from assistantd.store.tables import DocumentType, SeqType

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("claimed_by", sa.String(128), nullable=True))
        runs.add_column(sa.Column("lease_expires_at", sa.Float, nullable=True))
        runs.add_column(sa.Column("expires_at", sa.BigInteger, nullable=True))
        runs.add_column(sa.Column("engine", DocumentType, nullable=True))
    op.create_index("ix_runs_status_expires", "runs", ["status", "expires_at"])
    with op.batch_alter_table("run_steps") as steps:
        steps.add_column(sa.Column("message_seq", SeqType, nullable=True))
        steps.add_column(sa.Column("engine", DocumentType, nullable=True))
    op.create_index("ix_run_steps_thread_seq", "run_steps", ["tenant", "thread_id", "seq"])


def downgrade() -> None:
    op.drop_index("ix_run_steps_thread_seq", "run_steps")
    with op.batch_alter_table("run_steps") as steps:
        steps.drop_column("engine")
        steps.drop_column("message_seq")
    op.drop_index("ix_runs_status_expires", "runs")
    with op.batch_alter_table("runs") as runs:
        for column in ("engine", "expires_at", "lease_expires_at", "claimed_by"):
            runs.drop_column(column)
