"""Runs on a scaled-out deployment: API-only processes and worker processes on one PostgreSQL
database and Redis, each with its own data dir, a round-robin proxy in front, the official SDK
against the proxy. Any process serves any request: runs spread over the workers, streams and
rejoins work wherever they land, a cancel reaches the run from any process, and a killed
worker's run finishes on another."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import openai

from tests.harness.clients import sdk_client
from tests.harness.cluster import ServerProcess, cluster, start_process
from tests.harness.contract import ContractLog
from tests.harness.proxy import round_robin
from tests.runs.conftest import Scripted, wait_for
from tests.streaming.frames import Frame, parse_frames

ROLES = ["serve --no-worker", "serve --no-worker", "worker", "worker"]


_ENDED = re.compile(r"run (run_\w+) ended")


def _executed_by(workers: list[ServerProcess]) -> dict[str, int]:
    """How many runs each worker process says it ended (each executed in one go)."""
    return {w.role + str(i): len(_ended(w)) for i, w in enumerate(workers)}


def _ended(server: ServerProcess) -> set[str]:
    """The runs a process says it ended."""
    return {match[1] for line in server.log if (match := _ENDED.search(line))}


def _setup(client: openai.OpenAI, model: str) -> tuple[Any, Any]:
    assistant = client.beta.assistants.create(model=model)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Go."}])
    return assistant, thread


def test_runs_spread_over_workers_and_stream_through_any_process(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog,
    scripted: Scripted, model: str,
) -> None:  # fmt: skip
    with (
        cluster(ROLES, tmp_path, shared_env) as servers,
        round_robin([s.url for s in servers if s.url]) as (url, _proxy),
    ):
        client = sdk_client(url, contract_log)
        assistant = client.beta.assistants.create(model=model)
        threads = [
            client.beta.threads.create(messages=[{"role": "user", "content": f"Hi {n}"}])
            for n in range(8)
        ]
        runs = [
            client.beta.threads.runs.create_and_poll(thread_id=t.id, assistant_id=assistant.id)
            for t in threads
        ]
        assert {run.status for run in runs} == {"completed"}
        counts = _executed_by([s for s in servers if s.role == "worker"])
        assert sum(counts.values()) == 8 and all(counts.values()), counts
        # A stream created through one API process while a worker elsewhere executes the run.
        scripted.script(model, {"chunks": ["Across ", "the ", "cluster."], "chunk_delay_ms": 50})
        with client.beta.threads.runs.stream(
            thread_id=threads[0].id, assistant_id=assistant.id
        ) as stream:
            names = [event.event for event in stream]
            text = stream.get_final_messages()[0].content[0].text.value
        assert names[-1] == "thread.run.completed" and text == "Across the cluster."


def test_a_process_with_idle_workers_executes_the_runs_created_through_it(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog, model: str
) -> None:
    # Both processes create runs at once: one whose claimer took the oldest waiting run
    # wherever it was created would execute some of the other's (its events then go through
    # Redis to the other process's stream, a claim and a read later).
    with cluster(["serve", "serve"], tmp_path, shared_env) as servers:
        clients = [sdk_client(s.url or "", contract_log) for s in servers]
        assistant = clients[0].beta.assistants.create(model=model)

        def runs_through(client: openai.OpenAI) -> set[str]:
            body = {"messages": [{"role": "user", "content": "Hi"}]}
            runs = [
                client.beta.threads.create_and_run_poll(assistant_id=assistant.id, thread=body)
                for _ in range(12)
            ]
            assert {run.status for run in runs} == {"completed"}
            return {run.id for run in runs}

        with ThreadPoolExecutor(2) as pool:
            created = list(pool.map(runs_through, clients))
        everyone = created[0] | created[1]
        ended = wait_for(lambda: [_ended(s) for s in servers], lambda e: e[0] | e[1] >= everyone)
    assert ended == created


def test_rejoining_on_another_process_misses_nothing_and_repeats_nothing(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog,
    scripted: Scripted, model: str,
) -> None:  # fmt: skip
    with cluster(ROLES, tmp_path, shared_env) as servers:
        api = [s.url for s in servers if s.url]
        client = sdk_client(api[0], contract_log)
        assistant, thread = _setup(client, model)
        chunks = [f"w{n} " for n in range(30)]
        scripted.script(model, {"chunks": chunks, "chunk_delay_ms": 30})
        run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
        path = f"/v1/threads/{thread.id}/runs/{run.id}/events"
        with httpx.stream("GET", api[0] + path, timeout=30) as response:
            first = []
            for frame in parse_frames(response.iter_lines()):
                first.append(frame)
                if frame.event == "thread.message.delta" and len(first) > 12:
                    break
        resume_after = first[-1].id
        headers = {"Last-Event-ID": str(resume_after)}
        with httpx.stream("GET", api[1] + path, headers=headers, timeout=30) as response:
            rest = list(parse_frames(response.iter_lines()))
        with httpx.stream("GET", api[1] + path, timeout=30) as response:
            whole = list(parse_frames(response.iter_lines()))
    ids = [f.id for f in first] + [f.id for f in rest if f.id is not None]
    assert ids == list(range(1, len(ids) + 1)), ids
    assert rest[-2].event == "thread.run.completed" and rest[-1].event == "done"
    assert [f.id for f in whole if f.id] == ids
    deltas = [f.data["delta"]["content"][0]["text"]["value"] for f in whole if f.event == "thread.message.delta"]  # fmt: skip
    assert "".join(deltas) == "".join(chunks)


def test_a_cancel_through_another_process_stops_the_run_at_once(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog,
    scripted: Scripted, model: str,
) -> None:  # fmt: skip
    # Leases renewed every 10 s: a cancel that waited for the worker's heartbeat to notice it
    # would take seconds; one that reaches the worker directly takes a notification's time.
    env = {**shared_env, "ASSISTANTD_RUN_LEASE_SECONDS": "30"}
    with cluster(ROLES, tmp_path, env) as servers:
        api = [s.url for s in servers if s.url]
        client, other = sdk_client(api[0], contract_log), sdk_client(api[1], contract_log)
        assistant, thread = _setup(client, model)
        scripted.script(model, {"chunks": [f"t{n} " for n in range(400)], "chunk_delay_ms": 50})
        run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
        wait_for(
            lambda: client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data,
            bool,
        )
        asked = time.monotonic()
        other.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
        ended = wait_for(
            lambda: client.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id),
            lambda r: r.status == "cancelled",
        )
        took = time.monotonic() - asked
    assert ended.status == "cancelled"
    assert took < 3.0, f"the cancel took {took:.1f} s to reach the run"


def test_a_killed_workers_run_finishes_on_another_and_a_rejoined_stream_ends(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog,
    scripted: Scripted, model: str,
) -> None:  # fmt: skip
    env = {**shared_env, "ASSISTANTD_RUN_LEASE_SECONDS": "2"}
    with cluster(["serve --no-worker", "worker"], tmp_path, env) as servers:
        api, first_worker = servers[0], servers[1]
        client = sdk_client(api.url or "", contract_log)
        assistant, thread = _setup(client, model)
        scripted.script(
            model,
            {"chunks": [f"a{n} " for n in range(200)], "chunk_delay_ms": 50},
            {"text": "Finished elsewhere."},
        )
        run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
        wait_for(
            lambda: client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data,
            bool,
        )
        first_worker.kill()
        second = start_process("worker", tmp_path / "replacement", env)
        try:
            path = f"/v1/threads/{thread.id}/runs/{run.id}/events"
            with httpx.stream("GET", (api.url or "") + path, timeout=60) as response:
                frames = list(parse_frames(response.iter_lines()))
            final = client.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id)
            [message] = client.beta.threads.messages.list(thread_id=thread.id, run_id=run.id).data
        finally:
            second.stop()
    assert final.status == "completed"
    assert frames[-2].event == "thread.run.completed" and frames[-1].event == "done"
    ids = [f.id for f in frames if f.id is not None]
    assert ids == list(range(1, len(ids) + 1))
    assert message.content[0].text.value == "Finished elsewhere."
    _assert_every_object_ends(frames)


def _assert_every_object_ends(frames: list[Frame]) -> None:
    """Each message and step the stream opened is closed in it: a client rebuilding the run from
    its events sees no message left writing forever (the dead worker's half-written turn ends)."""
    endings = {
        "message": (".completed", ".incomplete"),
        "run.step": (".completed", ".failed", ".cancelled", ".expired"),
    }
    for kind, ends in endings.items():
        opened = {f.data["id"] for f in frames if f.event == f"thread.{kind}.created"}
        closed = {f.data["id"] for f in frames if f.event in {f"thread.{kind}{e}" for e in ends}}
        assert opened <= closed, f"{kind}s opened but never ended: {opened - closed}"
