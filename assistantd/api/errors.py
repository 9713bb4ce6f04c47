"""Every error leaves the server in OpenAI's shape: ``{"error": {message, type, param, code}}``."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from assistantd.errors import APIError, InvalidRequest

log = logging.getLogger(__name__)

# Pydantic puts the tag of a tagged union into an error's location ("tools", 0, "function", …).
_UNION_TAGS = {
    "code_interpreter", "file_search", "function", "text", "image_file", "image_url",
    "json_object", "json_schema",
}  # fmt: skip


def install(app: FastAPI) -> None:
    app.add_exception_handler(APIError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(UnexpectedErrors)


def error_response(error: APIError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status_code, headers=error.headers)


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, APIError)
    return error_response(exc)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(validation_error(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        message = f"Invalid URL ({request.method} {request.url.path})"
    else:
        message = str(exc.detail)
    error = APIError(message)
    error.status_code = exc.status_code
    error.error_type = "invalid_request_error"
    return error_response(error)


class UnexpectedErrors:
    """An error no handler foresaw answers OpenAI's 500 shape, and the connection lives on.

    Not ``add_exception_handler(Exception, …)``: Starlette runs that handler in its outermost
    middleware, which sends the response and then re-raises, so the server closes the client's
    keep-alive connection and the client's next request on it fails. Here the error ends with
    the response. Once a response has started (a stream), nothing can be said any more: the
    error goes up and the server ends that connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            if started:
                raise
            log.exception("unhandled error on %s %s", scope["method"], scope["path"], exc_info=exc)
            response = error_response(
                APIError("The server had an error while processing your request.")
            )
            await response(scope, receive, send)


def validation_error(errors: Any) -> InvalidRequest:
    """The most specific validation error, worded as OpenAI words it.

    A value that fits no member of a union yields one error per member; the deepest one (or a
    wrong ``type`` tag) says best what is wrong."""
    first = max(errors, key=lambda e: (e.get("type") == "union_tag_invalid", len(e.get("loc", ()))))
    kind = first.get("type", "")
    if kind == "json_invalid":
        return InvalidRequest(
            "We could not parse the JSON body of your request. (HINT: This likely means you "
            "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)"
        )
    param = _param_name(first.get("loc", ()))
    if kind == "extra_forbidden":
        return InvalidRequest(f"Unrecognized request argument supplied: {param}", param)
    if kind == "missing":
        if not param:
            return InvalidRequest("Missing request body.", None)
        return InvalidRequest(f"Missing required parameter: '{param}'.", param)
    if kind == "union_tag_invalid":
        context = first.get("ctx", {})
        param = f"{param}.{context.get('discriminator', 'type').strip(chr(39))}"
        return InvalidRequest(
            f"Invalid value: '{context.get('tag')}'. Supported values are: "
            f"{context.get('expected_tags')}.",
            param,
        )
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return InvalidRequest(f"Invalid value for '{param}': {message}.", param or None)


def _param_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
    name = ""
    previous: Any = None
    for part in parts:
        if isinstance(part, int):
            name += f"[{part}]"
        elif _is_union_member(part, previous):
            pass
        else:
            name += f".{part}" if name else str(part)
        previous = part
    return name


def _is_union_member(part: str, previous: Any) -> bool:
    """Location parts that name a union member rather than a field."""
    if any(mark in part for mark in "[]()") or part in ("str", "list", "dict", "int", "float"):
        return True
    return part in _UNION_TAGS and (
        isinstance(previous, int) or previous in ("response_format", "tool_choice")
    )
