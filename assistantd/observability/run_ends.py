"""What is recorded when a run ends: its counter and latency histograms, and one log line with
its id, tenant, model, status, error, tokens and timings.

The line is the one log line a run costs at INFO (kept to a single formatted record: at
thousands of runs a second every record shows in the benchmarks)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

from assistantd.observability import logs, metrics

log = logging.getLogger("assistantd.runs")


@dataclass
class Execution:
    """One execution of a run by a worker: when it took the run, and when its first token went
    out (None until then)."""

    tenant: str
    started: float  # time.perf_counter()
    first_token: float | None = None

    @classmethod
    def begin(cls, tenant: str) -> Execution:
        return cls(tenant, time.perf_counter())

    def first_token_out(self, model: str) -> None:
        if self.first_token is None:
            self.first_token = time.perf_counter()
            metrics.first_token_seconds.labels(model).observe(self.first_token - self.started)


def run_ended(run: dict[str, Any], tenant: str, execution: Execution | None) -> None:
    """Record that ``run`` (its wire object, in its final status) has ended. ``execution``:
    this process's last execution of it, if it was executing here."""
    status, model = run["status"], run["model"]
    metrics.runs.labels(status, model).inc()
    seconds = None
    if execution is not None:
        seconds = time.perf_counter() - execution.started
        metrics.run_seconds.labels(model).observe(seconds)
    if not log.isEnabledFor(logging.INFO):
        return
    usage = run.get("usage") or {}
    error = (run.get("last_error") or {}).get("code") or (
        (run.get("incomplete_details") or {}).get("reason")
    )
    first_token = (
        execution.first_token - execution.started
        if execution is not None and execution.first_token is not None
        else None
    )
    fields = None
    if logs.structured():  # text lines have no room for them: not built
        fields = {
            "run_id": run["id"], "thread_id": run.get("thread_id"), "tenant": tenant,
            "model": model, "status": status, "error": error,
            "prompt_tokens": usage.get("prompt_tokens"),
            "completion_tokens": usage.get("completion_tokens"),
            "created_at": run.get("created_at"), "started_at": run.get("started_at"),
            "seconds": _rounded(seconds), "first_token_seconds": _rounded(first_token),
        }  # fmt: skip
    log.info(
        "run %s ended: status=%s model=%s tenant=%s error=%s prompt_tokens=%s "
        "completion_tokens=%s seconds=%s first_token_seconds=%s",
        run["id"], status, model, tenant, error,
        usage.get("prompt_tokens"), usage.get("completion_tokens"),
        _rounded(seconds), _rounded(first_token),
        extra=fields,
    )  # fmt: skip


def _rounded(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds, 4)
