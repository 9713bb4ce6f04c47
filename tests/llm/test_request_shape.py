"""Refused request fields: which 400s name one, the body sent instead, the shape remembered per
model (a route's ``dialect`` pins it), and OpenAI's request left byte for byte as it was."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from assistantd.config import ModelRoute, Settings
from assistantd.llm import ChatRequest, ModelRouter
from assistantd.llm.failures import failure_from_payload, failure_from_response
from assistantd.llm.openai_backend import request_body
from assistantd.llm.request_shape import RequestShape, pinned_shape, shaped_body
from assistantd.scripted_model.testing import ScriptedModelClient
from tests.llm.collecting import assemble


def _request() -> ChatRequest:
    return ChatRequest(
        model="m",
        messages=[{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"}],
        tools=[{"type": "function", "function": {"name": "f", "parameters": {}}}],
        tool_choice="auto",
        parallel_tool_calls=True,
        temperature=0.5,
        top_p=1.0,
        max_tokens=100,
    )


def _openai_error(message: str, param: str | None = None) -> str:
    return json.dumps(
        {"error": {"message": message, "type": "invalid_request_error", "param": param}}
    )


def test_openais_shape_sends_the_body_unchanged() -> None:
    body = request_body(_request())
    assert shaped_body(body, RequestShape()) is body
    assert orjson.dumps(shaped_body(body, pinned_shape("openai"))) == orjson.dumps(body)
    assert body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize(
    ("error", "status", "changed"),
    [
        (_openai_error("Unsupported parameter: 'max_tokens'. Use 'max_completion_tokens'."), 400,
         {"max_tokens_field": "max_completion_tokens"}),
        (_openai_error("Unsupported value: 'temperature' does not support 0.5"), 400,
         {"sampling": False}),
        (_openai_error("Unsupported value: 'messages[0].role' does not support 'system'"), 400,
         {"system_role": "developer"}),
        (_openai_error("not supported with this model", "parallel_tool_calls"), 400,
         {"parallel_tool_calls": False}),
        ('{"error": "unknown field `stream_options`", "error_type": "validation"}', 422,
         {"stream_options": False}),
        ("stream_options is not supported", 400, {"stream_options": False}),
    ],
)  # fmt: skip
def test_a_refusal_names_the_field_to_change(
    error: str, status: int, changed: dict[str, Any]
) -> None:
    sent = request_body(_request())
    assert RequestShape().without_refused(status, error, sent) == RequestShape(**changed)


def test_what_is_no_refusal() -> None:
    sent = request_body(_request())
    shape = RequestShape()
    assert shape.without_refused(500, _openai_error("max_tokens broke us"), sent) is None
    assert shape.without_refused(400, _openai_error("The model is not loaded."), sent) is None
    done = RequestShape(stream_options=False)
    assert done.without_refused(400, "stream_options is not supported", sent) is None
    unsent = {k: v for k, v in sent.items() if k != "parallel_tool_calls"}
    assert shape.without_refused(400, "parallel_tool_calls unsupported", unsent) is None


def test_the_shape_changes_only_what_it_says() -> None:
    shape = pinned_shape("openai-reasoning")
    body = shaped_body(request_body(_request()), shape)
    assert body["max_completion_tokens"] == 100 and "max_tokens" not in body
    assert "temperature" not in body and "top_p" not in body
    assert body["messages"][0] == {"role": "developer", "content": "Be terse."}
    assert body["messages"][1]["role"] == "user" and body["parallel_tool_calls"] is True
    assert "stream_options" not in shaped_body(request_body(_request()), pinned_shape("tgi"))


def test_errors_in_other_shapes_are_said_by_their_message() -> None:
    vllm = {"object": "error", "message": "bad tool", "type": "BadRequestError", "code": 400}
    gemini = [{"error": {"code": 400, "message": "bad tool", "status": "INVALID_ARGUMENT"}}]
    anthropic = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad tool"}}
    tgi = {"error": "bad tool", "error_type": "validation"}
    for body in (vllm, gemini, anthropic, tgi):
        failure = failure_from_response(400, {}, json.dumps(body))
        assert str(failure) == "server_error: upstream rejected the request (400): bad tool"
    plain = failure_from_response(400, {}, "bad tool")
    assert str(plain) == "server_error: upstream rejected the request (400): bad tool"


def test_mid_stream_errors_are_said_by_their_message() -> None:
    as_text = failure_from_payload("the worker died")
    assert as_text.message == "upstream error mid-stream: the worker died"
    as_object = failure_from_payload({"code": 502, "message": "provider overloaded"})
    assert as_object.message == "upstream error mid-stream: provider overloaded"


def test_llama_cpps_context_error_is_an_invalid_prompt() -> None:
    body = {
        "error": {
            "code": 400,
            "message": "the request exceeds the available context size, try increasing it",
            "type": "exceed_context_size_error",
        }
    }
    failure = failure_from_response(400, {}, json.dumps(body))
    assert getattr(failure, "code", None) == "invalid_prompt"


async def test_a_routes_dialect_sends_the_first_request_in_its_shape(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"text": "Hi."}, dialect="openai-reasoning")
    route = ModelRoute(base_url=scripted_url, dialect="openai-reasoning")
    router = ModelRouter(Settings(model_routes={model: route}))
    try:
        assembled = await assemble(router.resolve(model), _request())  # type: ignore[arg-type]
    finally:
        await router.aclose()
    assert "".join(assembled.texts) == "Hi."
    # Pinned: the first request; parallel_tool_calls (refused by some such models) is learned.
    first, second = await scripted.requests(model)
    assert first["max_completion_tokens"] == 100 and first["messages"][0]["role"] == "developer"
    assert "temperature" not in first and "parallel_tool_calls" not in second


async def test_learned_refusals_are_remembered_per_model(
    scripted_url: str, scripted: ScriptedModelClient, model: str
) -> None:
    await scripted.script(model, {"text": "One."}, {"text": "Two."}, dialect="openai-reasoning")
    router = ModelRouter(Settings(llm_base_url=scripted_url))
    try:
        for _ in range(2):
            await assemble(router.resolve(model), _request())  # type: ignore[arg-type]
    finally:
        await router.aclose()
    bodies = await scripted.requests(model)
    assert len(bodies) == 4 + 1 + 1  # four refusals, the answer, then the next answer at once
    assert bodies[-1] == bodies[-2]
