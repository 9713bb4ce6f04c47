"""A backend for any OpenAI-compatible ``/chat/completions`` endpoint, streamed over SSE.

The HTTP client is aiohttp (its response parser is compiled; its pool keeps idle connections
per host, with no scan of them all per request), and the event stream is decoded from each
network read's bytes by ``SSEDecoder`` and parsed by orjson: per streamed token this costs a
fraction of what httpx, httpcore, h11 and httpx-sse did through their layers of generators.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing, contextmanager
from dataclasses import dataclass, fields
from random import Random
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies, proxy_bypass

import aiohttp
import orjson

from assistantd import tokens
from assistantd.llm.backoff import retry_delay
from assistantd.llm.chat import ChatChunk, ChatRequest, Usage
from assistantd.llm.chunk_parsing import MalformedChunk, chunk_from_completion, chunk_from_event
from assistantd.llm.deadlines import CallDeadline
from assistantd.llm.errors import UpstreamError
from assistantd.llm.failures import (
    RetryableFailure,
    failure_from_payload,
    failure_from_response,
    is_context_length_error,
    not_an_endpoint,
)
from assistantd.llm.request_shape import RequestShape, shaped_body
from assistantd.llm.sse_decoder import SSEDecoder
from assistantd.llm.tool_call_assembly import ToolCallAssembler
from assistantd.observability import tracing

log = logging.getLogger(__name__)

# Streams are long-lived, so the pool must hold hundreds of simultaneous connections.
MAX_CONNECTIONS = 1000
# How long to wait for the end of a stream's body after ``[DONE]`` before closing it instead.
DRAIN_SECONDS = 1.0
# How long an idle connection stays pooled: under the 5 s after which uvicorn (vLLM, and the
# scripted model) closes one, so a request is rarely written to a connection being closed.
KEEPALIVE_SECONDS = 4.0
_JSON = {"Content-Type": "application/json"}
_DONE = b"[DONE]"
_OPENAI_SHAPE = RequestShape()


@dataclass(frozen=True)
class RetrySettings:
    """A backend's retry and timeout settings, for calls made beside ``stream_chat``."""

    max_retries: int
    backoff_seconds: float
    random: Random
    gap_seconds: float  # longest silence between events
    total_seconds: float  # longest call, retries included
    key_setting: str | None  # the setting the API key came from (None: no key is sent)


class _Refused(Exception):
    """A 400 that named a request field the backend can do without: send it again so."""

    def __init__(self, shape: RequestShape) -> None:
        super().__init__(shape)
        self.shape = shape


