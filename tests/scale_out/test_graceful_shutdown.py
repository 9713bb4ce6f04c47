"""SIGTERM on a worker of a scaled-out deployment: the run it cannot finish within
``ASSISTANTD_SHUTDOWN_GRACE_SECONDS`` is handed back at once, so another worker finishes it —
long before the stopped worker's lease would have lapsed — and the stopped worker exits 0."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.harness.clients import sdk_client
from tests.harness.cluster import cluster, start_process
from tests.harness.contract import ContractLog
from tests.runs.conftest import Scripted
from tests.vector_stores.conftest import wait_until

# Far beyond the test's waits: without the hand-back, the run would wait this long.
LEASE_SECONDS = "300"


def test_a_stopped_workers_unfinished_run_is_handed_to_another_at_once(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog,
    scripted: Scripted, model: str,
) -> None:  # fmt: skip
    env = {
        **shared_env,
        "ASSISTANTD_SHUTDOWN_GRACE_SECONDS": "1",
        "ASSISTANTD_RUN_LEASE_SECONDS": LEASE_SECONDS,
    }
    scripted.script(model, {"hang": True}, {"text": "Finished elsewhere."})
    with cluster(["serve --no-worker", "worker"], tmp_path, env) as (api, first):
        assert api.url is not None
        client = sdk_client(api.url, contract_log)
        assistant = client.beta.assistants.create(model=model)
        thread = client.beta.threads.create(messages=[{"role": "user", "content": "Go."}])
        run = client.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
        wait_until(lambda: len(scripted.requests(model)) == 1, "the first worker's model call")
        second = start_process("worker", tmp_path / "second", env)
        try:
            first.process.send_signal(signal.SIGTERM)
            assert first.process.wait(timeout=60) == 0, "".join(first.log[-30:])
            wait_until(
                lambda: (
                    client.beta.threads.runs.retrieve(run.id, thread_id=thread.id).status
                    == "completed"
                ),
                "the second worker to finish the run",
            )
        finally:
            second.stop()
        reply = client.beta.threads.messages.list(thread.id, order="asc").data[-1]
        assert reply.content[0].text.value == "Finished elsewhere."
