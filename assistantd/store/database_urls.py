"""What a database URL says, for messages to an operator: never its password."""

from __future__ import annotations

from sqlalchemy import make_url


def masked(url: str) -> str:
    """``url`` with its password shown as ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # not a URL SQLAlchemy parses (e.g. rediss:// with odd parts): hide it all
        return url.split("@")[-1]


def location(url: str) -> str:
    """``host:port/database`` of a server database, the path of a SQLite one."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or "sqlite"
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
