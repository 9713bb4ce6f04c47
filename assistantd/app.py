"""The ASGI application: routers under ``/v1``, the error shape, and start-up / shut-down."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from assistantd import tokens
from assistantd.api import (
    assistants,
    errors,
    files,
    messages,
    models,
    runs,
    steps,
    threads,
    uploads,
    vector_store_files,
    vector_stores,
)
from assistantd.api.storable_text import refuse_unstorable_text
from assistantd.config import Settings
from assistantd.llm.router import ModelRouter
from assistantd.retrieval.file_services import start_file_services
from assistantd.runs.engine import RunEngine
from assistantd.store.database import Database
from assistantd.tools.code_interpreter import CodeSessions
from assistantd.tools.code_interpreter.tool import CodeInterpreterTool
from assistantd.tools.file_search import FileSearchTool

log = logging.getLogger("assistantd")


def create_app(settings: Settings | None = None, *, mount_scripted_model: bool = False) -> FastAPI:
    """The server. ``mount_scripted_model`` also serves the scripted model under ``/scripted``."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        # Prompts are counted in o200k tokens: load the vocabulary (~0.6 s) before serving, not
        # during the first run (a run with a short expiry could lapse waiting for it).
        await asyncio.to_thread(tokens.preload)
        db = Database(settings.resolved_database_url)
        await db.migrate()
        app.state.db = db
        app.state.model_router = ModelRouter(settings)
        file_services = await start_file_services(settings, db)
        app.state.blobs, app.state.ingestion = file_services.blobs, file_services.ingestion
        app.state.code_sessions = CodeSessions(settings)
        app.state.run_engine = RunEngine(db, app.state.model_router, settings, app.state.blobs)
        # Tools first: the engine resumes interrupted runs as soon as it starts.
        app.state.run_engine.server_tools.register(
            FileSearchTool(app.state.ingestion.index, app.state.ingestion.embedder)
        )
        app.state.run_engine.server_tools.register(
            CodeInterpreterTool(app.state.code_sessions, app.state.blobs)
        )
        await app.state.run_engine.start()
        _announce_tenancy(settings)
        try:
            yield
        finally:
            await app.state.run_engine.stop()
            await app.state.code_sessions.aclose()
            await file_services.stop()
            await app.state.model_router.aclose()
            await db.dispose()

    app = FastAPI(
        title="assistantd",
        summary="The OpenAI Assistants API v2, self-hosted, on any model",
        lifespan=lifespan,
        # Before any route reads its input: text no database can hold is refused (400).
        dependencies=[Depends(refuse_unstorable_text)],
    )
    app.state.settings = settings
    errors.install(app)
    # runs before threads: "/threads/runs" must not be taken for a thread id.
    for module in (runs, steps, assistants, threads, messages, models):
        app.include_router(module.router, prefix="/v1")
    for module in (files, uploads, vector_stores, vector_store_files):
        app.include_router(module.router, prefix="/v1")

    if mount_scripted_model:
        from assistantd.scripted_model.app import create_app as create_scripted_model

        app.mount("/scripted", create_scripted_model(None))

    @app.get("/health", include_in_schema=False)
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _announce_tenancy(settings: Settings) -> None:
    if settings.tenant_keys:
        log.info("multi-tenant: %d API keys, each its own tenant", len(settings.tenant_keys))
    else:
        log.warning(
            "single-tenant: ASSISTANTD_API_KEYS is not set, so any API key is accepted "
            "and every client sees every object"
        )
