"""Files, uploads and their parts, vector stores, vector-store files and file batches.

Revision ID: 0003
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from assistantd.store.tables import DocumentType, SeqType

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def _document_columns(unique_id: bool = True) -> list[sa.Column]:
    return [
        sa.Column("seq", SeqType, primary_key=True, autoincrement=True),
        sa.Column("id", sa.String(64), nullable=False, unique=unique_id),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("data", DocumentType, nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "files", *_document_columns(), sa.Column("purpose", sa.String(32), nullable=False)
    )
    op.create_index("ix_files_tenant_seq", "files", ["tenant", "seq"])
    op.create_index("ix_files_purpose_seq", "files", ["tenant", "purpose", "seq"])

    op.create_table("uploads", *_document_columns())
    op.create_index("ix_uploads_tenant_seq", "uploads", ["tenant", "seq"])
    op.create_table(
        "upload_parts",
        *_document_columns(),
        sa.Column("upload_id", sa.String(64), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_upload_parts_upload", "upload_parts", ["tenant", "upload_id", "seq"])

    op.create_table("vector_stores", *_document_columns())
    op.create_index("ix_vector_stores_tenant_seq", "vector_stores", ["tenant", "seq"])
    op.create_table(
        "vector_store_files",
        *_document_columns(unique_id=False),
        sa.Column("vector_store_id", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("usage_bytes", sa.BigInteger, nullable=False),
        sa.UniqueConstraint("vector_store_id", "id", name="uq_vector_store_files_store_file"),
    )
    op.create_index(
        "ix_vector_store_files_store_seq",
        "vector_store_files",
        ["tenant", "vector_store_id", "seq"],
    )
    op.create_index(
        "ix_vector_store_files_batch_seq", "vector_store_files", ["tenant", "batch_id", "seq"]
    )
    op.create_index("ix_vector_store_files_file", "vector_store_files", ["tenant", "id"])
    op.create_index("ix_vector_store_files_status", "vector_store_files", ["status"])
    op.create_table(
        "vector_store_file_batches",
        *_document_columns(),
        sa.Column("vector_store_id", sa.String(64), nullable=False),
    )
    op.create_index(
        "ix_file_batches_store_seq",
        "vector_store_file_batches",
        ["tenant", "vector_store_id", "seq"],
    )


def downgrade() -> None:
    for table in (
        "vector_store_file_batches",
        "vector_store_files",
        "vector_stores",
        "upload_parts",
        "uploads",
        "files",
    ):
        op.drop_table(table)
