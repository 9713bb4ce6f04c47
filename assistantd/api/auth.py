"""Bearer keys, projects and tenants.

With ``ASSISTANTD_ADMIN_KEY`` or ``ASSISTANTD_API_KEYS`` set, a request needs a known key: a
project's key (made through the Administration API) or one of ``ASSISTANTD_API_KEYS`` (each its
own project, whose tenant is ``tenant_of(key)`` as before projects existed). The key's project is
the request's tenant. The admin key opens ``/v1/organization/…`` only, and no project key opens
that: a known key on the other side's routes gets what OpenAI answers a key without the route's
scope (401, no code, "Missing scopes: api.management.write"), an unknown one "Incorrect API key
provided" (code ``invalid_api_key``). With neither set, every key is accepted and all requests
share tenant ``default``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Request

from assistantd.config import Settings
from assistantd.errors import Unauthorized
from assistantd.objects import key_values, projects
from assistantd.objects.key_cache import Identity, KeyCache
from assistantd.store.database import Database

SINGLE_TENANT = "default"
# OpenAI's scope of each top-level resource under /v1 (``.read`` / ``.write`` appended).
SCOPES = {"uploads": "api.files", "models": "api.model", "organization": "api.management"}
# Calling a model is one scope, whatever the method.
MODEL_REQUESTS = {"chat", "completions", "embeddings", "responses"}


def tenant_of(key: str) -> str:
    """The tenant of an ``ASSISTANTD_API_KEYS`` key (its data predates projects)."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


async def start_keys(db: Database, settings: Settings) -> KeyCache:
    """The key cache of this process, after making sure each configured key has its project."""
    if settings.admin_key is not None and settings.admin_key in settings.tenant_keys:
        # It would open both the Administration API and a project's routes.
        raise ValueError("ASSISTANTD_ADMIN_KEY must not also be one of ASSISTANTD_API_KEYS")
    keys = sorted(settings.tenant_keys)
    rows = [projects.env_project(tenant_of(key), masked(key)) for key in keys]
    if rows:
        await projects.ensure(db, rows)
    configured = {key_values.digest(key): row[0] for key, row in zip(keys, rows, strict=True)}
    return KeyCache(db, configured, settings.auth_cache_seconds)


async def authenticate(request: Request) -> str:
    """The request's tenant (its identity, if any, goes to ``request.state.identity``)."""
    # async: a plain ``def`` dependency costs a threadpool hop on every request.
    settings: Settings = request.app.state.settings
    if not settings.keys_required:
        return SINGLE_TENANT
    key = bearer_key(request)
    keys: KeyCache = request.app.state.keys
    identity = await keys.identity(key)
    if identity is None:
        if settings.admin_key is not None and key_values.same(key, settings.admin_key):
            raise missing_scope(request)
        raise incorrect_key(key)
    request.state.identity = identity
    return identity.tenant


def identity_of(request: Request) -> Identity | None:
    return getattr(request.state, "identity", None)


async def authenticate_admin(request: Request) -> None:
    settings: Settings = request.app.state.settings
    key = bearer_key(request)
    if settings.admin_key is None or not key_values.same(key, settings.admin_key):
        keys: KeyCache | None = getattr(request.app.state, "keys", None)
        if keys is not None and await keys.identity(key) is not None:
            raise missing_scope(request)  # a project's key
        raise incorrect_key(key)


def bearer_key(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            code=None,
        )
    return key


def incorrect_key(key: str) -> Unauthorized:
    return Unauthorized(f"Incorrect API key provided: {masked(key)}.", code="invalid_api_key")


def missing_scope(request: Request) -> Unauthorized:
    """A known key on a route its kind may not use, as OpenAI words a missing scope."""
    return Unauthorized(
        f"You have insufficient permissions for this operation. Missing scopes: "
        f"{scope_of(request.method, request.url.path)}. Check that you have the correct role "
        "in your organization, and if you're using a restricted API key, that it has the "
        "necessary scopes.",
        code=None,
    )


def scope_of(method: str, path: str) -> str:
    """The scope OpenAI names for ``method path``: ``api.threads.read``, ``model.request``…"""
    resource = path.removeprefix("/v1/").split("/", 1)[0] or "all"
    if resource in MODEL_REQUESTS:
        return "model.request"
    access = "read" if method in ("GET", "HEAD") else "write"
    return f"{SCOPES.get(resource, 'api.' + resource)}.{access}"


def masked(key: str) -> str:
    return key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 8 else "*" * len(key)


Tenant = Annotated[str, Depends(authenticate)]
Admin = Depends(authenticate_admin)
