"""Small real HTTP endpoints that are not what a model base URL should point at: a web page
(``/ui``), a path nothing serves (``/nothing/v1``) and a refused key (``/locked/v1``)."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from tests.harness.server import free_port

PAGE = "<!doctype html><html><body><h1>Welcome to the dashboard</h1></body></html>"
REFUSED = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}


def _endpoints() -> web.Application:
    async def page(_request: web.Request) -> web.Response:
        return web.Response(text=PAGE, content_type="text/html")

    async def not_found(_request: web.Request) -> web.Response:
        return web.Response(status=404, text="404 page not found")

    async def refused(_request: web.Request) -> web.Response:
        return web.Response(status=401, text=json.dumps(REFUSED), content_type="application/json")

    app = web.Application()
    app.router.add_post("/ui/chat/completions", page)
    app.router.add_post("/nothing/v1/chat/completions", not_found)
    app.router.add_post("/locked/v1/chat/completions", refused)
    return app


@contextmanager
def endpoints() -> Iterator[str]:
    """The endpoints' server, on a loop of its own in a thread; yields its base URL."""
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(_endpoints())
    port = free_port()
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
