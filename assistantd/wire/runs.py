"""Request bodies for ``/threads/{thread_id}/runs`` and ``/threads/runs`` (SEMANTICS.md §3)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from assistantd.wire.assistants import Instructions, ReasoningEffort, Temperature, TopP
from assistantd.wire.common import Metadata, Request
from assistantd.wire.messages import CreateMessage
from assistantd.wire.threads import CreateThread
from assistantd.wire.tools import ResponseFormat, Tool, ToolChoice, ToolResources

TokenBudget = Annotated[int, Field(ge=256)]
RunTools = Annotated[list[Tool], Field(max_length=20)]
FILE_SEARCH_CONTENT = "step_details.tool_calls[*].file_search.results[*].content"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TruncationStrategy(Strict):
    type: Literal["auto", "last_messages"]
    last_messages: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _count_given(self) -> TruncationStrategy:
        if self.type == "last_messages" and self.last_messages is None:
            raise ValueError("last_messages is required when type is 'last_messages'")
        return self


class RunOptions(Request):
    """What create-run and create-thread-and-run share."""

    assistant_id: str
    model: Annotated[str, Field(min_length=1)] | None = None
    instructions: Instructions | None = None
    tools: RunTools | None = None
    metadata: Metadata = None
    temperature: Temperature | None = None
    top_p: TopP | None = None
    stream: bool | None = None
    max_prompt_tokens: TokenBudget | None = None
    max_completion_tokens: TokenBudget | None = None
    truncation_strategy: TruncationStrategy | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None


class CreateRun(RunOptions):
    additional_instructions: str | None = None
    additional_messages: list[CreateMessage] | None = None
    reasoning_effort: ReasoningEffort | None = None  # accepted, not echoed (as OpenAI)


class CreateThreadAndRun(RunOptions):
    thread: CreateThread | None = None
    tool_resources: ToolResources | None = None


class ToolOutput(Strict):
    tool_call_id: str
    output: str = ""


class SubmitToolOutputs(Request):
    tool_outputs: list[ToolOutput]
    stream: bool | None = None


class ModifyRun(Request):
    metadata: Metadata = None
