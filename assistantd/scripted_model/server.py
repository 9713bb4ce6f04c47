"""Serving the scripted model with uvicorn."""

from __future__ import annotations

import gc
import socket
from typing import Any

import uvicorn

from assistantd import tokens
from assistantd.scripted_model.app import create_app
from assistantd.scripted_model.options import ScriptedModelOptions


def uvicorn_config(options: ScriptedModelOptions, **config: Any) -> uvicorn.Config:
    # Quiet logs and a deep accept backlog: benchmarks open hundreds of streams at once.
    defaults: dict[str, Any] = {
        "log_level": "warning",
        "access_log": False,
        "lifespan": "off",
        "backlog": 4096,
        "timeout_graceful_shutdown": 1,
    }
    return uvicorn.Config(create_app(options), **(defaults | config))


class _Server(uvicorn.Server):
    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # What exists once serving lives as long as the process: out of the garbage
        # collector's sight, its full passes (which stall every stream) are shorter.
        gc.collect()
        gc.freeze()


def run(host: str = "127.0.0.1", port: int = 8001, **options: Any) -> None:
    """Serve until interrupted. ``options`` are the fields of ``ScriptedModelOptions``."""
    tokens.preload()  # usage counting needs the vocabulary; load it before the first request
    _Server(uvicorn_config(ScriptedModelOptions(**options), host=host, port=port)).run()
