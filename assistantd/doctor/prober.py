"""Sending probes as the run engine sends requests: its body (``request_body``), in the shape
the backend has been found to accept. A 400 naming a field the engine can do without (the
engine's own ``RequestShape.without_refused``) is noted, and the probe sent again without it,
as the engine would; what was refused is part of the report."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import aiohttp

from assistantd.doctor.exchange import Answer, send
from assistantd.llm.chat import ChatRequest
from assistantd.llm.failures import is_context_length_error
from assistantd.llm.openai_backend import request_body
from assistantd.llm.request_shape import REFUSAL_STATUSES, RequestShape, shaped_body

# Each field of RequestShape, as the request field a backend refused.
_REFUSED_FIELD = {
    "stream_options": "stream_options",
    "parallel_tool_calls": "parallel_tool_calls",
    "sampling": "temperature / top_p",
    "max_tokens_field": "max_tokens",
    "system_role": "system role",
}


@dataclass
class Prober:
    http: aiohttp.ClientSession
    url: str  # the endpoint's /chat/completions
    timeout_seconds: float
    key_setting: str | None
    shape: RequestShape = field(default_factory=RequestShape)
    refused: dict[str, str] = field(default_factory=dict)  # request field → the error said

    async def ask(self, request: ChatRequest, *, stream_options: bool = True) -> Answer:
        body = request_body(request)
        if not stream_options:
            body.pop("stream_options", None)
        for _ in _REFUSED_FIELD:  # each refusal leaves one more field out, so this ends
            sent = shaped_body(body, self.shape)
            answer = await self._send(sent)
            if not self._adapted(answer, sent):
                return answer
        return await self._send(shaped_body(body, self.shape))

    async def _send(self, body: dict[str, Any]) -> Answer:
        return await send(
            self.http,
            self.url,
            body,
            timeout_seconds=self.timeout_seconds,
            key_setting=self.key_setting,
        )

    def _adapted(self, answer: Answer, sent: dict[str, Any]) -> bool:
        if answer.status not in REFUSAL_STATUSES or is_context_length_error(answer.text_body):
            return False
        adapted = self.shape.without_refused(answer.status, answer.text_body, sent)
        if adapted is None:
            return False
        for name in (f.name for f in fields(RequestShape)):
            if getattr(adapted, name) != getattr(self.shape, name):
                self.refused[_REFUSED_FIELD[name]] = answer.error or answer.text_body
        self.shape = adapted
        return True
