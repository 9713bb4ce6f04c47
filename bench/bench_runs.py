"""Run overhead and throughput of the run engine, against the scripted model over HTTP.

Three kinds of process, so none measures another's work: the scripted model
(``python -m assistantd.scripted_model``), the server (``assistantd serve``, started anew with an
empty SQLite data dir for each scenario, then with an empty PostgreSQL database when one is
reachable, so no scenario inherits what another left) and the load generator
(this script re-run with ``--load``; raw aiohttp, no SDK parsing). This process only starts them
and reads each one's CPU time from ``/proc`` around every scenario, which names the bottleneck.

A run is done when the client first reads it ``completed``: it creates thread+run in one
request, then polls ``GET /threads/{id}/runs/{id}``. (``completed_at`` has one-second
resolution, and the client's view is what the target is about.) The error this adds is at most
one poll interval plus one poll's round trip; one run at a time polls every 1 ms; 100 at a time
poll every ``openai-poll-after-ms`` as the SDK does (throughput is what that row is about).
A third scenario has 100 streaming clients (``stream: true``): they learn the end from the
stream, without polling.

Overhead = the run's latency minus the model's own time for the same reply, measured by the
same load generator against the model directly in the same invocation (its own rows).

    python bench/bench_runs.py [--quick] [--postgres URL | --no-postgres] [--baseline DIR]

``--baseline DIR`` also serves from another checkout (e.g. ``git archive`` of an older commit),
alternating with this one in the same conditions, and prints both rows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistantd.scripted_model.testing import running_scripted_model_process  # noqa: E402

REPLY_WORDS = 20
SOLO_POLL_MS = 1
STREAM = -1.0  # poll_ms of a client that streams the run instead of polling it
CROWD = 100
DEFAULT_POSTGRES = os.environ.get(
    "ASSISTANTD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TICKS = os.sysconf("SC_CLK_TCK")


# --- the load generator (its own process) ------------------------------------------------------


async def _model_reply(http: aiohttp.ClientSession, base: str) -> float:
    body = {
        "model": "scripted",
        "messages": [{"role": "user", "content": "question"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    start = time.perf_counter()
    async with http.post(f"{base}/chat/completions", json=body) as response:
        await _until(response, b"data: [DONE]")
    return time.perf_counter() - start


async def _until(response: aiohttp.ClientResponse, marker: bytes) -> bytes:
    """Read the stream until ``marker`` has arrived; returns all that was read. By chunks, not
    lines: the load generator must cost far less CPU than the server it loads."""
    chunks: list[bytes] = []
    tail = b""
    async for chunk in response.content.iter_any():
        chunks.append(chunk)
        tail = tail[-len(marker) :] + chunk  # a marker may be split across reads
        if marker in tail:
            return b"".join(chunks)
    raise RuntimeError(f"the stream ended before {marker!r}")


async def _run(
    http: aiohttp.ClientSession, base: str, assistant_id: str, poll_ms: float | None
) -> dict:
    body = {
        "assistant_id": assistant_id,
        "thread": {"messages": [{"role": "user", "content": "question"}]},
    }
    start = time.perf_counter()
    if poll_ms == STREAM:  # a streaming client learns the end from the stream: no polls
        async with http.post(f"{base}/threads/runs", json={**body, "stream": True}) as response:
            stream = await _until(response, b"data: [DONE]")
        if b"event: thread.run.completed" not in stream:
            raise RuntimeError(f"run did not complete: {stream[-300:]!r}")
        return {"seconds": time.perf_counter() - start, "polls": 0, "interval": 0}
    async with http.post(f"{base}/threads/runs", json=body) as response:
        run = orjson.loads(await response.read())
        interval = poll_ms
        if interval is None:  # as the SDK's poll helper: the server says how often
            interval = float(response.headers.get("openai-poll-after-ms", "1000"))
    url = f"{base}/threads/{run['thread_id']}/runs/{run['id']}"
    polls = 0
    while run["status"] in ("queued", "in_progress"):
        await asyncio.sleep(interval / 1000)
        async with http.get(url) as response:
            run = orjson.loads(await response.read())
        polls += 1
    if run["status"] != "completed":
        raise RuntimeError(f"run ended {run['status']}: {run.get('last_error')}")
    return {"seconds": time.perf_counter() - start, "polls": polls, "interval": interval}


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    """aiohttp, not httpx: httpx's pool spends more CPU than the server at 100 connections."""
    base = spec["base"]
    connector = aiohttp.TCPConnector(limit=spec["concurrency"] + 10)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        if spec["kind"] == "model":

            async def once() -> dict:
                return {"seconds": await _model_reply(http, base), "polls": 0, "interval": 0}
        else:
            async with http.post(f"{base}/assistants", json={"model": "scripted"}) as response:
                assistant = await response.json()

            async def once() -> dict:
                return await _run(http, base, assistant["id"], spec["poll_ms"])

        for _ in range(spec["warmup"]):
            await once()
        results: list[dict] = []
        deadline = time.perf_counter() + spec["seconds"]

        async def worker() -> None:
            while time.perf_counter() < deadline and len(results) < spec["max"]:
                results.append(await once())

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(spec["concurrency"])))
        elapsed = time.perf_counter() - start
    return {
        "latencies": [r["seconds"] for r in results],
        "polls": sum(r["polls"] for r in results),
        "interval": statistics.median(r["interval"] for r in results) if results else 0,
        "elapsed": elapsed,
    }


