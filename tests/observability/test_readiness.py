"""``/ready``: each check of what the process needs in the body, 503 when a required one fails
(here: the PostgreSQL database dropped under a running server); ``/health`` stays 200."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.harness.cluster import ServerProcess, start_process
from tests.harness.databases import POSTGRES_URL, fresh_database, unavailable_reason
from tests.harness.redis_server import REDIS_URL, redis_unavailable_reason


def test_a_single_server_reports_each_check(served: ServerProcess) -> None:
    response = httpx.get(f"{served.url}/ready", timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"status": "ok", "required": True}
    assert body["checks"]["blob_store"] == {"status": "ok", "required": True}
    # It executes runs, so it hosts code sessions: whether their sandbox works is reported.
    assert body["checks"]["code_interpreter"]["required"] is False
    assert "redis" not in body["checks"]  # run events stay in this process


def test_ready_turns_503_when_the_database_is_gone(scripted_model_url: str, tmp_path: Path) -> None:
    for reason in (unavailable_reason("postgresql"), redis_unavailable_reason()):
        if reason:
            pytest.skip(reason)
    with fresh_database("postgresql", tmp_path) as url:
        env = {
            "ASSISTANTD_DATABASE_URL": url,
            "ASSISTANTD_REDIS_URL": REDIS_URL,
            "ASSISTANTD_LLM_BASE_URL": scripted_model_url,
        }
        server = start_process("serve --no-worker", tmp_path / "api", env)
        try:
            ready = httpx.get(f"{server.url}/ready", timeout=30)
            assert ready.status_code == 200, ready.text
            checks = ready.json()["checks"]
            assert set(checks) == {"database", "redis", "blob_store"}  # no code sessions here
            assert all(check["status"] == "ok" for check in checks.values())
            asyncio.run(_drop(url.rsplit("/", 1)[1]))
            gone = httpx.get(f"{server.url}/ready", timeout=30)
            assert gone.status_code == 503
            body = gone.json()
            assert body["status"] == "unavailable"
            assert body["checks"]["database"]["status"] == "failed"
            assert body["checks"]["database"]["error"]
            assert body["checks"]["redis"]["status"] == "ok"
            assert httpx.get(f"{server.url}/health", timeout=10).status_code == 200
        finally:
            server.stop()


async def _drop(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_URL, timeout=5)
    try:
        await connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await connection.close()
