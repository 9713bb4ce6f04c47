"""Alembic environment: migrations run on the connection the server hands in (``migrate.py``)."""

from alembic import context

from assistantd.store import file_tables  # noqa: F401  (registers its tables on Base.metadata)
from assistantd.store.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "assistantd runs its migrations itself, at start-up; use `assistantd migrate`."
    )

context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
