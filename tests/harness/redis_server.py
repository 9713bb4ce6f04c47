"""The machine's Redis, for the run event bus that server processes of one deployment share.
Where it is not reachable, the tests that need it skip and say why."""

from __future__ import annotations

from typing import Any

import pytest
import redis

REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_unavailable_reason() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as error:
        return f"Redis not reachable at {REDIS_URL} ({type(error).__name__}: {error})"
    return None


def peer_settings(*, same_data_dir: bool) -> dict[str, Any]:
    """Settings for one of several servers on one database: run events on Redis and, for
    servers on one data dir (in one test), its files counted as shared. (They refuse to start
    beside each other otherwise.)"""
    if reason := redis_unavailable_reason():
        pytest.skip(reason)
    return {"redis_url": REDIS_URL, "shared_data_dir": same_data_dir}
