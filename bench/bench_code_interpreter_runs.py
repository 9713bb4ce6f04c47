"""What a code_interpreter call adds to a run, measured side by side in one process.

    .venv/bin/python bench/bench_code_interpreter_runs.py [--quick]

A real assistantd (SQLite, in a thread) with the scripted model as its LLM; each run is
streamed through the official SDK until ``done``. Rows: a plain text run; a run whose model calls
``code_interpreter`` with ``print(1)`` in a thread whose session is warm; the same in a new
thread (sandbox and kernel start); and a warm call that displays a matplotlib chart (image stored
as a file, ``image_file`` part added).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai
import uvicorn

from assistantd.app import create_app
from assistantd.config import Settings
from assistantd.scripted_model.testing import ScriptedModelClient, running_scripted_model
from assistantd.tools.code_interpreter import BubblewrapSandbox

# The SDK marks the Assistants API deprecated; serving it anyway is the point of assistantd.
warnings.filterwarnings("ignore", category=DeprecationWarning)
CHART = "import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nplt.show()"


@contextmanager
def serving(settings: Settings) -> Iterator[str]:
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=0, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def script(model_url: str, model: str, *steps: dict[str, Any]) -> None:
    async def send() -> None:
        async with ScriptedModelClient(model_url) as scripted:
            await scripted.script(model, *steps)

    asyncio.run(send())


def code_call(code: str) -> dict[str, Any]:
    return {"tool_calls": [{"name": "code_interpreter", "arguments": {"code": code}}]}


def streamed_run(client: openai.OpenAI, thread_id: str, assistant_id: str) -> float:
    start = time.perf_counter()
    with client.beta.threads.runs.stream(thread_id=thread_id, assistant_id=assistant_id) as s:
        s.until_done()
        status = s.get_final_run().status
    elapsed = time.perf_counter() - start
    if status != "completed":
        raise RuntimeError(f"run ended {status}")
    return elapsed


def sample(n: int, prepare: Callable[[], tuple[str, str]], client: openai.OpenAI) -> list[float]:
    """``n`` streamed runs; ``prepare`` scripts the model and gives (thread id, assistant id)."""
    out = []
    for _ in range(n):
        thread_id, assistant_id = prepare()
        out.append(streamed_run(client, thread_id, assistant_id))
    return out


def main(quick: bool) -> None:
    reason = asyncio.run(BubblewrapSandbox().unavailable_reason())
    if reason is not None:
        raise SystemExit(f"bubblewrap sandbox unavailable: {reason}")
    warm_n, cold_n = (10, 3) if quick else (100, 10)
    with running_scripted_model() as model_url:
        settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="bench-ci-runs-")))
        settings.llm_base_url = model_url
        with serving(settings) as base:
            client = openai.OpenAI(base_url=base, api_key="sk-bench", max_retries=0)
            model = f"bench-{uuid.uuid4().hex[:8]}"
            assistant = client.beta.assistants.create(
                model=model, tools=[{"type": "code_interpreter"}]
            )
            warm_thread = client.beta.threads.create().id
            answer = {"text": "Done."}

            def warm(steps: list[dict]) -> Callable[[], tuple[str, str]]:
                def prepare() -> tuple[str, str]:
                    script(model_url, model, *steps)
                    return warm_thread, assistant.id

                return prepare

            def cold() -> tuple[str, str]:
                script(model_url, model, code_call("print(1)"), answer)
                return client.beta.threads.create().id, assistant.id

            sample(2, warm([code_call("print(1)"), answer]), client)  # warm-up, self-check
            plain = sample(warm_n, warm([answer]), client)
            ci_warm = sample(warm_n, warm([code_call("print(1)"), answer]), client)
            ci_cold = sample(cold_n, cold, client)
            sample(1, warm([code_call("import matplotlib"), answer]), client)
            chart = sample(warm_n, warm([code_call(CHART), answer]), client)
    rows = [
        ("plain text run", plain),
        ("run + code_interpreter print(1), warm session", ci_warm),
        ("run + code_interpreter print(1), new thread (cold)", ci_cold),
        ("run + code_interpreter chart (image file + image_file part), warm", chart),
    ]
    base_median = statistics.median(plain)
    print("| streamed run | runs | p50 ms | max ms | × plain run (p50) |")
    print("|---|---|---|---|---|")
    for label, samples in rows:
        p50 = statistics.median(samples)
        print(
            f"| {label} | {len(samples)} | {p50 * 1000:.1f} | {max(samples) * 1000:.1f} "
            f"| {p50 / base_median:.2f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (< 30 s)")
    main(parser.parse_args().quick)
