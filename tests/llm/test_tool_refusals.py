"""Which backend errors mean "this model takes no tools" (``auto`` then emulates tool calls),
and which do not (they fail the run as they are)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from assistantd.llm.errors import UpstreamError
from assistantd.llm.failures import failure_from_response
from assistantd.llm.tool_calling import refuses_tools
from assistantd.scripted_model.dialects import (
    ollama_tools_refused,
    tools_refused,
    vllm_tools_refused,
)


def _error(status: int, text: str) -> UpstreamError:
    failure = failure_from_response(status, {}, text, "", url="http://m/v1", key_setting=None)
    return failure if isinstance(failure, UpstreamError) else failure.error


@pytest.mark.parametrize("refusal", [ollama_tools_refused, vllm_tools_refused, tools_refused])
def test_the_refusals_of_backends_without_tools(refusal: Callable[[str], tuple[int, Any]]) -> None:
    status, body = refusal("small-model")
    assert refuses_tools(_error(status, json.dumps(body)))


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (422, '{"detail": "Tool use is not supported by this model"}'),
        (400, '{"error": {"message": "tools are unsupported for this model"}}'),
    ],
)
def test_other_wordings_of_the_refusal(status: int, text: str) -> None:
    assert refuses_tools(_error(status, text))


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (400, '{"error": {"message": "tools[0].function.name must match ^[a-zA-Z0-9_-]+$"}}'),
        (400, '{"error": {"message": "The model is not loaded."}}'),
        (500, '{"error": {"message": "tools are not supported"}}'),
    ],
)
def test_other_errors_are_no_refusal(status: int, text: str) -> None:
    assert not refuses_tools(_error(status, text))
