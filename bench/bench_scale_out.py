"""Scale-out benchmark: what spreading a deployment over processes costs.

    .venv/bin/python bench/bench_scale_out.py [--quick] [--baseline DIR]

Every process is a real ``assistantd serve`` (own data dir) on one PostgreSQL database with
pgvector (pgserver), Redis, and an S3-compatible server (moto), the scripted model answering.
Side by side in one run:

* CPU per run summed over every server process: one process, then three, each behind the same
  round-robin proxy, the same streamed runs, ``--concurrency`` at once per process (a deployment
  grows with its load: three processes serve three times the streams of one; at equal total
  concurrency each of three processes would batch a third as much work per wake-up, which is a
  different question). The PostgreSQL transactions committed per run are counted alongside.
  Target: three ≤ 1.25× one.
* Added time to first token (first ``thread.message.delta`` after the create request, minus
  nothing: the scripted model answers at once) of one process with its run events in memory
  against the same process kind with them on Redis, sequential streamed runs. Target: Redis
  ≤ +3 ms p50.

``--baseline DIR`` also serves from another checkout (e.g. ``git archive`` of an older commit),
each deployment from both in turn in the same invocation, and prints both builds' rows.

(PostgreSQL against SQLite runs/s is ``bench_runs.py``; the chunk indexes, ``bench_retrieval.py
--indexes``.)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistantd.scripted_model.testing import running_scripted_model_process  # noqa: E402
from tests.harness.cluster import ServerProcess, cluster  # noqa: E402
from tests.harness.databases import fresh_database, unavailable_reason  # noqa: E402
from tests.harness.proxy import round_robin  # noqa: E402
from tests.harness.s3 import running_s3  # noqa: E402

REDIS_URL = "redis://127.0.0.1:6379/0"
DEPLOYMENTS = (  # label, processes, events on Redis
    ("1 process, Redis", 1, True),
    ("3 processes, Redis, round robin", 3, True),
    ("1 process, events in memory", 1, False),
)
COMMITTED = "SELECT xact_commit, sessions FROM pg_stat_database WHERE datname = current_database()"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in clock ticks of 10 ms


async def one_run(http: aiohttp.ClientSession, base: str, assistant: str) -> float:
    """A streamed thread-and-run; returns seconds to its first message delta."""
    started = time.perf_counter()
    body = {
        "assistant_id": assistant,
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": "Hello there"}]},
    }
    first = None
    async with http.post(f"{base}/v1/threads/runs", json=body) as response:
        async for line in response.content:
            if first is None and line.startswith(b"event: thread.message.delta"):
                first = time.perf_counter() - started
            if line.startswith(b"data: [DONE]"):
                break
    return first if first is not None else float("nan")


async def drive(base: str, runs: int, concurrency: int) -> list[float]:
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer sk-bench"}) as http:
        async with http.post(f"{base}/v1/assistants", json={"model": "scripted"}) as answer:
            assistant = (await answer.json())["id"]
        gate = asyncio.Semaphore(concurrency)

        async def gated() -> float:
            async with gate:
                return await one_run(http, base, assistant)

        return await asyncio.gather(*(gated() for _ in range(runs)))


def cpu_per_run(
    servers: list[ServerProcess], base: str, database: str, runs: int, concurrency: int
) -> tuple[float, float, int]:
    """Server CPU ms per run, all processes together; transactions committed per run; and
    connections the servers opened meanwhile."""
    # Warm up at the measured concurrency, so that every process has opened the database
    # connections it keeps (each costs milliseconds of CPU to open and to prepare statements
    # on) before counting starts: a deployment's steady state.
    asyncio.run(drive(base, 3 * concurrency, concurrency))
    before = sum(cpu_seconds(s.process.pid) for s in servers)
    committed, opened = asyncio.run(transactions(database))
    asyncio.run(drive(base, runs, concurrency))
    cpu = (sum(cpu_seconds(s.process.pid) for s in servers) - before) / runs * 1000
    committed_after, opened_after = asyncio.run(transactions(database))
    return cpu, (committed_after - committed) / runs, opened_after - opened


async def transactions(database: str) -> tuple[int, int]:
    """Transactions committed and connections opened in the database so far."""
    connection = await asyncpg.connect(database.replace("postgresql+asyncpg", "postgresql"))
    try:
        committed, sessions = await connection.fetchrow(COMMITTED)
        return committed, sessions - 1  # not this one
    finally:
        await connection.close()


def ttft_ms(servers: list[ServerProcess], runs: int) -> float:
    base = servers[0].url or ""
    asyncio.run(drive(base, 5, 1))
    return statistics.median(asyncio.run(drive(base, runs, 1))) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=20, help="streams at once per process")
    parser.add_argument("--baseline", type=Path, help="another checkout to serve from, too")
    args = parser.parse_args()
    builds = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    runs = 100 if args.quick else 600
    if reason := unavailable_reason("pgvector"):
        sys.exit(f"needs a PostgreSQL with pgvector: {reason}")
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_scripted_model_process() as model_url,
        running_s3() as s3,
    ):
        root = Path(scratch)
        rows = []
        for (label, count, redis), (build, checkout) in itertools.product(DEPLOYMENTS, builds):
            bucket = s3.new_bucket()
            with fresh_database("pgvector", root) as url:
                env = {
                    "ASSISTANTD_DATABASE_URL": url,
                    "ASSISTANTD_BLOB_URL": f"s3://{bucket}/bench",
                    "ASSISTANTD_LLM_BASE_URL": model_url,
                    **s3.environment(),
                    **({"ASSISTANTD_REDIS_URL": REDIS_URL} if redis else {}),
                    "PYTHONPATH": str(checkout),
                }
                here = root / build / label.replace(" ", "-").replace(",", "")
                with cluster(["serve"] * count, here, env) as servers:
                    ttft = ttft_ms(servers, runs // 2) if count == 1 else float("nan")
                    with round_robin([s.url or "" for s in servers]) as (proxy, _):
                        cpu, commits, opened = cpu_per_run(
                            servers, proxy, url, runs * count, args.concurrency * count
                        )
                rows.append((label, build, cpu, commits, opened, ttft))
    print(
        f"{runs} streamed runs per process, {args.concurrency} at once per process, through the"
        " proxy (PostgreSQL + pgvector, S3)\n"
    )
    print(
        "| deployment | build | server CPU per run (ms, all processes) | transactions per run"
        " | connections opened | time to first token p50 (ms, direct) |"
    )
    print("|---|---|---|---|---|---|")
    for label, build, cpu, commits, opened, ttft in rows:
        print(f"| {label} | {build} | {cpu:.2f} | {commits:.2f} | {opened} | {ttft:.1f} |")
    for build, _ in builds:
        one, three, in_memory = (row for row in rows if row[1] == build)
        print(f"\n{build}: CPU, 3 processes against 1: {three[2] / one[2]:.2f}x (target <= 1.25x)")
        added = one[5] - in_memory[5]
        print(f"{build}: TTFT, Redis against in memory: {added:+.1f} ms (target <= +3 ms)")


if __name__ == "__main__":
    main()
