"""The scripted model's ASGI app: OpenAI-compatible routes plus `/_script` and `/_requests`."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from assistantd import tokens
from assistantd.scripted_model.dialects import DIALECTS, Dialect
from assistantd.scripted_model.embeddings import DEFAULT_DIMENSIONS, as_base64, embed
from assistantd.scripted_model.options import ScriptedModelOptions
from assistantd.scripted_model.protocol_text import as_protocol_text
from assistantd.scripted_model.reply import Reply, plan_reply, prompt_tokens
from assistantd.scripted_model.script import ScriptBook, ScriptRequest, Step
from assistantd.scripted_model.wire_format import (
    KEEPALIVE,
    completion,
    context_length_error,
    error_body,
    stream_events,
)

MAX_DIMENSIONS = 8192
TRACE_HEADERS = ("traceparent", "tracestate")


class ConnectionDropped(Exception):
    """Raised mid-response on purpose: the server then closes the connection uncleanly."""


class _HideDeliberateDrops(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        return not isinstance(exc, ConnectionDropped) and not isinstance(
            getattr(exc, "__cause__", None), ConnectionDropped
        )


def create_app(options: ScriptedModelOptions | None = None) -> Starlette:
    options = options or ScriptedModelOptions()
    book = ScriptBook(requests_kept=options.requests_kept)
    # The W3C trace-context headers of each chat request, per model (``GET /_trace_headers``):
    # what a tracing model server would continue its spans from.
    trace_headers: dict[str, deque[dict[str, str]]] = {}
    _install_log_filter()

    async def chat_completions(request: Request) -> Response:
        body = await _json_object(request)
        if body is None:
            return _bad_request("The body must be a JSON object.")
        model = str(body.get("model") or "scripted")
        book.record(model, body)
        kept = trace_headers.setdefault(model, deque(maxlen=options.requests_kept))
        kept.append({k: request.headers[k] for k in TRACE_HEADERS if k in request.headers})
        facts = book.facts(model)
        dialect = DIALECTS[facts.dialect or options.dialect]
        if (refusal := dialect.refusal(body)) is not None:
            return JSONResponse(refusal[1], refusal[0])
        if body.get("tools") and not facts.supports_tools:
            refused = dialect.tools_refusal(model)
            return JSONResponse(refused[1], refused[0])
        limit = facts.context_window or options.context_window
        if limit:  # None or 0 means no limit
            used = prompt_tokens(body)
            if used > limit:
                return JSONResponse(context_length_error(limit, used), 400)
        step = book.pop(model)
        if step is not None and (early := await _early_answer(step, request, dialect)) is not None:
            return early
        reply = plan_reply(body, step, options)
        if not facts.supports_tools:
            reply = as_protocol_text(reply)  # what such a model writes when asked to call tools
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return PacedEvents(reply, model, include_usage, dialect)
        return await _whole_completion(reply, model)

    async def list_models(request: Request) -> Response:
        ids = list(dict.fromkeys([*options.models, *book.sized_models()]))
        data = [_model_entry(i) for i in ids]
        return JSONResponse({"object": "list", "data": data})

    def _model_entry(model: str) -> dict[str, Any]:
        facts = book.facts(model)
        dialect = DIALECTS[facts.dialect or options.dialect]
        return dialect.model_entry(model, facts.context_window or options.context_window)

    def native_endpoint(endpoint: str) -> Callable[[Request], Awaitable[Response]]:
        """A backend's own endpoint beside /v1 (llama.cpp's /props, Ollama's /api/show), for
        the model the query or body names: 404 where its dialect's server has none."""

        async def answer(request: Request) -> Response:
            model = request.query_params.get("model")
            if request.method == "POST":
                model = str((await _json_object(request) or {}).get("model") or "")
            facts = book.facts(model or "")
            described = DIALECTS[facts.dialect or options.dialect].native_endpoints.get(endpoint)
            if described is None or not model:
                return JSONResponse({"error": "not found"}, 404)
            window = facts.context_window or options.context_window
            return JSONResponse(described(model, window, facts.supports_tools))

        return answer

    async def embeddings(request: Request) -> Response:
        body = await _json_object(request)
        if body is None:
            return _bad_request("The body must be a JSON object.")
        # Recorded beside the model's chat requests, so tests see what reached the model.
        book.record(str(body.get("model") or "scripted-embedding"), body)
        return _embeddings_response(body)

    async def add_script(request: Request) -> Response:
        try:
            script = ScriptRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            return _bad_request(str(exc))
        if script.dialect is not None and script.dialect not in DIALECTS:
            return _bad_request(f"dialect must be one of {', '.join(DIALECTS)}.")
        book.configure(
            script.model,
            dialect=script.dialect,
            context_window=script.context_window,
            supports_tools=script.supports_tools,
        )
        queued = book.append(script.model, script.responses)
        return JSONResponse({"model": script.model, "queued": queued})

    async def clear_script(request: Request) -> Response:
        book.clear(request.query_params.get("model", ""))
        return JSONResponse({"deleted": True})

    async def received_requests(request: Request) -> Response:
        bodies = book.requests(request.query_params.get("model", ""))
        return JSONResponse({"object": "list", "data": bodies})

    async def received_trace_headers(request: Request) -> Response:
        kept = trace_headers.get(request.query_params.get("model", ""), ())
        return JSONResponse({"object": "list", "data": list(kept)})

    return Starlette(
        routes=[
            Route("/v1/chat/completions", chat_completions, methods=["POST"]),
            Route("/v1/models", list_models, methods=["GET"]),
            Route("/v1/embeddings", embeddings, methods=["POST"]),
            Route("/props", native_endpoint("GET /props"), methods=["GET"]),
            Route("/api/show", native_endpoint("POST /api/show"), methods=["POST"]),
            Route("/_script", add_script, methods=["POST"]),
            Route("/_script", clear_script, methods=["DELETE"]),
            Route("/_requests", received_requests, methods=["GET"]),
            Route("/_trace_headers", received_trace_headers, methods=["GET"]),
        ]
    )


