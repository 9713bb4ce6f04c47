"""Chat completions and embeddings passed through to a route's backend, for apps that call
``client.chat.completions`` and ``client.embeddings`` with the client they use for assistants.

The client's request body goes upstream as it came, fields assistantd does not know included
(the backend decides on them), with these changes: the route's upstream model name; for chat,
the request shape the route's dialect pins or the backend taught by refusing a field (as for
runs: ``llm/request_shape.py``); and for a stream, usage asked for, so that its tokens can be
counted (the usage chunk is dropped again when the client did not ask for it, and made up from
counted tokens when the client asked and the backend sent none). Answers carry the model name
the client asked for.

Failures before the client's first byte are retried as a run's model calls are (429, 5xx,
dropped connections: the backend's pool, backoff and deadlines), then answered in OpenAI's
error shape (``PassthroughError``). A stream is relayed event by event as it arrives; once it
has begun, a failure ends it with an ``{"error": {...}}`` event, which the official SDKs raise.

    call = Passthrough(router.resolve("my-model"))
    completion = await call.complete(body)        # a non-streamed body
    stream = await call.stream(body)              # the first event has arrived
    async for frame in stream.frames(): ...       # SSE bytes for the client, [DONE] last
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
import orjson

from assistantd import tokens
from assistantd.llm.backoff import retry_delay
from assistantd.llm.deadlines import CallDeadline
from assistantd.llm.openai_backend import OpenAICompatibleBackend, RetrySettings
from assistantd.llm.passthrough_errors import (
    PassthroughError,
    RetryablePassthrough,
    stream_error,
    transport_error,
    upstream_failure,
)
from assistantd.llm.request_shape import shaped_body
from assistantd.llm.router import Route
from assistantd.llm.sse_decoder import SSEDecoder
from assistantd.observability import metrics, tracing
from assistantd.wire import sse

T = TypeVar("T")
_JSON = {"Content-Type": "application/json"}
_DONE = b"[DONE]"
DONE_FRAME = b"data: [DONE]\n\n"


@dataclass(frozen=True)
class TokenCounts:
    """A call's usage as the Usage API counts it (0 where the backend did not say)."""

    input: int = 0
    output: int = 0
    cached: int = 0


@dataclass
class Answer:
    """A whole (non-streamed) answer and the tokens it used (0: the backend did not say)."""

    body: dict[str, Any]
    used_tokens: int

    @property
    def counts(self) -> TokenCounts:
        return token_counts(self.body.get("usage"))


class Passthrough:
    def __init__(self, route: Route) -> None:
        if not isinstance(route.backend, OpenAICompatibleBackend):
            raise TypeError("pass-through needs an OpenAI-compatible backend")
        self.route = route
        self._backend: OpenAICompatibleBackend = route.backend

    async def complete(self, body: dict[str, Any]) -> Answer:
        """A non-streamed chat completion."""
        answer = await self._timed(self._call("/chat/completions", body, _whole_json))
        return self._answer(answer)

    async def embed(self, body: dict[str, Any]) -> Answer:
        answer = await self._timed(self._call("/embeddings", body, _whole_json))
        return self._answer(answer)

    async def stream(self, body: dict[str, Any]) -> ChatStream:
        """A streamed chat completion, open once its first event has arrived."""
        client_wants_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        body = {
            **body,
            "stream_options": {**(body.get("stream_options") or {}), "include_usage": True},
        }
        started = time.perf_counter()

        async def first(response: aiohttp.ClientResponse, deadline: CallDeadline) -> ChatStream:
            relay = ChatStream(self.route, response, deadline, client_wants_usage, started)
            relay.prompt_tokens = _prompt_tokens(body)
            await relay.wait_for_first_event()
            return relay

        try:
            return await self._call("/chat/completions", body, first)
        except PassthroughError as error:
            _observe(self.route.model, started, error)
            raise

    def _answer(self, answer: dict[str, Any]) -> Answer:
        if "model" in answer:
            answer["model"] = self.route.model
        return Answer(answer, _usage_tokens(answer.get("usage")))

    async def _timed(self, call: Awaitable[T]) -> T:
        started = time.perf_counter()
        try:
            result = await call
        except PassthroughError as error:
            _observe(self.route.model, started, error)
            raise
        _observe(self.route.model, started, None)
        return result

    async def _call(
        self,
        path: str,
        body: dict[str, Any],
        read: Callable[[aiohttp.ClientResponse, CallDeadline], Awaitable[T]],
    ) -> T:
        """POST ``body`` (under the upstream name) and ``read`` the answer, retrying failures
        that happen before ``read`` returns."""
        backend, model = self._backend, self.route.upstream_model
        body = {**body, "model": model}
        settings = backend.retry_settings()
        deadline = CallDeadline(settings.gap_seconds, settings.total_seconds)
        chat = path == "/chat/completions"
        shape = backend.shape_of(model)
        attempt = 0
        with tracing.span("model call", model=self.route.model, upstream_model=model):
            while True:
                sent = shaped_body(body, shape) if chat else body
                deadline.progressed()
                try:
                    return await self._attempt(path, sent, deadline, settings, read)
                except _Refused as refused:
                    # As for runs: leave the refused field out (or rename it) and remember that.
                    shape = refused.shape
                    backend.learn_shape(model, shape)
                except RetryablePassthrough as failure:
                    delay = 0.0 if failure.at_once else retry_delay(
                        attempt, failure.delay_seconds,
                        base_seconds=settings.backoff_seconds, random=settings.random,
                    )  # fmt: skip
                    if attempt >= settings.max_retries or deadline.total_passed(delay):
                        raise failure.error from failure
                    attempt += 1
                    await asyncio.sleep(delay)

    async def _attempt(
        self,
        path: str,
        sent: dict[str, Any],
        deadline: CallDeadline,
        settings: RetrySettings,
        read: Callable[[aiohttp.ClientResponse, CallDeadline], Awaitable[T]],
    ) -> T:
        url = f"{self._backend.base_url}{path}"
        answered = False
        try:
            async with asyncio.timeout_at(deadline.next_due()):
                response = await self._backend.session().post(
                    url, data=orjson.dumps(sent), headers=_JSON
                )
            answered = True
            if response.status >= 400:
                async with response:
                    with deadline.watching(response.content):
                        text = (await response.read()).decode("utf-8", "replace")
                self._refuse_if_refused(path, sent, response.status, text)
                failure = upstream_failure(
                    response.status, response.headers, text, response.reason or "",
                    url=url, key_setting=settings.key_setting,
                )  # fmt: skip
                raise failure
            return await read(response, deadline)
        except TimeoutError as exc:
            if deadline.total_passed():
                raise PassthroughError(504, deadline.total_failure().message) from exc
            silence = f"timed out waiting for the model: nothing for {deadline.gap_seconds:g} s"
            raise transport_error(silence, exc) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            failure = transport_error("the connection to the model failed", exc)
            failure.at_once = not answered and not isinstance(exc, aiohttp.ClientConnectorError)
            raise failure from exc
        except aiohttp.ClientError as exc:
            raise transport_error("the connection to the model failed", exc) from exc

    def _refuse_if_refused(self, path: str, sent: dict[str, Any], status: int, text: str) -> None:
        if path != "/chat/completions":
            return
        shape = self._backend.shape_of(self.route.upstream_model)
        if (adapted := shape.without_refused(status, text, sent)) is not None:
            raise _Refused(adapted)


