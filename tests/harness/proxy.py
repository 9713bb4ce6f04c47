"""A round-robin HTTP reverse proxy on a loopback port, in a background thread: each request goes
to the next backend in turn (as a load balancer without session affinity would send it), and
responses stream back as they come (server-sent events included)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import aiohttp
from aiohttp import web

from tests.harness.server import free_port

# Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business, not forwarded.
_HOP_BY_HOP = {
    "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
    "transfer-encoding", "upgrade", "content-length", "host",
}  # fmt: skip


SESSION = web.AppKey("session", aiohttp.ClientSession)


class RoundRobinProxy:
    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self._next = itertools.cycle(range(len(backends)))
        self.sent: Counter[str] = Counter()  # requests per backend

    async def handle(self, request: web.Request) -> web.StreamResponse:
        backend = self.backends[next(self._next)]
        self.sent[backend] += 1
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        body = await request.read()
        session: aiohttp.ClientSession = request.app[SESSION]
        async with session.request(
            request.method, backend + request.path_qs, headers=headers, data=body
        ) as upstream:
            response = web.StreamResponse(status=upstream.status)
            for key, value in upstream.headers.items():
                if key.lower() not in _HOP_BY_HOP:
                    response.headers[key] = value
            await response.prepare(request)
            # A client may stop reading once it has what it wants (a stream's [DONE]): then
            # the upstream request is dropped with it.
            with contextlib.suppress(ConnectionResetError):
                async for chunk in upstream.content.iter_any():
                    await response.write(chunk)
                await response.write_eof()
            return response


@contextmanager
def round_robin(backends: list[str]) -> Iterator[tuple[str, RoundRobinProxy]]:
    """Serve the proxy until the block ends; yields its base URL and the proxy."""
    proxy = RoundRobinProxy(backends)
    port = free_port()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        app = web.Application(client_max_size=1024**3)
        timeout = aiohttp.ClientTimeout(total=None, sock_read=None)
        app[SESSION] = aiohttp.ClientSession(timeout=timeout, auto_decompress=False)
        app.router.add_route("*", "/{tail:.*}", proxy.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        started.set()
        await stop.wait()
        await app[SESSION].close()
        await runner.cleanup()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the proxy did not start")
    try:
        yield f"http://127.0.0.1:{port}", proxy
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout=10)
