"""What one model call produced, as it streams: the text of the assistant message and the tool
calls, with the step and message rows opened for them, and the delta events to publish."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from assistantd.ids import new_id
from assistantd.llm.chat import ToolCallDelta, Usage


@dataclass
class PendingCall:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)

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
            entry = _intro(delta.index, call, server_types.get(call.name))
        else:
            if delta.name and not call.name:
                call.name = delta.name
            if not delta.arguments:
                return None
            call.arguments.append(delta.arguments)
            if call.name in server_types:
                return None
            entry = {
                "index": delta.index,
                "type": "function",
                "function": {"arguments": delta.arguments},
            }
        return {
            "id": self.tool_step["id"],
            "object": "thread.run.step.delta",
            "delta": {"step_details": {"type": "tool_calls", "tool_calls": [entry]}},
        }


def _intro(index: int, call: PendingCall, server_type: str | None) -> dict[str, Any]:
    if server_type is not None:
        return {"index": index, "id": call.id, "type": server_type, server_type: {}}
    function = {"name": call.name, "arguments": call.arguments_text, "output": None}
    return {"index": index, "id": call.id, "type": "function", "function": function}
