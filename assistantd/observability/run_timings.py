"""Where a run's time went, kept in its engine JSON (``engine["timings"]``) by the writes the
run costs anyway (created, claimed, each turn's end, its end), and reported in milliseconds by
``GET …/runs/{run_id}/timings`` so that any process can answer for any run.

Recorded (wall-clock epoch ms for instants, durations as measured by the executing process):
``created_ms``; ``started_ms`` (first taken by a worker); ``ttft_ms`` (from that start to the
first text or tool call of its first execution); ``model_ms`` and ``model_calls`` (the model
calls' streams, from request to their last chunk, summed); ``executing_ms`` (executions, from
claim to stop, summed; waiting for tool outputs is not in it); ``ended_ms``."""

from __future__ import annotations

import time
from typing import Any

KEY = "timings"


def epoch_ms() -> int:
    return int(time.time() * 1000)


def _of(engine: dict[str, Any]) -> dict[str, Any]:
    """The engine's timings, copied (the engine dict is shared with the row it came from)."""
    engine[KEY] = dict(engine.get(KEY) or {})
    return engine[KEY]


def created(engine: dict[str, Any]) -> dict[str, Any]:
    return {**engine, KEY: {"created_ms": epoch_ms()}}


def started(engine: dict[str, Any]) -> None:
    _of(engine).setdefault("started_ms", epoch_ms())


def model_called(engine: dict[str, Any], seconds: float) -> None:
    timings = _of(engine)
    timings["model_ms"] = round(timings.get("model_ms", 0) + seconds * 1000, 1)
    timings["model_calls"] = timings.get("model_calls", 0) + 1


def first_token(engine: dict[str, Any], seconds: float) -> None:
    _of(engine).setdefault("ttft_ms", round(seconds * 1000, 1))


def executed(engine: dict[str, Any], seconds: float) -> None:
    timings = _of(engine)
    timings["executing_ms"] = round(timings.get("executing_ms", 0) + seconds * 1000, 1)


def ended(engine: dict[str, Any]) -> None:
    _of(engine).setdefault("ended_ms", epoch_ms())


def report(engine: dict[str, Any] | None, run: dict[str, Any]) -> dict[str, Any]:
    """The timings of ``run`` (its wire object) as the API answers them; a run still going is
    counted up to now. Runs from before timings were kept fall back to the wire's seconds."""
    timings = (engine or {}).get(KEY) or {}
    created_ms = timings.get("created_ms", run["created_at"] * 1000)
    started_ms = timings.get("started_ms")
    if started_ms is None and run.get("started_at") is not None:
        started_ms = run["started_at"] * 1000
    ended_ms = timings.get("ended_ms") or _wire_end_ms(run) or epoch_ms()
    model_ms = timings.get("model_ms", 0)
    return {
        "object": "thread.run.timings",
        "run_id": run["id"],
        "thread_id": run["thread_id"],
        "status": run["status"],
        "queued_ms": None if started_ms is None else max(started_ms - created_ms, 0),
        "time_to_first_token_ms": timings.get("ttft_ms"),
        "model_ms": model_ms,
        "model_calls": timings.get("model_calls", 0),
        "server_ms": round(max(timings.get("executing_ms", 0) - model_ms, 0), 1),
        "total_ms": max(ended_ms - created_ms, 0),
    }


def _wire_end_ms(run: dict[str, Any]) -> int | None:
    for field in ("completed_at", "cancelled_at", "failed_at"):
        if run.get(field) is not None:
            return run[field] * 1000
    return None
