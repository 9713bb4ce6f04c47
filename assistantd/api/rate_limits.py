"""Run creation under the project's rate limits: a request over a limit is answered 429 before
anything is written; an admitted one carries the ``x-ratelimit-*`` headers of its model's
limits. A project without limits for the model passes with no work (see ``RateLimiter``)."""

from __future__ import annotations

from fastapi import Request, Response
from fastapi.responses import StreamingResponse

from assistantd.api.auth import identity_of
from assistantd.objects import assistants
from assistantd.objects.rate_limiter import RateLimiter
from assistantd.store.database import Database
from assistantd.wire.runs import CreateRun, CreateThreadAndRun


async def admit_run(
    request: Request, response: Response, db: Database, body: CreateRun | CreateThreadAndRun
) -> None:
    identity = identity_of(request)
    if identity is None or not identity.limits:
        return
    model = body.model
    if model is None:
        async with db.read() as session:
            model = (await assistants.get(session, identity.tenant, body.assistant_id))["model"]
    limiter: RateLimiter = request.app.state.rate_limiter
    limit = limiter.limit_for(identity, model)
    if limit is None:
        return
    admission = await limiter.admit(identity, limit, model)
    if admission.refusal is not None:
        raise admission.refusal
    response.headers.update(admission.headers)


def with_limit_headers(stream: StreamingResponse, response: Response) -> StreamingResponse:
    """A stream answered in place of ``response`` carries its ``x-ratelimit-*`` headers too."""
    for name, value in response.headers.items():
        if name.startswith("x-ratelimit-"):
            stream.headers[name] = value
    return stream


async def admit_model_call(request: Request, model: str) -> dict[str, str]:
    """A chat completion or embeddings call under the project's limits for ``model``, counted
    as one request as a run creation is: its ``x-ratelimit-*`` headers, or 429 over a limit."""
    identity = identity_of(request)
    if identity is None or not identity.limits:
        return {}
    limiter: RateLimiter = request.app.state.rate_limiter
    limit = limiter.limit_for(identity, model)
    if limit is None:
        return {}
    admission = await limiter.admit(identity, limit, model)
    if admission.refusal is not None:
        raise admission.refusal
    return admission.headers


async def record_model_tokens(request: Request, model: str, amount: int) -> None:
    """Count the tokens a chat completion or embeddings call used against the project's limit."""
    limiter: RateLimiter = request.app.state.rate_limiter
    await limiter.record_tokens(identity_of(request), model, amount)
