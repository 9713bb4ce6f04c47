"""A server killed mid-flight (SIGKILL) and started again on the same data: every run finishes,
and no run ends up with a duplicated message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai

from assistantd.scripted_model.testing import running_scripted_model_process
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.server import free_port
from tests.runs.conftest import wait_for

RUNS = 20
TERMINAL = {"completed", "failed", "cancelled", "expired", "incomplete"}


@contextmanager
def serving(data_dir: Path, model_url: str, port: int) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "ASSISTANTD_DATA_DIR": str(data_dir),
        "ASSISTANTD_LLM_BASE_URL": model_url,
        "ASSISTANTD_RUN_WORKERS": "8",
    }
    command = [sys.executable, "-m", "assistantd.cli", "serve", "--port", str(port)]
    command += ["--log-level", "warning"]
    process = subprocess.Popen(command, env=env)
    try:
        wait_for(lambda: _healthy(port, process), bool, seconds=30)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=10)


def _healthy(port: int, process: subprocess.Popen[bytes]) -> bool:
    assert process.poll() is None, "assistantd exited"
    try:
        return httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def test_runs_survive_a_killed_server(tmp_path: Path, contract_log: ContractLog) -> None:
    port = free_port()
    with running_scripted_model_process("--token-delay-ms", "30", "--reply-words", "40") as url:
        with serving(tmp_path, url, port) as first:
            client = sdk_client(f"http://127.0.0.1:{port}", contract_log)
            assistant = client.beta.assistants.create(model="scripted")
            runs = [
                client.beta.threads.create_and_run(
                    assistant_id=assistant.id,
                    thread={"messages": [{"role": "user", "content": f"question {n}"}]},
                )
                for n in range(RUNS)
            ]
            # Kill once generation is under way (some messages are being written).
            wait_for(lambda: _messages_in_progress(client, runs), bool)
            first.send_signal(signal.SIGKILL)
            first.wait()
        with serving(tmp_path, url, port):
            client = sdk_client(f"http://127.0.0.1:{port}", contract_log)
            for run in runs:
                finished = wait_for(
                    lambda run=run: client.beta.threads.runs.retrieve(
                        run.id, thread_id=run.thread_id
                    ),
                    lambda r: r.status in TERMINAL,
                    seconds=60,
                )
                assert finished.status == "completed", finished.last_error
                replies = client.beta.threads.messages.list(
                    thread_id=run.thread_id, run_id=run.id
                ).data
                assert len(replies) == 1
                assert replies[0].status == "completed"
                steps = client.beta.threads.runs.steps.list(
                    thread_id=run.thread_id, run_id=run.id
                ).data
                assert [s.status for s in steps] == ["completed"]


def _messages_in_progress(client: openai.OpenAI, runs: list) -> int:
    time.sleep(0.05)
    return sum(
        1
        for run in runs[-3:]
        for message in client.beta.threads.messages.list(thread_id=run.thread_id).data
        if message.status == "in_progress"
    )
