"""Projects, their service accounts and API keys, and per-project rate limits (issue #13).

A project is the tenant: ``projects.tenant`` is the value every object row's ``tenant`` column
holds for it. Keys are stored as the SHA-256 of their value only. ``auth_generation`` is one row
whose counter every change that must reach every process's key cache (a key deleted, a project
archived, a rate limit changed) increments in its own transaction.

The ``default`` project (id ``proj_default``) owns tenant ``default``: what was made before any
key was configured stays reachable through its keys.

Revision ID: 0011
Revises: 0010
"""

import time

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _seq() -> sa.Column:
    # Lists follow insertion order (``created_at`` has only second resolution), as the other
    # objects' tables do.
    seq_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    return sa.Column("seq", seq_type, primary_key=True, autoincrement=True)


def upgrade() -> None:
    projects = op.create_table(
        "projects",
        _seq(),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("tenant", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("archived_at", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "service_accounts",
        _seq(),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_service_accounts_project", "service_accounts", ["project_id", "seq"])
    op.create_table(
        "api_keys",
        _seq(),
        sa.Column("id", sa.String(64), nullable=False, unique=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("service_account_id", sa.String(64), nullable=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("redacted_value", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("created_at", sa.BigInteger, nullable=False),
        sa.Column("last_used_at", sa.BigInteger, nullable=True),
    )
    op.create_index("ix_api_keys_project", "api_keys", ["project_id", "seq"])
    op.create_table(
        "project_rate_limits",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(256), primary_key=True),
        sa.Column("max_requests_per_1_minute", sa.BigInteger, nullable=True),
        sa.Column("max_tokens_per_1_minute", sa.BigInteger, nullable=True),
    )
    # Requests counted per project, model and minute when no Redis is configured.
    op.create_table(
        "rate_limit_windows",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("model", sa.String(256), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("requests", sa.BigInteger, nullable=False),
    )
    generation = op.create_table(
        "auth_generation",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("generation", sa.BigInteger, nullable=False),
    )
    # The tokens a project's runs used in the last minute are summed over its newest runs.
    op.create_index("ix_runs_tenant_created", "runs", ["tenant", "created_at"])
    op.bulk_insert(generation, [{"id": 1, "generation": 0}])
    default = {"id": "proj_default", "tenant": "default", "name": "Default project"}
    op.bulk_insert(projects, [{**default, "created_at": int(time.time()), "archived_at": None}])


def downgrade() -> None:
    op.drop_index("ix_runs_tenant_created", "runs")
    for table in (
        "auth_generation",
        "rate_limit_windows",
        "project_rate_limits",
        "api_keys",
        "service_accounts",
        "projects",
    ):
        op.drop_table(table)
