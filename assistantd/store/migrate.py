"""Alembic, driven from code: the server upgrades its database to the newest schema at start-up,
and ``assistantd migrate --check`` says which migrations a database still lacks."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
TITLE_CHARS = 70

# Alembic says at INFO which implementation it picked and that it assumes transactional DDL, at
# every start-up: noise to an operator. Migrations actually applied are said by the caller.
logging.getLogger("alembic.runtime.migration").setLevel(logging.WARNING)


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: Connection) -> list[str]:
    """Apply what is pending; returns the migrations applied (``revision (title)``)."""
    applied = pending_migrations(connection)
    # "heads": parts of the schema that evolve independently (files, runs) may be branches.
    command.upgrade(alembic_config(connection), "heads")
    return applied


def pending_migrations(connection: Connection) -> list[str]:
    """The migrations the database lacks (``revision (title)``), oldest first; empty at the head."""
    scripts = ScriptDirectory.from_config(alembic_config())
    current = MigrationContext.configure(connection).get_current_heads()
    pending = scripts.iterate_revisions(scripts.get_heads(), current or "base")
    return [f"{rev.revision} {_title(rev.doc)}" for rev in sorted(pending, key=_number)]


def _number(revision: Script) -> str:
    return revision.revision


def _title(doc: str | None) -> str:
    # A migration's docstring opens with what it adds; the start of it names the migration.
    words = " ".join((doc or "").split())
    return f"({words[:TITLE_CHARS].rstrip()}…)" if len(words) > TITLE_CHARS else f"({words})"
