"""Running the scripted model from tests: on a free port in a background thread or a subprocess,
and a small client for its ``/_script`` and ``/_requests`` endpoints.

    with running_scripted_model(context_window=4096) as base_url:   # "http://127.0.0.1:PORT/v1"
        async with ScriptedModelClient(base_url) as scripted:
            await scripted.script("my-unique-model", {"text": "Hello there"})
            ...
            bodies = await scripted.requests("my-unique-model")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from assistantd import tokens
from assistantd.scripted_model.options import ScriptedModelOptions
from assistantd.scripted_model.script import Step
from assistantd.scripted_model.server import uvicorn_config

STARTUP_TIMEOUT_SECONDS = 20.0


@contextmanager
def running_scripted_model(**options: Any) -> Iterator[str]:
    """Serve in a daemon thread of this process; yields the ``/v1`` base URL."""
    # As the command does: else the first request loads the vocabulary (usage counting) and
    # takes seconds, longer than the short timeouts tests give their clients.
    tokens.preload()
    sock = _bound_socket()
    server = uvicorn.Server(uvicorn_config(ScriptedModelOptions(**options)))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="scripted-model", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the scripted model server did not start")
        time.sleep(0.005)
    try:
        yield _base_url(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=5)
        sock.close()


@contextmanager
def running_scripted_model_process(*cli_args: str) -> Iterator[str]:
    """Serve in a subprocess (its own GIL, for benchmarks); ``cli_args`` are the CLI flags."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "assistantd.scripted_model", "--port", str(port), *cli_args]
    process = subprocess.Popen(command, env=os.environ.copy())
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_until_serving(base_url, process)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class ScriptedModelClient:
    """Queues steps, clears them and reads back received requests, for one server."""

    def __init__(self, base_url: str) -> None:
        root = base_url.rstrip("/").removesuffix("/v1")
        self._http = httpx.AsyncClient(base_url=root, timeout=10)

    async def script(
        self,
        model: str,
        *steps: Step | dict[str, Any],
        dialect: str | None = None,
        supports_tools: bool | None = None,
    ) -> int:
        """Append steps for ``model`` (and make it speak ``dialect``, or refuse tools with
        ``supports_tools=False``, if given); returns how many requests are now scripted."""
        responses = [
            s.model_dump(exclude_defaults=True) if isinstance(s, Step) else s for s in steps
        ]
        script: dict[str, Any] = {"model": model, "responses": responses}
        if dialect is not None:
            script["dialect"] = dialect
        if supports_tools is not None:
            script["supports_tools"] = supports_tools
        answer = await self._http.post("/_script", json=script)
        answer.raise_for_status()
        return int(answer.json()["queued"])

    async def clear(self, model: str) -> None:
        (await self._http.delete("/_script", params={"model": model})).raise_for_status()

    async def requests(self, model: str) -> list[dict[str, Any]]:
        """The chat request bodies received for ``model``, oldest first (the last 200)."""
        answer = await self._http.get("/_requests", params={"model": model})
        answer.raise_for_status()
        return list(answer.json()["data"])

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ScriptedModelClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


def _bound_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}/v1"


def _wait_until_serving(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the scripted model exited with {process.returncode}")
        try:
            httpx.get(f"{base_url}/models", timeout=1).raise_for_status()
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError("the scripted model server did not start")
