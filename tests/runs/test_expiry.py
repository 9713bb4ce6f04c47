"""Runs that outlive ``expires_at`` while queued or executing become ``expired`` (SEMANTICS.md
§5), and ``reasoning_effort`` reaches the model."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.harness.contract import ContractLog
from tests.runs.conftest import Scripted, other_server, wait_for

ACTIVE = ("queued", "in_progress")


@pytest.fixture(scope="module")
def expiring_client(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[openai.OpenAI]:
    """Runs expire two to three seconds after creation; the model may take its time."""
    yield from other_server(
        backend,
        tmp_path_factory,
        contract_log,
        llm_base_url=scripted_model_url,
        run_expiry_seconds=3,
        run_sweep_interval_seconds=0.2,
    )


@pytest.fixture(scope="module")
def idle_client(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[openai.OpenAI]:
    """A server with no run workers: its runs stay queued until they expire."""
    yield from other_server(
        backend,
        tmp_path_factory,
        contract_log,
        llm_base_url=scripted_model_url,
        run_workers=0,
        run_expiry_seconds=1,
        run_sweep_interval_seconds=0.2,
    )


def test_a_run_still_writing_when_it_expires_is_expired_with_its_message_incomplete(
    expiring_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    client = expiring_client
    # The first words come at once, the rest long after the run has expired.
    scripted.script(
        model, {"chunks": ["Partial", " answer", " never sent"], "chunk_delay_ms": 8000}
    )
    assistant = client.beta.assistants.create(model=model)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_for(
        lambda: client.beta.threads.messages.list(thread_id=thread.id).data,
        lambda messages: messages[0].role == "assistant",
    )  # the reply has started (expiry is two to three seconds away)
    run = wait_for(
        lambda: client.beta.threads.runs.retrieve(run.id, thread_id=thread.id),
        lambda r: r.status not in ACTIVE,
    )
    assert run.status == "expired"
    assert run.completed_at is None and run.failed_at is None and run.cancelled_at is None
    assert run.usage is not None
    [step] = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert step.type == "message_creation"
    assert step.status == "expired" and step.expired_at is not None
    reply, _question = client.beta.threads.messages.list(thread_id=thread.id).data
    assert reply.status == "incomplete"
    assert reply.incomplete_details is not None
    assert reply.incomplete_details.reason == "run_expired"
    assert reply.content[0].text.value == "Partial"
    # The thread is free again.
    scripted.script(model, {"text": "Done."})
    again = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert again.status in ("completed", "expired")


def test_a_run_that_waits_in_the_queue_past_its_expiry_is_expired(
    idle_client: openai.OpenAI, model: str
) -> None:
    client = idle_client
    assistant = client.beta.assistants.create(model=model)
    run = client.beta.threads.create_and_run(
        assistant_id=assistant.id, thread={"messages": [{"role": "user", "content": "Hi"}]}
    )
    assert run.status == "queued"
    run = wait_for(
        lambda: client.beta.threads.runs.retrieve(run.id, thread_id=run.thread_id),
        lambda r: r.status != "queued",
    )
    assert run.status == "expired" and run.started_at is None
    assert client.beta.threads.runs.steps.list(thread_id=run.thread_id, run_id=run.id).data == []


@pytest.mark.parametrize("effort", ["low", "high", None])
def test_reasoning_effort_is_sent_to_the_model_only_when_set(
    client: openai.OpenAI, scripted: Scripted, model: str, effort: str | None
) -> None:
    assistant = client.beta.assistants.create(model=model)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    extra = {"reasoning_effort": effort} if effort else {}
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, **extra
    )
    assert run.status == "completed"
    [request] = scripted.requests(model)
    assert request.get("reasoning_effort") == effort
    assert ("reasoning_effort" in request) == (effort is not None)
