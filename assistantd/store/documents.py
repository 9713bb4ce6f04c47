"""Queries shared by every document table: insert, fetch, update, delete and cursor pages.

Every query is scoped by tenant, and optionally by parent columns (``thread_id=…``), so an object
of one tenant or one thread can never be read through another's path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from sqlalchemy import JSON, ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.errors import InvalidRequest
from assistantd.store.driver_sql import Statement, Transaction, execute
from assistantd.store.driver_sql import fetch as fetch_rows
from assistantd.store.tables import Document

Row = TypeVar("Row", bound=Document)
Order = Literal["asc", "desc"]


@dataclass(frozen=True)
class PageRequest:
    limit: int = 20
    order: Order = "desc"
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class Page:
    data: list[dict[str, Any]]
    has_more: bool

    def envelope(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": self.data,
            "first_id": self.data[0]["id"] if self.data else None,
            "last_id": self.data[-1]["id"] if self.data else None,
            "has_more": self.has_more,
        }


_ADD_STATEMENTS: dict[tuple[type[Document], tuple[str, ...]], Statement] = {}


async def add(session: Transaction, table: type[Document], **values: Any) -> None:
    """Insert one row by a hand-written INSERT (the hot path: no ORM unit of work, see
    ``driver_sql``); in a ``DriverTransaction`` it may wait to go with the block's next
    statement. The row is not in the session: code that changes it later in the same
    transaction fetches it first."""
    key = (table, tuple(values))
    statement = _ADD_STATEMENTS.get(key)
    if statement is None:
        statement = _ADD_STATEMENTS[key] = _insert_statement(table, tuple(values))
    await execute(session, statement, values)


def _insert_statement(table: type[Document], names: tuple[str, ...]) -> Statement:
    columns = table.__table__.columns  # type: ignore[attr-defined]
    return Statement(
        f"INSERT INTO {table.__tablename__} ({', '.join(names)})"  # type: ignore[attr-defined]
        f" VALUES ({', '.join(':' + n for n in names)})",
        json_params=tuple(n for n in names if isinstance(columns[n].type, JSON)),
    )


async def fetch_data(
    session: Transaction, table: type[Document], tenant: str, object_id: str
) -> dict[str, Any] | None:
    """The stored wire object alone (no ORM row): for reads that only return it."""
    statement = _FETCH_DATA.get(table)
    if statement is None:
        statement = _FETCH_DATA[table] = Statement(
            f"SELECT data FROM {table.__tablename__}"  # type: ignore[attr-defined]
            " WHERE id = :id AND tenant = :tenant",
            json_columns=("data",),
            result_columns=("data",),
        )
    rows = await fetch_rows(session, statement, {"id": object_id, "tenant": tenant})
    return rows[0][0] if rows else None


_FETCH_DATA: dict[type[Document], Statement] = {}


async def fetch(
    session: AsyncSession, table: type[Row], tenant: str, object_id: str, **scope: str
) -> Row | None:
    query = select(table).where(table.id == object_id, table.tenant == tenant)
    for column, value in scope.items():
        query = query.where(getattr(table, column) == value)
    return (await session.execute(query)).scalar_one_or_none()


async def fetch_for_update(
    session: AsyncSession, table: type[Row], tenant: str, object_id: str, **scope: str
) -> Row | None:
    """Like ``fetch``, but locks the row until the transaction ends (PostgreSQL; SQLite's writer
    connection already serialises every write transaction)."""
    query = select(table).where(table.id == object_id, table.tenant == tenant).with_for_update()
    for column, value in scope.items():
        query = query.where(getattr(table, column) == value)
    return (await session.execute(query)).scalar_one_or_none()


async def all_data(
    session: AsyncSession, table: type[Document], tenant: str, **scope: str
) -> list[dict[str, Any]]:
    """The stored wire objects of every row in the scope (``run_id=…``), oldest first."""
    query = select(table.data).where(table.tenant == tenant)
    for column, value in scope.items():
        query = query.where(getattr(table, column) == value)
    return list((await session.execute(query.order_by(table.seq))).scalars())


def replace_data(row: Document, data: dict[str, Any]) -> None:
    """Store a new version of the wire object (a new dict, so the JSON column sees the change)."""
    row.data = dict(data)


async def remove(session: AsyncSession, row: Document) -> None:
    await session.delete(row)
    await session.flush()


async def remove_where(session: AsyncSession, table: type[Document], **scope: str) -> None:
    query = delete(table)
    for column, value in scope.items():
        query = query.where(getattr(table, column) == value)
    await session.execute(query)


async def page(
    session: AsyncSession,
    table: type[Row],
    tenant: str,
    request: PageRequest,
    *,
    where: ColumnElement[bool] | None = None,
    **scope: str | None,
) -> Page:
    """One page of a list, newest first for ``desc``; ``after``/``before`` are object IDs.
    Scope values of ``None`` are no filter. ``where`` leaves rows out of the list itself (in the
    query, so pages and ``has_more`` stay right), not out of what cursors may name."""
    scope = {column: value for column, value in scope.items() if value is not None}
    query = select(table.data).where(table.tenant == tenant)
    if where is not None:
        query = query.where(where)
    for column, value in scope.items():
        query = query.where(getattr(table, column) == value)
    if request.after is not None:
        after = await _cursor_seq(session, table, tenant, request.after, "after", scope)
        query = query.where(table.seq < after if request.order == "desc" else table.seq > after)
    if request.before is not None:
        before = await _cursor_seq(session, table, tenant, request.before, "before", scope)
        query = query.where(table.seq > before if request.order == "desc" else table.seq < before)
    # "before" pages are read walking away from the cursor, then put back in list order.
    walk_backwards = request.before is not None and request.after is None
    descending = (request.order == "desc") != walk_backwards
    query = query.order_by(table.seq.desc() if descending else table.seq.asc())
    rows = list((await session.execute(query.limit(request.limit + 1))).scalars())
    has_more = len(rows) > request.limit
    rows = rows[: request.limit]
    if walk_backwards:
        rows.reverse()
    return Page(data=rows, has_more=has_more)


async def _cursor_seq(
    session: AsyncSession,
    table: type[Document],
    tenant: str,
    object_id: str,
    param: str,
    scope: dict[str, str],
) -> int:
    query = select(table.seq).where(table.id == object_id, table.tenant == tenant)
    for column, value in scope.items():
        query = query.where(getattr(table, column) == value)
    seq = (await session.execute(query)).scalar_one_or_none()
    if seq is None:
        raise InvalidRequest(
            f"Invalid '{param}': no object with id '{object_id}' in this list.", param
        )
    return seq
