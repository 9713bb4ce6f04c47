"""The tables. Every object is one row: indexed columns for what queries filter and order by,
and ``data``, the wire object itself as JSON.

``seq`` is the insertion order. Lists order by it (it agrees with ``created_at``, which has only
second resolution) and page through an index on ``(tenant, <parent>, seq)``, so a page costs the
same however long the list is.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from assistantd.store import run_statuses

SeqType = BigInteger().with_variant(Integer(), "sqlite")
DocumentType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    pass


class Document:
    """Columns every stored object has."""

    seq: Mapped[int] = mapped_column(SeqType, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[dict[str, Any]] = mapped_column(DocumentType)


class Assistant(Document, Base):
    __tablename__ = "assistants"
    __table_args__ = (Index("ix_assistants_tenant_seq", "tenant", "seq"),)


class Thread(Document, Base):
    __tablename__ = "threads"
    __table_args__ = (Index("ix_threads_tenant_seq", "tenant", "seq"),)


class Message(Document, Base):
    __tablename__ = "messages"
    thread_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    __table_args__ = (
        Index("ix_messages_thread_seq", "tenant", "thread_id", "seq"),
        Index("ix_messages_run_seq", "tenant", "run_id", "seq"),
    )


class Run(Document, Base):
    __tablename__ = "runs"
    thread_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    # The run engine's bookkeeping (not part of the wire object): which worker holds the run and
    # until when, when it expires, and its running totals (usage, the pending tool-call step).
    claimed_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    expires_at: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    engine: Mapped[dict[str, Any] | None] = mapped_column(DocumentType, nullable=True)
    __table_args__ = (
        Index("ix_runs_thread_seq", "tenant", "thread_id", "seq"),
        Index("ix_runs_tenant_seq", "tenant", "seq"),  # GET /v1/runs
        Index("ix_runs_status", "status"),
        Index("ix_runs_status_expires", "status", "expires_at"),
        # The thread lock: at most one active run per thread, enforced by the database itself.
        Index(
            "ux_runs_one_active_per_thread",
            "thread_id",
            unique=True,
            sqlite_where=text(f"status IN {run_statuses.ACTIVE}"),
            postgresql_where=text(f"status IN {run_statuses.ACTIVE}"),
        ),
    )


class RunStep(Document, Base):
    __tablename__ = "run_steps"
    thread_id: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(64))
    # Where a tool_calls step sits in the thread's history: after the message with this seq.
    message_seq: Mapped[int | None] = mapped_column(SeqType, nullable=True)
    # The calls as the model saw them (name, arguments, the output it is given back).
    engine: Mapped[dict[str, Any] | None] = mapped_column(DocumentType, nullable=True)
    __table_args__ = (
        Index("ix_run_steps_run_seq", "tenant", "run_id", "seq"),
        Index("ix_run_steps_thread_seq", "tenant", "thread_id", "seq"),
    )
