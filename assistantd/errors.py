"""Errors the API reports, in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}``.

Raised anywhere below the HTTP layer; ``assistantd.api.errors`` turns them into responses.
"""

from __future__ import annotations

from typing import Any


class APIError(Exception):
    status_code = 500
    error_type = "server_error"

    def __init__(self, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        self.code = code
        self.headers: dict[str, str] = {}  # sent with the error (e.g. x-ratelimit-*)

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "message": self.message,
                "type": self.error_type,
                "param": self.param,
                "code": self.code,
            }
        }


class InvalidRequest(APIError):
    status_code = 400
    error_type = "invalid_request_error"


class NotFound(APIError):
    status_code = 404
    error_type = "invalid_request_error"

    @classmethod
    def object(cls, kind: str, object_id: str, param: str | None = None) -> NotFound:
        return cls(f"No {kind} found with id '{object_id}'.", param)


class Unauthorized(APIError):
    status_code = 401
    error_type = "invalid_request_error"


class PayloadTooLarge(APIError):
    status_code = 413
    error_type = "invalid_request_error"


class RateLimited(APIError):
    """429 as OpenAI's: ``type`` is what ran out (``requests`` / ``tokens``), with the
    ``x-ratelimit-*`` headers of the limit."""

    status_code = 429

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message, code="rate_limit_exceeded")
        self.error_type = kind
