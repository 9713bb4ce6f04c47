"""What one model call produced, as it streams: the text of the assistant message and the tool
calls, with the step and message rows opened for them, and the delta events to publish."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from assistantd.ids import new_id
from assistantd.llm.chat import ToolCallDelta, Usage
from assistantd.tools.code_interpreter.code_argument import CodeInputStream


@dataclass
class PendingCall:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)
    # A code_interpreter call streams its code (decoded from the JSON arguments) as its input.
    code: CodeInputStream | None = None
    # The backend's own data on the call (Gemini's thought signature), to send back with it.
    extra_content: dict[str, Any] | None = None

    @property
    def arguments_text(self) -> str:
        return "".join(self.arguments)


@dataclass
class Turn:
    last_message_seq: int  # the newest thread message when the turn began
    message: dict[str, Any] | None = None
    message_step: dict[str, Any] | None = None
    message_seq: int | None = None
    text: list[str] = field(default_factory=list)
    tool_step: dict[str, Any] | None = None
    calls: dict[int, PendingCall] = field(default_factory=dict)
    usage: Usage | None = None
    finish_reason: str | None = None
    # How long the model call streamed, and whether the run's timings have counted it yet.
    model_seconds: float = 0.0
    model_counted: bool = False
    # A database write the stream started; a cancellation waits for it before closing the run.
    pending_write: asyncio.Future[Any] | None = None

    @property
    def text_value(self) -> str:
        return "".join(self.text)

    def partial_text(self) -> dict[str, str]:
        return {self.message["id"]: self.text_value} if self.message else {}

    def message_delta(self, piece: str) -> dict[str, Any]:
        assert self.message is not None
        part = {"index": 0, "type": "text", "text": {"value": piece, "annotations": []}}
        return {
            "id": self.message["id"],
            "object": "thread.message.delta",
            "delta": {"content": [part]},
        }

    def add_call_delta(
        self, delta: ToolCallDelta, server_types: dict[str, str]
    ) -> dict[str, Any] | None:
        """Record a tool-call fragment; returns the step delta payload to publish, if any.
        The first delta of a call carries its id, type and name; later ones only arguments."""
        assert self.tool_step is not None
        call = self.calls.get(delta.index)
        if call is None:
            call = PendingCall(id=delta.id or new_id("call_"), name=delta.name or "")
            self.calls[delta.index] = call
            call.arguments.append(delta.arguments)
            call.extra_content = delta.extra_content
            entry = _intro(delta.index, call, server_types.get(call.name))
        else:
            if delta.name and not call.name:
                call.name = delta.name
            call.extra_content = delta.extra_content or call.extra_content
            if not delta.arguments:
                return None
            call.arguments.append(delta.arguments)
            if call.name in server_types:
                return self._step_delta(_code_piece(delta.index, call, delta.arguments))
            entry = {
                "index": delta.index,
                "type": "function",
                "function": {"arguments": delta.arguments},
            }
        return self._step_delta(entry)

    def result_delta(self, call_id: str, entry: dict[str, Any]) -> dict[str, Any] | None:
        """The step delta that streams a server tool's result (a code_interpreter call's
        outputs, with any code not streamed yet), once the tool has run."""
        index, call = next(((i, c) for i, c in self.calls.items() if c.id == call_id), (0, None))
        details = entry.get("code_interpreter")
        if call is None or entry.get("type") != "code_interpreter" or details is None:
            return None
        body: dict[str, Any] = {
            "outputs": [{"index": i, **output} for i, output in enumerate(details["outputs"])]
        }
        sent = call.code.sent if call.code is not None else ""
        if details["input"].startswith(sent) and len(details["input"]) > len(sent):
            body["input"] = details["input"][len(sent) :]
        return self._step_delta(
            {"index": index, "type": "code_interpreter", "code_interpreter": body}
        )

    def output_delta(self, call_id: str, output: str) -> dict[str, Any] | None:
        """The step delta that streams the output the server gave a function call (one to a
        tool the run lacks), so that clients merging deltas see it as the stored step has it."""
        index = next((i for i, c in self.calls.items() if c.id == call_id), None)
        if index is None:
            return None
        return self._step_delta(
            {"index": index, "type": "function", "function": {"output": output}}
        )

    def _step_delta(self, entry: dict[str, Any] | None) -> dict[str, Any] | None:
        if entry is None:
            return None
        assert self.tool_step is not None
        return {
            "id": self.tool_step["id"],
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [entry]}},
        }


def _code_piece(index: int, call: PendingCall, fragment: str) -> dict[str, Any] | None:
    if call.code is None:
        return None
    piece = call.code.feed(fragment)
    if not piece:
        return None
    return {"index": index, "type": "code_interpreter", "code_interpreter": {"input": piece}}


def _intro(index: int, call: PendingCall, server_type: str | None) -> dict[str, Any]:
    if server_type == "code_interpreter":
        call.code = CodeInputStream()
        body = {"input": call.code.feed(call.arguments_text), "outputs": []}
        return {"index": index, "id": call.id, "type": server_type, server_type: body}
    if server_type is not None:
        return {"index": index, "id": call.id, "type": server_type, server_type: {}}
    function = {"name": call.name, "arguments": call.arguments_text, "output": None}
    return {"index": index, "id": call.id, "type": "function", "function": function}
