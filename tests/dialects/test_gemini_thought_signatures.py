"""Gemini 3 through its OpenAI endpoint signs each tool call (``extra_content.google
.thought_signature``) and refuses with a 400 a follow-up whose history carries the call without
its signature: assistantd keeps the signature with the step and sends it back, unchanged,
without ever showing it to the client."""

from __future__ import annotations

import json
import uuid

import openai

from assistantd.scripted_model.dialects import thought_signature
from tests.runs.conftest import Scripted, script_two_weather_calls
from tests.streaming.test_sdk_streams import WEATHER


def test_function_calls_signed_by_gemini_are_sent_back_with_their_signatures(
    client: openai.OpenAI, scripted: Scripted
) -> None:
    model = f"gemini-3-{uuid.uuid4().hex[:8]}"
    scripted.script(model, dialect="gemini")
    script_two_weather_calls(scripted, model)
    assistant = client.beta.assistants.create(model=model, tools=[WEATHER])
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Weather?"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action", run.last_error
    calls = run.required_action.submit_tool_outputs.tool_calls
    assert "extra_content" not in json.dumps(run.model_dump())
    outputs = [{"tool_call_id": c.id, "output": f"sunny in {c.id}"} for c in calls]
    run = client.beta.threads.runs.submit_tool_outputs_and_poll(
        thread_id=thread.id, run_id=run.id, tool_outputs=outputs
    )
    assert run.status == "completed", run.last_error
    [step, *_] = client.beta.threads.runs.steps.list(thread_id=thread.id, run_id=run.id).data
    assert "extra_content" not in json.dumps(step.model_dump())
    [_, second] = scripted.requests(model)
    [assistant_turn] = [m for m in second["messages"] if m.get("tool_calls")]
    sent_back = {c["id"]: c["extra_content"] for c in assistant_turn["tool_calls"]}
    # Exactly as the model issued them, each with its own call.
    assert sent_back == {
        call_id: {"google": {"thought_signature": thought_signature(call_id)}}
        for call_id in ("call_paris", "call_rome")
    }
