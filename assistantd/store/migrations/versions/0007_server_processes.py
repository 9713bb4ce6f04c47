"""Server processes: each live process of a deployment, and whether what it keeps is shared.

Start-up reads it to refuse a configuration that would give wrong answers beside another live
process on the same database (see ``assistantd/deployment.py``).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "server_processes",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(32), nullable=False),
        # What the process keeps on its own machine, if anything ("" when all is shared).
        sa.Column("local_state", sa.String(256), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("seen_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("server_processes")
