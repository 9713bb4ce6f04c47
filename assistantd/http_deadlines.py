"""Deadlines for slow HTTP clients, and the uvicorn options that install them.

uvicorn times out only idle keep-alive connections: a client that sends half its request
headers and then one header line every few seconds (or a body that stalls) holds its connection,
its file descriptor and its buffers for ever, so a few thousand such clients exhaust the
process's descriptors. The protocol class here is uvicorn's own (httptools or h11, whichever it
would pick), with two deadlines added:

- **headers**: a request's headers must be complete ``header_timeout`` seconds after the
  connection opens, or after the first byte of a next request on a kept-alive connection;
  otherwise the server answers ``408`` and closes it (an idle kept-alive connection is still
  uvicorn's ``timeout_keep_alive``'s);
- **body**: while a request body is arriving, ``body_timeout`` seconds without a byte close the
  connection (with ``408`` if no response has started); time while the app is not reading (the
  server paused reading for flow control) is not the client's fault and does not count.

Both the ``assistantd serve`` command and the test harness build their ``uvicorn.Config`` with
``uvicorn_options``, so what tests exercise is what is deployed.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

from assistantd.config import Settings

_TIMEOUT_BODY = b"Request Timeout: the request did not arrive in time."
_REQUEST_TIMEOUT = (
    b"HTTP/1.1 408 Request Timeout\r\n"
    b"content-type: text/plain; charset=utf-8\r\n"
    b"content-length: " + str(len(_TIMEOUT_BODY)).encode() + b"\r\n"
    b"connection: close\r\n\r\n" + _TIMEOUT_BODY
)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for ``uvicorn.Config``: the protocol with deadlines, and the limit on
    concurrent connections and requests (uvicorn answers 503 beyond it)."""
    return {
        "http": deadline_protocol(
            settings.http_header_timeout_seconds, settings.http_body_timeout_seconds
        ),
        "limit_concurrency": settings.http_limit_concurrency,
    }


def deadline_protocol(header_timeout: float, body_timeout: float) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol class with the header and body deadlines."""
    return type(
        f"Deadline{AutoHTTPProtocol.__name__}",
        (_Deadlines, AutoHTTPProtocol),
        {"header_timeout": header_timeout, "body_timeout": body_timeout},
    )


class _Deadlines:
    """Mixed in before a uvicorn protocol class. It reads the state both of uvicorn's protocols
    keep (``cycle``: the request being served, with ``more_body`` and ``response_complete``;
    ``flow``; ``transport``) after each read, so it needs no hook inside their parsers."""

    header_timeout: float
    body_timeout: float
    # Provided by the uvicorn protocol class this is mixed into.
    cycle: Any
    flow: Any
    transport: asyncio.Transport

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._loop = asyncio.get_running_loop()
        self._timer: asyncio.TimerHandle | None = None
        self._seen_cycle: Any = None
        self._last_body_at = 0.0
        self._arm(self.header_timeout, self._headers_due)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        if self.transport.is_closing():
            return
        cycle = self.cycle
        if cycle is not self._seen_cycle:  # a request's headers are complete
            self._seen_cycle = cycle
            self._disarm()
        if cycle is not None and cycle.more_body and not cycle.response_complete:
            self._last_body_at = self._loop.time()
            if self._timer is None:
                self._arm(self.body_timeout, self._body_due)
        elif (cycle is None or cycle.response_complete) and self._timer is None:
            # The first bytes of a next request on a kept-alive connection: its headers'
            # deadline starts now (not at the next byte, which may never come).
            self._arm(self.header_timeout, self._headers_due)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)  # type: ignore[misc]

    def _arm(self, seconds: float, callback: Any) -> None:
        self._timer = self._loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _headers_due(self) -> None:
        self._timer = None
        cycle = self.cycle
        if cycle is self._seen_cycle and (cycle is None or cycle.response_complete):
            self._give_up(answer=True)

    def _body_due(self) -> None:
        self._timer = None
        cycle = self.cycle
        if cycle is not self._seen_cycle or not cycle.more_body or cycle.response_complete:
            return  # the body is complete, or the request is over
        now = self._loop.time()
        if self.flow.read_paused:
            self._last_body_at = now  # the app is not reading: the client cannot send
        due = self._last_body_at + self.body_timeout
        if now < due:
            self._timer = self._loop.call_at(due, self._body_due)
            return
        self._give_up(answer=not cycle.response_started)

    def _give_up(self, *, answer: bool) -> None:
        cycle = self.cycle
        if cycle is not None:
            # At once, not when the transport reports the loss: the app must neither write its
            # own response after this one nor wait for more of the body.
            cycle.disconnected = True
            cycle.message_event.set()
        if answer:
            self.transport.write(_REQUEST_TIMEOUT)
        self.transport.close()
