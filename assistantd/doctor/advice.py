"""From findings to the route settings to use: ``dialect`` (pins the request fields the backend
refuses, so no call learns them from a 400), ``context_window`` (what the backend reported),
and ``"tool_calling": "emulated"`` when the model cannot call tools natively."""

from __future__ import annotations

from typing import Any

from assistantd.config import ModelRoute
from assistantd.doctor.report import Report

# The refusals each dialect's pinned request shape avoids (llm/request_shape.PINNED_SHAPES).
_REASONING_REFUSALS = {"max_tokens", "system role", "temperature / top_p"}


def recommend(
    report: Report,
    refused: dict[str, str],
    context_window: int | None,
    tools_native: bool,
    route: ModelRoute | None,
) -> None:
    """Fill ``report.recommended`` and ``report.route_entry``."""
    recommended: dict[str, Any] = {}
    dialect = _dialect(report.backend, refused)
    if dialect is not None and (route is None or route.dialect != dialect):
        recommended["dialect"] = dialect
    if context_window is not None and (route is None or route.context_window != context_window):
        recommended["context_window"] = context_window
    # getattr: the route's tool_calling setting is younger than this module's first version.
    if not tools_native and getattr(route, "tool_calling", None) != "emulated":
        recommended["tool_calling"] = "emulated"
    report.recommended = recommended
    entry: dict[str, Any] = {"base_url": report.base_url}
    if route is not None:
        entry |= route.model_dump(exclude_defaults=True)  # as written: no "auto" unsaid
        if route.api_key:
            entry["api_key"] = "…"  # never printed
    if report.route and report.model != report.route:
        entry["model"] = report.model
    report.route_entry = entry | recommended


def _dialect(backend: str | None, refused: dict[str, str]) -> str | None:
    if _REASONING_REFUSALS & set(refused):
        return "openai-reasoning"
    if "stream_options" in refused:
        return "tgi"
    return backend
