"""Scripted responses: per-model queues of steps that chat requests pop one at a time."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ScriptedToolCall(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    arguments: str | dict[str, Any] | list[Any] = "{}"
    id: str | None = None


class Step(BaseModel):
    """What the model does for one chat request. Unknown fields are an error, to catch typos."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = None
    chunks: list[str] | None = None  # explicit streaming pieces; default is word by word
    chunk_delay_ms: float = 0
    first_token_delay_ms: float = 0
    tool_calls: list[ScriptedToolCall] = Field(default_factory=list)
    status: int | None = None  # answer with this HTTP status and an OpenAI error body
    error: str | dict[str, Any] | None = None
    headers: dict[str, str] = Field(default_factory=dict)  # e.g. {"Retry-After": "0"}
    hang: bool = False  # never answer
    drop_after_chunks: int | None = None  # close the connection after this many chunks
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    send_usage: bool = True  # False: no usage chunk even when the client asks for one
    # Events sent as they are after the role chunk, in place of the text and tool calls: each
    # a JSON value as its ``data`` (a string is sent verbatim), for chunks of unexpected shapes.
    raw_chunks: list[Any] | None = None
    # After the text (and tool calls), send only ``: keep-alive`` comments, one this often, and
    # never finish: a model that keeps its connection busy but says nothing.
    comments_every_ms: float | None = None
    # Stream the text over and over, never finishing (``chunk_delay_ms`` apart).
    endless: bool = False
    # Reasoning streamed before the text, in the dialect's reasoning field (OpenAI: not sent).
    reasoning: str | None = None
    # After the text, a mid-stream error event with this message, in the dialect's shape.
    stream_error: str | None = None
    repeat: int = Field(default=1, ge=1)


class ScriptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: str
    responses: list[Step] = Field(default_factory=list)
    # The dialect the model speaks from now on (``dialects.DIALECTS``); None: unchanged.
    dialect: str | None = None
    # The model's context from now on: longer prompts fail, and the model is listed by
    # ``/v1/models`` (and the dialect's own endpoints) with it, as that backend reports it.
    context_window: int | None = Field(default=None, ge=1)
    # False: requests offering tools are refused from now on, as the dialect's server refuses
    # them for a model without tool support (Ollama's "does not support tools").
    supports_tools: bool | None = None


@dataclass(frozen=True)
class ModelFacts:
    """What a model name was configured to be, beyond its queued steps."""

    dialect: str | None = None
    context_window: int | None = None
    supports_tools: bool = True


class ScriptBook:
    """Queued steps and the last received request bodies, per model name.

    Thread-safe because tests script a server that runs on another thread's event loop.
    """

    def __init__(self, requests_kept: int = 200) -> None:
        self._steps: dict[str, deque[list[Any]]] = {}
        self._requests: dict[str, deque[dict[str, Any]]] = {}
        self._requests_kept = requests_kept
        self._facts: dict[str, ModelFacts] = {}
        self._lock = threading.Lock()

    def set_dialect(self, model: str, dialect: str) -> None:
        self.configure(model, dialect=dialect)

    def configure(self, model: str, **facts: object) -> None:
        """Set the given ``ModelFacts`` fields of ``model`` (None values are left unchanged)."""
        given = {name: value for name, value in facts.items() if value is not None}
        with self._lock:
            self._facts[model] = replace(self._facts.get(model, ModelFacts()), **given)

    def facts(self, model: str) -> ModelFacts:
        return self._facts.get(model, ModelFacts())

    def dialect(self, model: str) -> str | None:
        """The dialect set for ``model``, or None (the server's default)."""
        return self.facts(model).dialect

    def sized_models(self) -> list[str]:
        """The models configured with a context window of their own (``/v1/models`` lists them)."""
        return [name for name, facts in self._facts.items() if facts.context_window]

    def append(self, model: str, steps: list[Step]) -> int:
        with self._lock:
            queue = self._steps.setdefault(model, deque())
            queue.extend([step, step.repeat] for step in steps)
            return sum(remaining for _, remaining in queue)

    def pop(self, model: str) -> Step | None:
        with self._lock:
            queue = self._steps.get(model)
            if not queue:
                return None
            entry = queue[0]
            entry[1] -= 1
            if entry[1] <= 0:
                queue.popleft()
            return entry[0]

    def clear(self, model: str) -> None:
        with self._lock:
            self._steps.pop(model, None)
            self._requests.pop(model, None)
            self._facts.pop(model, None)

    def record(self, model: str, body: dict[str, Any]) -> None:
        with self._lock:
            log = self._requests.get(model)
            if log is None:
                log = self._requests[model] = deque(maxlen=self._requests_kept)
            log.append(body)

    def requests(self, model: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests.get(model, ()))
