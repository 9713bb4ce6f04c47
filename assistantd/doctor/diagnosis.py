"""Probing one route: the run engine's own client first (does a run's model call work at all,
said as a run's ``last_error`` would say it), then the probes, the context window, the
backend the evidence points at, and the settings to use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from assistantd.config import ModelRoute
from assistantd.doctor import probes
from assistantd.doctor.advice import recommend
from assistantd.doctor.context_window import (
    ContextWindow,
    Endpoint,
    context_window,
    listing_entry,
)
from assistantd.doctor.exchange import Answer, Unreachable
from assistantd.doctor.prober import Prober
from assistantd.doctor.report import Report
from assistantd.llm.chat import ChatRequest
from assistantd.llm.errors import UpstreamError
from assistantd.llm.openai_backend import OpenAICompatibleBackend, proxy_from_environment


@dataclass(frozen=True)
class Target:
    base_url: str
    model: str  # the upstream model name
    api_key: str | None = None
    key_setting: str | None = None  # where the key was set, named if the endpoint refuses it
    route_name: str | None = None  # the name clients ask for, probed through the configuration
    route: ModelRoute | None = None  # that route's settings, if it has one
    timeout_seconds: float = 20.0


async def diagnose(target: Target) -> Report:
    report = Report(target.base_url.rstrip("/"), target.model, target.route_name)
    if (error := await _engine_call(target)) is not None:
        report.error = error
        report.add("endpoint", "failed", error)
        return report
    report.usable = True
    report.add("endpoint", "ok", "answers chat completions (read by the run engine's client)")
    headers = {"Authorization": f"Bearer {target.api_key}"} if target.api_key else {}
    async with aiohttp.ClientSession(
        headers=headers, proxy=proxy_from_environment(target.base_url)
    ) as http:
        url = f"{report.base_url}/chat/completions"
        prober = Prober(http, url, target.timeout_seconds, target.key_setting)
        try:
            await _probe(report, prober, Endpoint(http, report.base_url, target.model), target)
        except Unreachable as exc:  # it answered the first call, then went away
            report.usable = False
            report.error = str(exc)
    return report


async def _engine_call(target: Target) -> str | None:
    """A text answer through ``OpenAICompatibleBackend``, as a run calls the model (no
    retries); None when it works, else what a run's ``last_error`` would say."""
    backend = OpenAICompatibleBackend(
        target.base_url,
        target.api_key,
        key_setting=target.key_setting,
        timeout_seconds=target.timeout_seconds,
        total_timeout_seconds=target.timeout_seconds * 2,
        connect_timeout_seconds=min(target.timeout_seconds, 10.0),
        max_retries=0,
    )
    request = ChatRequest(target.model, probes.SAY_OK, max_tokens=probes.TEXT_TOKENS)
    try:
        async for _chunk in backend.stream_chat(request):
            pass
    except UpstreamError as error:
        return error.message
    finally:
        await backend.aclose()
    return None


async def _probe(report: Report, prober: Prober, endpoint: Endpoint, target: Target) -> None:
    entry = listing_entry(await endpoint.get_json(f"{report.base_url}/models"), target.model)
    answers = await probes.streaming_and_usage(report, prober, target.model)
    single = await probes.tool_calls(report, prober, target.model)
    native = probes.native_tools(single)
    if native:
        answers.append(await probes.parallel_calls(report, prober, target.model))
    else:
        report.add("parallel tool calls", "missing", "no native tool calls")
    answers += [single, await probes.json_schema(report, prober, target.model)]
    window = await context_window(endpoint, entry)
    report.add("context window", *_window_finding(window))
    await probes.reasoning(report, prober, target.model, answers)
    report.backend = window.backend or _backend(entry, answers)
    recommend(report, prober.refused, window.tokens, native, target.route)
    if window.tokens is None:
        report.notes.append(
            "context_window unknown: set the route's context_window to the context the model "
            "is served with (else runs assume ASSISTANTD_DEFAULT_CONTEXT_WINDOW)"
        )
    if not native:
        report.notes.append(
            'no native tool calls: "tool_calling": "emulated" has the model call tools '
            "through a text protocol instead"
        )


def _window_finding(window: ContextWindow) -> tuple[Any, str]:
    if window.tokens is None:
        return "unknown", window.source
    return "ok", f"{window.tokens} tokens ({window.source})"


def _backend(entry: dict[str, Any] | None, answers: list[Answer]) -> str | None:
    """The dialect the answers' own marks point at (None: nothing tells, or OpenAI's)."""
    owner = entry.get("owned_by") if entry else None
    payloads = [p for answer in answers for p in answer.payloads]
    if owner == "vllm":
        return "vllm"
    if owner == "library" or any(p.get("system_fingerprint") == "fp_ollama" for p in payloads):
        return "ollama"
    if any("x_groq" in p for p in payloads):
        return "groq"
    if any("prompt_filter_results" in p for p in payloads):
        return "azure"
    if any(p.get("model") == "tgi" for p in payloads):
        return "tgi"
    return None
