"""Streaming: time to first token added by assistantd, and how many concurrent streams it
sustains with smooth token delivery.

Three processes: the scripted model (``--token-delay-ms`` between tokens), ``assistantd serve``
(SQLite, or ``--postgres URL``) and this client, which reads SSE with a bare asyncio Protocol that
times each read as it arrives (no SDK, no httpx, no task woken per token) so that it stays far
cheaper than the server it measures.

* **Added TTFT** = (POST ``/v1/threads/runs`` with ``stream: true`` → first
  ``thread.message.delta`` frame) − (POST ``/v1/chat/completions`` straight to the model → first
  content chunk), samples taken in alternation in the same run, with 1 and with 200 streams at once.
* **Sustained streams (ramped)**: N streams started at ``RAMP_PER_SECOND`` (a steady arrival
  rate, not a burst), each a long reply at ``SUSTAIN_DELAY_MS`` between tokens (20 tokens/s, like
  a real model: each stream is mostly idle). Once every stream is delivering tokens, the gaps
  between consecutive token frames are measured over a ``WINDOW_S`` window, with the CPU each
  process (server, model, this client) used in that window: p99 gap < 100 ms is the target.
* **Burst**: N streams started together (steps 100, 200, 500, 1000, …), each a
  ``REPLY_WORDS``-token reply at ``TOKEN_DELAY_MS``; the gap p99 over all streams, run starts
  included. The table says where it breaks.

Run: ``python bench/bench_streaming.py [--quick] [--postgres URL | --baseline DIR]``;
``--baseline DIR`` also serves from another checkout (e.g. ``git archive`` of an older commit)
against the same model process, one build after the other, and prints both.

Measured (2-core machine, SQLite, full run, idle machine; session 3's machine, ~2–3× faster than
session 2's): added TTFT p50 at 1 stream 6.6 ms (p99 16.8), 5.1 ms for the build before a message's
rows were written ahead of its created events (side by side); ramped: 750 streams hold (p99 gap
59 ms, server 86% of a core, ~14.8k tokens/s), 1,000 break; burst holds 500; fan-out 646. On
session 2's machine the same path held 300 ramped streams and sat at the edge at 500.
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
from typing import cast
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from assistantd.scripted_model.testing import ScriptedModelClient, running_scripted_model_process
from bench.bench_runs import pid_listening

TOKEN_DELAY_MS = 25
SUSTAIN_DELAY_MS = 50  # 20 tokens/s a stream
RAMP_PER_SECOND = 100  # stream starts per second in the ramped scenario
WINDOW_S = 4.0  # the measured steady-state window, once every stream is delivering
SUSTAIN_MODEL = "sustain"
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
) -> Iterator[tuple[str, int]]:
    """``assistantd serve`` from the checkout at ``root``; yields (base URL, pid)."""
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
        yield base, process.pid
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


async def post_stream(
    url: str, body: dict[str, object], marker: bytes, end: bytes, into: Stream | None = None
) -> Stream:
    """POST ``body`` and read the response until ``end``, timing every chunk that holds
    ``marker`` (several frames in one read count as arriving together)."""
    parts = urlsplit(url)
    payload = json.dumps(body).encode()
    request = (
        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        f"Authorization: Bearer x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    host, port = parts.hostname or "", parts.port or 80
    return await _read_stream(host, port, request, marker, end, into)


async def _read_stream(
    host: str, port: int, request: bytes, marker: bytes, end: bytes, into: Stream | None = None
) -> Stream:
    """``into``: a Stream the caller watches while it fills (the ramped scenario)."""
    result = into or Stream()
    result.started = time.perf_counter()
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    transport, _ = await loop.create_connection(
        lambda: _Reader(request, marker, end, result, done), host, port
    )
    try:
        await done
    finally:
        transport.close()
    return result


class _Reader(asyncio.Protocol):
    """Times each read that holds ``marker`` in the read's callback itself: no task wakes up per
    token (several frames in one read count as arriving together)."""

    def __init__(
        self, request: bytes, marker: bytes, end: bytes, result: Stream, done: asyncio.Future[None]
    ) -> None:
        self._request, self._marker, self._end = request, marker, end
        self._result, self._done = result, done
        self._tail = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but have its methods.
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        window = self._tail + data
        count = window.count(self._marker) - self._tail.count(self._marker)
        if count:
            self._result.first_token = self._result.first_token or now
            self._result.tokens.extend([now] * count)
        if self._end in window:
            self._result.ok = True
            self._finish()
        self._tail = window[-64:]

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish()

    def _finish(self) -> None:
        if not self._done.done():
            self._done.set_result(None)
        if self._transport is not None:
            self._transport.close()


async def join_stream(url: str) -> Stream:
    """GET a run's ``/events`` stream (the rejoin endpoint), from its first event."""
    parts = urlsplit(url)
    request = (
        f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
        "Authorization: Bearer x\r\nConnection: close\r\n\r\n"
    ).encode()
    return await _read_stream(parts.hostname or "", parts.port or 80, request, DELTA, b"[DONE]")


async def via_assistantd(base: str, assistant_id: str, into: Stream | None = None) -> Stream:
    body = {
        "assistant_id": assistant_id,
        "stream": True,
        "thread": {"messages": [{"role": "user", "content": "question"}]},
    }
    return await post_stream(f"{base}/v1/threads/runs", body, DELTA, b"[DONE]", into)


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


