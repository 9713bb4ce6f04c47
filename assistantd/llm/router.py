"""Which backend serves a model name: `ASSISTANTD_MODEL_ROUTES` first, else the default endpoint."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, replace

from assistantd.config import ModelRoute, Settings
from assistantd.llm.chat import ChatChunk, ChatRequest, ModelBackend
from assistantd.llm.errors import NoBackendConfigured, UpstreamError
from assistantd.llm.openai_backend import OpenAICompatibleBackend
from assistantd.llm.request_shape import pinned_shape
from assistantd.llm.tool_calling import ToolCalling, tool_calling_stream
from assistantd.observability import metrics, tracing

log = logging.getLogger(__name__)

# Where the key of the default endpoint (and of routes without their own) is set.
DEFAULT_KEY = "ASSISTANTD_LLM_API_KEY"


@dataclass(frozen=True)
class Route:
    model: str  # the name the client asked for
    upstream_model: str  # the name sent to the backend
    backend: ModelBackend
    context_window: int
    tool_calling: ToolCalling = "auto"

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Stream ``request`` from this route's backend, under the upstream model name; its
        duration and failure are counted under the name the client asked for."""
        started = time.perf_counter()
        upstream = replace(request, model=self.upstream_model)
        with tracing.span("model call", model=self.model, upstream_model=self.upstream_model):
            try:
                chunks = tool_calling_stream(self.tool_calling, self.backend, upstream)
                async with aclosing(chunks):
                    async for chunk in chunks:
                        yield chunk
            except UpstreamError as error:
                metrics.model_call_errors.labels(self.model, error.code).inc()
                raise
            finally:
                metrics.model_call_seconds.labels(self.model).observe(time.perf_counter() - started)


class ModelRouter:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        # Routes to the same endpoint and key share one connection pool.
        self._backends: dict[tuple[str, str | None], OpenAICompatibleBackend] = {}
        self._default = (
            self._backend(settings.llm_base_url, settings.llm_api_key, DEFAULT_KEY)
            if settings.llm_base_url
            else None
        )
        self._routes = {
            name: self._route(name, route) for name, route in settings.model_routes.items()
        }

    def _route(self, name: str, route: ModelRoute) -> Route:
        backend = self._route_backend(name, route)
        upstream_model = route.model or name
        if route.dialect is not None:
            backend.pin_shape(upstream_model, pinned_shape(route.dialect))
        return Route(
            model=name,
            upstream_model=upstream_model,
            backend=backend,
            context_window=route.context_window or self._settings.default_context_window,
            tool_calling=route.tool_calling,
        )

    def resolve(self, model: str) -> Route:
        """The route for ``model``; raises ``NoBackendConfigured`` when nothing serves it."""
        if (route := self._routes.get(model)) is not None:
            return route
        if self._default is None:
            raise NoBackendConfigured(model)
        return Route(model, model, self._default, self._settings.default_context_window)

    async def list_models(self) -> list[str]:
        """Routed names, then what the default endpoint lists; an unreachable endpoint is skipped.

        Route backends' own lists are not merged: a name they list but that has no route would
        resolve to the default endpoint, which may not serve it.
        """
        names = list(self._routes)
        if self._default is not None:
            try:
                names.extend(await self._default.list_models())
            except UpstreamError as exc:
                log.warning("could not list the default endpoint's models: %s", exc.message)
        return list(dict.fromkeys(names))

    async def aclose(self) -> None:
        await asyncio.gather(*(backend.aclose() for backend in self._backends.values()))

    def _route_backend(self, name: str, route: ModelRoute) -> OpenAICompatibleBackend:
        if route.api_key is None:
            return self._backend(route.base_url, self._settings.llm_api_key, DEFAULT_KEY)
        where = f"the api_key of the route for {name!r} in ASSISTANTD_MODEL_ROUTES"
        return self._backend(route.base_url, route.api_key, where)

    def _backend(
        self, base_url: str, api_key: str | None, key_setting: str
    ) -> OpenAICompatibleBackend:
        key = (base_url.rstrip("/"), api_key)
        if key not in self._backends:
            self._backends[key] = OpenAICompatibleBackend(
                base_url,
                api_key,
                key_setting=key_setting,
                timeout_seconds=self._settings.llm_timeout_seconds,
                total_timeout_seconds=self._settings.llm_total_timeout_seconds,
                connect_timeout_seconds=self._settings.llm_connect_timeout_seconds,
                max_retries=self._settings.llm_max_retries,
            )
        return self._backends[key]
