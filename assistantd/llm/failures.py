"""How upstream HTTP failures map to UpstreamError codes, and which ones are worth retrying."""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Mapping

from assistantd.llm.errors import UpstreamError

RETRY_AFTER_CAP_SECONDS = 20.0
_CONTEXT_MARKERS = (
    "context_length_exceeded",
    "maximum context length",
    "too many tokens",
    "context window",
    "prompt is too long",
    "exceed_context_size_error",  # llama.cpp's error type
    "exceeds the available context size",
)


class RetryableFailure(Exception):
    """A failure that another attempt may fix, with the error to raise if none does."""

    def __init__(self, error: UpstreamError, delay_seconds: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay_seconds = delay_seconds  # what the server asked for; None: it did not say
        # A request that never reached the server (a pooled connection closing under it): sent
        # again at once, since no server is being spared by waiting.
        self.at_once = False


def failure_from_response(
    status: int,
    headers: Mapping[str, str],
    text: str,
    reason: str = "",
    *,
    url: str = "the model endpoint",
    key_setting: str | None = None,
) -> Exception:
    """The exception for an error status (``headers`` looked up case-insensitively, ``text``
    the body): a RetryableFailure for 429 and 5xx, else UpstreamError. ``url`` is what was
    asked; ``key_setting`` names the setting the API key sent came from (None: none was)."""
    message = _error_message(text, reason)
    if status in (401, 403):
        return UpstreamError("server_error", _key_refused(status, url, message, key_setting))
    if status in (404, 405) and not _is_api_error(text):
        # Not the JSON error of an OpenAI-compatible server (which says e.g. that the model
        # does not exist): a web page or a path nothing serves.
        return UpstreamError("server_error", not_an_endpoint(url, f"{status} {reason}".strip()))
    if status == 429:
        error = UpstreamError("rate_limit_exceeded", f"upstream rate limit (429): {message}")
        return RetryableFailure(error, retry_after_seconds(headers))
    if status >= 500:
        return RetryableFailure(
            UpstreamError("server_error", f"upstream error {status}: {message}")
        )
    if is_context_length_error(message, text):
        return UpstreamError("invalid_prompt", f"the prompt exceeds the model's context: {message}")
    return UpstreamError("server_error", f"upstream rejected the request ({status}): {message}")


def not_an_endpoint(url: str, answer: str) -> str:
    """The message for a URL that answers, but not as chat completions."""
    return (
        f"{url} answered {answer}: is this an OpenAI-compatible /v1 endpoint? (the base URL "
        "usually ends in /v1, e.g. http://host:8000/v1)"
    )


def _key_refused(status: int, url: str, message: str, key_setting: str | None) -> str:
    if key_setting is None:
        where = "no API key was sent: set ASSISTANTD_LLM_API_KEY (or the route's api_key in "
        where += "ASSISTANTD_MODEL_ROUTES)"
    else:
        where = f"the key sent is the one in {key_setting}"
    return f"{url} refused the API key ({status}): {message}; {where}"


def _is_api_error(text: str) -> bool:
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and "error" in body


def failure_from_payload(error: object) -> UpstreamError:
    """An ``{"error": ...}`` object sent inside an event stream."""
    text = json.dumps(error)
    message = error.get("message", text) if isinstance(error, dict) else _plain(error, text)
    if is_context_length_error(str(message), text):
        return UpstreamError("invalid_prompt", f"the prompt exceeds the model's context: {message}")
    return UpstreamError("server_error", f"upstream error mid-stream: {message}")


def _plain(error: object, encoded: str) -> str:
    """A mid-stream error that is a string (``{"error": "..."}``) said without JSON quotes."""
    return error if isinstance(error, str) else encoded


def is_context_length_error(*texts: str) -> bool:
    lowered = " ".join(texts).lower()
    return any(marker in lowered for marker in _CONTEXT_MARKERS)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date), capped; ``headers``
    looks names up case-insensitively (aiohttp's and httpx's headers both do)."""
    value: float | None = None
    if (ms := headers.get("retry-after-ms")) is not None:
        value = _as_float(ms, scale=0.001)
    elif (raw := headers.get("retry-after")) is not None:
        value = _as_float(raw) if raw.strip().replace(".", "", 1).isdigit() else _from_date(raw)
    if value is None:
        return None
    return min(max(value, 0.0), RETRY_AFTER_CAP_SECONDS)


def _as_float(raw: str, scale: float = 1.0) -> float | None:
    try:
        return float(raw) * scale
    except ValueError:
        return None


def _from_date(raw: str) -> float | None:
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - time.time()


def _error_message(text: str, reason: str) -> str:
    try:
        body = json.loads(text)
    except ValueError:
        return text[:500] or reason
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    if isinstance(error, str):
        return error
    return other_shaped_message(body) or text[:500]


def other_shaped_message(body: object) -> str | None:
    """The message of an error body not in OpenAI's ``{"error": {...}}`` shape: vLLM's
    top-level ``{"object": "error", "message": ...}``, or Gemini's list of error objects."""
    if isinstance(body, list) and body:
        first = body[0]
        error = first.get("error") if isinstance(first, dict) else None
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        return other_shaped_message(first)
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    return None
