"""The ASGI application: routers under ``/v1``, the error shape, and start-up / shut-down."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from assistantd.api import (
    assistants,
    chat_completions,
    console,
    embeddings,
    errors,
    files,
    health,
    live_runs,
    messages,
    models,
    organization,
    project_runs,
    runs,
    steps,
    threads,
    uploads,
    usage,
    vector_store_files,
    vector_stores,
)
from assistantd.api.auth import start_keys
from assistantd.api.request_ids import RequestIds
from assistantd.api.storable_text import refuse_unstorable_text
from assistantd.config import Settings
from assistantd.objects.rate_limiter import RateLimiter
from assistantd.services import start_services
from assistantd.store.request_counters import request_counter

log = logging.getLogger("assistantd")


def create_app(
    settings: Settings | None = None, *, mount_scripted_model: bool = False, execute: bool = True
) -> FastAPI:
    """The server. ``mount_scripted_model`` also serves the scripted model under ``/scripted``;
    ``execute=False`` answers the API only, leaving runs and indexing to worker processes."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        role = "serve" if execute else "serve --no-worker"
        services = await start_services(settings, execute=execute, role=role)
        app.state.services = services  # for `assistantd serve`'s graceful shutdown
        app.state.db, app.state.model_router = services.db, services.model_router
        app.state.blobs, app.state.ingestion = services.files.blobs, services.files.ingestion
        app.state.code_sessions, app.state.run_engine = services.code_sessions, services.run_engine
        app.state.keys = await start_keys(services.db, settings)
        counter = request_counter(services.db, settings.redis_url)
        app.state.rate_limiter = RateLimiter(services.db, counter)
        _announce_tenancy(settings)
        try:
            yield
        finally:
            await counter.close()
            await app.state.keys.close()
            await services.stop()

    app = FastAPI(
        title="assistantd",
        summary="The OpenAI Assistants API v2, self-hosted, on any model",
        lifespan=lifespan,
        # Before any route reads its input: text no database can hold is refused (400).
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.settings = settings
    app.state.executes = execute
    errors.install(app)
    # Outermost: the 500s the error middleware answers carry the request id too.
    app.add_middleware(RequestIds)
    # runs before threads: "/threads/runs" must not be taken for a thread id.
    for module in (runs, steps, assistants, threads, messages, models):
        app.include_router(module.router, prefix="/v1")
    for module in (files, uploads, vector_stores, vector_store_files, organization, usage):
        app.include_router(module.router, prefix="/v1")
    app.include_router(project_runs.router, prefix="/v1")  # GET /v1/runs (beyond OpenAI)

    app.include_router(chat_completions.router, prefix="/v1")
    app.include_router(embeddings.router, prefix="/v1")
    app.include_router(live_runs.router, prefix="/v1")

    if mount_scripted_model:
        from assistantd.scripted_model.app import create_app as create_scripted_model

        app.mount("/scripted", create_scripted_model(None))

    app.include_router(health.router)
    if settings.console:
        console.mount(app)
    return app


def _announce_tenancy(settings: Settings) -> None:
    if settings.keys_required:
        log.info(
            "multi-tenant: project keys%s, %d keys of ASSISTANTD_API_KEYS (each its own project)",
            " and the admin API" if settings.admin_key else "",
            len(settings.tenant_keys),
        )
    else:
        log.warning(
            "single-tenant: neither ASSISTANTD_API_KEYS nor ASSISTANTD_ADMIN_KEY is set, so any "
            "API key is accepted "
            "and every client sees every object"
        )
