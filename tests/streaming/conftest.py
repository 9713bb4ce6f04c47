"""Fixtures for streaming tests: those of the run tests (scripted model, unique model names, an
assistant, a thread, a server that gives up on the model quickly)."""

from __future__ import annotations

from tests.runs.conftest import assistant, fragile_client, model, scripted, thread

__all__ = ["assistant", "fragile_client", "model", "scripted", "thread"]
