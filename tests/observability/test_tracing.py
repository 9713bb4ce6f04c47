"""With the ``otel`` extra installed and ``OTEL_EXPORTER_OTLP_ENDPOINT`` set, a run's request,
its execution and its model call arrive at an OTLP/HTTP collector as spans; a client's
``traceparent`` is the request span's parent, and the model call sends its own on."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from tests.harness.clients import sdk_client
from tests.harness.cluster import start_process
from tests.harness.contract import ContractLog
from tests.runs.conftest import wait_for

trace_service = pytest.importorskip(
    "opentelemetry.proto.collector.trace.v1.trace_service_pb2",
    reason="the otel extra is not installed",
)


Spans = dict[bytes, dict[str, object]]  # by span id


@contextmanager
def collector() -> Iterator[tuple[str, Spans]]:
    """An OTLP/HTTP trace receiver on a free port; yields its URL and the spans it got."""
    spans: Spans = {}  # an export may be retried

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            request = trace_service.ExportTraceServiceRequest.FromString(body)
            for resource in request.resource_spans:
                for scope in resource.scope_spans:
                    for span in scope.spans:
                        attributes = {a.key: a.value.string_value for a in span.attributes}
                        spans[span.span_id] = {
                            "name": span.name,
                            "attributes": attributes,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_span_id": span.parent_span_id.hex(),
                        }
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", spans
    finally:
        server.shutdown()


EXPECTED = {"POST /v1/threads/runs", "run", "model call"}


def _traced_run(
    scripted_model_url: str,
    tmp_path: Path,
    contract_log: ContractLog,
    model: str,
    *,
    endpoint_variable: str,
    headers: dict[str, str] | None = None,
) -> tuple[str, Spans]:
    """One run through a server exporting to a collector named by ``endpoint_variable``;
    returns the run's id and the spans, once the request's, the run's and the model call's
    have arrived."""
    with collector() as (endpoint, spans):
        env = {
            "ASSISTANTD_LLM_BASE_URL": scripted_model_url,
            endpoint_variable: endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "100",  # ms between exports
        }
        server = start_process("serve", tmp_path, env)
        try:
            assert server.url is not None
            client = sdk_client(server.url, contract_log)
            assistant = client.beta.assistants.create(model=model)
            run = client.beta.threads.create_and_run_poll(
                assistant_id=assistant.id,
                thread={"messages": [{"role": "user", "content": "Hi"}]},
                extra_headers=headers or {},
            )
            assert run.status == "completed"
            wait_for(
                lambda: {s["name"] for s in spans.values()},
                lambda seen: seen >= EXPECTED,
                seconds=15,
            )
        finally:
            server.stop()
    return run.id, spans


def _one(spans: Spans, name: str) -> dict[str, object]:
    [span] = [s for s in spans.values() if s["name"] == name]
    return span


def test_a_runs_request_execution_and_model_call_are_traced(
    scripted_model_url: str, tmp_path: Path, contract_log: ContractLog, model: str
) -> None:
    run_id, spans = _traced_run(
        scripted_model_url, tmp_path, contract_log, model,
        endpoint_variable="OTEL_EXPORTER_OTLP_ENDPOINT",
    )  # fmt: skip
    request = _one(spans, "POST /v1/threads/runs")
    assert request["attributes"]["request_id"].startswith("req_")
    assert _one(spans, "run")["attributes"]["run_id"] == run_id


def test_a_clients_trace_goes_on_through_the_request_to_the_model_call(
    scripted_model_url: str, tmp_path: Path, contract_log: ContractLog, model: str
) -> None:
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    _, spans = _traced_run(
        scripted_model_url, tmp_path, contract_log, model,
        endpoint_variable="ASSISTANTD_OTEL_ENDPOINT",
        headers={"traceparent": f"00-{trace_id}-{client_span}-01"},
    )  # fmt: skip
    request = _one(spans, "POST /v1/threads/runs")
    assert (request["trace_id"], request["parent_span_id"]) == (trace_id, client_span)
    # The run goes on in the client's trace, under the request that created it.
    execution = _one(spans, "run")
    assert execution["trace_id"] == trace_id
    assert execution["parent_span_id"] != client_span
    # The model server was sent the model call's own span as its parent.
    call = _one(spans, "model call")
    assert call["trace_id"] == trace_id
    base = scripted_model_url.removesuffix("/v1")
    sent = httpx.get(f"{base}/_trace_headers", params={"model": model}).json()["data"]
    parents = [h["traceparent"].split("-")[1:3] for h in sent if "traceparent" in h]
    assert [call["trace_id"], call["span_id"]] in parents, (call, sent)