class _Refused(Exception):
    def __init__(self, shape: Any) -> None:
        super().__init__(shape)
        self.shape = shape


class ChatStream:
    """The backend's event stream, relayed to the client as SSE frames."""

    def __init__(
        self,
        route: Route,
        response: aiohttp.ClientResponse,
        deadline: CallDeadline,
        client_wants_usage: bool,
        started: float,
    ) -> None:
        self._route = route
        self._response = response
        self._deadline = deadline
        self._client_wants_usage = client_wants_usage
        self._started = started
        self._watch = ExitStack()
        self._watch.enter_context(deadline.watching(response.content))
        self._decoder = _Events(response.content)
        self._first: bytes | None = None
        self._usage: dict[str, Any] | None = None
        self._last: dict[str, Any] = {}
        self._streamed: list[str] = []  # text and tool-call parts, to count if no usage comes
        self.prompt_tokens = 0
        self.used_tokens = 0  # known once the stream has ended

    async def wait_for_first_event(self) -> None:
        """Read until the first event; failures here are retried (nothing was sent yet)."""
        try:
            if not self._response.headers.get("content-type", "").startswith("text/event-stream"):
                raise _whole_as_stream_failure(self._response)
            data = await self._decoder.next()
            if data is None:
                raise RetryablePassthrough(PassthroughError(502, "the model's stream ended early"))
            frame = self._relay(data)  # a first event that is an error is answered as one
            self._first = frame
        except BaseException:
            await self.aclose()
            raise

    async def frames(self) -> AsyncIterator[bytes]:
        failure: PassthroughError | None = None
        try:
            if self._first:
                yield self._first
            while (data := await self._decoder.next()) is not None:
                if data == _DONE:
                    for frame in self._closing_frames():
                        yield frame
                    return
                self._deadline.progressed()
                if data and (frame := self._relay(data)):
                    yield frame
            failure = PassthroughError(502, "the model's stream ended early")
        except PassthroughError as error:
            failure = error
        except RetryablePassthrough as error:
            failure = error.error
        except (TimeoutError, aiohttp.ClientError) as exc:
            failure = PassthroughError(
                502, f"the connection to the model failed: {exc or type(exc).__name__}"
            )
        finally:
            if failure is None:
                _observe(self._route.model, self._started, None)
            await self.aclose()
        _observe(self._route.model, self._started, failure)
        yield _error_frame(failure)

    async def aclose(self) -> None:
        self._watch.close()
        self._response.release()
        self._response.close()

    def _relay(self, data: bytes) -> bytes | None:
        """The client's frame for one event (None: nothing to send); raises on an error event."""
        try:
            payload = orjson.loads(data)
        except ValueError as exc:
            shown = data[:200].decode("utf-8", "replace")
            raise PassthroughError(502, f"the model sent malformed JSON: {shown!r}") from exc
        if not isinstance(payload, dict):
            raise PassthroughError(502, "the model sent a non-object payload")
        if payload.get("error"):
            raise stream_error(payload["error"])
        self._last = payload
        usage = payload.get("usage") or (payload.get("x_groq") or {}).get("usage")
        if usage:
            self._usage = usage
        choices = payload.get("choices")
        self._collect(choices)
        if not choices and usage and not self._client_wants_usage:
            return None  # asked for by assistantd, to count tokens
        if payload.get("model") not in (None, self._route.model):
            payload["model"] = self._route.model
            return b"data: " + sse.one_line_json(payload) + b"\n\n"
        return b"data: " + data + b"\n\n"

    def _collect(self, choices: object) -> None:
        if not isinstance(choices, list):
            return
        for choice in choices:
            delta = choice.get("delta") if isinstance(choice, dict) else None
            if not isinstance(delta, dict):
                continue
            if isinstance(content := delta.get("content"), str):
                self._streamed.append(content)
            for call in delta.get("tool_calls") or ():
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    self._streamed.extend(
                        str(part)
                        for part in (function.get("name"), function.get("arguments"))
                        if part
                    )

    def _closing_frames(self) -> list[bytes]:
        frames = []
        if self._usage is None:
            completion = sum(map(tokens.count, self._streamed))
            self._usage = {
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": completion,
                "total_tokens": self.prompt_tokens + completion,
            }
            if self._client_wants_usage:
                frames.append(b"data: " + sse.one_line_json(self._usage_chunk()) + b"\n\n")
        self.used_tokens = _usage_tokens(self._usage)
        frames.append(DONE_FRAME)
        return frames

    @property
    def counts(self) -> TokenCounts:
        """The stream's tokens (known once it has ended)."""
        return token_counts(self._usage)

    def _usage_chunk(self) -> dict[str, Any]:
        """The usage chunk the client asked for and the backend did not send (counted here)."""
        return {
            "id": self._last.get("id", "chatcmpl-assistantd"),
            "object": "chat.completion.chunk",
            "created": self._last.get("created", int(time.time())),
            "model": self._route.model,
            "choices": [],
            "usage": self._usage,
        }


