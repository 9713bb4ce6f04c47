"""A backend for any OpenAI-compatible ``/chat/completions`` endpoint, streamed over SSE."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import asdict
from typing import Any

import httpx
from httpx_sse import EventSource, SSEError

from assistantd import tokens
from assistantd.llm.chat import ChatChunk, ChatRequest, Usage
from assistantd.llm.chunk_parsing import chunk_from_completion, chunk_from_event
from assistantd.llm.errors import UpstreamError
from assistantd.llm.failures import RetryableFailure, failure_from_payload, failure_from_response

log = logging.getLogger(__name__)

# Streams are long-lived, so the pool must hold hundreds of simultaneous connections.
MAX_CONNECTIONS = 1000
MAX_KEEPALIVE_CONNECTIONS = 200
# httpcore's pool looks at every connection it holds each time a request starts or ends, so one
# pool of a few hundred connections costs quadratically (at 100 concurrent model calls, a third
# of the server's CPU); calls go round-robin to several smaller pools instead.
POOL_SHARDS = 16
# How long to wait for the end of a stream's body after ``[DONE]`` before closing it instead.
DRAIN_SECONDS = 1.0


class OpenAICompatibleBackend:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_seconds: float = 120.0,
        connect_timeout_seconds: float = 10.0,
        max_retries: int = 2,
        backoff_seconds: float = 0.2,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.base_url = base_url.rstrip("/")
        self._max_retries = max_retries
        self._backoff_seconds = backoff_seconds
        # ``read`` bounds the silence between two chunks, not the whole stream.
        timeout = httpx.Timeout(timeout_seconds, connect=connect_timeout_seconds)
        shard_connections = max(1, max_connections // POOL_SHARDS)
        limits = httpx.Limits(
            max_connections=shard_connections,
            max_keepalive_connections=min(
                shard_connections, MAX_KEEPALIVE_CONNECTIONS // POOL_SHARDS
            ),
        )
        self._clients = [
            httpx.AsyncClient(
                base_url=self.base_url + "/", headers=headers, timeout=timeout, limits=limits
            )
            for _ in range(POOL_SHARDS)
        ]
        self._client = self._clients[0]
        self._next_client = itertools.cycle(self._clients)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Yield chunks as they arrive. Retries only until the first chunk has been yielded."""
        body = request_body(request)
        attempt = 0
        while True:
            yielded = False
            try:
                # aclosing: a consumer that stops early closes the HTTP response now, not at GC.
                async with aclosing(self._one_attempt(request, body)) as chunks:
                    async for chunk in chunks:
                        yielded = True
                        yield chunk
                return
            except RetryableFailure as failure:
                if yielded or attempt >= self._max_retries:
                    raise failure.error from failure
                delay = failure.delay_seconds
                if delay is None:
                    delay = self._backoff_seconds * 2**attempt
                log.info("retrying %s in %.2fs: %s", request.model, delay, failure.error.message)
                attempt += 1
                await asyncio.sleep(delay)

    async def list_models(self) -> list[str]:
        try:
            response = await self._client.get("models")
            response.raise_for_status()
            return [str(entry["id"]) for entry in response.json().get("data", [])]
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise UpstreamError(
                "server_error", f"listing models at {self.base_url}: {exc}"
            ) from exc

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def _one_attempt(
        self, request: ChatRequest, body: dict[str, Any]
    ) -> AsyncIterator[ChatChunk]:
        collected = _Collected()
        try:
            client = next(self._next_client)
            async with client.stream("POST", "chat/completions", json=body) as response:
                if response.status_code >= 400:
                    await response.aread()
                    raise failure_from_response(response)
                async with aclosing(_chunks(response)) as chunks:
                    async for chunk in chunks:
                        collected.add(chunk)
                        yield chunk
        except httpx.TimeoutException as exc:
            raise _transport_failure("timed out waiting for the model", exc) from exc
        except (httpx.TransportError, SSEError) as exc:
            raise _transport_failure("the connection to the model failed", exc) from exc
        if collected.usage is None:
            # Some servers ignore stream_options.include_usage; the run still needs a usage.
            yield ChatChunk(usage=collected.estimated_usage(request))


async def _chunks(response: httpx.Response) -> AsyncIterator[ChatChunk]:
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        await response.aread()
        yield chunk_from_completion(_json(response.text))
        return
    finished = False
    async with aclosing(EventSource(response).aiter_sse()) as events:
        async for event in events:
            if event.data == "[DONE]":
                await _drain(events)
                return
            if not event.data:
                continue
            payload = _json(event.data)
            if "error" in payload and not payload.get("choices"):
                raise failure_from_payload(payload["error"])
            chunk = chunk_from_event(payload)
            if chunk is not None:
                finished = finished or chunk.finish_reason is not None
                yield chunk
    if not finished:
        raise RetryableFailure(UpstreamError("server_error", "the model's stream ended early"))


async def _drain(events: AsyncIterator[Any]) -> None:
    """Read the body to its end (after ``[DONE]``, normally only the chunked terminator), so
    that the connection goes back to the pool: a response left unread is closed, and a new TCP
    connection per model call cost more than the rest of the call's client side."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            async for _ in events:
                pass
    except TimeoutError:
        pass  # a server that keeps the stream open after [DONE]: close the connection instead


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        error = UpstreamError("server_error", f"the model sent malformed JSON: {text[:200]!r}")
        raise RetryableFailure(error) from exc
    if not isinstance(value, dict):
        raise RetryableFailure(UpstreamError("server_error", "the model sent a non-object payload"))
    return value


def _transport_failure(what: str, exc: Exception) -> RetryableFailure:
    detail = str(exc) or type(exc).__name__
    return RetryableFailure(UpstreamError("server_error", f"{what}: {detail}"))


def request_body(request: ChatRequest) -> dict[str, Any]:
    """The JSON body: the request's fields that are set, streaming with usage."""
    body = {key: value for key, value in asdict(request).items() if value is not None}
    body["stream"] = True
    body["stream_options"] = {"include_usage": True}
    return body


class _Collected:
    """What one attempt has streamed, to estimate usage when upstream sends none."""

    def __init__(self) -> None:
        self.text: list[str] = []
        self.tool_parts: list[str] = []
        self.usage: Usage | None = None

    def add(self, chunk: ChatChunk) -> None:
        if chunk.text:
            self.text.append(chunk.text)
        for call in chunk.tool_calls:
            self.tool_parts.extend(part for part in (call.name, call.arguments) if part)
        if chunk.usage is not None:
            self.usage = chunk.usage

    def estimated_usage(self, request: ChatRequest) -> Usage:
        prompt = tokens.count_messages(request.messages) + tokens.count_tools(request.tools)
        completion = tokens.count("".join(self.text)) + sum(map(tokens.count, self.tool_parts))
        return Usage(prompt, completion, prompt + completion)
