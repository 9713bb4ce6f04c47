"""Runs whose model fails (rate limit, server error, timeout, context, no backend), runs that
expire waiting for tool outputs, and requests the API refuses."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest

from tests.harness.contract import ContractLog
from tests.runs.conftest import Scripted, other_server, wait_for

LOOKUP = {
    "type": "function",
    "function": {"name": "lookup", "parameters": {"type": "object", "properties": {}}},
}


def _failed_run(client: openai.OpenAI, model: str) -> Any:
    assistant = client.beta.assistants.create(model=model)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "failed" and run.failed_at is not None
    return run


@pytest.mark.parametrize(
    ("step", "code"),
    [
        ({"status": 429, "error": "slow down"}, "rate_limit_exceeded"),
        ({"status": 500, "error": "boom"}, "server_error"),
        ({"hang": True}, "server_error"),
        (
            {
                "status": 400,
                "error": {
                    "message": "This model's maximum context length is 10 tokens",
                    "code": "context_length_exceeded",
                },
            },
            "invalid_prompt",
        ),
    ],
    ids=["rate-limit", "server-error", "timeout", "context"],
)
def test_upstream_failures_fail_the_run_with_last_error(
    fragile_client: openai.OpenAI, scripted: Scripted, model: str, step: dict[str, Any], code: str
) -> None:
    scripted.script(model, step)
    run = _failed_run(fragile_client, model)
    assert run.last_error.code == code
    assert run.last_error.message


def test_a_malformed_model_chunk_fails_the_run_as_the_models_fault(
    fragile_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"raw_chunks": [{"choices": "notalist"}]})
    run = _failed_run(fragile_client, model)
    assert run.last_error.code == "server_error"
    assert "malformed chunk" in run.last_error.message
    assert "choices" in run.last_error.message


@pytest.fixture(scope="module")
def impatient_client(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[openai.OpenAI]:
    """A server that allows the model 1 s of silence and 2 s in all (runs expire as usual)."""
    yield from other_server(
        backend,
        tmp_path_factory,
        contract_log,
        llm_base_url=scripted_model_url,
        llm_max_retries=0,
        llm_timeout_seconds=1.0,
        llm_total_timeout_seconds=2.0,
    )


@pytest.mark.parametrize(
    "step",
    [
        {"text": "", "comments_every_ms": 100},
        {"text": "more and more", "endless": True, "chunk_delay_ms": 50},
    ],
    ids=["keep-alive-comments-only", "never-ends"],
)
def test_a_model_that_never_finishes_fails_the_run_as_timed_out(
    impatient_client: openai.OpenAI, scripted: Scripted, model: str, step: dict[str, Any]
) -> None:
    scripted.script(model, step)
    client = impatient_client
    assistant = client.beta.assistants.create(model=model)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    run = wait_for(  # not create_and_poll: on the bug it would poll for as long as the run lives
        lambda: client.beta.threads.runs.retrieve(run.id, thread_id=thread.id),
        lambda r: r.status not in ("queued", "in_progress"),
    )
    assert run.status == "failed"
    assert run.last_error.code == "server_error"
    assert "timed out" in run.last_error.message


def test_a_failure_mid_message_leaves_it_incomplete(
    fragile_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    scripted.script(model, {"text": "one two three four five", "drop_after_chunks": 3})
    run = _failed_run(fragile_client, model)
    [step] = fragile_client.beta.threads.runs.steps.list(
        thread_id=run.thread_id, run_id=run.id
    ).data
    assert step.status == "failed" and step.last_error.code == "server_error"
    [message] = fragile_client.beta.threads.messages.list(
        thread_id=run.thread_id, run_id=run.id
    ).data
    assert message.status == "incomplete"
    assert message.incomplete_details.reason == "run_failed"


@pytest.fixture(scope="module")
def unconfigured_client(
    backend: str, tmp_path_factory: pytest.TempPathFactory, contract_log: ContractLog
) -> Iterator[openai.OpenAI]:
    yield from other_server(backend, tmp_path_factory, contract_log)


def test_no_backend_fails_the_run_saying_what_to_set(
    unconfigured_client: openai.OpenAI, model: str
) -> None:
    run = _failed_run(unconfigured_client, model)
    assert run.last_error.code == "server_error"
    assert "ASSISTANTD_LLM_BASE_URL" in run.last_error.message


def test_a_run_waiting_for_tool_outputs_expires(
    fragile_client: openai.OpenAI, scripted: Scripted, model: str
) -> None:
    client = fragile_client
    scripted.script(model, {"tool_calls": [{"name": "lookup"}]})
    assistant = client.beta.assistants.create(model=model, tools=[LOOKUP])
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action"
    assert run.expires_at == run.created_at + 2
    run = wait_for(
        lambda: client.beta.threads.runs.retrieve(run.id, thread_id=thread.id),
        lambda r: r.status != "requires_action",
    )
    assert run.status == "expired" and run.required_action is None
    [step] = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert step.status == "expired" and step.expired_at is not None
    with pytest.raises(openai.BadRequestError):
        client.beta.threads.runs.submit_tool_outputs(
            run_id=run.id, thread_id=thread.id, tool_outputs=[]
        )


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"temperature": 2.5}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"max_completion_tokens": 100}, "max_completion_tokens"),
        ({"max_prompt_tokens": 10}, "max_prompt_tokens"),
        ({"tools": [LOOKUP] * 21}, "tools"),
        ({"truncation_strategy": {"type": "last_messages"}}, "truncation_strategy"),
        (
            {"truncation_strategy": {"type": "last_messages", "last_messages": 0}},
            "truncation_strategy.last_messages",
        ),
        ({"tool_choice": "sometimes"}, "tool_choice"),
        ({"tool_choice": {"type": "function", "function": {"name": "absent"}}}, "tool_choice"),
        ({"stream": "maybe"}, "stream"),  # streaming works; a non-boolean is refused
        ({"surprise": 1}, "surprise"),
        ({"metadata": {"k" * 65: "v"}}, "metadata"),
    ],
)
def test_invalid_run_requests_name_the_parameter(
    http: httpx.Client, client: openai.OpenAI, assistant: Any, thread: Any,
    body: dict[str, Any], param: str,
) -> None:  # fmt: skip
    response = http.post(f"/threads/{thread.id}/runs", json={"assistant_id": assistant.id, **body})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


def test_unknown_objects_are_404(http: httpx.Client, thread: Any, assistant: Any) -> None:
    missing_assistant = http.post(f"/threads/{thread.id}/runs", json={"assistant_id": "asst_x"})
    assert missing_assistant.status_code == 404
    assert missing_assistant.json()["error"]["param"] == "assistant_id"
    missing_thread = http.post("/threads/thread_x/runs", json={"assistant_id": assistant.id})
    assert missing_thread.status_code == 404
    assert http.get(f"/threads/{thread.id}/runs/run_x").status_code == 404
    assert http.get(f"/threads/{thread.id}/runs/run_x/steps").status_code == 404


def test_include_accepts_only_file_search_content(
    http: httpx.Client, client: openai.OpenAI, assistant: Any, thread: Any
) -> None:
    run = client.beta.threads.runs.create_and_poll(
        thread_id=thread.id,
        assistant_id=assistant.id,
        include=["step_details.tool_calls[*].file_search.results[*].content"],
    )
    assert run.status == "completed"
    bad = http.get(f"/threads/{thread.id}/runs/{run.id}/steps", params={"include[]": "everything"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "include[0]"
