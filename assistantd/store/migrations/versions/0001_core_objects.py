"""Assistants, threads, messages, runs and run steps.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from assistantd.store import run_statuses
from assistantd.store.tables import DocumentType, SeqType

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _document_columns() -> list[sa.Column]:
    return [
        sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("data", DocumentType, nullable=False),
    ]


def upgrade() -> None:
    op.create_table("assistants", *_document_columns())
    op.create_index("ix_assistants_tenant_seq", "assistants", ["tenant", "seq"])
    op.create_table("threads", *_document_columns())
    op.create_index("ix_threads_tenant_seq", "threads", ["tenant", "seq"])

    op.create_table(
        "messages",
        *_document_columns(),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
    )
    op.create_index("ix_messages_thread_seq", "messages", ["tenant", "thread_id", "seq"])
    op.create_index("ix_messages_run_seq", "messages", ["tenant", "run_id", "seq"])

    op.create_table(
        "runs",
        *_document_columns(),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
    )
    op.create_index("ix_runs_thread_seq", "runs", ["tenant", "thread_id", "seq"])
    op.create_index("ix_runs_status", "runs", ["status"])
    active = sa.text(f"status IN {run_statuses.ACTIVE}")
    op.create_index(
        "ux_runs_one_active_per_thread",
        "runs",
        ["thread_id"],
        unique=True,
        sqlite_where=active,
        postgresql_where=active,
    )

    op.create_table(
        "run_steps",
        *_document_columns(),
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_run_steps_run_seq", "run_steps", ["tenant", "run_id", "seq"])


def downgrade() -> None:
    for table in ("run_steps", "runs", "messages", "threads", "assistants"):
        op.drop_table(table)
