"""What a pass-through client is told when the backend fails, in OpenAI's error shape.

A run turns upstream failures into a ``last_error``; a client calling ``/v1/chat/completions``
gets an HTTP answer instead, as OpenAI would give it: the backend's own 4xx (its message, type,
param and code, whatever shape it wrote them in), 429 for its rate limit, the 5xx it answered,
and 502 for what is assistantd's configuration or network and not the client's (a key the
backend refuses, a URL that is no endpoint, a dropped connection), never a 401 the client would
take for its own key.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from assistantd.llm.failures import (
    failure_from_response,
    is_context_length_error,
    other_shaped_message,
    retry_after_seconds,
)

# 5xx statuses answered as they came; others become 502 (the backend is assistantd's upstream).
_RELAYED_5XX = frozenset({500, 502, 503, 504})


class PassthroughError(Exception):
    """An error answer for the client: status, OpenAI's error object, headers to send."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        error_type: str = "server_error",
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error_type = error_type
        self.param = param
        self.code = code
        self.headers = headers or {}

    def error(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "type": self.error_type,
            "param": self.param,
            "code": self.code,
        }

    @property
    def metric_code(self) -> str:
        """The ``model_call_errors`` label, in a run's ``last_error`` vocabulary where it fits."""
        if self.status == 429:
            return "rate_limit_exceeded"
        if self.code == "context_length_exceeded":
            return "invalid_prompt"
        return "server_error" if self.status >= 500 else "invalid_request_error"


class RetryablePassthrough(Exception):
    """A failure another attempt may fix (429, 5xx, the connection), with what to answer if not."""

    def __init__(self, error: PassthroughError, delay_seconds: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.delay_seconds = delay_seconds
        self.at_once = False  # a pooled connection closed under the request: retry without waiting


def upstream_failure(
    status: int,
    headers: Mapping[str, str],
    text: str,
    reason: str,
    *,
    url: str,
    key_setting: str | None,
) -> PassthroughError | RetryablePassthrough:
    """The client's answer for an error status of the backend (``text`` its body)."""
    fields = _error_fields(text, reason)
    if status in (401, 403) or (status in (404, 405) and not _is_api_error(text)):
        # Said as for a run's last_error: which URL, which setting's key.
        said = failure_from_response(
            status, headers, text, reason, url=url, key_setting=key_setting
        )
        return PassthroughError(502, getattr(said, "message", str(said)))
    if status == 429:
        error = PassthroughError(
            429,
            f"upstream rate limit (429): {fields['message']}",
            error_type=str(fields.get("type") or "requests"),
            code="rate_limit_exceeded",
        )
        return RetryablePassthrough(error, retry_after_seconds(headers))
    if status >= 500:
        relayed = status if status in _RELAYED_5XX else 502
        error = PassthroughError(relayed, f"upstream error {status}: {fields['message']}")
        return RetryablePassthrough(error)
    return client_error(status, fields, text)


def client_error(status: int, fields: dict[str, Any], text: str = "") -> PassthroughError:
    """A 4xx the backend answered, with its own fields (a context-length error named so)."""
    message = str(fields.get("message") or f"upstream answered {status}")
    code = _text_or_none(fields.get("code"))
    param = _text_or_none(fields.get("param"))
    if code is None and is_context_length_error(message, text):
        code, param = "context_length_exceeded", param or "messages"
    return PassthroughError(
        status,
        message,
        error_type=str(fields.get("type") or "invalid_request_error"),
        param=param,
        code=code,
    )


def stream_error(error: object) -> PassthroughError:
    """A mid-stream ``{"error": ...}`` event, in any backend's shape, as OpenAI's error object."""
    if isinstance(error, dict):
        fields = dict(error)
        fields.setdefault("message", json.dumps(error))
    else:
        fields = {"message": error if isinstance(error, str) else json.dumps(error)}
    failure = client_error(500, fields)
    if "type" not in fields:
        failure.error_type = "server_error"
    return failure


def transport_error(what: str, exc: BaseException) -> RetryablePassthrough:
    detail = str(exc) or type(exc).__name__
    return RetryablePassthrough(PassthroughError(502, f"{what}: {detail}"))


def _error_fields(text: str, reason: str) -> dict[str, Any]:
    """message / type / param / code of an error body, whatever its shape."""
    try:
        body = json.loads(text)
    except ValueError:
        return {"message": text[:500] or reason}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return {k: error.get(k) for k in ("message", "type", "param", "code")}
    if isinstance(error, str) and error:
        return {"message": error}
    return {"message": other_shaped_message(body) or text[:500] or reason}


def _is_api_error(text: str) -> bool:
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return isinstance(body, dict) and ("error" in body or body.get("object") == "error")


def _text_or_none(value: object) -> str | None:
    return None if value is None else str(value)