# --- the orchestrator -------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


@dataclass
class Measured:
    latencies: list[float]
    rate: float
    polls_per_run: float
    poll_ms: float  # the median poll interval (the server's openai-poll-after-ms, or fixed)
    cpu_ms_per_run: dict[str, float]  # process → CPU ms per completed run
    busiest: str  # the process that used most of a core

    def pct(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def measure(spec: dict[str, Any], pids: dict[str, int]) -> Measured:
    command = [sys.executable, __file__, "--load", json.dumps(spec)]
    _children_cpu_seconds()  # not the servers reaped since the last load generator
    before = {name: _cpu_seconds(pid) for name, pid in pids.items()}
    wall = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    out, _ = process.communicate()
    client_cpu = _children_cpu_seconds()
    wall = time.perf_counter() - wall
    if process.returncode != 0:
        raise RuntimeError("the load generator failed")
    result = json.loads(out)
    spent = {name: _cpu_seconds(pid) - before[name] for name, pid in pids.items()}
    spent["client"] = client_cpu
    done = max(len(result["latencies"]), 1)
    busiest = max(spent, key=lambda name: spent[name])
    return Measured(
        latencies=result["latencies"],
        rate=len(result["latencies"]) / result["elapsed"],
        polls_per_run=result["polls"] / done,
        poll_ms=result["interval"],
        cpu_ms_per_run={name: seconds * 1000 / done for name, seconds in spent.items()},
        busiest=f"{busiest} ({spent[busiest] / wall:.0%} of a core)",
    )


_children_seen = 0.0


def _children_cpu_seconds() -> float:
    """CPU of the load generator just reaped (children's times accumulate)."""
    global _children_seen
    usage = os.times()
    total = usage.children_user + usage.children_system
    spent, _children_seen = total - _children_seen, total
    return spent


@contextmanager
def assistantd(root: Path, model_url: str, data_dir: Path, database_url: str | None) -> Iterator:
    """``assistantd serve`` from the checkout at ``root``; yields (base URL, pid)."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "ASSISTANTD_DATA_DIR": str(data_dir),
        "ASSISTANTD_LLM_BASE_URL": model_url,
        "ASSISTANTD_RUN_WORKERS": "128",
    }
    if database_url:
        env["ASSISTANTD_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "assistantd.cli", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=env, cwd=root)
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
        yield base, process.pid
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def fresh_database(backend: str, admin_url: str | None, data_dir: Path) -> Iterator[str | None]:
    if backend == "SQLite":
        yield None  # the server's default: a SQLite file in its data dir
        return
    import asyncpg

    assert admin_url is not None
    name = f"assistantd_bench_{uuid.uuid4().hex[:10]}"

    async def admin(statement: str) -> None:
        connection = await asyncpg.connect(admin_url, timeout=5)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def postgres_reachable(url: str) -> bool:
    import asyncpg

    async def probe() -> None:
        await (await asyncpg.connect(url, timeout=3)).close()

    try:
        asyncio.run(probe())
    except Exception:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="shorter scenarios (< 30 s)")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES, help="an admin postgresql:// URL")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--baseline", type=Path, help="another checkout to serve from, too")
    parser.add_argument("--load", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(_load(json.loads(args.load)))))
        return
    solo_seconds, crowd_seconds = (1.5, 2.5) if args.quick else (8.0, 15.0)
    backends = ["SQLite"]
    if not args.no_postgres and postgres_reachable(args.postgres):
        backends.append("PostgreSQL")
    builds = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    rows: list[tuple[str, str, Measured, Measured, Measured]] = []
    with running_scripted_model_process("--reply-words", str(REPLY_WORDS)) as model_url:
        model_pid = pid_listening(model_url)
        model = {"kind": "model", "base": model_url, "poll_ms": None, "warmup": 10}
        model_solo = measure(
            {**model, "concurrency": 1, "seconds": solo_seconds, "max": 400}, {"model": model_pid}
        )
        model_crowd = measure(
            {**model, "concurrency": CROWD, "seconds": crowd_seconds, "max": 10**6},
            {"model": model_pid},
        )
        one = {"concurrency": 1, "seconds": solo_seconds, "max": 400}
        crowd = {"concurrency": CROWD, "seconds": crowd_seconds, "max": 10**6}
        scenarios = {
            "solo": {**one, "poll_ms": SOLO_POLL_MS},
            "polling": {**crowd, "poll_ms": None},
            "streaming": {**crowd, "poll_ms": STREAM},
        }
        for backend in backends:
            for build, root in builds:
                measured = {
                    name: measure_on_fresh_server(
                        root, backend, args.postgres, model_url, model_pid, scenario
                    )
                    for name, scenario in scenarios.items()
                }
                rows.append((backend, build, *measured.values()))
    report(model_solo, model_crowd, rows)


def measure_on_fresh_server(
    root: Path,
    backend: str,
    admin_url: str | None,
    model_url: str,
    model_pid: int,
    scenario: dict[str, Any],
) -> Measured:
    """One scenario on a server of its own with an empty database, so that no scenario runs on
    what an earlier one left (a build that completed more runs would otherwise be measured on a
    bigger database and a fuller event history)."""
    with (
        tempfile.TemporaryDirectory() as data_dir,
        fresh_database(backend, admin_url, Path(data_dir)) as url,
        assistantd(root, model_url, Path(data_dir), url) as (base, server_pid),
    ):
        spec = {"kind": "runs", "base": f"{base}/v1", "warmup": 10, **scenario}
        return measure(spec, {"server": server_pid, "model": model_pid})


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pid_listening(url: str) -> int:
    """The scripted model's pid: the process listening on the URL's port."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":
            inode = fields[9]
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                if os.readlink(f"/proc/{pid}/fd/{fd}") == f"socket:[{inode}]":
                    return int(pid)
        except OSError:
            continue
    raise RuntimeError("cannot find the scripted model's process")


def report(model_solo: Measured, model_crowd: Measured, rows: list) -> None:
    model_ms = statistics.median(model_solo.latencies) * 1000
    print(f"\n### Run engine: one run = thread+run, model reply of {REPLY_WORDS} words streamed\n")
    print(
        f"Model alone (same load generator, direct): p50 {model_ms:.1f} ms one at a time, "
        f"{model_solo.rate:.0f} replies/s; {model_crowd.rate:.0f} replies/s at {CROWD} at a time "
        f"(model CPU {model_crowd.cpu_ms_per_run['model']:.2f} ms/reply, "
        f"busiest: {model_crowd.busiest}).\n"
    )
    print(
        "Targets (issues #3, #4): p50 overhead at 1 run <= 20 ms; >= 200 runs/s. Polling clients "
        "poll every 1 ms alone, at the server's openai-poll-after-ms in the crowd; streaming "
        "clients (stream: true) learn the end from the stream and never poll.\n"
    )
    print(
        "| backend | build | overhead p50 / p99, 1 run "
        f"| overhead p50 / p99, {CROWD} polling | runs/s, {CROWD} polling "
        f"| overhead p50 / p99, {CROWD} streaming | runs/s, {CROWD} streaming "
        "| poll interval, polls/run | server CPU ms/run polling · streaming "
        "| CPU ms/run client · model (polling) | busiest process (polling) |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|---|")

    def overhead(measured: Measured) -> str:
        return (
            f"{measured.pct(0.5) * 1000 - model_ms:.1f} / "
            f"{measured.pct(0.99) * 1000 - model_ms:.1f} ms"
        )

    for backend, build, solo, crowd, streamed in rows:
        cpu = crowd.cpu_ms_per_run
        print(
            f"| {backend} | {build} | {overhead(solo)} | {overhead(crowd)} | {crowd.rate:.0f} "
            f"| {overhead(streamed)} | {streamed.rate:.0f} "
            f"| {crowd.poll_ms:.0f} ms, {crowd.polls_per_run:.1f} "
            f"| {cpu['server']:.1f} · {streamed.cpu_ms_per_run['server']:.1f} "
            f"| {cpu['client']:.1f} · {cpu['model']:.1f} | {crowd.busiest} |"
        )
    if len({build for _, build, *_ in rows}) > 1:
        print("\nRatios, this build over the baseline (same backend, same invocation):\n")
        print(
            "| backend | p50 overhead, 1 run | runs/s, 100 polling | runs/s, 100 streaming "
            "| server CPU per run (polling) |"
        )
        print("|---|---:|---:|---:|---:|")
        by_key = {(backend, build): measured for backend, build, *measured in rows}
        for backend in dict.fromkeys(backend for backend, *_ in rows):
            (s_new, c_new, t_new) = by_key[backend, "this"]
            (s_old, c_old, t_old) = by_key[backend, "baseline"]
            print(
                f"| {backend} "
                f"| {(s_new.pct(0.5) * 1000 - model_ms) / (s_old.pct(0.5) * 1000 - model_ms):.2f} "
                f"| {c_new.rate / c_old.rate:.2f} | {t_new.rate / t_old.rate:.2f} "
                f"| {c_new.cpu_ms_per_run['server'] / c_old.cpu_ms_per_run['server']:.2f} |"
            )


if __name__ == "__main__":
    main()
