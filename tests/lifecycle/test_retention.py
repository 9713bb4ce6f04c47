"""Retention (``ASSISTANTD_RETENTION_THREAD_DAYS`` / ``_FILE_DAYS``) as a user sees it through the
official SDK: a thread idle for longer is deleted with its messages and runs, one still in use is
kept; a file uploaded longer ago is deleted with its bytes and its vector-store entries (the
stores recounted), a newer one is kept. Servers sharing a database sweep without errors.

The tests move the clock (time-machine moves ``time.time`` for the whole process, the server's
threads included) instead of waiting days.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai
import pytest
import time_machine

from assistantd import retention
from tests.conftest import make_settings
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database, unavailable_reason
from tests.harness.redis_server import peer_settings
from tests.harness.server import running_server
from tests.vector_stores.conftest import embedding_settings, wait_until

DAY = 86400
TEXT = "Tidal pools hold anemones, crabs and sea stars between the tides. " * 20


@contextmanager
def days_later(days: float) -> Iterator[None]:
    with time_machine.travel(time.time() + days * DAY, tick=True):
        yield


def _retaining(scripted_model_url: str) -> dict[str, object]:
    return embedding_settings(scripted_model_url) | {
        "retention_thread_days": 30,
        "retention_file_days": 7,
        "retention_sweep_interval_seconds": 0.05,
    }


@pytest.fixture(scope="module")
def retaining(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[tuple[openai.OpenAI, Path]]:
    """A server keeping threads 30 days and files 7, swept every 50 ms; its client and blobs."""
    data_dir = tmp_path_factory.mktemp(f"retaining-{backend}")
    with (
        fresh_database(backend, data_dir) as url,
        running_server(make_settings(data_dir, url, **_retaining(scripted_model_url))) as base,
    ):
        yield sdk_client(base, contract_log), data_dir / "files"


def _gone(call: object) -> bool:
    try:
        call()  # type: ignore[operator]
    except openai.NotFoundError:
        return True
    return False


def test_an_idle_thread_is_deleted_with_its_messages_and_runs(
    retaining: tuple[openai.OpenAI, Path],
) -> None:
    client, _ = retaining
    assistant = client.beta.assistants.create(model="retention-model")
    idle = client.beta.threads.create(messages=[{"role": "user", "content": "Hello?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=idle.id, assistant_id=assistant.id)
    assert run.status == "completed"
    step_ids = [step.id for step in client.beta.threads.runs.steps.list(run.id, thread_id=idle.id)]
    in_use = client.beta.threads.create(messages=[{"role": "user", "content": "Still here"}])

    with days_later(31):
        # Written to 31 days on: the thread is old, its conversation is not.
        client.beta.threads.messages.create(in_use.id, role="user", content="And now?")
        wait_until(lambda: _gone(lambda: client.beta.threads.retrieve(idle.id)), "the sweep")
        assert _gone(lambda: client.beta.threads.runs.retrieve(run.id, thread_id=idle.id))
        assert _gone(lambda: client.beta.threads.messages.list(idle.id))
        assert _gone(
            lambda: client.beta.threads.runs.steps.retrieve(
                step_ids[0], thread_id=idle.id, run_id=run.id
            )
        )
        assert client.beta.threads.retrieve(in_use.id).id == in_use.id
        assert len(client.beta.threads.messages.list(in_use.id).data) == 2
    assert client.beta.assistants.retrieve(assistant.id).id == assistant.id


def test_an_old_file_is_deleted_with_its_bytes_and_vector_store_entries(
    retaining: tuple[openai.OpenAI, Path],
) -> None:
    client, blobs = retaining
    old = client.files.create(file=("old.txt", TEXT.encode()), purpose="assistants")
    store = client.vector_stores.create(file_ids=[old.id])
    wait_until(lambda: client.vector_stores.retrieve(store.id).file_counts.completed == 1, "index")
    assert (blobs / old.id).exists()

    with days_later(8):
        new = client.files.create(file=("new.txt", TEXT.encode()), purpose="assistants")
        client.vector_stores.files.create_and_poll(file_id=new.id, vector_store_id=store.id)
        wait_until(lambda: not (blobs / old.id).exists(), "the sweep")
        assert _gone(lambda: client.files.retrieve(old.id))
        assert [f.id for f in client.vector_stores.files.list(store.id)] == [new.id]
        counts = client.vector_stores.retrieve(store.id).file_counts
        assert (counts.total, counts.completed) == (1, 1)
        hits = client.vector_stores.search(store.id, query="tidal pools anemones").data
        assert {hit.file_id for hit in hits} == {new.id}
        assert client.files.content(new.id).content == TEXT.encode()


# Several server processes share a PostgreSQL database (with pgvector, so that the chunk index
# is shared as it must be for them to run side by side).
def test_servers_sharing_a_database_sweep_without_getting_in_each_others_way(
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
) -> None:
    if reason := unavailable_reason("pgvector"):
        pytest.skip(reason)
    data_dir = tmp_path_factory.mktemp("two-retainers")
    with fresh_database("pgvector", data_dir) as url:
        peers = peer_settings(same_data_dir=True)
        settings = make_settings(data_dir, url, **_retaining(scripted_model_url), **peers)
        with running_server(settings) as one_base, running_server(settings) as two_base:
            one, two = sdk_client(one_base, contract_log), sdk_client(two_base, contract_log)
            files = [
                client.files.create(file=(f"f{n}.txt", b"x"), purpose="assistants")
                for n in range(15)
                for client in (one, two)
            ]
            threads = [
                client.beta.threads.create(messages=[{"role": "user", "content": "hi"}])
                for _ in range(15)
                for client in (one, two)
            ]
            with days_later(31):
                wait_until(
                    lambda: (
                        not one.files.list().data
                        and all(_gone(lambda t=t: one.beta.threads.retrieve(t.id)) for t in threads)
                    ),
                    "the sweeps",
                )
                assert not any((data_dir / "files" / f.id).exists() for f in files)
    failures = [
        r for r in caplog.records if r.name == retention.log.name and r.levelno >= logging.ERROR
    ]
    assert failures == [], [r.getMessage() for r in failures]
    twice = [w for w in recwarn if "DELETE statement" in str(w.message)]
    assert twice == [], [str(w.message) for w in twice]
