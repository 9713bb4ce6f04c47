"""``GET /metrics``: Prometheus' text format, whose counters move as the server works."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.harness.clients import sdk_client
from tests.harness.cluster import ServerProcess
from tests.harness.contract import ContractLog


def _samples(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = httpx.get(f"{url}/metrics", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_a_completed_run_moves_the_run_counters_and_latency_histograms(
    served: ServerProcess, contract_log: ContractLog, model: str
) -> None:
    assert served.url is not None
    client = sdk_client(served.url, contract_log)
    completed = ("assistantd_runs_total", (("model", model), ("status", "completed")))
    durations = ("assistantd_run_duration_seconds_count", (("model", model),))
    first_tokens = ("assistantd_run_time_to_first_token_seconds_count", (("model", model),))
    model_calls = ("assistantd_model_call_duration_seconds_count", (("model", model),))
    before = _samples(served.url)
    assistant = client.beta.assistants.create(model=model)
    thread = client.beta.threads.create(messages=[{"role": "user", "content": "Hello"}])
    run = client.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed"
    after = _samples(served.url)
    for key in (completed, durations, first_tokens, model_calls):
        assert after.get(key, 0) == before.get(key, 0) + 1, key
    assert after[("assistantd_run_queue_depth", ())] == 0


def test_requests_are_counted_by_route_template_and_status(
    served: ServerProcess, contract_log: ContractLog
) -> None:
    assert served.url is not None
    client = sdk_client(served.url, contract_log)
    route = "/v1/threads/{thread_id}"
    labels = (("method", "GET"), ("route", route), ("status", "404"))
    before = _samples(served.url).get(("assistantd_http_requests_total", labels), 0)
    for missing in ("thread_a", "thread_b"):
        try:
            client.beta.threads.retrieve(missing)
        except Exception as error:
            assert getattr(error, "status_code", None) == 404
    after = _samples(served.url)
    assert after[("assistantd_http_requests_total", labels)] == before + 2
    # One series per route, not one per thread id.
    assert not any("thread_a" in str(key) for key in after)


def test_the_gauges_of_what_the_process_holds_are_exported(served: ServerProcess) -> None:
    assert served.url is not None
    names = {name for name, _ in _samples(served.url)}
    for gauge in (
        "assistantd_run_queue_depth",
        "assistantd_runs_executing",
        "assistantd_live_streams",
        "assistantd_ingestion_files",
        "assistantd_code_sessions",
    ):
        assert gauge in names, gauge
