"""What a command checks and says before it starts: settings read with errors an operator can act
on (one line each, no traceback), misspelled ``ASSISTANTD_*`` variables, a reachable database,
and the one-line summary of what the process is about to run with."""

from __future__ import annotations

import asyncio
import difflib
import json
import os
from collections.abc import Mapping

from pydantic import ValidationError
from pydantic_settings import SettingsError

from assistantd.config import ModelRoute, Settings
from assistantd.store.database import Database
from assistantd.store.database_urls import location, masked

PREFIX = "ASSISTANTD_"
# Variables of the test suite (e.g. ASSISTANTD_TEST_POSTGRES_URL), not of the server.
_NOT_SETTINGS = ("ASSISTANTD_TEST_",)
CONNECT_SECONDS = 10.0
NO_MODEL = (
    "no model configured — runs will fail until ASSISTANTD_LLM_BASE_URL or "
    "ASSISTANTD_MODEL_ROUTES is set"
)


class StartupError(Exception):
    """A configuration the process cannot start with; the message says what to change."""


def load_settings() -> Settings:
    """``Settings()``, with a bad value said as the variable and what is wrong with it."""
    try:
        return Settings()
    except SettingsError as error:  # a value that is not the JSON its setting needs
        raise StartupError(_undecodable(error)) from None
    except ValidationError as error:
        raise StartupError("\n".join(_invalid(entry) for entry in error.errors())) from None


def variable(field: str) -> str:
    return PREFIX + field.upper()


def known_variables() -> list[str]:
    return [variable(name) for name in Settings.model_fields]


def misspelled_variables(environ: Mapping[str, str] = os.environ) -> list[str]:
    """A warning for each ``ASSISTANTD_*`` variable no setting reads, naming the closest one."""
    known = known_variables()
    warnings = []
    for name in sorted(environ):
        if not name.startswith(PREFIX) or name in known or name.startswith(_NOT_SETTINGS):
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
        hint = f": did you mean {close[0]}?" if close else " (see the README's configuration table)"
        warnings.append(f"{name} is not a setting assistantd reads, so it is ignored{hint}")
    return warnings


async def check_database(settings: Settings) -> None:
    """Connect once, so that an unreachable database is said in a line, not a traceback."""
    url = settings.resolved_database_url
    db = Database(url, pool_size=1)
    try:
        async with asyncio.timeout(CONNECT_SECONDS):
            await db.ping()
    except Exception as error:  # whatever connecting raised, said with where it went
        raise StartupError(
            f"cannot connect to the database at {location(url)}: {_reason(error)} "
            "(ASSISTANTD_DATABASE_URL)"
        ) from None
    finally:
        await db.dispose()


def summary(settings: Settings, role: str) -> str:
    """One line: where state lives, which model, tenancy, what this process does."""
    parts = [
        f"assistantd {role}",
        f"data dir {settings.data_dir.resolve()}",
        f"database {masked(settings.resolved_database_url)}",
        _model(settings),
        _tenancy(settings),
        f"roles {_roles(role)}",
        f"events {masked(settings.redis_url) if settings.redis_url else 'in-process'}",
        f"blobs {settings.blob_url or 'data dir'}",
        _retention(settings),
    ]
    return "; ".join(parts)


def _model(settings: Settings) -> str:
    routes = f" (routes: {', '.join(settings.model_routes)})" if settings.model_routes else ""
    if settings.llm_base_url:
        return f"model {settings.llm_base_url}{routes}"
    if settings.model_routes:
        return f"model routes {', '.join(settings.model_routes)} only"
    return NO_MODEL


def _tenancy(settings: Settings) -> str:
    if settings.tenant_keys:
        return f"multi-tenant ({len(settings.tenant_keys)} API keys)"
    return "single-tenant (any API key accepted)"


def _roles(role: str) -> str:
    if role == "serve --no-worker":
        return "API only"
    if role == "worker":
        return "runs, indexing, code sessions"
    return "API, runs, indexing, code sessions"


def _retention(settings: Settings) -> str:
    def days(value: float | None) -> str:
        return "kept" if value is None else f"{value:g} days"

    threads, files = days(settings.retention_thread_days), days(settings.retention_file_days)
    usage = days(settings.retention_usage_days)
    return f"retention threads {threads}, files {files}, usage {usage}"


def _undecodable(error: SettingsError) -> str:
    # pydantic-settings names the field in its message and chains the decoder's error.
    field = next((name for name in Settings.model_fields if f'"{name}"' in str(error)), "")
    cause = error.__cause__
    where = ""
    if isinstance(cause, json.JSONDecodeError):
        where = f": {cause.msg} at line {cause.lineno} column {cause.colno} (character {cause.pos})"
    name = variable(field) if field else "an ASSISTANTD_* variable"
    return f"{name} is not valid JSON{where}"


def _invalid(entry: Mapping[str, object]) -> str:
    location = [str(part) for part in entry["loc"]]  # type: ignore[union-attr]
    name = variable(location[0]) if location else "settings"
    if location and location[0] == "model_routes" and len(location) >= 2:
        return _bad_route(name, location[1:], entry)
    context = entry.get("ctx")
    error = context.get("error") if isinstance(context, dict) else None
    message = str(error) if error is not None else str(entry["msg"])
    return message if message.startswith(PREFIX) else f"{name}: {message}"


def _bad_route(name: str, location: list[str], entry: Mapping[str, object]) -> str:
    route, key = location[0], location[1] if len(location) > 1 else None
    known = ", ".join(ModelRoute.model_fields)
    if entry["type"] == "missing":
        return f"{name}: the route for {route!r} has no {key!r} (every route needs a base_url)"
    if entry["type"] == "extra_forbidden":
        return f"{name}: the route for {route!r} has an unknown key {key!r} (known: {known})"
    if key is None:
        return f"{name}: the route for {route!r} must be an object with {known}"
    return f"{name}: the route for {route!r}: {key} {entry['msg']}"


def _reason(error: BaseException) -> str:
    # SQLAlchemy wraps the driver's error; the driver's own words say more.
    original = getattr(error, "orig", None) or error
    original = original.__cause__ or original  # the DBAPI adapter's error wraps asyncpg's
    if isinstance(original, TimeoutError):
        return f"no answer within {CONNECT_SECONDS:g} s"
    text = str(original).strip().splitlines()
    return f"{type(original).__name__}: {text[0]}" if text else type(original).__name__
