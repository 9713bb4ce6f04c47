"""SIGTERM on a real ``assistantd serve`` process: a run in flight finishes within
``ASSISTANTD_SHUTDOWN_GRACE_SECONDS`` and its stream ends with the run; one that would take
longer is given up at the end of the grace period, its stream closed cleanly (the SDK's iteration
just ends), and the process exits 0 either way. The run handed back is taken up on the next start.
(Handing a run over to another live process is ``tests/scale_out/test_graceful_shutdown.py``.)"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openai

from tests.harness.clients import sdk_client
from tests.harness.cluster import ServerProcess, start_process
from tests.harness.contract import ContractLog
from tests.lifecycle.commands import environment
from tests.runs.conftest import Scripted
from tests.vector_stores.conftest import wait_until

MODEL = "slow-model"
EXIT_BOUND_SECONDS = 60  # a bound on waiting for the exit, not a timing assertion


class Streamed:
    """A run streamed through the SDK on a thread of its own, as a client would."""

    def __init__(self, client: openai.OpenAI, thread_id: str, assistant_id: str) -> None:
        self.events: list[Any] = []
        self.error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._read, args=(client, thread_id, assistant_id), daemon=True
        )
        self._thread.start()

    def _read(self, client: openai.OpenAI, thread_id: str, assistant_id: str) -> None:
        try:
            with client.beta.threads.runs.stream(
                thread_id=thread_id, assistant_id=assistant_id
            ) as stream:
                for event in stream:
                    self.events.append(event)
        except BaseException as error:  # what the test asserts did not happen
            self.error = error

    @property
    def names(self) -> list[str]:
        return [event.event for event in self.events]

    def join(self) -> None:
        self._thread.join(timeout=EXIT_BOUND_SECONDS)
        assert not self._thread.is_alive(), "the stream did not end"


@contextmanager
def serving(data_dir: Path, **variables: str) -> Iterator[ServerProcess]:
    server = start_process(
        "serve --with-scripted-model", data_dir, environment(data_dir, **variables)
    )
    try:
        yield server
    finally:
        server.stop()


def _terminated(server: ServerProcess) -> int:
    server.process.send_signal(signal.SIGTERM)
    return server.process.wait(timeout=EXIT_BOUND_SECONDS)


def _started(client: openai.OpenAI) -> tuple[Any, Any]:
    assistant = client.beta.assistants.create(model=MODEL)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Go."}])
    return assistant, thread


def test_a_run_in_flight_finishes_and_its_stream_ends_with_it(
    tmp_path: Path, contract_log: ContractLog
) -> None:
    with serving(tmp_path / "data", ASSISTANTD_SHUTDOWN_GRACE_SECONDS="60") as server:
        assert server.url is not None
        Scripted(f"{server.url}/scripted/v1").script(
            MODEL, {"chunks": [f"word{n} " for n in range(12)], "chunk_delay_ms": 150}
        )
        client = sdk_client(server.url, contract_log)
        assistant, thread = _started(client)
        stream = Streamed(client, thread.id, assistant.id)
        wait_until(lambda: "thread.message.delta" in stream.names, "the first token")
        assert _terminated(server) == 0, "".join(server.log[-30:])
        stream.join()
    assert stream.error is None
    assert stream.names[-1] == "thread.run.completed"
    deltas = [e.data.delta.content[0].text.value for e in stream.events if e.event == "thread.message.delta"]  # fmt: skip
    assert "".join(deltas) == "".join(f"word{n} " for n in range(12))


def test_a_run_longer_than_the_grace_is_handed_back_and_its_stream_closed(
    tmp_path: Path, contract_log: ContractLog
) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir, ASSISTANTD_SHUTDOWN_GRACE_SECONDS="1") as server:
        assert server.url is not None
        Scripted(f"{server.url}/scripted/v1").script(MODEL, {"hang": True})
        client = sdk_client(server.url, contract_log)
        assistant, thread = _started(client)
        stream = Streamed(client, thread.id, assistant.id)
        wait_until(lambda: "thread.run.in_progress" in stream.names, "the run to start")
        time.sleep(0.3)  # into the model call
        assert _terminated(server) == 0, "".join(server.log[-30:])
        stream.join()
    assert stream.error is None, repr(stream.error)
    assert "thread.run.completed" not in stream.names
    assert any("handed back 1 unfinished runs" in line for line in server.log), server.log[-20:]
    run_id = next(e.data.id for e in stream.events if e.event == "thread.run.created")

    # The next start takes the run up again (its scripted model, fresh, answers by default).
    with serving(data_dir) as again:
        assert again.url is not None
        client = sdk_client(again.url, contract_log)
        wait_until(
            lambda: (
                client.beta.threads.runs.retrieve(run_id, thread_id=thread.id).status == "completed"
            ),
            "the run to complete after the restart",
        )
