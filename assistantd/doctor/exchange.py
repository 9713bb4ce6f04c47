"""One probe request and what came back: the raw events (to see the dialect's shape), and the
chunks the run engine reads from them (``chunk_from_event`` with a ``ToolCallAssembler``).

    answer = await send(http, target, body, timeout_seconds=20)
    answer.text, answer.calls, answer.usage, answer.raw_tool_calls
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import orjson

from assistantd.llm.chat import ChatChunk, Usage
from assistantd.llm.chunk_parsing import MalformedChunk, chunk_from_completion, chunk_from_event
from assistantd.llm.errors import UpstreamError
from assistantd.llm.failures import (
    RetryableFailure,
    failure_from_payload,
    failure_from_response,
    not_an_endpoint,
)
from assistantd.llm.sse_decoder import SSEDecoder
from assistantd.llm.tool_call_assembly import ToolCallAssembler

_DONE = b"[DONE]"


class Unreachable(Exception):
    """No HTTP answer at all (refused, timed out, DNS): the message says so in a line."""


@dataclass
class AssembledCall:
    id: str
    name: str
    arguments: str

    @property
    def arguments_json(self) -> Any:
        try:
            return json.loads(self.arguments)
        except ValueError:
            return None


@dataclass
class Answer:
    status: int
    text_body: str = ""  # an error answer's body, as sent
    error: str | None = None  # what the run's last_error would say, for an error answer
    streamed: bool = False  # text/event-stream (else a whole JSON completion)
    payloads: list[dict[str, Any]] = field(default_factory=list)
    chunks: list[ChatChunk] = field(default_factory=list)  # what the engine reads

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def text(self) -> str:
        return "".join(chunk.text or "" for chunk in self.chunks)

    @property
    def usage(self) -> Usage | None:
        return next((c.usage for c in reversed(self.chunks) if c.usage is not None), None)

    @property
    def finish_reason(self) -> str | None:
        """The finish reason as the engine sees it (``tool_calls`` once calls were made)."""
        return next((c.finish_reason for c in reversed(self.chunks) if c.finish_reason), None)

    @property
    def calls(self) -> list[AssembledCall]:
        """The tool calls the engine assembles, in order."""
        calls: dict[int, AssembledCall] = {}
        for chunk in self.chunks:
            for delta in chunk.tool_calls:
                call = calls.setdefault(delta.index, AssembledCall(delta.id or "", "", ""))
                call.name += delta.name or ""
                call.arguments += delta.arguments
        return [calls[index] for index in sorted(calls)]

    def deltas(self) -> list[dict[str, Any]]:
        """Each event's ``choices[0].delta`` (or a whole completion's ``message``), as sent."""
        found = []
        for payload in self.payloads:
            choices = payload.get("choices")
            if isinstance(choices, list) and choices and isinstance(choices[0], dict):
                part = choices[0].get("delta") or choices[0].get("message")
                if isinstance(part, dict):
                    found.append(part)
        return found

    @property
    def raw_tool_calls(self) -> list[list[dict[str, Any]]]:
        """The ``tool_calls`` list of each delta that had one, as the backend sent them."""
        return [d["tool_calls"] for d in self.deltas() if isinstance(d.get("tool_calls"), list)]

    @property
    def raw_finish_reasons(self) -> list[str]:
        reasons = []
        for payload in self.payloads:
            for choice in payload.get("choices") or []:
                if isinstance(choice, dict) and isinstance(choice.get("finish_reason"), str):
                    reasons.append(choice["finish_reason"])
        return reasons

    @property
    def reasoning_fields(self) -> list[str]:
        """The delta fields that carried reasoning (``reasoning_content``, ``reasoning``)."""
        names = [k for d in self.deltas() for k in ("reasoning_content", "reasoning") if d.get(k)]
        return list(dict.fromkeys(names))


async def send(
    http: aiohttp.ClientSession,
    url: str,
    body: dict[str, Any],
    *,
    timeout_seconds: float,
    key_setting: str | None,
) -> Answer:
    """POST ``body`` to ``url`` (the endpoint's ``/chat/completions``) and read it all."""
    try:
        async with asyncio.timeout(timeout_seconds):
            async with http.post(url, data=orjson.dumps(body), headers=_JSON) as response:
                return await _read(response, url, key_setting)
    except TimeoutError:
        raise Unreachable(f"{url} did not answer within {timeout_seconds:g} s") from None
    except aiohttp.ClientError as exc:
        raise Unreachable(f"cannot reach {url}: {exc or type(exc).__name__}") from None


_JSON = {"Content-Type": "application/json"}


async def _read(response: aiohttp.ClientResponse, url: str, key_setting: str | None) -> Answer:
    raw = await response.read()
    text = raw.decode("utf-8", "replace")
    answer = Answer(status=response.status, text_body=text)
    if response.status >= 400:
        failure = failure_from_response(
            response.status,
            response.headers,
            text,
            response.reason or "",
            url=url,
            key_setting=key_setting,
        )
        answer.error = _message(failure)
        return answer
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("text/html") or raw.lstrip()[:1] == b"<":
        answer.error = not_an_endpoint(url, f"{response.status} with an HTML page")
        return answer
    answer.streamed = content_type.startswith("text/event-stream")
    try:
        _parse(answer, raw)
    except (ValueError, MalformedChunk, UpstreamError) as exc:
        answer.error = exc.message if isinstance(exc, UpstreamError) else f"{url}: {exc}"
    return answer


def _parse(answer: Answer, raw: bytes) -> None:
    if not answer.streamed:
        payload = _object(raw)
        answer.payloads.append(payload)
        answer.chunks.append(chunk_from_completion(payload))
        return
    assembler = ToolCallAssembler()
    decoder = SSEDecoder()
    for data in [*decoder.feed(raw), *decoder.close()]:
        if data == _DONE:
            break
        if not data:
            continue
        payload = _object(data)
        answer.payloads.append(payload)
        if payload.get("error"):
            raise failure_from_payload(payload["error"])
        if (chunk := chunk_from_event(payload, assembler)) is not None:
            answer.chunks.append(chunk)


def _object(data: bytes) -> dict[str, Any]:
    value = orjson.loads(data)
    if not isinstance(value, dict):
        raise ValueError(f"the endpoint sent a non-object payload: {data[:80]!r}")
    return value


def _message(failure: Exception) -> str:
    if isinstance(failure, RetryableFailure):
        return failure.error.message
    if isinstance(failure, UpstreamError):
        return failure.message
    return str(failure)