async def _early_answer(step: Step, request: Request, dialect: Dialect) -> Response | None:
    """A step that answers without a completion: an error status, or no answer at all."""
    if step.hang:
        await _disconnected(request.receive)
        return Response(status_code=499)
    if step.status is not None and step.status >= 400:
        body = error_body(step.status, step.error, dialect)
        return JSONResponse(body, step.status, headers=step.headers)
    return None


async def _disconnected(receive: Receive) -> None:
    """Until the client goes away. The request body has been read, so the next ASGI message
    says so (or, once a response is complete, uvicorn does)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class PacedEvents(StreamingResponse):
    """A streamed completion, paced as scripted. Lean per chunk, since benchmarks run
    thousands of chunks a second through it on the machine they measure: the events are sent
    one ``send`` each from a plain loop (no generator, no task group), and a client that goes
    away is noticed by one small task and stops the loop at its next chunk."""

    def __init__(self, reply: Reply, model: str, include_usage: bool, dialect: Dialect) -> None:
        super().__init__(_no_body(), media_type="text/event-stream")
        self._reply = reply
        self._dialect = dialect
        self._model = model
        self._include_usage = include_usage
        self._gone = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.ensure_future(self._watch(receive))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            await self._stream(send)
        finally:
            watcher.cancel()

    async def _stream(self, send: Send) -> None:
        reply = self._reply
        if reply.first_token_delay_s:
            await asyncio.sleep(reply.first_token_delay_s)
        events = stream_events(reply, self._model, self._include_usage, self._dialect)
        for sent, event in enumerate(events):
            if reply.drop_after_chunks is not None and sent >= reply.drop_after_chunks:
                raise ConnectionDropped(f"dropped after {sent} chunks, as scripted")
            if event is KEEPALIVE:
                await asyncio.sleep(reply.comments_every_s or 0)
            elif reply.chunk_delay_s and sent > 1:  # no pause before the role chunk, first piece
                await asyncio.sleep(reply.chunk_delay_s)
            if self._gone:
                return
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _watch(self, receive: Receive) -> None:
        await _disconnected(receive)
        self._gone = True


async def _no_body() -> AsyncIterator[bytes]:
    return
    yield  # an empty async generator: PacedEvents sends its events itself


async def _whole_completion(reply: Reply, model: str) -> Response:
    if reply.first_token_delay_s:
        await asyncio.sleep(reply.first_token_delay_s)
    if reply.drop_after_chunks is not None:
        return StreamingResponse(_truncated_body(), media_type="application/json")
    return JSONResponse(completion(reply, model))


async def _truncated_body() -> AsyncIterator[bytes]:
    yield b'{"id": "chatcmpl-dropped", '
    raise ConnectionDropped("dropped mid-body, as scripted")


def _embeddings_response(body: dict[str, Any]) -> Response:
    raw = body.get("input")
    texts = [raw] if isinstance(raw, str) or _is_token_list(raw) else list(raw or [])
    dimensions = body.get("dimensions") or DEFAULT_DIMENSIONS
    if not isinstance(dimensions, int) or not 1 <= dimensions <= MAX_DIMENSIONS:
        return _bad_request(f"dimensions must be an integer from 1 to {MAX_DIMENSIONS}.")
    if not texts:
        return _bad_request("input must not be empty.")
    as_text = [t if isinstance(t, str) else " ".join(map(str, t)) for t in texts]
    vectors = [embed(text, dimensions) for text in as_text]
    encode_b64 = body.get("encoding_format") == "base64"
    data = [
        {"object": "embedding", "index": i, "embedding": as_base64(v) if encode_b64 else v}
        for i, v in enumerate(vectors)
    ]
    used = sum(tokens.count(text) for text in as_text)
    usage = {"prompt_tokens": used, "total_tokens": used}
    model = body.get("model") or "scripted-embedding"
    return JSONResponse({"object": "list", "data": data, "model": model, "usage": usage})


def _is_token_list(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(x, int) for x in value)


async def _json_object(request: Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _bad_request(message: str) -> Response:
    detail = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    return JSONResponse({"error": detail}, 400)


def _install_log_filter() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, _HideDeliberateDrops) for f in logger.filters):
        logger.addFilter(_HideDeliberateDrops())