class _Events:
    """The ``data`` of each SSE event of a response, one at a time (None at the end)."""

    def __init__(self, content: aiohttp.StreamReader) -> None:
        self._content = content
        self._decoder = SSEDecoder()
        self._pending: list[bytes] = []
        self._ended = False

    async def next(self) -> bytes | None:
        while not self._pending:
            if self._ended:
                return None
            received = await self._content.readany()
            if received:
                self._pending = self._decoder.feed(received)
            else:
                self._ended = True
                self._pending = self._decoder.close()
        return self._pending.pop(0)


async def _whole_json(response: aiohttp.ClientResponse, deadline: CallDeadline) -> dict[str, Any]:
    async with response:
        with deadline.watching(response.content):
            raw = await response.read()
    try:
        value = orjson.loads(raw)
    except ValueError as exc:
        shown = raw[:200].decode("utf-8", "replace")
        raise RetryablePassthrough(
            PassthroughError(502, f"the model endpoint answered something not JSON: {shown!r}")
        ) from exc
    if not isinstance(value, dict):
        raise RetryablePassthrough(
            PassthroughError(502, "the model endpoint answered a non-object")
        )
    return value


def _whole_as_stream_failure(response: aiohttp.ClientResponse) -> PassthroughError:
    kind = response.headers.get("content-type", "no content type")
    return PassthroughError(502, f"the model endpoint answered a stream request with {kind}")


def _error_frame(error: PassthroughError) -> bytes:
    return b"data: " + sse.one_line_json({"error": error.error()}) + b"\n\n"


def _usage_tokens(usage: object) -> int:
    if not isinstance(usage, dict):
        return 0
    total = usage.get("total_tokens")
    if isinstance(total, int):
        return total
    parts = (usage.get("prompt_tokens"), usage.get("completion_tokens"))
    return sum(p for p in parts if isinstance(p, int))


def token_counts(usage: object) -> TokenCounts:
    if not isinstance(usage, dict):
        return TokenCounts()
    details = usage.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else None
    counts = (usage.get("prompt_tokens"), usage.get("completion_tokens"), cached)
    return TokenCounts(*(n if isinstance(n, int) else 0 for n in counts))


def _prompt_tokens(body: dict[str, Any]) -> int:
    messages = body.get("messages")
    tools = body.get("tools")
    try:
        return tokens.count_messages(messages) + tokens.count_tools(tools)  # type: ignore[arg-type]
    except (TypeError, AttributeError, ValueError):
        return 0


def _observe(model: str, started: float, error: PassthroughError | None) -> None:
    metrics.model_call_seconds.labels(model).observe(time.perf_counter() - started)
    if error is not None:
        metrics.model_call_errors.labels(model, error.metric_code).inc()
