"""The PostgreSQL run queue: its claimer stops when asked, even when a wake-up (a run handed
back on shutdown notifies every claimer, this one too) lands in the same instant as the stop;
a run queued where a worker is idle is claimed there, without waking every other process
(a run queued where none is still wakes them all: tests/scale_out)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import openai
import pytest

from assistantd.runs.postgres_queue import RUNS_CHANNEL, PostgresRunQueue
from assistantd.store.database import Database
from assistantd.store.run_leases import Lease
from tests.conftest import make_settings
from tests.harness.databases import open_database
from tests.harness.server import running_server

# Far beyond the test's wait: a claimer that missed its stop would sleep this long, then claim on.
SWEEP_SECONDS = 3600.0
STOP_WITHIN_SECONDS = 20.0  # only a hang guard: a stop takes milliseconds


@pytest.fixture
async def db(tmp_path: Path, postgres_skip_reason: str | None) -> AsyncIterator[Database]:
    if postgres_skip_reason:
        pytest.skip(postgres_skip_reason)
    async with open_database("postgresql", tmp_path) as database:
        yield database


async def test_a_wake_up_arriving_with_the_stop_does_not_keep_the_claimer_running(
    db: Database,
) -> None:
    queue = PostgresRunQueue(db, Lease.for_this_process(30), SWEEP_SECONDS)
    await queue.start(lambda _run_id: None, execute=True)
    await asyncio.sleep(0.2)  # the claimer has claimed nothing and waits for a wake-up
    queue.wake()
    await asyncio.wait_for(queue.stop(), STOP_WITHIN_SECONDS)


async def test_a_run_queued_where_a_worker_is_idle_wakes_no_other_process(
    db: Database, tmp_path: Path, scripted_model_url: str
) -> None:
    heard: list[str] = []
    others = await db.listen({RUNS_CHANNEL: heard.append})  # every other process's claimer
    settings = make_settings(tmp_path, db.url, llm_base_url=scripted_model_url)
    try:
        with running_server(settings) as base:
            client = openai.OpenAI(base_url=f"{base}/v1", api_key="sk-test")
            run = await asyncio.to_thread(_one_run, client)
            await asyncio.sleep(0.3)  # a notification would have been delivered by now
    finally:
        await others.close()
    assert run.status == "completed"
    assert heard == []  # this server's idle worker took it


def _one_run(client: openai.OpenAI) -> Any:
    assistant = client.beta.assistants.create(model="scripted")
    thread = client.beta.threads.create()
    return client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
