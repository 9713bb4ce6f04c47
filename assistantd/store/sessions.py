"""What the layers above the store hold of SQLAlchemy: the session type they pass to the
store's queries, and the error a unique index raises. Only ``store`` imports SQLAlchemy (an
import-linter contract in ``pyproject.toml``), so every query is built here."""

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from assistantd.store.driver_sql import Transaction

__all__ = ["AsyncSession", "IntegrityError", "Transaction"]
