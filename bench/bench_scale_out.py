"""Scale-out benchmark: what spreading a deployment over processes costs.

    .venv/bin/python bench/bench_scale_out.py [--quick] [--baseline DIR] [--repeat N]

Every process is a real ``assistantd serve`` (own data dir) on one PostgreSQL database with
pgvector (pgserver), Redis, and an S3-compatible server (moto), the scripted model answering.
Side by side in one run:

* CPU per run summed over every server process: one process, then three, each behind the same
  round-robin proxy, the same streamed runs, ``--concurrency`` at once per process (a deployment
  grows with its load: three processes serve three times the streams of one; at equal total
  concurrency each of three processes would batch a third as much work per wake-up, which is a
  different question). The PostgreSQL transactions committed per run are counted alongside,
  and how often per run the servers were preempted (involuntary context switches): on a
  machine with fewer cores than busy processes (servers, PostgreSQL, Redis, model, proxy, load
  generator) three servers are preempted about twice as often per run as one, and each
  preemption costs user CPU (a cold cache) that no code path accounts for. Target: three ≤
  1.25× one.
* Added time to first token (first ``thread.message.delta`` after the create request, minus
  nothing: the scripted model answers at once) of one process with its run events in memory
  against the same process kind with them on Redis, sequential streamed runs. Target: Redis
  ≤ +3 ms p50.

``--baseline DIR`` also serves from another checkout (e.g. ``git archive`` of an older commit),
each deployment from both in turn in the same invocation, and prints both builds' rows.
``--repeat N`` makes N such invocations and prints the medians, and each invocation's ratios:
on a shared 2-core machine one invocation's ratio moves by ±0.1.

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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Usage:
    """What a process has used so far: CPU seconds (user, system) and involuntary context
    switches (the scheduler taking the core away: a process that had it runs on with a
    colder cache, so on an oversubscribed machine each run costs more user CPU)."""

    user: float
    system: float
    preempted: int

    @classmethod
    def of(cls, pid: int) -> Usage:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
        preempted = int(status.split("nonvoluntary_ctxt_switches:")[1].split()[0])
        # utime and stime, in clock ticks of 10 ms
        return cls(int(fields[11]) / 100, int(fields[12]) / 100, preempted)

    @classmethod
    def total(cls, servers: list[ServerProcess]) -> Usage:
        each = [cls.of(s.process.pid) for s in servers]
        return cls(*(sum(getattr(u, f) for u in each) for f in ("user", "system", "preempted")))

    def __sub__(self, other: Usage) -> Usage:
        return Usage(
            self.user - other.user, self.system - other.system, self.preempted - other.preempted
        )


@dataclass(frozen=True)
class Row:
    label: str
    build: str
    cpu_ms: float  # per run, all processes
    user_ms: float
    preempted: float  # per run
    commits: float  # per run
    opened: int
    ttft_ms: float


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
) -> tuple[Usage, float, int]:
    """Server CPU and preemptions over ``runs``, all processes together; transactions
    committed per run; and connections the servers opened meanwhile."""
    # Warm up at the measured concurrency, so that every process has opened the database
    # connections it keeps (each costs milliseconds of CPU to open and to prepare statements
    # on) before counting starts: a deployment's steady state.
    asyncio.run(drive(base, 3 * concurrency, concurrency))
    before = Usage.total(servers)
    committed, opened = asyncio.run(transactions(database))
    asyncio.run(drive(base, runs, concurrency))
    used = Usage.total(servers) - before
    committed_after, opened_after = asyncio.run(transactions(database))
    return used, (committed_after - committed) / runs, opened_after - opened


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


def measure(builds: list[tuple[str, Path]], runs: int, concurrency: int) -> list[Row]:
    """Every deployment from every build once, each on a fresh database and bucket."""
    rows = []
    with (
        tempfile.TemporaryDirectory() as scratch,
        running_scripted_model_process() as model_url,
        running_s3() as s3,
    ):
        root = Path(scratch)
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
                        used, commits, opened = cpu_per_run(
                            servers, proxy, url, runs * count, concurrency * count
                        )
            n = runs * count
            cpu, user = (used.user + used.system) / n * 1000, used.user / n * 1000
            rows.append(Row(label, build, cpu, user, used.preempted / n, commits, opened, ttft))
    return rows


def median_row(rows: list[Row]) -> Row:
    first = rows[0]
    return Row(
        first.label,
        first.build,
        statistics.median(r.cpu_ms for r in rows),
        statistics.median(r.user_ms for r in rows),
        statistics.median(r.preempted for r in rows),
        statistics.median(r.commits for r in rows),
        max(r.opened for r in rows),
        statistics.median(r.ttft_ms for r in rows),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--concurrency", type=int, default=20, help="streams at once per process")
    parser.add_argument("--baseline", type=Path, help="another checkout to serve from, too")
    parser.add_argument("--repeat", type=int, default=1, help="invocations; medians are shown")
    args = parser.parse_args()
    builds = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    runs = 100 if args.quick else 600
    if reason := unavailable_reason("pgvector"):
        sys.exit(f"needs a PostgreSQL with pgvector: {reason}")
    every = [measure(builds, runs, args.concurrency) for _ in range(args.repeat)]
    print(
        f"{runs} streamed runs per process, {args.concurrency} at once per process, through the"
        f" proxy (PostgreSQL + pgvector, S3); medians of {args.repeat} invocation(s)\n"
    )
    print(
        "| deployment | build | server CPU per run (ms, all processes) | of which user"
        " | preempted per run | transactions per run | connections opened"
        " | time to first token p50 (ms, direct) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    medians = [median_row([rows[i] for rows in every]) for i in range(len(every[0]))]
    for r in medians:
        print(
            f"| {r.label} | {r.build} | {r.cpu_ms:.2f} | {r.user_ms:.2f} | {r.preempted:.1f}"
            f" | {r.commits:.2f} | {r.opened} | {r.ttft_ms:.1f} |"
        )
    for build, _ in builds:
        ratios, added = [], []
        for rows in every:
            one, three, in_memory = (r for r in rows if r.build == build)
            ratios.append(three.cpu_ms / one.cpu_ms)
            added.append(one.ttft_ms - in_memory.ttft_ms)
        each = ", ".join(f"{r:.2f}x" for r in ratios)
        print(
            f"\n{build}: CPU, 3 processes against 1: {statistics.median(ratios):.2f}x"
            f" (target <= 1.25x; each invocation: {each})"
        )
        each = ", ".join(f"{a:+.1f}" for a in added)
        print(
            f"{build}: TTFT, Redis against in memory: {statistics.median(added):+.1f} ms"
            f" (target <= +3 ms; each invocation: {each})"
        )


if __name__ == "__main__":
    main()
