"""OpenTelemetry traces, when the ``otel`` extra is installed and an OTLP endpoint is set
(``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``ASSISTANTD_OTEL_ENDPOINT``): a span per run execution and
per model call, besides those FastAPI makes itself once a tracer provider is set (one per HTTP
request, tagged here with its request id, and a child of the ``traceparent`` the client sent).
The trace goes on in W3C trace-context headers (``carrier``): on each model call, so the model
server's spans join it, and kept with each run its request creates (``span(parent=…)``).
Otherwise ``span`` hands out one shared no-op context manager: tracing that is off costs a
global look-up."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

log = logging.getLogger(__name__)
SERVICE_NAME = "assistantd"
_OFF: AbstractContextManager[Any] = nullcontext()
_tracer: Any = None  # an opentelemetry Tracer once configured


def configure(endpoint: str | None) -> bool:
    """Start exporting spans if an endpoint is set (``endpoint``, from
    ``ASSISTANTD_OTEL_ENDPOINT``, or the standard OTel variables); True when tracing is on."""
    global _tracer
    standard = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
    )
    if not (endpoint or standard) or _tracer is not None:
        return _tracer is not None
    try:
        from opentelemetry import trace
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "an OTLP endpoint is set but OpenTelemetry is not installed "
            "(pip install 'assistantd[otel]'): no traces are exported"
        )
        return False
    # ASSISTANTD_OTEL_ENDPOINT is the collector's base URL, like OTEL_EXPORTER_OTLP_ENDPOINT.
    exporter = OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None)
    resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", SERVICE_NAME)})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _tracer = trace.get_tracer("assistantd")
    log.info("exporting OpenTelemetry traces over OTLP/HTTP")
    return True


def enabled() -> bool:
    return _tracer is not None


def span(
    name: str, parent: Mapping[str, str] | None = None, **attributes: Any
) -> AbstractContextManager[Any]:
    """A span around a block (the current span while it runs), or nothing when tracing is off;
    attributes that are None are left out. ``parent``: trace-context headers (``carrier``'s,
    kept from elsewhere) whose span this one continues, instead of the current one."""
    if _tracer is None:
        return _OFF
    return _started(name, parent, {k: v for k, v in attributes.items() if v is not None})


def carrier() -> dict[str, str]:
    """The current span as W3C trace-context headers (``traceparent``, ``tracestate``): to send
    with a call, or keep for work that continues the trace later; empty when tracing is off."""
    if _tracer is None:
        return {}
    from opentelemetry import propagate

    headers: dict[str, str] = {}
    propagate.inject(headers)
    return headers


def tag(**attributes: Any) -> None:
    """Add ``attributes`` to the current span (FastAPI's of the request, say), if tracing."""
    if _tracer is None:
        return
    from opentelemetry import trace

    trace.get_current_span().set_attributes(attributes)


@contextmanager
def _started(
    name: str, parent: Mapping[str, str] | None, attributes: dict[str, Any]
) -> Iterator[Any]:
    context = None
    if parent:
        from opentelemetry import propagate

        context = propagate.extract(dict(parent))
    with _tracer.start_as_current_span(name, context=context, attributes=attributes) as current:
        yield current


def shutdown() -> None:
    """Send the spans still buffered (at process exit)."""
    if _tracer is None:
        return
    from opentelemetry import trace

    provider = trace.get_tracer_provider()
    if hasattr(provider, "shutdown"):
        provider.shutdown()
