"""The run event bus on Redis: every process publishes into and reads from one numbering per
run, so any process can serve any run's stream and resume it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import openai
import pytest
import redis.asyncio

from assistantd.runs.redis_events import BLOCK_MS, RedisRunEvents
from tests.harness.contract import ContractLog
from tests.harness.redis_server import REDIS_URL, redis_unavailable_reason
from tests.runs.conftest import Scripted, other_server


@pytest.fixture(scope="module")
def redis_url() -> str:
    if reason := redis_unavailable_reason():
        pytest.skip(reason)
    return REDIS_URL


async def test_processes_publishing_for_one_run_continue_one_numbering(redis_url: str) -> None:
    api, worker, reader = (RedisRunEvents(redis_url) for _ in range(3))
    for bus in (api, worker, reader):
        await bus.start()
    run = f"run_{uuid.uuid4().hex}"
    try:
        api.publish(run, "thread.run.created", {"object": "thread.run", "n": 1})
        api.publish(run, "thread.run.queued", {"object": "thread.run", "n": 2})
        await api.flush()
        subscription = reader.subscribe(run)
        worker.publish(run, "thread.run.in_progress", {"object": "thread.run", "n": 3})
        worker.publish(run, "thread.message.delta", {"delta": {"value": "é\u2028"}})
        worker.publish(run, "thread.run.completed", {"object": "thread.run", "n": 5})
        received = [(e.seq, e.event, e.data) async for e in subscription]
        assert await reader.last_seq(run) == 5
        late = [(e.seq, e.event) async for e in reader.subscribe(run, after_seq=3)]
    finally:
        for bus in (api, worker, reader):
            await bus.close()
    assert [(seq, name) for seq, name, _ in received] == [
        (1, "thread.run.created"),
        (2, "thread.run.queued"),
        (3, "thread.run.in_progress"),
        (4, "thread.message.delta"),
        (5, "thread.run.completed"),
    ]
    assert received[3][2] == {"delta": {"value": "é\u2028"}}
    assert late == [(4, "thread.message.delta"), (5, "thread.run.completed")]


async def test_an_idle_bus_keeps_reading_without_errors(
    redis_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Blocking reads that come back empty are the bus's idle state, not a failure: no error
    logged and no retry pause (during which other processes' events would wait)."""
    publisher, reader = RedisRunEvents(redis_url), RedisRunEvents(redis_url)
    for bus in (publisher, reader):
        await bus.start()
    run = f"run_{uuid.uuid4().hex}"
    try:
        subscription = reader.subscribe(run)
        first = asyncio.ensure_future(anext(subscription))
        await asyncio.sleep(BLOCK_MS / 1000 * 1.5)  # past one whole blocking read
        publisher.publish(run, "thread.run.completed", {"object": "thread.run"})
        event = await asyncio.wait_for(first, 30)
    finally:
        for bus in (publisher, reader):
            await bus.close()
    assert event.event == "thread.run.completed"
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert errors == []


@pytest.fixture(scope="module")
def redis_client(
    backend: str,
    redis_url: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[openai.OpenAI]:
    yield from other_server(
        backend, tmp_path_factory, contract_log,
        llm_base_url=scripted_model_url, redis_url=redis_url,
    )  # fmt: skip


def test_a_run_streams_and_rejoins_through_the_redis_bus(
    redis_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"chunks": ["Through ", "Redis ", "it ", "goes."]})
    assistant = redis_client.beta.assistants.create(model=model)
    thread = redis_client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    with redis_client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id
    ) as stream:
        events: list[Any] = list(stream)
        run = stream.get_final_run()
    assert events[-1].event == "thread.run.completed" and run.status == "completed"
    text = "".join(
        e.data.delta.content[0].text.value for e in events if e.event == "thread.message.delta"
    )
    assert text == "Through Redis it goes."
    # Resume after the third event: exactly the rest, numbered on.
    import httpx

    url = f"{redis_client.base_url}threads/{thread.id}/runs/{run.id}/events"
    with httpx.stream("GET", url, headers={"Last-Event-ID": "3"}, timeout=30) as response:
        ids = [line[4:] for line in response.iter_lines() if line.startswith("id: ")]
    assert ids == [str(n) for n in range(4, len(events) + 1)]


def test_flush_waits_for_what_was_published(redis_url: str) -> None:
    async def scenario() -> int:
        bus = RedisRunEvents(redis_url)
        await bus.start()
        run = f"run_{uuid.uuid4().hex}"
        try:
            for n in range(50):
                bus.publish(run, "thread.message.delta", {"n": n})
            await bus.flush()
            return await bus.last_seq(run)
        finally:
            await bus.close()

    assert asyncio.run(scenario()) == 50


def test_publishing_goes_on_after_redis_loses_its_scripts(redis_url: str) -> None:
    """Events are published by script sha, without asking Redis first whether it has the
    script (a round trip per batch): a Redis that lost it (restarted, flushed) gets it again."""

    async def scenario() -> list[tuple[int, str]]:
        bus = RedisRunEvents(redis_url)
        await bus.start()
        run = f"run_{uuid.uuid4().hex}"
        try:
            bus.publish(run, "thread.run.created", {"object": "thread.run", "n": 1})
            await bus.flush()
            async with redis.asyncio.from_url(redis_url) as admin:
                await admin.script_flush()
            bus.publish(run, "thread.run.queued", {"object": "thread.run", "n": 2})
            bus.publish(run, "thread.run.completed", {"object": "thread.run", "n": 3})
            await bus.flush()
            return [(e.seq, e.event) async for e in bus.subscribe(run)]
        finally:
            await bus.close()

    assert asyncio.run(scenario()) == [
        (1, "thread.run.created"),
        (2, "thread.run.queued"),
        (3, "thread.run.completed"),
    ]
