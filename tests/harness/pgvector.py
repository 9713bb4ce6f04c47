"""A PostgreSQL with pgvector for the tests, started from the ``pgserver`` wheel (test extra).

The machine's own PostgreSQL may lack pgvector, so the PostgreSQL chunk index is tested on a
server of its own: started on first use in a fresh directory (listening on a unix socket only),
stopped when the test process exits. Where it cannot be had, ``unavailable_reason`` says why and
the tests that need it skip.
"""

from __future__ import annotations

import atexit
import functools
import tempfile
from pathlib import Path
from typing import Any


@functools.cache
def _server() -> Any:
    import pgserver  # the test extra's; imported here so a missing wheel is a skip reason

    # A short path: the socket's full path must fit in 107 bytes.
    directory = Path(tempfile.mkdtemp(prefix="pgv-"))
    server = pgserver.get_server(directory, cleanup_mode="delete")
    atexit.register(server.cleanup)
    server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
    return server


@functools.cache
def unavailable_reason() -> str | None:
    try:
        _server()
    except Exception as error:  # any failure means: no pgvector here
        return f"no PostgreSQL with pgvector (pgserver: {type(error).__name__}: {error})"
    return None


def admin_url() -> str:
    """An asyncpg URL of the server's ``postgres`` database."""
    return _server().get_uri()


def database_url(name: str) -> str:
    """The asyncpg URL of database ``name`` on the server."""
    base, _, query = admin_url().partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}?{query}"
