"""Every response carries ``x-request-id`` (the client's own, when it sent a usable one); the id
is the current one while the request is served, so its log lines and the runs it creates carry
it. Each answered request is counted by route and status.

Pure ASGI (not BaseHTTPMiddleware, which would put every request, streams included, through
an extra task and memory channel)."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistantd.observability import metrics, request_ids, tracing

_HEADER = request_ids.HEADER.encode()
_UNMATCHED = "unmatched"  # the route label of a request no route took (404s)


class RequestIds:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_ids.accepted(_sent_id(scope))
        header = request_id.encode()
        status = 500  # if the app fails before answering, the error handler's answer

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_HEADER, header)]
            await send(message)

        token = request_ids.bind(request_id)
        tracing.tag(request_id=request_id)  # on FastAPI's own span of the request
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _count(scope["method"], _route(scope), status)
            request_ids.reset(token)


def _sent_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER:
            return value.decode("latin-1")
    return None


# Every request is counted: the counter of each (method, route, status) is looked up here, not
# through ``labels()`` (a lock and label checks each time).
_counters: dict[tuple[str, str, int], Any] = {}
# Each route's full path template, once known (a route is included under one prefix); by id,
# as routes are not hashable, with the route itself, which keeps its id from being reused.
_templates: dict[int, tuple[object, str]] = {}


def _count(method: str, route: str, status: int) -> None:
    key = (method, route, status)
    counter = _counters.get(key)
    if counter is None:
        counter = _counters[key] = metrics.http_requests.labels(method, route, str(status))
    counter.inc()


def _route(scope: Scope) -> str:
    """The path template of the route that took the request (``/v1/threads/{thread_id}``):
    a label with one value per route, not per object id. The route knows its path below the
    prefix it was included under: the request's path, less the route's part of it, is that
    prefix (the same for every request the route takes)."""
    route = scope.get("route")
    if route is None:
        return _UNMATCHED
    if (known := _templates.get(id(route))) is not None and known[0] is route:
        return known[1]
    own = getattr(route, "path_format", None) or getattr(route, "path", "")
    try:  # the route's part of this path, with this request's parameters filled in
        filled = own.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return own
    path: str = scope["path"]
    if not path.endswith(filled):
        return own
    prefix = path[: len(path) - len(filled)]
    _templates[id(route)] = (route, prefix + own)
    return prefix + own
