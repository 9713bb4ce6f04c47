"""Every response carries ``x-request-id`` (the client's own, when it sent a usable one); the id
is the current one while the request is served, so its log lines and the runs it creates carry
it. Each answered request is counted by route and status.

Pure ASGI (not BaseHTTPMiddleware, which would put every request, streams included, through
an extra task and memory channel)."""

from __future__ import annotations

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
            metrics.http_requests.labels(scope["method"], _route(scope), str(status)).inc()
            request_ids.reset(token)


def _sent_id(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == _HEADER:
            return value.decode("latin-1")
    return None


def _route(scope: Scope) -> str:
    """The path template of the route that took the request (``/v1/threads/{thread_id}``):
    a label with one value per route, not per object id. (The route object knows its path
    only below the prefix it was included under; the path with its parameters put back has
    it all.)"""
    if scope.get("route") is None:
        return _UNMATCHED
    names = {value: name for name, value in scope.get("path_params", {}).items()}
    if not names:
        return scope["path"]
    return "/".join(
        f"{{{names[part]}}}" if part in names else part for part in scope["path"].split("/")
    )
