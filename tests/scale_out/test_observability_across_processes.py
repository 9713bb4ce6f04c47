"""A scaled-out deployment (``serve --no-worker`` and ``worker`` sharing PostgreSQL, Redis and a
bucket), logging JSON: the id of the request that created a run reaches the worker that executes it, and each
process exports its own metrics (the worker on ``ASSISTANTD_METRICS_PORT``)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.clients import sdk_client
from tests.harness.cluster import cluster
from tests.harness.contract import ContractLog
from tests.harness.server import free_port
from tests.runs.conftest import wait_for


def _completed_runs(metrics_text: str, model: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        for sample in family.samples
        if sample.name == "assistantd_runs_total"
        and sample.labels == {"status": "completed", "model": model}
    )


def test_the_worker_logs_the_creating_request_id_and_counts_the_run(
    shared_env: dict[str, str], tmp_path: Path, contract_log: ContractLog, model: str
) -> None:
    metrics_port = free_port()
    env = {
        **shared_env,
        "ASSISTANTD_LOG_FORMAT": "json",
        "ASSISTANTD_METRICS_PORT": str(metrics_port),
    }
    with cluster(["serve --no-worker", "worker"], tmp_path, env) as (api, worker):
        assert api.url is not None
        client = sdk_client(api.url, contract_log)
        assistant = client.beta.assistants.create(model=model)
        thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hi"}])
        mine = f"scaled-{uuid.uuid4().hex}"
        run = client.beta.threads.runs.create_and_poll(
            thread_id=thread.id, assistant_id=assistant.id,
            extra_headers={"x-request-id": mine},
        )  # fmt: skip
        assert run.status == "completed"
        ended = wait_for(lambda: _ended_lines(worker.log, run.id), bool, seconds=10)
        worker_metrics = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics").text
        api_metrics = httpx.get(f"{api.url}/metrics").text
    [line] = ended
    assert line["request_id"] == mine
    assert (line["status"], line["model"], line["tenant"]) == ("completed", model, "default")
    assert line["completion_tokens"] > 0 and line["seconds"] >= 0
    assert _completed_runs(worker_metrics, model) == 1  # the worker executed it
    assert _completed_runs(api_metrics, model) == 0  # the API process only took the request
    assert "assistantd_run_queue_depth 0.0" in api_metrics


def _ended_lines(log: list[str], run_id: str) -> list[dict]:
    records = [json.loads(line) for line in log if line.startswith("{")]
    return [r for r in records if r.get("run_id") == run_id]