@dataclass
class Sustained:
    streams: int
    running: int  # streams delivering tokens through the whole window
    finished: int
    gaps: list[float]  # token gaps inside the window, all streams
    cpu: dict[str, float]  # process → share of one core used during the window
    tokens_per_second: float  # token frames delivered per second in the window, all streams

    def holds(self) -> bool:
        return (
            percentile(self.gaps, 0.99) < GAP_LIMIT_S
            and self.running == self.streams == self.finished
        )


def sustain_script(streams: int) -> dict[str, object]:
    """A reply long enough to outlast the ramp and the window, at ``SUSTAIN_DELAY_MS``."""
    seconds = streams / RAMP_PER_SECOND + WINDOW_S + 4
    return {
        "chunks": [" word"] * int(seconds * 1000 / SUSTAIN_DELAY_MS),
        "chunk_delay_ms": SUSTAIN_DELAY_MS,
        "repeat": 100000,
    }


async def sustained(base: str, assistant_id: str, streams: int, pids: dict[str, int]) -> Sustained:
    """``streams`` runs started at ``RAMP_PER_SECOND``; measured over ``WINDOW_S`` once all of
    them deliver tokens (or once the ramp is long over, if some never do)."""
    watched = [Stream() for _ in range(streams)]
    start = time.perf_counter()
    tasks = []
    for n, stream in enumerate(watched):
        await asyncio.sleep(max(0.0, start + n / RAMP_PER_SECOND - time.perf_counter()))
        tasks.append(asyncio.create_task(via_assistantd(base, assistant_id, stream)))
    give_up = time.perf_counter() + 5.0
    while time.perf_counter() < give_up and not all(s.first_token for s in watched):
        await asyncio.sleep(0.02)
    before, t0 = cpu_seconds(pids), time.perf_counter()
    await asyncio.sleep(WINDOW_S)
    after, t1 = cpu_seconds(pids), time.perf_counter()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    finished = sum(1 for r in results if isinstance(r, Stream) and r.ok)
    gaps = [
        b - a
        for s in watched
        for a, b in zip(s.tokens, s.tokens[1:], strict=False)
        if t0 <= a and b <= t1
    ]
    running = sum(
        1 for s in watched if s.first_token and s.first_token <= t0 and s.tokens[-1] >= t1
    )
    delivered = sum(1 for s in watched for t in s.tokens if t0 <= t <= t1)
    cpu = {name: (after[name] - before[name]) / (t1 - t0) for name in before}
    return Sustained(streams, running, finished, gaps, cpu, delivered / (t1 - t0))


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: dict[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named process, and by this one (the client)."""
    spent = {"client": time.process_time()}
    for name, pid in pids.items():
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        spent[name] = (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime
    return spent


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
    ramped: list[Sustained]


async def measure(
    build: str, root: Path, model_url: str, postgres: str | None, quick: bool
) -> Measured:
    solo_rounds, crowd_rounds = (20, 1) if quick else (100, 3)
    per_run_ladder = (100, 200) if quick else (100, 200, 500, 1000)
    fan_ladder = (1000,) if quick else (100, 200, 500, 1000, 1500, 2000, 3000)
    ramp_ladder = (500,) if quick else (100, 200, 300, 500, 750, 1000)
    model_pid = pid_listening(model_url)
    with (
        tempfile.TemporaryDirectory() as data_dir,
        assistantd(model_url, Path(data_dir), postgres, root) as (base, server_pid),
    ):
        pids = {"server": server_pid, "model": model_pid}
        ramped: list[Sustained] = []
        for streams in ramp_ladder:
            model = f"{SUSTAIN_MODEL}-{streams}"
            async with ScriptedModelClient(model_url) as scripted:
                await scripted.script(model, sustain_script(streams))
            ramped.append(await sustained(base, await assistant(base, model), streams, pids))
            if not ramped[-1].holds():
                break
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
    return Measured(build, solo, crowd, loads, fans, ramped)


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
    print(
        f"| build | ramped, one run per stream ({RAMP_PER_SECOND} starts/s, "
        f"{1000 // SUSTAIN_DELAY_MS} tokens/s each) | burst, one run per stream "
        "(run starts included) | fan-out over /events |"
    )
    print("|---|---:|---:|---:|")
    for result in results:
        held = [r.running for r in result.ramped if r.holds()]
        most_ramped = str(max(held)) if held else f"< {result.ramped[0].streams}"
        print(
            f"| {result.build} | {most_ramped} | {most_held(result.loads)} "
            f"| {most_held(result.fans)} |"
        )
    print(
        f"\nRamped: streams start at {RAMP_PER_SECOND}/s; gaps and CPU (share of one core) over "
        f"a {WINDOW_S:.0f} s window once all deliver tokens:\n"
    )
    print(
        "| build | streams | running through the window | finished | tokens/s delivered "
        "| gap p50 | gap p99 | gap max | CPU server | CPU model | CPU client | verdict |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for result in results:
        for r in result.ramped:
            print(
                f"| {result.build} | {r.streams} | {r.running} | {r.finished} "
                f"| {r.tokens_per_second:.0f} | {ms(percentile(r.gaps, 0.5))} "
                f"| {ms(percentile(r.gaps, 0.99))} | {ms(max(r.gaps, default=0.0))} "
                f"| {r.cpu['server']:.0%} | {r.cpu['model']:.0%} | {r.cpu['client']:.0%} "
                f"| {'holds' if r.holds() else 'breaks'} |"
            )
    for result in results:
        print(f"\n#### {result.build}: burst\n")
        print("One run per stream, all started together (run starts included):\n")
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
