"""Files: ``expires_at`` as a column, filled from each file's wire object.

Lists leave out expired files, and the expiry sweep finds them, in the query itself.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# The table as this revision knows it (frozen here, not the live model).
_files = sa.table("files", sa.column("data", sa.JSON), sa.column("expires_at", sa.BigInteger))
_ONLY_EXPIRING = sa.text("expires_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("files") as files:
        files.add_column(sa.Column("expires_at", sa.BigInteger, nullable=True))
    op.create_index(
        "ix_files_expires_at",
        "files",
        ["expires_at"],
        sqlite_where=_ONLY_EXPIRING,
        postgresql_where=_ONLY_EXPIRING,
    )
    # Files uploaded before this revision keep the expiry they were given.
    given = _files.c.data["expires_at"].as_string()
    op.execute(
        _files.update().where(given.is_not(None)).values(expires_at=sa.cast(given, sa.BigInteger))
    )


def downgrade() -> None:
    op.drop_index("ix_files_expires_at", "files")
    with op.batch_alter_table("files") as files:
        files.drop_column("expires_at")
