"""Tables of files, uploads and vector stores (same shape as ``tables.py``: indexed columns plus
the wire object in ``data``)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from assistantd.store.tables import Base, Document


class File(Document, Base):
    __tablename__ = "files"
    purpose: Mapped[str] = mapped_column(String(32))
    # The wire ``expires_at`` (None: kept until deleted), so queries can leave expired files out.
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    __table_args__ = (
        Index("ix_files_tenant_seq", "tenant", "seq"),
        Index("ix_files_purpose_seq", "tenant", "purpose", "seq"),
        # The expiry sweep's: only files that expire at all.
        Index(
            "ix_files_expires_at",
            "expires_at",
            sqlite_where=text("expires_at IS NOT NULL"),
            postgresql_where=text("expires_at IS NOT NULL"),
        ),
    )


class Upload(Document, Base):
    __tablename__ = "uploads"
    __table_args__ = (Index("ix_uploads_tenant_seq", "tenant", "seq"),)


class UploadPart(Document, Base):
    __tablename__ = "upload_parts"
    upload_id: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int] = mapped_column(BigInteger)
    __table_args__ = (Index("ix_upload_parts_upload", "tenant", "upload_id", "seq"),)


class VectorStore(Document, Base):
    __tablename__ = "vector_stores"
    __table_args__ = (Index("ix_vector_stores_tenant_seq", "tenant", "seq"),)


class VectorStoreFile(Document, Base):
    """One file in one store. Its wire ``id`` is the file's id, so ``id`` is unique only within
    a store."""

    __tablename__ = "vector_store_files"
    id: Mapped[str] = mapped_column(String(64))
    vector_store_id: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    usage_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # The ingestion worker indexing the file, its lease (Unix seconds), and claims taken so far.
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    claims: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (
        UniqueConstraint("vector_store_id", "id", name="uq_vector_store_files_store_file"),
        Index("ix_vector_store_files_store_seq", "tenant", "vector_store_id", "seq"),
        Index("ix_vector_store_files_batch_seq", "tenant", "batch_id", "seq"),
        Index("ix_vector_store_files_file", "tenant", "id"),
        Index("ix_vector_store_files_status", "status"),
    )


class FileBatch(Document, Base):
    __tablename__ = "vector_store_file_batches"
    vector_store_id: Mapped[str] = mapped_column(String(64))
    __table_args__ = (Index("ix_file_batches_store_seq", "tenant", "vector_store_id", "seq"),)
