"""A lean HTTP/1.1 client for model calls: pooled keep-alive connections to one endpoint, each an
``asyncio.Protocol`` whose response is parsed by httptools (compiled llhttp, which uvicorn uses
too), with the body handed over as it arrives.

Per streamed token this is one ``data_received``, one parser call, and one wake-up of the reader
that awaits ``read_some``: general clients stack layers of Python on each read (aiohttp's stream
reader and flow control, a read timer re-armed per read; httpx's generators over httpcore and
h11), which cost a streaming server more than the rest of its per-token work. The read timeout is
one timer per request, re-armed only when it fires.

    client = HTTPClient("https://api.example.com/v1", headers={"Authorization": "Bearer …"})
    response = await client.request("POST", "/chat/completions", body, {"Content-Type": "…"})
    try:
        while data := await response.read_some():   # b"" at the end of the body
            ...
    finally:
        response.release()   # back to the pool if the body was read to its end, else closed

HTTP and HTTPS, directly or through an HTTP proxy (``CONNECT`` for HTTPS); no compression is
asked for, so none is sent.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections import deque
from collections.abc import Mapping
from urllib.parse import unquote, urlsplit

import httptools

USER_AGENT = "assistantd"


class TransportError(Exception):
    """The connection could not be made, broke, or what came back was not HTTP."""


class ReadTimeout(TransportError, TimeoutError):
    """Nothing arrived for longer than the read timeout."""


class HTTPClient:
    def __init__(
        self,
        base_url: str,
        *,
        headers: Mapping[str, str] | None = None,
        max_connections: int = 100,
        connect_timeout: float = 10.0,
        read_timeout: float = 120.0,
        proxy: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``proxy``: an ``http://[user:password@]host:port`` URL; ``ssl_context`` for HTTPS,
        by default the system's trusted certificates (``SSL_CERT_FILE`` / ``SSL_CERT_DIR``)."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self._scheme = parts.scheme
        self._host = parts.hostname
        self._port = parts.port or (443 if parts.scheme == "https" else 80)
        self._base_path = parts.path.rstrip("/")
        default_port = self._port == (443 if self._scheme == "https" else 80)
        self._authority = self._host if default_port else f"{self._host}:{self._port}"
        if ":" in self._host and not default_port:  # an IPv6 literal
            self._authority = f"[{self._host}]:{self._port}"
        self._headers = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self._max_connections = max_connections
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._proxy = _Proxy(proxy) if proxy else None
        self._ssl = ssl_context
        self._idle: list[_Connection] = []  # most recently released last
        self._open = 0  # connections made and not closed, idle or in use
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        """Send a request to the endpoint's ``base path + path``; returns once the response's
        head has arrived. A pooled connection the server had closed meanwhile is replaced
        without the caller seeing it."""
        message = self._message(method, path, body, headers)
        for attempt in range(2):
            connection, reused = await self._acquire()
            try:
                await connection.send(message)
                return Response(self, connection, await connection.head())
            except TransportError as error:
                self._release(connection, reusable=False)
                stale = reused and not connection.received and not isinstance(error, ReadTimeout)
                if stale and attempt == 0:
                    continue  # the server closed it while it sat in the pool
                raise
            except BaseException:
                self._release(connection, reusable=False)
                raise
        raise AssertionError("unreachable")

    async def aclose(self) -> None:
        self._closed = True
        for connection in self._idle:
            connection.close()
        self._idle.clear()
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_exception(TransportError("the client was closed"))

    def _message(
        self, method: str, path: str, body: bytes | None, headers: Mapping[str, str] | None
    ) -> bytes:
        target = self._base_path + path
        if self._proxy is not None and self._scheme == "http":
            target = f"http://{self._authority}{target}"  # absolute form, for the proxy
        head = [f"{method} {target} HTTP/1.1\r\nHost: {self._authority}\r\n", self._headers]
        head.append(f"User-Agent: {USER_AGENT}\r\nAccept: */*\r\n")
        if self._proxy is not None and self._scheme == "http" and self._proxy.authorization:
            head.append(f"Proxy-Authorization: {self._proxy.authorization}\r\n")
        for name, value in (headers or {}).items():
            head.append(f"{name}: {value}\r\n")
        if body is not None:
            head.append(f"Content-Length: {len(body)}\r\n")
        head.append("\r\n")
        message = "".join(head).encode("latin-1")
        return message + body if body else message

    async def _acquire(self) -> tuple[_Connection, bool]:
        """A connection for one request, and whether it was pooled (idle since a previous one).
        Waiting for a free one (at ``max_connections``) counts in the connect timeout."""
        async with asyncio.timeout(self._connect_timeout):
            while True:
                if self._closed:
                    raise TransportError("the client was closed")
                while self._idle:
                    connection = self._idle.pop()
                    if connection.usable():
                        return connection, True
                    self._forget(connection)
                if self._open < self._max_connections:
                    self._open += 1
                    try:
                        return await self._connect(), False
                    except BaseException:
                        self._open -= 1
                        self._wake_one()
                        raise
                waiter = asyncio.get_running_loop().create_future()
                self._waiters.append(waiter)
                try:
                    await waiter
                finally:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        tls = self._scheme == "https"
        if tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        proxy = self._proxy
        host, port = (proxy.host, proxy.port) if proxy is not None else (self._host, self._port)

        def protocol() -> _Connection:
            return _Connection(loop, self._read_timeout)

        try:
            if tls and proxy is None:
                _, connection = await loop.create_connection(
                    protocol, host, port, ssl=self._ssl, server_hostname=self._host
                )
            else:
                _, connection = await loop.create_connection(protocol, host, port)
            if tls and proxy is not None:
                await self._tunnel(connection)
        except OSError as exc:
            where = f"{host}:{port}" + (" (the proxy)" if proxy is not None else "")
            raise TransportError(f"cannot connect to {where}: {exc}") from exc
        return connection

    async def _tunnel(self, connection: _Connection) -> None:
        """Through the proxy, ``CONNECT`` to the endpoint, then TLS inside the tunnel."""
        assert self._proxy is not None and self._ssl is not None
        authority = f"{self._host}:{self._port}"
        request = f"CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n"
        if self._proxy.authorization:
            request += f"Proxy-Authorization: {self._proxy.authorization}\r\n"
        try:
            await connection.send((request + "\r\n").encode("latin-1"), tunnel=True)
            status, _, _ = await connection.head()
            if status != 200:
                raise TransportError(f"the proxy refused to connect to {authority} ({status})")
            await connection.start_tls(self._ssl, self._host)
        except BaseException:
            connection.close()
            raise

    def _release(self, connection: _Connection, *, reusable: bool) -> None:
        if reusable and not self._closed and connection.usable():
            self._idle.append(connection)
        else:
            connection.close()
            self._forget(connection)
        self._wake_one()

    def _forget(self, connection: _Connection) -> None:
        if not connection.forgotten:
            connection.forgotten = True
            self._open -= 1

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class Response:
    """A response whose head has arrived; its body is read with ``read_some`` or ``read``."""

    def __init__(
        self,
        client: HTTPClient,
        connection: _Connection,
        head: tuple[int, str, dict[str, str]],
    ) -> None:
        self._client = client
        self._connection: _Connection | None = connection
        self.status, self.reason, self.headers = head

    async def read_some(self) -> bytes:
        """The body bytes that arrived since the last call (waiting for some); ``b""`` once the
        body is over. Raises TransportError (ReadTimeout) if the connection fails first."""
        if self._connection is None:
            return b""
        return await self._connection.body_part()

    async def read(self) -> bytes:
        parts = []
        while part := await self.read_some():
            parts.append(part)
        return b"".join(parts)

    def release(self) -> None:
        """Give the connection back: to the pool if the body was read to its end on a
        keep-alive connection, else closed (a response abandoned halfway)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            self._client._release(connection, reusable=connection.reusable())


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection, carrying one request at a time."""

    def __init__(self, loop: asyncio.AbstractEventLoop, read_timeout: float) -> None:
        self._loop = loop
        self._read_timeout = read_timeout
        self._transport: asyncio.Transport | None = None
        self._parser: httptools.HttpResponseParser | None = None
        self._tunnel = False
        self._head: asyncio.Future[tuple[int, str, dict[str, str]]] | None = None
        self._reason = ""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._complete = False
        self._until_close = False  # a body without a length, which ends with the connection
        self._keep_alive = False
        self._waiter: asyncio.Future[None] | None = None
        self._error: TransportError | None = None
        self._closed = False
        self._last = 0.0  # when bytes last arrived
        self._timer: asyncio.TimerHandle | None = None
        self.received = False  # whether any byte of the current response arrived
        self.forgotten = False  # no longer counted by the client

    # --- asyncio.Protocol -------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self._last = self._loop.time()
        self.received = True
        if self._parser is None:
            self._fail(TransportError("the server sent bytes no request asked for"))
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # the proxy's answer to CONNECT: what follows is the tunnel
        except httptools.HttpParserError as exc:
            self._fail(TransportError(f"the server's response is not valid HTTP: {exc}"))

    def eof_received(self) -> bool:
        return False  # close the transport (connection_lost follows)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        if self._parser is not None and not self._complete:
            if self._until_close and self._head is not None and self._head.done():
                self._complete = True
                self._wake()
            else:
                error = TransportError("the server closed the connection mid-response")
                error.__cause__ = exc
                self._fail(error)

    # --- httptools callbacks ------------------------------------------------------------------

    def on_status(self, status: bytes) -> None:
        self._reason = status.decode("latin-1")

    def on_header(self, name: bytes, value: bytes) -> None:
        key = name.decode("latin-1").lower()
        text = value.decode("latin-1")
        self._headers[key] = f"{self._headers[key]}, {text}" if key in self._headers else text

    def on_headers_complete(self) -> None:
        assert self._parser is not None
        headers = self._headers
        self._until_close = "content-length" not in headers and "chunked" not in headers.get(
            "transfer-encoding", ""
        )
        if self._tunnel:
            self._until_close = False
        if self._head is not None and not self._head.done():
            self._head.set_result((self._parser.get_status_code(), self._reason, headers))

    def on_body(self, body: bytes) -> None:
        self._body.append(body)
        self._wake()

    def on_message_complete(self) -> None:
        assert self._parser is not None
        self._complete = True
        # Asked now: llhttp forgets the message's version and headers once it is complete.
        self._keep_alive = self._parser.should_keep_alive()
        self._stop_timer()
        self._wake()

    # --- what the client and its responses use ------------------------------------------------

    async def send(self, message: bytes, *, tunnel: bool = False) -> None:
        if self._closed or self._transport is None or self._transport.is_closing():
            raise TransportError("the connection is closed")
        self._parser = httptools.HttpResponseParser(self)
        self._tunnel = tunnel
        self._head = self._loop.create_future()
        self._reason, self._headers, self._body = "", {}, []
        self._complete = self._until_close = self._keep_alive = self.received = False
        self._error = None
        self._last = self._loop.time()
        self._timer = self._loop.call_at(self._last + self._read_timeout, self._check_silence)
        self._transport.write(message)

    async def head(self) -> tuple[int, str, dict[str, str]]:
        assert self._head is not None
        return await self._head

    async def body_part(self) -> bytes:
        while True:
            if self._body:
                body = self._body
                self._body = []
                return body[0] if len(body) == 1 else b"".join(body)
            if self._complete:
                return b""
            if self._error is not None:
                raise self._error
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    async def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        assert self._transport is not None
        self._parser = None
        self._stop_timer()
        transport = await self._loop.start_tls(
            self._transport, self, context, server_hostname=server_hostname
        )
        if transport is None:
            raise TransportError("TLS through the proxy's tunnel failed")
        self._transport = transport  # type: ignore[assignment]

    def usable(self) -> bool:
        return not self._closed and self._transport is not None and not self._transport.is_closing()

    def reusable(self) -> bool:
        return self._complete and self._keep_alive and not self._until_close and self.usable()

    def close(self) -> None:
        self._stop_timer()
        self._closed = True
        if self._transport is not None:
            self._transport.close()

    # --- inside -------------------------------------------------------------------------------

    def _check_silence(self) -> None:
        """The read timeout: re-armed for the last arrival, not at each one."""
        self._timer = None
        if self._complete or self._error is not None or self._parser is None:
            return
        due = self._last + self._read_timeout
        if self._loop.time() >= due:
            self._fail(ReadTimeout(f"no data for {self._read_timeout:g} s"))
        else:
            self._timer = self._loop.call_at(due, self._check_silence)

    def _stop_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _fail(self, error: TransportError) -> None:
        if self._error is None:
            self._error = error
        self._stop_timer()
        if self._head is not None and not self._head.done():
            self._head.set_exception(error)
            self._head.exception()  # retrieved: a caller that stopped waiting is no leak
        self.close()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class _Proxy:
    def __init__(self, url: str) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"only http:// proxies are supported, not {url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.authorization: str | None = None
        if parts.username is not None:
            user_pass = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            self.authorization = "Basic " + base64.b64encode(user_pass.encode()).decode()
