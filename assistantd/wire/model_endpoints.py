"""The little of ``/v1/chat/completions`` and ``/v1/embeddings`` requests checked here.

These endpoints pass their bodies through to a backend, which validates the rest: only what
assistantd itself relies on (the model to route by, the fields it reads) is checked, with
OpenAI's 400 naming the ``param``, so fields added to OpenAI's API later keep working.
"""

from __future__ import annotations

from typing import Any

import orjson

from assistantd.errors import InvalidRequest

# OpenAI's limit on inputs per embeddings request.
MAX_EMBEDDING_INPUTS = 2048


def json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(raw)
    except ValueError:
        raise InvalidRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)"
        ) from None
    if not isinstance(body, dict):
        raise InvalidRequest("The request body must be a JSON object.")
    return body


def chat_request(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` when it can be routed and relayed; else the 400 OpenAI gives."""
    _model(body)
    messages = body.get("messages")
    if messages is None:
        raise InvalidRequest("Missing required parameter: 'messages'.", "messages")
    if not isinstance(messages, list):
        raise InvalidRequest("Invalid type for 'messages': expected an array.", "messages")
    if not messages:
        raise InvalidRequest(
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            "messages",
        )
    for index, message in enumerate(messages):
        if not isinstance(message, dict) or not isinstance(message.get("role"), str):
            raise InvalidRequest(
                f"Invalid value for 'messages[{index}]': expected an object with a 'role'.",
                f"messages[{index}]",
            )
    stream = body.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise InvalidRequest("Invalid type for 'stream': expected a boolean.", "stream")
    options = body.get("stream_options")
    if options is not None:
        if not stream:
            raise InvalidRequest(
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                "stream_options",
            )
        if not isinstance(options, dict):
            raise InvalidRequest(
                "Invalid type for 'stream_options': expected an object.", "stream_options"
            )
    return body


def embeddings_request(body: dict[str, Any]) -> dict[str, Any]:
    _model(body)
    raw = body.get("input")
    if raw is None:
        raise InvalidRequest("Missing required parameter: 'input'.", "input")
    if not _is_input(raw):
        raise InvalidRequest(
            "Invalid value for 'input': expected a string, an array of strings, an array of "
            "token ids or an array of arrays of token ids, none empty.",
            "input",
        )
    if isinstance(raw, list) and not _is_tokens(raw) and len(raw) > MAX_EMBEDDING_INPUTS:
        raise InvalidRequest(
            f"Invalid 'input': at most {MAX_EMBEDDING_INPUTS} inputs per request.", "input"
        )
    encoding = body.get("encoding_format")
    if encoding is not None and encoding not in ("float", "base64"):
        raise InvalidRequest(
            f"Invalid value for 'encoding_format': '{encoding}'. Supported values are: "
            "'float' and 'base64'.",
            "encoding_format",
        )
    dimensions = body.get("dimensions")
    if dimensions is not None and (
        not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1
    ):
        raise InvalidRequest(
            "Invalid value for 'dimensions': expected a positive integer.", "dimensions"
        )
    return body


def embedding_inputs(raw: str | list[Any]) -> list[str | list[int]]:
    """The inputs of a checked ``input``, each a text or a list of token ids."""
    if isinstance(raw, str) or _is_tokens(raw):
        return [raw]
    return list(raw)


def _model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if model is None:
        raise InvalidRequest("Missing required parameter: 'model'.", "model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("Invalid type for 'model': expected a non-empty string.", "model")
    return model


def _is_input(raw: object) -> bool:
    if isinstance(raw, str):
        return bool(raw)
    if not isinstance(raw, list) or not raw:
        return False
    if _is_tokens(raw):
        return True
    return all((isinstance(x, str) and x) or (isinstance(x, list) and _is_tokens(x)) for x in raw)


def _is_tokens(raw: object) -> bool:
    return (
        isinstance(raw, list)
        and bool(raw)
        and all(isinstance(x, int) and not isinstance(x, bool) for x in raw)
    )
