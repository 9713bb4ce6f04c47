"""Streaming: time to first token added by assistantd, and how many concurrent streams it
sustains with smooth token delivery.

Three processes: the scripted model (``--token-delay-ms`` between tokens), ``assistantd serve``
(SQLite, or ``--postgres URL``) and this client, which reads SSE over raw asyncio sockets (no SDK,
no httpx) so that it stays cheaper than the server it measures.

* **Added TTFT** = (POST ``/v1/threads/runs`` with ``stream: true`` → first
  ``thread.message.delta`` frame) − (POST ``/v1/chat/completions`` straight to the model → first
  content chunk), samples taken in alternation in the same run, with 1 and with 200 streams at once.
* **Sustained streams**: N streams started together (steps 100, 200, 500, 1000, …), each a
  ``REPLY_WORDS``-token reply; the gap between consecutive token frames, p99 over all streams,
  must stay under 100 ms (the model's own gap is the token delay). The table says where it breaks.

Run: ``python bench/bench_streaming.py [--quick] [--postgres URL | --baseline DIR]``;
``--baseline DIR`` also serves from another checkout (e.g. ``git archive`` of an older commit)
against the same model process, one build after the other, and prints both.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistantd.scripted_model.testing import ScriptedModelClient, running_scripted_model_process

TOKEN_DELAY_MS = 25
REPLY_WORDS = 80  # ≈ 2 s per stream at 25 ms a token
GAP_LIMIT_S = 0.100
FAN_RUNS = 10
# The time-to-first-token samples use a short scripted reply (same for both paths), so that a
# sample does not wait for a long stream to end.
TTFT_MODEL = "ttft"
TTFT_REPLY = {
    "chunks": ["One", " two", " three."],
    "chunk_delay_ms": TOKEN_DELAY_MS,
    "repeat": 100000,
}
DELTA = b"event: thread.message.delta"
CONTENT = b'"delta":{"content":"'  # a chat-completion chunk that carries text


ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def assistantd(
    model_url: str, data_dir: Path, database_url: str | None, root: Path = ROOT
) -> Iterator[str]:
    """``assistantd serve`` from the checkout at ``root``; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "ASSISTANTD_DATA_DIR": str(data_dir),
        "ASSISTANTD_LLM_BASE_URL": model_url,
        "ASSISTANTD_RUN_WORKERS": "4000",  # workers are tasks: never the limit here
    }
    if database_url:
        env["ASSISTANTD_DATABASE_URL"] = database_url
    command = [sys.executable, "-m", "assistantd.cli", "serve", "--port", str(port)]
    process = subprocess.Popen([*command, "--log-level", "warning"], env=env, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{base}/health", process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


def _wait_for(url: str, process: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up")
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- a minimal SSE reader over asyncio streams --------------------------------------------


@dataclass
class Stream:
    started: float = 0.0
    first_token: float | None = None
    tokens: list[float] = field(default_factory=list)  # arrival time of each token frame
    ok: bool = False


async def post_stream(url: str, body: dict[str, object], marker: bytes, end: bytes) -> Stream:
    """POST ``body`` and read the response until ``end``, timing every chunk that holds
    ``marker`` (several frames in one read count as arriving together)."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    return await _read_stream(parts.hostname or "", parts.port or 80, request, marker, end)


async def _read_stream(host: str, port: int, request: bytes, marker: bytes, end: bytes) -> Stream:
    result = Stream(started=time.perf_counter())
    reader, writer = await asyncio.open_connection(host, port, limit=1 << 20)
    try:
        writer.write(request)
        tail = b""
        while True:
            data = await reader.read(65536)
            if not data:
                break
            now = time.perf_counter()
            window = tail + data
            count = window.count(marker) - tail.count(marker)
            if count:
                result.first_token = result.first_token or now
                result.tokens.extend([now] * count)
            if end in window:
                result.ok = True
                break
            tail = window[-64:]
    finally:
        writer.close()
    return result


async def join_stream(url: str) -> Stream:
    """GET a run's ``/events`` stream (the rejoin endpoint), from its first event."""
    parts = urlsplit(url)
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Authorization: Bearer x\r\nConnection: close\r\n\r\n"
    ).encode()
    return await _read_stream(parts.hostname or "", parts.port or 80, request, DELTA, b"[DONE]")


async def via_assistantd(base: str, assistant_id: str) -> Stream:
    body = {
        "assistant_id": assistant_id,
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": "question"}]},
    }
    return await post_stream(f"{base}/v1/threads/runs", body, DELTA, b"[DONE]")


async def direct(model_url: str, model: str) -> Stream:
    body = {
        "model": model,
        "stream": True,
        "messages": [{"role": "user", "content": "question"}],
    }
    return await post_stream(f"{model_url}/chat/completions", body, CONTENT, b"[DONE]")


# --- scenarios ----------------------------------------------------------------------------


def ttft(stream: Stream) -> float:
    assert stream.ok and stream.first_token is not None, "a stream did not finish"
    return stream.first_token - stream.started


async def added_ttft(
    base: str, model_url: str, assistant_id: str, width: int, rounds: int
) -> tuple[list[float], list[float]]:
    """Per round: ``width`` streams through assistantd at once, then ``width`` direct ones at
    once, all with the short reply of ``TTFT_MODEL``. Returns (through, direct) TTFT lists."""
    through: list[float] = []
    straight: list[float] = []
    for _ in range(rounds):
        batch = await asyncio.gather(*(via_assistantd(base, assistant_id) for _ in range(width)))
        through += [ttft(s) for s in batch]
        batch = await asyncio.gather(*(direct(model_url, TTFT_MODEL) for _ in range(width)))
        straight += [ttft(s) for s in batch]
    return through, straight


@dataclass
class Load:
    streams: int
    finished: int
    p50_gap: float
    p99_gap: float
    max_gap: float
    p50_ttft: float
    p99_ttft: float
    peak_concurrent: int
    seconds: float


async def load(base: str, assistant_id: str, streams: int) -> Load:
    """``streams`` runs started at once, each streamed to its own client."""
    start = time.perf_counter()
    results = await asyncio.gather(
        *(via_assistantd(base, assistant_id) for _ in range(streams)), return_exceptions=True
    )
    return summarise(streams, list(results), time.perf_counter() - start)


async def fan_out(base: str, assistant_id: str, streams: int, runs: int) -> Load:
    """``runs`` runs started together, each joined by ``streams / runs`` clients through the
    events endpoint: the streaming layer's capacity, with run starts (database writes) out of
    the picture."""
    import httpx

    async with httpx.AsyncClient(base_url=f"{base}/v1", timeout=60) as http:
        body = {
            "assistant_id": assistant_id,
            "thread": {"messages": [{"role": "user", "content": "q"}]},
        }
        created = await asyncio.gather(
            *(http.post("/threads/runs", json=body) for _ in range(runs))
        )
    paths = [
        f"{base}/v1/threads/{r.json()['thread_id']}/runs/{r.json()['id']}/events" for r in created
    ]
    start = time.perf_counter()
    results = await asyncio.gather(
        *(join_stream(paths[n % runs]) for n in range(streams)), return_exceptions=True
    )
    return summarise(streams, list(results), time.perf_counter() - start)


def summarise(streams: int, results: list[object], elapsed: float) -> Load:
    done = [r for r in results if isinstance(r, Stream) and r.ok and r.first_token]
    gaps = [b - a for r in done for a, b in zip(r.tokens, r.tokens[1:], strict=False)]
    firsts = [ttft(r) for r in done]
    spans = sorted([(r.first_token, 1) for r in done] + [(r.tokens[-1], -1) for r in done])
    active = peak = 0
    for _, step in spans:
        active += step
        peak = max(peak, active)
    return Load(
        streams,
        len(done),
        percentile(gaps, 0.5),
        percentile(gaps, 0.99),
        max(gaps, default=0.0),
        percentile(firsts, 0.5),
        percentile(firsts, 0.99),
        peak,
        elapsed,
    )


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def holds(result: Load) -> bool:
    return result.p99_gap < GAP_LIMIT_S and result.finished == result.streams


async def assistant(base: str, model: str) -> str:
    import httpx

    async with httpx.AsyncClient(base_url=f"{base}/v1", timeout=30) as http:
        answer = await http.post("/assistants", json={"model": model})
        answer.raise_for_status()
        return str(answer.json()["id"])


@dataclass
class Measured:
    build: str
    solo: tuple[list[float], list[float]]  # (through assistantd, direct) TTFTs, 1 at a time
    crowd: tuple[list[float], list[float]]  # the same, 200 at a time
    loads: list[Load]
    fans: list[Load]


async def measure(
    build: str, root: Path, model_url: str, postgres: str | None, quick: bool
) -> Measured:
    solo_rounds, crowd_rounds = (20, 1) if quick else (100, 3)
    per_run_ladder = (100, 200, 500) if quick else (100, 200, 500, 1000)
    fan_ladder = (1000,) if quick else (100, 200, 500, 1000, 1500, 2000, 3000)
    with (
        tempfile.TemporaryDirectory() as data_dir,
        assistantd(model_url, Path(data_dir), postgres, root) as base,
    ):
        short_id = await assistant(base, TTFT_MODEL)
        long_id = await assistant(base, "scripted")
        await added_ttft(base, model_url, short_id, 1, 3)  # warm-up
        solo = await added_ttft(base, model_url, short_id, 1, solo_rounds)
        crowd = await added_ttft(base, model_url, short_id, 200, crowd_rounds)
        loads: list[Load] = []
        for streams in per_run_ladder:
            loads.append(await load(base, long_id, streams))
            if not holds(loads[-1]):
                break
        fans: list[Load] = []
        for streams in fan_ladder:
            fans.append(await fan_out(base, long_id, streams, FAN_RUNS))
            if not holds(fans[-1]):
                break
    return Measured(build, solo, crowd, loads, fans)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer samples and steps (< 40 s)")
    parser.add_argument("--postgres", help="a postgresql+asyncpg:// URL of an empty database")
    parser.add_argument("--baseline", type=Path, help="another checkout to serve from, too")
    args = parser.parse_args()
    builds = [("this", ROOT)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    if args.postgres and args.baseline:
        parser.error("--baseline needs a fresh database per build: use it with SQLite")
    model_args = ("--token-delay-ms", str(TOKEN_DELAY_MS), "--reply-words", str(REPLY_WORDS))
    with running_scripted_model_process(*model_args) as model_url:
        async with ScriptedModelClient(model_url) as scripted:
            await scripted.script(TTFT_MODEL, TTFT_REPLY)
        results = [
            await measure(build, root, model_url, args.postgres, args.quick)
            for build, root in builds
        ]
    backend = "PostgreSQL" if args.postgres else "SQLite"
    print(f"\n### Streaming ({backend}; model: {REPLY_WORDS} tokens, {TOKEN_DELAY_MS} ms apart)\n")
    print("Targets (issue #4): added TTFT p50 <= 10 ms at 1 stream; >= 500 concurrent streams")
    print(f"with p99 token gap < {GAP_LIMIT_S * 1000:.0f} ms.\n")
    print(
        "| build | streams at once | direct TTFT p50 | through assistantd p50 "
        "| added p50 | added p99 |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for result in results:
        for width, (through, straight) in ((1, result.solo), (200, result.crowd)):
            added_p50 = percentile(through, 0.5) - percentile(straight, 0.5)
            added_p99 = percentile(through, 0.99) - percentile(straight, 0.99)
            print(
                f"| {result.build} | {width} | {ms(percentile(straight, 0.5))} "
                f"| {ms(percentile(through, 0.5))} | {ms(added_p50)} | {ms(added_p99)} |"
            )
    print("\nMost concurrent streams that held (p99 token gap under the limit, all finished):\n")
    print("| build | one run per stream (run starts included) | fan-out over /events |")
    print("|---|---:|---:|")
    for result in results:
        print(f"| {result.build} | {most_held(result.loads)} | {most_held(result.fans)} |")
    for result in results:
        print(f"\n#### {result.build}: sustained streams\n")
        print("One run per stream (run starts included):\n")
        table(result.loads)
        print(f"\nFan-out: {FAN_RUNS} runs, each followed by streams/{FAN_RUNS} clients:\n")
        table(result.fans)


def most_held(loads: list[Load]) -> str:
    """The peak concurrency of the largest step that held; '< N' when even the first broke."""
    held = [result.peak_concurrent for result in loads if holds(result)]
    return str(max(held)) if held else f"< {loads[0].streams}" if loads else "-"


def table(loads: list[Load]) -> None:
    print(
        "| streams started | finished | peak concurrent | gap p50 | gap p99 | gap max "
        "| TTFT p50 | TTFT p99 | wall | verdict |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for result in loads:
        print(
            f"| {result.streams} | {result.finished} | {result.peak_concurrent} "
            f"| {ms(result.p50_gap)} | {ms(result.p99_gap)} | {ms(result.max_gap)} "
            f"| {ms(result.p50_ttft)} | {ms(result.p99_ttft)} | {result.seconds:.1f} s "
            f"| {'holds' if holds(result) else 'breaks'} |"
        )


if __name__ == "__main__":
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    asyncio.run(main())
