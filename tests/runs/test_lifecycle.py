"""Cancelling, expiring, token budgets, truncation, and the one-active-run-per-thread lock."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from tests.harness.contract import ContractLog
from tests.runs.conftest import Scripted, other_server, wait_for

SLOW = {"text": " ".join(["word"] * 200), "chunk_delay_ms": 50}
LOOKUP = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}


def _run(client: openai.OpenAI, thread_id: str, run_id: str) -> Any:
    return client.beta.threads.runs.retrieve(run_id, thread_id=thread_id)


def test_cancel_stops_a_run_mid_generation(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, SLOW)
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_for(
        lambda: client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data,
        bool,
    )
    cancelling = client.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    assert cancelling.status in ("cancelling", "cancelled")
    run = client.beta.threads.runs.poll(run.id, thread_id=thread.id)
    assert run.status == "cancelled" and run.cancelled_at is not None
    [step] = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert step.status == "cancelled" and step.cancelled_at is not None
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.status == "incomplete"
    assert message.incomplete_details.reason == "run_cancelled"
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.cancel(run.id, thread_id=thread.id)


def test_metadata_set_while_a_run_executes_is_kept_at_its_end(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    """The executor saves a turn's end without a lock while nobody else changed the run: a
    change made meanwhile is not lost, nor is the turn's message."""
    scripted.script(model, {"text": "one two three four", "chunk_delay_ms": 100})
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_for(
        lambda: client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data,
        bool,
    )
    client.beta.threads.runs.update(run.id, thread_id=thread.id, metadata={"seen": "yes"})
    run = client.beta.threads.runs.poll(run.id, thread_id=thread.id)
    assert run.status == "completed" and run.metadata == {"seen": "yes"}
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.status == "completed"
    assert message.content[0].text.value == "one two three four"


def test_cancel_a_run_waiting_for_tool_outputs(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"tool_calls": [{"name": "lookup"}]})
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, tools=[LOOKUP]
    )
    assert run.status == "requires_action"
    client.beta.threads.runs.cancel(run.id, thread_id=thread.id)
    run = client.beta.threads.runs.poll(run.id, thread_id=thread.id)
    assert run.status == "cancelled" and run.required_action is None
    [step] = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert step.status == "cancelled"


def test_one_active_run_per_thread_under_a_race(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, SLOW)

    def create(_: int) -> Any:
        try:
            return client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
        except openai.BadRequestError as error:
            return error

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(create, range(8)))
    runs = [o for o in outcomes if not isinstance(o, Exception)]
    refusals = [o for o in outcomes if isinstance(o, openai.BadRequestError)]
    assert len(runs) == 1 and len(refusals) == 7
    for refusal in refusals:
        assert (
            refusal.body["message"] == f"Thread {thread.id} already has an active run {runs[0].id}."
        )
    with pytest.raises(openai.BadRequestError) as refused:
        client.beta.threads.messages.create(thread_id=thread.id, role="user", content="hey")
    assert refused.value.body["message"] == (
        f"Can't add messages to {thread.id} while a run {runs[0].id} is active."
    )
    client.beta.threads.runs.cancel(runs[0].id, thread_id=thread.id)
    assert client.beta.threads.runs.poll(runs[0].id, thread_id=thread.id).status == "cancelled"
    assert len(client.beta.threads.runs.list(thread_id=thread.id).data) == 1


def test_max_completion_tokens_cut_a_message_short(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    scripted.script(model, {"text": "Partial answer", "finish_reason": "length"})
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, max_completion_tokens=256
    )
    assert run.status == "incomplete"
    assert run.incomplete_details.reason == "max_completion_tokens"
    assert scripted.requests(model)[-1]["max_tokens"] == 256
    [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
    assert message.status == "incomplete"
    assert message.incomplete_details.reason == "max_tokens"
    assert message.content[0].text.value == "Partial answer"


def test_token_budgets_span_every_turn_of_the_run(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any, thread: Any
) -> None:
    big_turn = {"prompt_tokens": 300, "completion_tokens": 10, "total_tokens": 310}
    scripted.script(model, {"tool_calls": [{"id": "call_1", "name": "lookup"}], "usage": big_turn})
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, tools=[LOOKUP], max_prompt_tokens=256
    )
    assert run.status == "requires_action"
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": "call_1", "output": "x"}]
    )
    assert run.status == "incomplete"
    assert run.incomplete_details.reason == "max_prompt_tokens"
    assert run.usage.prompt_tokens == 300
    assert len(scripted.requests(model)) == 1


def test_a_prompt_over_max_prompt_tokens_ends_incomplete(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any
) -> None:
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": "lorem ipsum " * 300}]
    )
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id, assistant_id=assistant.id, max_prompt_tokens=256
    )
    assert run.status == "incomplete"
    assert run.incomplete_details.reason == "max_prompt_tokens"
    assert scripted.requests(model) == []


def test_truncation_last_messages(
    client: openai.OpenAI, scripted: Scripted, model: str, assistant: Any
) -> None:
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": f"message {n}"} for n in range(5)]
    )
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id,
        assistant_id=assistant.id,
        truncation_strategy={"type": "last_messages", "last_messages": 2},
    )
    assert run.truncation_strategy.last_messages == 2
    contents = [m["content"] for m in scripted.requests(model)[-1]["messages"]]
    assert contents == ["You are terse.", "message 3", "message 4"]


@pytest.fixture(scope="module")
def small_window_client(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[openai.OpenAI]:
    yield from other_server(
        backend,
        tmp_path_factory,
        contract_log,
        llm_base_url=scripted_model_url,
        default_context_window=600,
    )


def test_auto_truncation_drops_the_oldest_messages_to_fit_the_window(
    small_window_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    client = small_window_client
    assistant = client.beta.assistants.create(model=model)
    filler = "apple banana cherry " * 40  # ~120 tokens each
    thread = client.beta.threads.create(
        messages=[{"role": "user", "content": f"{n}: {filler}"} for n in range(8)]
    )
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    sent = [m["content"][:2] for m in scripted.requests(model)[-1]["messages"]]
    assert 1 <= len(sent) < 8
    assert sent[-1] == "7:"
    assert sent == [f"{n}:" for n in range(8 - len(sent), 8)]
