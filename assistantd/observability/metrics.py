"""The Prometheus metrics of one server process (``GET /metrics``; a worker's on
``ASSISTANTD_METRICS_PORT``). Each process counts its own: Prometheus scrapes every one and sums.

Recording is a dictionary look-up and an addition under a lock (``prometheus_client``), cheap
enough for every request and every run; gauges of what a process holds are read when scraped."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Runs take from milliseconds (a short reply) to minutes (tool loops on a slow model).
_RUN_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
_FIRST_TOKEN_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

http_requests = Counter(
    "assistantd_http_requests",
    "HTTP requests answered, by method, route (its path template) and status code.",
    ["method", "route", "status"],
)
runs = Counter(
    "assistantd_runs",
    "Runs that ended, by final status and model.",
    ["status", "model"],
)
run_seconds = Histogram(
    "assistantd_run_duration_seconds",
    "Seconds from a worker taking a run off the queue to its end (its last execution; time "
    "waiting for tool outputs is not counted).",
    ["model"],
    buckets=_RUN_BUCKETS,
)
first_token_seconds = Histogram(
    "assistantd_run_time_to_first_token_seconds",
    "Seconds from a worker taking a run off the queue to the first text or tool-call delta it "
    "published.",
    ["model"],
    buckets=_FIRST_TOKEN_BUCKETS,
)
model_call_seconds = Histogram(
    "assistantd_model_call_duration_seconds",
    "Seconds of each model call (chat completion stream), from the request to its last chunk.",
    ["model"],
    buckets=_RUN_BUCKETS,
)
model_call_errors = Counter(
    "assistantd_model_call_errors",
    "Model calls that failed, by model and error code.",
    ["model", "code"],
)
run_queue_depth = Gauge(
    "assistantd_run_queue_depth",
    "Runs waiting for a worker (queued or cancelling), read from the database (at each scrape of "
    "a serve process, every 5 s in a worker).",
)
runs_executing = Gauge("assistantd_runs_executing", "Runs this process is executing now.")
live_streams = Gauge("assistantd_live_streams", "Run event streams open to clients now.")
ingestion_files = Gauge(
    "assistantd_ingestion_files",
    "Vector-store files this process is indexing now (in_progress) or has waiting (queued).",
    ["state"],
)
code_sessions = Gauge(
    "assistantd_code_sessions", "code_interpreter sessions (kernels) live in this process."
)


def watch(gauge: Gauge, read: Callable[[], float]) -> None:
    """Read ``gauge``'s value from ``read()`` at every scrape."""
    gauge.set_function(read)


def exposition() -> bytes:
    """Every metric of this process, in Prometheus' text format."""
    return generate_latest()
