"""The ``projects``, ``service_accounts`` and ``api_keys`` tables, and ``auth_generation``.

Lists are in insertion order and page by ``seq`` after a cursor id (OpenAI's ``after``). Every
statement is one of the named constants below; callers run them with ``driver_sql.fetch`` in a
transaction or ``Database.read_rows`` outside one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store.database import Database
from assistantd.store.driver_sql import Statement, execute, fetch

PROJECT_COLUMNS = "id, tenant, name, created_at, archived_at, seq"
INSERT_PROJECT = Statement(
    "INSERT INTO projects (id, tenant, name, created_at, archived_at)"
    " VALUES (:id, :tenant, :name, :created_at, NULL)"
)
# Projects named by configuration (``ASSISTANTD_API_KEYS``): made once, by whichever process
# starts first.
ENSURE_PROJECT = Statement(
    "INSERT INTO projects (id, tenant, name, created_at, archived_at)"
    " VALUES (:id, :tenant, :name, :created_at, NULL) ON CONFLICT DO NOTHING"
)
PROJECT = Statement(f"SELECT {PROJECT_COLUMNS} FROM projects WHERE id = :id")
LOCK_PROJECT = Statement(f"SELECT {PROJECT_COLUMNS} FROM projects WHERE id = :id", lock=True)
RENAME_PROJECT = Statement("UPDATE projects SET name = :name WHERE id = :id")
ARCHIVE_PROJECT = Statement(
    "UPDATE projects SET archived_at = :now WHERE id = :id AND archived_at IS NULL"
)
_PROJECT_PAGE = (
    f"SELECT {PROJECT_COLUMNS} FROM projects WHERE (:archived = 1 OR archived_at IS NULL)"
)
PROJECTS_FIRST = Statement(_PROJECT_PAGE + " ORDER BY seq LIMIT :limit")
PROJECTS_AFTER = Statement(_PROJECT_PAGE + " AND seq > :seq ORDER BY seq LIMIT :limit")

ACCOUNT_COLUMNS = "id, project_id, name, role, created_at, seq"
INSERT_ACCOUNT = Statement(
    "INSERT INTO service_accounts (id, project_id, name, role, created_at)"
    " VALUES (:id, :project_id, :name, :role, :created_at)"
)
ACCOUNT = Statement(
    f"SELECT {ACCOUNT_COLUMNS} FROM service_accounts WHERE id = :id AND project_id = :project_id"
)
DELETE_ACCOUNT = Statement("DELETE FROM service_accounts WHERE id = :id")
_ACCOUNT_PAGE = f"SELECT {ACCOUNT_COLUMNS} FROM service_accounts WHERE project_id = :project_id"
ACCOUNTS_FIRST = Statement(_ACCOUNT_PAGE + " ORDER BY seq LIMIT :limit")
ACCOUNTS_AFTER = Statement(_ACCOUNT_PAGE + " AND seq > :seq ORDER BY seq LIMIT :limit")

KEY_COLUMNS = (
    "id, project_id, service_account_id, redacted_value, name, created_at, last_used_at, seq"
)
INSERT_KEY = Statement(
    "INSERT INTO api_keys (id, project_id, service_account_id, key_hash, redacted_value, name,"
    " created_at, last_used_at)"
    " VALUES (:id, :project_id, :service_account_id, :key_hash, :redacted_value, :name,"
    " :created_at, NULL)"
)
KEY = Statement(f"SELECT {KEY_COLUMNS} FROM api_keys WHERE id = :id AND project_id = :project_id")
DELETE_KEY = Statement("DELETE FROM api_keys WHERE id = :id")
DELETE_ACCOUNT_KEYS = Statement("DELETE FROM api_keys WHERE service_account_id = :account_id")
_KEY_PAGE = f"SELECT {KEY_COLUMNS} FROM api_keys WHERE project_id = :project_id"
KEYS_FIRST = Statement(_KEY_PAGE + " ORDER BY seq LIMIT :limit")
KEYS_AFTER = Statement(_KEY_PAGE + " AND seq > :seq ORDER BY seq LIMIT :limit")
TOUCH_KEYS = Statement("UPDATE api_keys SET last_used_at = :now WHERE id = :id")

# What authentication needs of a key, by the hash of its value.
KEY_OWNER = Statement(
    "SELECT k.id, k.key_hash, p.id, p.tenant, p.archived_at"
    " FROM api_keys k JOIN projects p ON p.id = k.project_id WHERE k.key_hash = :key_hash"
)

GENERATION = Statement("SELECT generation FROM auth_generation WHERE id = 1")
BUMP_GENERATION = Statement("UPDATE auth_generation SET generation = generation + 1 WHERE id = 1")

Row = tuple[Any, ...]


async def one(session: AsyncSession, statement: Statement, params: dict[str, Any]) -> Row | None:
    rows = await fetch(session, statement, params)
    return rows[0] if rows else None


async def page(
    db: Database,
    first: Statement,
    after: Statement,
    params: dict[str, Any],
    cursor: int | None,
    limit: int,
) -> list[Row]:
    """Up to ``limit + 1`` rows (one more tells whether there are more) in insertion order,
    after the row whose ``seq`` is ``cursor``."""
    if cursor is None:
        return await db.read_rows(first, {**params, "limit": limit + 1})
    return await db.read_rows(after, {**params, "seq": cursor, "limit": limit + 1})


async def bump_generation(session: AsyncSession) -> None:
    """Every process's key cache forgets what it holds at its next check (``KeyCache``)."""
    await execute(session, BUMP_GENERATION, {})


async def touch_keys(db: Database, key_ids: list[str], now: int) -> None:
    async with db.write(orm=False) as session:
        for key_id in key_ids:
            await execute(session, TOUCH_KEYS, {"id": key_id, "now": now})


async def generation(db: Database) -> int:
    row = await db.read_row(GENERATION, {})
    return int(row[0]) if row else 0
