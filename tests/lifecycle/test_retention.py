"""Retention (``ASSISTANTD_RETENTION_THREAD_DAYS`` / ``_FILE_DAYS`` / ``_USAGE_DAYS``) as a user
sees it through the official SDK and the Usage API: a thread idle for longer is deleted with its
messages and runs, one still in use is kept; a file uploaded longer ago is deleted with its bytes
and its vector-store entries (the stores recounted), a newer one is kept; usage of a minute
longer ago no longer shows, newer usage does. Servers sharing a database sweep without errors.

The tests move the clock (time-machine moves ``time.time`` for the whole process, the server's
threads included) instead of waiting days.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai
import pytest
import time_machine

from assistantd import retention
from tests.conftest import make_settings
from tests.harness.admin import ADMIN_KEY, AdminClient
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.databases import fresh_database, unavailable_reason
from tests.harness.redis_server import peer_settings
from tests.harness.server import running_server
from tests.runs.conftest import Scripted, scripted
from tests.vector_stores.conftest import embedding_settings, wait_until

__all__ = ["scripted"]

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


@pytest.fixture(scope="module")
def keeping_usage(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[tuple[AdminClient, openai.OpenAI]]:
    """A server keeping usage 90 days, swept every 50 ms; its admin and a project's client."""
    data_dir = tmp_path_factory.mktemp(f"keeping-usage-{backend}")
    retaining = {"retention_usage_days": 90, "retention_sweep_interval_seconds": 0.05}
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(
            data_dir, url, admin_key=ADMIN_KEY, llm_base_url=scripted_model_url, **retaining
        )
        with running_server(settings) as base:
            admin = AdminClient(base)
            _, key = admin.project_key("Usage")
            yield admin, sdk_client(base, contract_log, api_key=key)


def _usage_since(admin: AdminClient, model: str, start: int) -> tuple[int, int, int]:
    """(input tokens, output tokens, requests) of ``model`` in the week from ``start``'s day."""
    page = admin.call("GET", "/usage/completions", params={"start_time": start, "models": [model]})
    results = [result for bucket in page["data"] for result in bucket["results"]]
    return (
        sum(r["input_tokens"] for r in results),
        sum(r["output_tokens"] for r in results),
        sum(r["num_model_requests"] for r in results),
    )


def test_usage_older_than_its_retention_no_longer_shows(
    keeping_usage: tuple[AdminClient, openai.OpenAI], scripted: Scripted
) -> None:
    admin, client = keeping_usage
    model = f"usage-retention-{uuid.uuid4().hex[:8]}"
    usage = [
        {"prompt_tokens": 11, "completion_tokens": 5},
        {"prompt_tokens": 7, "completion_tokens": 2},
    ]
    scripted.script(model, *({"text": "ok", "usage": u} for u in usage))
    assistant = client.beta.assistants.create(model=model)

    def run() -> None:
        thread = client.beta.threads.create(messages=[{"role": "user", "content": "hi"}])
        done = client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id=assistant.id
        )
        assert done.status == "completed"

    then = int(time.time())
    run()
    assert _usage_since(admin, model, then) == (11, 5, 1)
    with days_later(91):
        later = int(time.time())
        run()  # usage of a minute 91 days on: within the 90 days, kept
        wait_until(lambda: _usage_since(admin, model, then) == (0, 0, 0), "the sweep")
        assert _usage_since(admin, model, later) == (7, 2, 1)


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
