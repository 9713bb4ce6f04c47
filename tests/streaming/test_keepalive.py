"""A stream that goes quiet (a model thinking before its first token, a long tool call) keeps
its connection alive without breaking any SSE client: the official Python SDK (whose decoder
keeps the last event id, so a blank line after a keep-alive would be an empty event to it), the
Node SDK, and rejoining with ``Last-Event-ID`` across the silence."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from tests.harness.contract import ContractLog
from tests.runs.conftest import Scripted, other_server
from tests.streaming.frames import parse_frames

KEEPALIVE_SECONDS = 0.2
# Several keep-alive intervals of silence before the first token.
SILENCE_MS = 1200
NODE_DIR = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="module")
def quiet_client(
    backend: str,
    scripted_model_url: str,
    tmp_path_factory: pytest.TempPathFactory,
    contract_log: ContractLog,
) -> Iterator[openai.OpenAI]:
    yield from other_server(
        backend,
        tmp_path_factory,
        contract_log,
        llm_base_url=scripted_model_url,
        stream_keepalive_seconds=KEEPALIVE_SECONDS,
    )


@pytest.fixture
def quiet_run(quiet_client: openai.OpenAI, scripted: Scripted, model: str) -> tuple[Any, Any]:
    scripted.script(
        model, {"chunks": ["After ", "the ", "silence."], "first_token_delay_ms": SILENCE_MS}
    )
    assistant = quiet_client.beta.assistants.create(model=model)
    thread = quiet_client.beta.threads.create(messages=[{"role": "user", "content": "Think."}])
    return assistant, thread


def test_the_python_sdk_streams_through_a_silence(
    quiet_client: openai.OpenAI, quiet_run: tuple[Any, Any]
) -> None:
    assistant, thread = quiet_run
    with quiet_client.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id
    ) as stream:
        events = [event.event for event in stream]
        text = "".join(
            block.text.value
            for block in stream.get_final_messages()[0].content
            if block.type == "text"
        )
    assert events[-1] == "thread.run.completed"
    assert text == "After the silence."


def test_the_node_sdk_streams_through_a_silence(
    quiet_client: openai.OpenAI, quiet_run: tuple[Any, Any]
) -> None:
    node = shutil.which("node")
    if node is None or not (NODE_DIR / "node_modules" / "openai").is_dir():
        pytest.skip("node or the Node SDK is not installed (make test installs tests/node)")
    assistant, thread = quiet_run
    done = subprocess.run(
        [node, str(NODE_DIR / "stream_run.mjs"), str(quiet_client.base_url), thread.id, assistant.id],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2:] == ["event thread.run.completed", "final completed"]


def test_keepalives_are_comments_inside_no_event_and_rejoin_still_resumes(
    quiet_client: openai.OpenAI, quiet_run: tuple[Any, Any]
) -> None:
    """Read raw: the silence shows as comment lines; no blank line follows one (so no parser
    dispatches an event for it), and resuming after the last id seen before the silence gives
    exactly the rest of the run."""
    assistant, thread = quiet_run
    run = quiet_client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    url = f"{quiet_client.base_url}threads/{thread.id}/runs/{run.id}/events"
    with httpx.stream("GET", url, timeout=30) as response:
        lines = list(response.iter_lines())
    keepalives = [i for i, line in enumerate(lines) if line.startswith(":")]
    assert keepalives, "the silence was not kept alive"
    for i in keepalives:
        assert lines[i + 1] != "", (
            f"a blank line after a keep-alive ends an empty event: {lines[i : i + 2]}"
        )
    frames = list(parse_frames(iter(lines)))
    assert all(frame.event for frame in frames)
    before_silence = max(f.id for f in frames[: _frames_before(lines, keepalives[0])] if f.id)
    headers = {"Last-Event-ID": str(before_silence)}
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        rest = list(parse_frames(response.iter_lines()))
    assert [f.id for f in rest] == [f.id for f in frames if f.id is None or f.id > before_silence]


def _frames_before(lines: list[str], index: int) -> int:
    """How many frames end before line ``index``."""
    return sum(1 for line in lines[:index] if line == "")
