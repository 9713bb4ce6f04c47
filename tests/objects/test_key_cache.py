"""The key cache of each process: a key deleted or a project archived through one process stops
working on another within the check interval, without a restart; an unknown key is no key."""

from __future__ import annotations

import hmac
from types import SimpleNamespace

import pytest
from starlette.requests import Request

from assistantd.api.auth import authenticate_admin
from assistantd.config import Settings
from assistantd.errors import Unauthorized
from assistantd.objects import key_values, projects, service_accounts
from assistantd.objects.key_cache import KeyCache
from assistantd.store.database import Database


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _project_key(db: Database) -> tuple[str, str, str]:
    project = (await projects.create(db, "cache"))["id"]
    account = await service_accounts.create_account(db, project, "app")
    return project, account["api_key"]["id"], account["api_key"]["value"]


async def test_a_deleted_key_stops_within_the_check_interval(db: Database) -> None:
    clock = Clock()
    elsewhere = KeyCache(db, {}, check_seconds=1.0, monotonic=clock)
    project, key_id, value = await _project_key(db)
    identity = await elsewhere.identity(value)
    assert identity is not None and identity.tenant == project
    await service_accounts.delete_key(db, project, key_id)  # by another process
    clock.now += 0.5
    assert await elsewhere.identity(value) is not None  # cached, not yet checked
    clock.now += 0.6
    assert await elsewhere.identity(value) is None


async def test_an_archived_projects_keys_stop(db: Database) -> None:
    clock = Clock()
    elsewhere = KeyCache(db, {}, check_seconds=1.0, monotonic=clock)
    project, _key_id, value = await _project_key(db)
    assert await elsewhere.identity(value) is not None
    await projects.archive(db, project)
    clock.now += 1.1
    assert await elsewhere.identity(value) is None


async def test_unknown_and_near_miss_keys_are_refused(db: Database) -> None:
    cache = KeyCache(db, {}, check_seconds=1.0, monotonic=Clock())
    _project, _key_id, value = await _project_key(db)
    for wrong in ("", "sk-nothing", value[:-1], value + "x", value.upper()):
        assert await cache.identity(wrong) is None
    assert await cache.identity(value) is not None


async def test_keys_are_compared_in_constant_time(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored hash is compared with ``hmac.compare_digest``, never ``==``."""
    compared: list[tuple[bytes, bytes]] = []
    original = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(key_values.hmac, "compare_digest", spy)
    _project, _key_id, value = await _project_key(db)
    assert await KeyCache(db, {}, 1.0).identity(value) is not None
    digest = key_values.digest(value).encode()
    assert compared == [(digest, digest)]

    # The admin key, compared as it is (it is not stored), in constant time too.
    compared.clear()
    request = _request(Settings(admin_key="sk-admin-1234"), "Bearer sk-admin-1235")
    with pytest.raises(Unauthorized):
        await authenticate_admin(request)
    assert compared == [(b"sk-admin-1235", b"sk-admin-1234")]


def _request(settings: Settings, authorization: str) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(settings=settings))
    headers = [(b"authorization", authorization.encode())]
    return Request({"type": "http", "headers": headers, "app": app})


async def test_last_used_at_is_written_after_use(db: Database) -> None:
    clock = Clock()
    cache = KeyCache(db, {}, check_seconds=1.0, monotonic=clock)
    project, key_id, value = await _project_key(db)
    assert (await service_accounts.key(db, project, key_id))["last_used_at"] is None
    await cache.identity(value)
    clock.now += 1.1
    await cache.identity(value)  # the check after the use stamps it, in the background
    await cache.close()
    assert (await service_accounts.key(db, project, key_id))["last_used_at"] is not None
