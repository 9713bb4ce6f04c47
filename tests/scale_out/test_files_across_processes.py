"""Files and vector stores on a scaled-out deployment: bytes uploaded through one process are
read through every other, a file added to a store through an API process is indexed by a
worker, and every process answers a search the same."""

from __future__ import annotations

from pathlib import Path

from tests.harness.clients import sdk_client
from tests.harness.cluster import cluster
from tests.harness.contract import ContractLog
from tests.runs.conftest import wait_for

ROLES = ["serve --no-worker", "serve --no-worker", "worker"]
MANUAL = (
    "The pump model QX-7781 primes in four seconds. Error E-4411 means the inlet is blocked: "
    "clear the inlet, then restart the pump."
)


def test_files_and_searches_answer_the_same_on_every_process(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog
) -> None:
    with cluster(ROLES, tmp_path, shared_env) as servers:
        first, second = (sdk_client(s.url or "", contract_log) for s in servers[:2])
        uploaded = first.files.create(file=("manual.txt", MANUAL.encode()), purpose="assistants")
        assert second.files.content(uploaded.id).read() == MANUAL.encode()
        store = second.vector_stores.create(name="manuals", file_ids=[uploaded.id])
        wait_for(
            lambda: first.vector_stores.retrieve(store.id).file_counts,
            lambda counts: counts.completed == 1,
        )
        answers = [
            [(hit.file_id, round(hit.score, 6)) for hit in client.vector_stores.search(store.id, query="E-4411 inlet")]
            for client in (first, second)
        ]  # fmt: skip
        assert answers[0] and answers[0] == answers[1]
        assert answers[0][0][0] == uploaded.id
