"""Model-call failures, already in the vocabulary of a run's ``last_error.code``."""

from __future__ import annotations

from typing import Literal

UpstreamErrorCode = Literal["rate_limit_exceeded", "server_error", "invalid_prompt"]


class UpstreamError(Exception):
    def __init__(self, code: UpstreamErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: UpstreamErrorCode = code
        self.message = message


class NoBackendConfigured(UpstreamError):
    """No endpoint serves the requested model; the message says which settings to set."""

    def __init__(self, model: str) -> None:
        super().__init__(
            "server_error",
            f"No model backend is configured for model '{model}'. Set ASSISTANTD_LLM_BASE_URL "
            "to an OpenAI-compatible endpoint (e.g. http://127.0.0.1:8001/v1), or route this "
            "model in ASSISTANTD_MODEL_ROUTES "
            '(e.g. {"' + model + '": {"base_url": "http://host/v1", "api_key": "..."}}).',
        )
