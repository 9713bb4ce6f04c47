"""Fixtures for streaming tests: those of the run tests (scripted model, unique model names, an
assistant, a thread), and an event handler that records what the SDK tells it."""

from __future__ import annotations

from tests.runs.conftest import assistant, model, scripted, thread

__all__ = ["assistant", "model", "scripted", "thread"]
