"""Shared sandboxed sessions for these tests (skipped, with the reason, when bwrap is missing)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistantd.config import Settings
from assistantd.tools.code_interpreter import BubblewrapSandbox, CodeSessions

MIB = 1024 * 1024


def _unavailable_reason() -> str | None:
    return asyncio.run(BubblewrapSandbox().unavailable_reason())


UNAVAILABLE = _unavailable_reason()
needs_sandbox = pytest.mark.skipif(
    UNAVAILABLE is not None, reason=f"bubblewrap sandbox unavailable: {UNAVAILABLE}"
)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("assistantd-data"),
        code_interpreter_exec_timeout_seconds=20,
        max_file_bytes=16 * MIB,  # the per-file size limit inside the sandbox
    )


@pytest.fixture(scope="module")
async def sessions(settings: Settings) -> AsyncIterator[CodeSessions]:
    if UNAVAILABLE is not None:
        pytest.skip(f"bubblewrap sandbox unavailable: {UNAVAILABLE}")
    code_sessions = CodeSessions(settings)
    yield code_sessions
    await code_sessions.aclose()


def data_dir_of(settings: Settings, sessions: CodeSessions, key: str) -> Path:
    """The host directory behind ``key``'s /mnt/data (what an attacker would aim for)."""
    return sessions._root_for(key) / "data"
