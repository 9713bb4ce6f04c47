"""Run overhead and throughput of the run engine, against the scripted model over HTTP.

assistantd runs as ``assistantd serve`` in a subprocess (SQLite by default, or ``--postgres
URL``), and so does the scripted model; this process is the client, using the official SDK
(``create_thread_and_run`` then ``runs.poll``). Overhead = create → completed as the client
sees it, minus the model's own time for the same reply measured directly against the scripted
model in this run. Run: ``python bench/bench_runs.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import openai

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistantd.scripted_model.testing import running_scripted_model_process

REPLY_WORDS = 20
SOLO_POLL_MS = 2  # the client's poll interval with one run at a time
CROWD_POLL_MS = 20  # with 100 at a time (polling faster would mostly measure the polling)


@contextmanager
def assistantd(model_url: str, data_dir: Path, database_url: str | None) -> Iterator[str]:
    port = _free_port()
    env = {
        **os.environ,
        "ASSISTANTD_DATA_DIR": str(data_dir),
        "ASSISTANTD_LLM_BASE_URL": model_url,
        "ASSISTANTD_RUN_WORKERS": "128",
    }
    if database_url:
        env["ASSISTANTD_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "assistantd.cli", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("assistantd did not start")
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def model_time(model_url: str, samples: int) -> float:
    """Median seconds for the scripted model to stream one run's reply, asked directly."""
    client = openai.AsyncOpenAI(base_url=model_url, api_key="x", max_retries=0)
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        stream = await client.chat.completions.create(
            model="scripted",
            messages=[{"role": "user", "content": "question"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        async for _chunk in stream:
            pass
        times.append(time.perf_counter() - start)
    await client.close()
    return statistics.median(times)


async def one_run(client: openai.AsyncOpenAI, assistant_id: str, poll_ms: int) -> float:
    start = time.perf_counter()
    run = await client.beta.threads.create_and_run(
        assistant_id=assistant_id,
        thread={"messages": [{"role": "user", "content": "question"}]},
    )
    run = await client.beta.threads.runs.poll(
        run.id, thread_id=run.thread_id, poll_interval_ms=poll_ms
    )
    assert run.status == "completed", (run.status, run.last_error)
    return time.perf_counter() - start


async def scenario(
    base: str, concurrency: int, runs: int, poll_ms: int
) -> tuple[list[float], float]:
    """Latencies of ``runs`` runs, ``concurrency`` at a time, and runs completed per second."""
    limits = httpx.Limits(max_connections=concurrency + 10)
    http = openai.DefaultAsyncHttpxClient(limits=limits, timeout=60)
    client = openai.AsyncOpenAI(base_url=f"{base}/v1", api_key="x", http_client=http)
    assistant = await client.beta.assistants.create(model="scripted")
    for _ in range(min(5, runs)):  # warm-up
        await one_run(client, assistant.id, poll_ms)
    gate = asyncio.Semaphore(concurrency)

    async def gated() -> float:
        async with gate:
            return await one_run(client, assistant.id, poll_ms)

    start = time.perf_counter()
    latencies = await asyncio.gather(*(gated() for _ in range(runs)))
    elapsed = time.perf_counter() - start
    await client.close()
    return list(latencies), runs / elapsed


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer runs (< 30 s)")
    parser.add_argument("--postgres", help="a postgresql+asyncpg:// URL of an empty database")
    parser.add_argument("--crowd-poll-ms", type=int, default=CROWD_POLL_MS)
    args = parser.parse_args()
    solo_runs, crowd_runs = (40, 200) if args.quick else (200, 1000)
    with (
        running_scripted_model_process("--reply-words", str(REPLY_WORDS)) as model_url,
        tempfile.TemporaryDirectory() as data_dir,
        assistantd(model_url, Path(data_dir), args.postgres) as base,
    ):
        model_seconds = await model_time(model_url, 30)
        solo, solo_rate = await scenario(base, 1, solo_runs, SOLO_POLL_MS)
        crowd, crowd_rate = await scenario(base, 100, crowd_runs, args.crowd_poll_ms)
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n### Run engine ({backend}; model reply {REPLY_WORDS} words, streamed)\n")
    print(f"Model's own time per reply (direct, median): {model_seconds * 1000:.1f} ms\n")
    print("| concurrent runs | runs | client poll | p50 overhead | p99 overhead | runs/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for label, values, rate, poll in (
        ("1", solo, solo_rate, SOLO_POLL_MS),
        ("100", crowd, crowd_rate, args.crowd_poll_ms),
    ):
        p50 = (percentile(values, 0.5) - model_seconds) * 1000
        p99 = (percentile(values, 0.99) - model_seconds) * 1000
        print(f"| {label} | {len(values)} | {poll} ms | {p50:.1f} ms | {p99:.1f} ms | {rate:.0f} |")


if __name__ == "__main__":
    asyncio.run(main())
