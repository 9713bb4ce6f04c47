"""Bearer keys and tenants.

With ``ASSISTANTD_API_KEYS`` set, only those keys are accepted and each key is its own tenant:
objects made with one key are invisible to the others. Unset, every key is accepted and all
requests share one tenant.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import Depends, Request

from assistantd.config import Settings
from assistantd.errors import Unauthorized

SINGLE_TENANT = "default"


def tenant_of(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:32]


async def authenticate(request: Request) -> str:
    # async: a plain ``def`` dependency costs a threadpool hop on every request.
    settings: Settings = request.app.state.settings
    if not settings.tenant_keys:
        return SINGLE_TENANT
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not key:
        raise Unauthorized(
            "You didn't provide an API key. You need to provide your API key in an "
            "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
            code=None,
        )
    if key not in settings.tenant_keys:
        raise Unauthorized(f"Incorrect API key provided: {_masked(key)}.", code="invalid_api_key")
    return tenant_of(key)


def _masked(key: str) -> str:
    return key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 8 else "*" * len(key)


Tenant = Annotated[str, Depends(authenticate)]
