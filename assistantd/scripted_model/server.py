"""Serving the scripted model with uvicorn."""

from __future__ import annotations

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


def run(host: str = "127.0.0.1", port: int = 8001, **options: Any) -> None:
    """Serve until interrupted. ``options`` are the fields of ``ScriptedModelOptions``."""
    tokens.preload()  # usage counting needs the vocabulary; load it before the first request
    uvicorn.Server(uvicorn_config(ScriptedModelOptions(**options), host=host, port=port)).run()
