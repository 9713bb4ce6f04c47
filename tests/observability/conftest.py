"""A real ``assistantd serve`` process (SQLite, the scripted model) whose log the tests read:
uvicorn at ``info``, so that every request has its access line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.harness.cluster import ServerProcess, start_process
from tests.runs.conftest import model, scripted

__all__ = ["model", "scripted"]


@pytest.fixture(scope="module")
def served(
    scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    env = {"ASSISTANTD_LLM_BASE_URL": scripted_model_url}
    server = start_process("serve", tmp_path_factory.mktemp("observed"), env, log_level="info")
    try:
        yield server
    finally:
        server.stop()


def lines_with(server: ServerProcess, text: str) -> list[str]:
    return [line for line in server.log if text in line]
