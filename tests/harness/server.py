"""A real assistantd server on a free loopback port, in a background thread."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

from assistantd.app import create_app
from assistantd.config import Settings
from assistantd.http_deadlines import uvicorn_options


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(
    settings: Settings, customise: Callable[[FastAPI], None] | None = None
) -> Iterator[str]:
    """Serve the app until the block ends; yields its base URL (without ``/v1``).
    ``customise`` may add routes only a test needs (e.g. one that fails on purpose)."""
    port = free_port()
    app = create_app(settings)
    if customise is not None:
        customise(app)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        **uvicorn_options(settings),  # the deadlines on slow clients, as `assistantd serve`
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"assistantd:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("assistantd did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
