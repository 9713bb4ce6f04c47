"""``POST /v1/chat/completions``: the client's request passed through to its model's route,
under the project's key and rate limits (``llm/passthrough.py`` says what changes on the way)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from assistantd.api.auth import Tenant
from assistantd.api.call_usage import count_model_call
from assistantd.api.rate_limits import admit_model_call
from assistantd.errors import APIError, NotFound
from assistantd.llm.errors import NoBackendConfigured
from assistantd.llm.passthrough import DONE_FRAME, Answer, ChatStream, Passthrough
from assistantd.llm.passthrough_errors import PassthroughError
from assistantd.llm.router import ModelRouter, Route
from assistantd.store.usage import COMPLETIONS
from assistantd.wire.model_endpoints import chat_request, json_object

router = APIRouter()

# What OpenAI sends with its streams; proxies must not buffer or cache them.
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post("/chat/completions")
async def create_chat_completion(request: Request, tenant: Tenant) -> Response:
    body = chat_request(json_object(await request.body()))
    headers = await admit_model_call(request, body["model"])
    call = Passthrough(route_for(request, body["model"]))
    try:
        if body.get("stream"):
            stream = await call.stream(body)
            frames = _counted(request, tenant, body["model"], stream)
            return StreamingResponse(
                frames, media_type="text/event-stream", headers=STREAM_HEADERS | headers
            )
        answer = await call.complete(body)
    except PassthroughError as error:
        raise api_error(error, headers) from error
    await count_model_call(
        request, tenant, COMPLETIONS, body["model"], answer.used_tokens, answer.counts
    )
    return json_answer(answer, headers)


async def _counted(
    request: Request, tenant: str, model: str, stream: ChatStream
) -> AsyncIterator[bytes]:
    """The stream's frames; its tokens count against the project's limit and in usage before
    ``[DONE]`` goes out (so a client that has read the stream finds them counted), or at the
    end of a stream that failed."""
    counted = False

    async def count() -> None:
        await count_model_call(
            request, tenant, COMPLETIONS, model, stream.used_tokens, stream.counts
        )

    async for frame in stream.frames():
        if frame == DONE_FRAME:
            await count()
            counted = True
        yield frame
    if not counted:
        await count()


def route_for(request: Request, model: str) -> Route:
    """The route serving ``model``; 404 ``model_not_found`` when none does."""
    models: ModelRouter = request.app.state.model_router
    try:
        return models.resolve(model)
    except NoBackendConfigured as missing:
        raise NotFound(missing.message, "model", "model_not_found") from missing


def api_error(error: PassthroughError, headers: dict[str, str]) -> APIError:
    answered = APIError(error.message, error.param, error.code)
    answered.status_code = error.status
    answered.error_type = error.error_type
    answered.headers = {**headers, **error.headers}
    return answered


def json_answer(answer: Answer, headers: dict[str, str]) -> Response:
    return Response(orjson.dumps(answer.body), media_type="application/json", headers=headers)
