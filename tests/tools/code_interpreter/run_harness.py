"""Driving code_interpreter through runs: an assistant with the tool, a scripted model that
calls it with given code and then answers, and the resulting tool-call entry."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import openai

from tests.runs.conftest import Scripted

TOOL = {"type": "code_interpreter"}


@dataclass
class CodeRun:
    run: Any
    entry: Any  # the step's code_interpreter tool call (SDK object)
    message: Any | None  # the assistant message the run ended with

    @property
    def logs(self) -> str:
        return "".join(o.logs for o in self.entry.code_interpreter.outputs if o.type == "logs")

    @property
    def image_ids(self) -> list[str]:
        outputs = self.entry.code_interpreter.outputs
        return [o.image.file_id for o in outputs if o.type == "image"]


def new_model() -> str:
    return f"model-ci-{uuid.uuid4().hex[:10]}"


def new_assistant(client: openai.OpenAI, model: str, file_ids: list[str] | None = None) -> Any:
    resources = {"code_interpreter": {"file_ids": file_ids}} if file_ids else None
    return client.beta.assistants.create(model=model, tools=[TOOL], tool_resources=resources)


def script_code(scripted: Scripted, model: str, code: str, answer: str = "Done.") -> None:
    scripted.script(
        model,
        {"tool_calls": [{"name": "code_interpreter", "arguments": {"code": code}}]},
        {"text": answer},
    )


def run_code(
    client: openai.OpenAI,
    scripted: Scripted,
    assistant: Any,
    thread_id: str,
    code: str,
    answer: str = "Done.",
) -> CodeRun:
    """One run in which the model runs ``code`` once and then answers ``answer``."""
    script_code(scripted, assistant.model, code, answer)
    run = client.beta.threads.runs.create_and_poll(thread_id=thread_id, assistant_id=assistant.id)
    return finished(client, run)


def finished(client: openai.OpenAI, run: Any) -> CodeRun:
    steps = client.beta.threads.runs.steps.list(
        thread_id=run.thread_id, run_id=run.id, order="asc"
    ).data
    [entry] = [
        call
        for step in steps
        if step.step_details.type == "tool_calls"
        for call in step.step_details.tool_calls
    ]
    messages = client.beta.threads.messages.list(thread_id=run.thread_id, run_id=run.id).data
    return CodeRun(run, entry, messages[0] if messages else None)