class OpenAICompatibleBackend:
    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_seconds: float = 120.0,
        total_timeout_seconds: float = 600.0,
        connect_timeout_seconds: float = 10.0,
        max_retries: int = 2,
        backoff_seconds: float = 0.2,
        max_connections: int = MAX_CONNECTIONS,
        random: Random | None = None,
        key_setting: str | None = None,
    ) -> None:
        """``key_setting``: the setting ``api_key`` comes from, named when upstream refuses it."""
        self.base_url = base_url.rstrip("/")
        self._key_setting = key_setting if api_key else None
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._max_retries = max_retries
        self._backoff_seconds = backoff_seconds
        self._max_connections = max_connections
        # Injectable so that tests can draw the backoff's jitter deterministically.
        self._random = random or Random()
        self._timeout_seconds = timeout_seconds
        self._total_timeout_seconds = total_timeout_seconds
        # Only connecting is aiohttp's to time (``connect`` includes waiting for a pooled
        # connection); the silence between events and the whole call are ``CallDeadline``'s,
        # since aiohttp's ``sock_read`` would count keep-alive comments as progress.
        self._timeout = aiohttp.ClientTimeout(
            total=None, connect=connect_timeout_seconds, sock_connect=connect_timeout_seconds
        )
        self._session: aiohttp.ClientSession | None = None
        self._proxy = proxy_from_environment(self.base_url)
        # Per upstream model: the request fields it refused (a route's ``dialect`` pins them).
        self._shapes: dict[str, RequestShape] = {}

    def pin_shape(self, model: str, shape: RequestShape) -> None:
        """Send ``model``'s requests in ``shape`` from the first (a route's ``dialect``)."""
        self._shapes[model] = shape

    def _http(self) -> aiohttp.ClientSession:
        # Made on first use: an aiohttp session belongs to the event loop it was made in.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self._max_connections, keepalive_timeout=KEEPALIVE_SECONDS
                ),
                headers=self._headers,
                timeout=self._timeout,
                proxy=self._proxy,
                # Not trust_env: it reads ~/.netrc in a worker thread on every request (a
                # thread hop before each model call); the proxy is looked up once, above.
                trust_env=False,
            )
        return self._session

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Yield chunks as they arrive. Retries only until the first chunk has been yielded."""
        shape = self._shapes.get(request.model, _OPENAI_SHAPE)
        body = orjson.dumps(shaped_body(request_body(request), shape))
        deadline = CallDeadline(self._timeout_seconds, self._total_timeout_seconds)
        attempt = 0
        while True:
            yielded = False
            deadline.progressed()
            try:
                # aclosing: a consumer that stops early closes the HTTP response now, not at GC.
                async with aclosing(self._one_attempt(request, body, deadline, shape)) as chunks:
                    async for chunk in chunks:
                        yielded = True
                        yield chunk
                return
            except _Refused as refused:
                # Each refusal leaves out one more field, so this ends; it is no failed attempt.
                log.info("%s refused a request field; sending it as %s", request.model, refused)
                shape = self._shapes[request.model] = refused.shape
                body = orjson.dumps(shaped_body(request_body(request), shape))
            except RetryableFailure as failure:
                if yielded or attempt >= self._max_retries:
                    raise failure.error from failure
                delay = 0.0
                if not failure.at_once:
                    delay = retry_delay(
                        attempt,
                        failure.delay_seconds,
                        base_seconds=self._backoff_seconds,
                        random=self._random,
                    )
                if deadline.total_passed(delay):
                    raise failure.error from failure  # no time left for another attempt
                log.info("retrying %s in %.2fs: %s", request.model, delay, failure.error.message)
                attempt += 1
                await asyncio.sleep(delay)

    async def list_models(self) -> list[str]:
        try:
            timeout = aiohttp.ClientTimeout(total=self._timeout_seconds)
            async with self._http().get(f"{self.base_url}/models", timeout=timeout) as response:
                response.raise_for_status()
                listing = orjson.loads(await response.read())
            return [str(entry["id"]) for entry in listing.get("data", [])]
        except (
            aiohttp.ClientError,
            TimeoutError,
            ValueError,
            KeyError,
            TypeError,
            AttributeError,
        ) as exc:
            raise UpstreamError(
                "server_error", f"listing models at {self.base_url}: {exc}"
            ) from exc

    # What the pass-through endpoints (``llm/passthrough.py``) share with the run engine's calls:
    # the connection pool, the retry and timeout settings, and the request shapes learned.
    def session(self) -> aiohttp.ClientSession:
        return self._http()

    def retry_settings(self) -> RetrySettings:
        return RetrySettings(
            max_retries=self._max_retries,
            backoff_seconds=self._backoff_seconds,
            random=self._random,
            gap_seconds=self._timeout_seconds,
            total_seconds=self._total_timeout_seconds,
            key_setting=self._key_setting,
        )

    def shape_of(self, model: str) -> RequestShape:
        return self._shapes.get(model, _OPENAI_SHAPE)

    def learn_shape(self, model: str, shape: RequestShape) -> None:
        self._shapes[model] = shape

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _one_attempt(
        self, request: ChatRequest, body: bytes, deadline: CallDeadline, shape: RequestShape
    ) -> AsyncIterator[ChatChunk]:
        collected = _Collected()
        url = f"{self.base_url}/chat/completions"
        answered = False
        try:
            async with asyncio.timeout_at(deadline.next_due()):
                # The model call's span goes on in the model server's, if it traces too.
                headers = {**_JSON, **tracing.carrier()}
                response = await self._http().post(url, data=body, headers=headers)
            async with response:
                answered = True
                with deadline.watching(response.content):
                    if response.status >= 400:
                        text = (await response.read()).decode("utf-8", "replace")
                        _raise_if_refused(request, shape, response.status, text)
                        raise failure_from_response(
                            response.status,
                            response.headers,
                            text,
                            response.reason or "",
                            url=url,
                            key_setting=self._key_setting,
                        )
                    async with aclosing(_chunks(response, deadline, url)) as chunks:
                        async for chunk in chunks:
                            collected.add(chunk)
                            yield chunk
        except TimeoutError as exc:  # aiohttp's timeouts are TimeoutErrors too
            if deadline.total_passed():
                raise deadline.total_failure() from exc
            silence = f"timed out waiting for the model: nothing for {deadline.gap_seconds:g} s"
            raise _transport_failure(silence, exc) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            failure = _transport_failure("the connection to the model failed", exc)
            if not answered and not isinstance(exc, aiohttp.ClientConnectorError):
                # A pooled connection the server closed as the request went out: the request
                # never reached it, so a fresh connection may try again at once.
                failure.at_once = True
            raise failure from exc
        except aiohttp.ClientError as exc:
            raise _transport_failure("the connection to the model failed", exc) from exc
        if collected.usage is None:
            # Some servers ignore stream_options.include_usage; the run still needs a usage.
            yield ChatChunk(usage=collected.estimated_usage(request))


def _raise_if_refused(request: ChatRequest, shape: RequestShape, status: int, text: str) -> None:
    if is_context_length_error(text):
        return  # such errors name max_tokens too, but leaving it out would not help
    sent = shaped_body(request_body(request), shape)
    if (adapted := shape.without_refused(status, text, sent)) is not None:
        raise _Refused(adapted)


def proxy_from_environment(url: str) -> str | None:
    """The proxy for ``url`` from ``<scheme>_proxy`` / ``all_proxy`` unless ``no_proxy``
    exempts its host (what httpx honoured by default)."""
    parts = urlsplit(url)
    if parts.hostname is None or proxy_bypass(parts.hostname):
        return None
    proxies = getproxies()
    return proxies.get(parts.scheme) or proxies.get("all")


async def _chunks(
    response: aiohttp.ClientResponse, deadline: CallDeadline, url: str
) -> AsyncIterator[ChatChunk]:
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("text/event-stream"):
        body = await response.read()
        if content_type.startswith("text/html") or body.lstrip()[:1] == b"<":
            # A web UI or a proxy's page: no retry will make it chat completions.
            page = f"{response.status} with an HTML page"
            raise UpstreamError("server_error", not_an_endpoint(url, page))
        payload = _json(body)
        with _malformed_is_upstreams():
            whole = chunk_from_completion(payload)
        yield whole
        return
    finished = False
    assembler = ToolCallAssembler()
    decoder = SSEDecoder()
    content = response.content
    while True:
        received = await content.readany()
        # At the end of the body, an event left without its closing blank line still counts.
        for data in decoder.feed(received) if received else decoder.close():
            if data == _DONE:
                await _drain(content)
                return
            deadline.progressed()  # an event, even an empty one; comments never get here
            if not data:
                continue
            payload = _json(data)
            # Mid-stream errors: an event of its own, or (OpenRouter) beside a choice whose
            # finish_reason is "error".
            if payload.get("error"):
                raise failure_from_payload(payload["error"])
            with _malformed_is_upstreams():
                chunk = chunk_from_event(payload, assembler)
            if chunk is not None:
                finished = finished or chunk.finish_reason is not None
                yield chunk
        if not received:
            break
    if not finished:
        raise RetryableFailure(UpstreamError("server_error", "the model's stream ended early"))


async def _drain(content: aiohttp.StreamReader) -> None:
    """Read the body to its end (after ``[DONE]``, normally only the chunked terminator), so
    that the connection goes back to the pool: a response left unread is closed, and a new TCP
    connection per model call costs more than the rest of the call's client side."""
    try:
        async with asyncio.timeout(DRAIN_SECONDS):
            while await content.readany():
                pass
    except TimeoutError:
        pass  # a server that keeps the stream open after [DONE]: close the connection instead


@contextmanager
def _malformed_is_upstreams() -> Iterator[None]:
    """A payload of the wrong shape as the endpoint's fault, said in the run's ``last_error``."""
    try:
        yield
    except MalformedChunk as exc:
        error = UpstreamError("server_error", f"the model endpoint sent a malformed chunk: {exc}")
        raise RetryableFailure(error) from exc


def _json(text: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except ValueError as exc:
        shown = text[:200].decode("utf-8", "replace")
        error = UpstreamError("server_error", f"the model sent malformed JSON: {shown!r}")
        raise RetryableFailure(error) from exc
    if not isinstance(value, dict):
        raise RetryableFailure(UpstreamError("server_error", "the model sent a non-object payload"))
    return value


def _transport_failure(what: str, exc: Exception) -> RetryableFailure:
    detail = str(exc) or type(exc).__name__
    return RetryableFailure(UpstreamError("server_error", f"{what}: {detail}"))


def request_body(request: ChatRequest) -> dict[str, Any]:
    """The JSON body: the request's fields that are set, streaming with usage."""
    # Not ``asdict``: it would deep-copy the whole conversation on every call.
    body = {
        f.name: value for f in fields(request) if (value := getattr(request, f.name)) is not None
    }
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
