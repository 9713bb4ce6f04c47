"""The id of the request being served (or of the request that created the run being executed),
read by every log line and stored with the runs a request creates.

OpenAI's API answers every request with an ``x-request-id`` header; assistantd does too, and
keeps the id a client sent so that its logs and the server's can be matched."""

from __future__ import annotations

import itertools
import os
from contextvars import ContextVar, Token

HEADER = "x-request-id"
# A client's id is kept when it is plain printable ASCII of reasonable length (it goes into
# headers and log lines as it is); anything else is replaced by one of ours.
MAX_LENGTH = 200

_current: ContextVar[str | None] = ContextVar("request_id", default=None)
# Ids are this process's random half and a counter (32 hex digits, as OpenAI's): unique across
# processes without drawing 16 random bytes per request (uuid4 costs several µs each).
_PROCESS = os.urandom(8).hex()
_count = itertools.count(1)


def new() -> str:
    return f"req_{_PROCESS}{next(_count):016x}"


def accepted(sent: str | None) -> str:
    """The id to use for a request that sent ``sent`` (None: it sent none)."""
    if sent and len(sent) <= MAX_LENGTH and sent.isascii() and sent.isprintable():
        return sent
    return new()


def current() -> str | None:
    return _current.get()


def bind(request_id: str | None) -> Token[str | None]:
    """Make ``request_id`` the current one until ``reset`` with the returned token."""
    return _current.set(request_id)


def reset(token: Token[str | None]) -> None:
    _current.reset(token)
