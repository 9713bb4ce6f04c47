"""The model backend's HTTP client against small real servers on loopback sockets: keep-alive
reuse, a pooled connection the server closed, body framings, timeouts, the connection limit, an
HTTP proxy, and HTTPS directly and through a proxy's CONNECT tunnel."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from assistantd.llm.http_client import HTTPClient, ReadTimeout, TransportError

Reader = asyncio.StreamReader
Writer = asyncio.StreamWriter
Handler = Callable[[Reader, Writer], Awaitable[None]]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class Served:
    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


@asynccontextmanager
async def serving(handle: Handler, context: ssl.SSLContext | None = None) -> AsyncIterator[Served]:
    served = Served()

    async def on_connect(reader: Reader, writer: Writer) -> None:
        served.connections += 1
        try:
            await handle(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, ssl=context)
    served.port = server.sockets[0].getsockname()[1]
    try:
        yield served
    finally:
        server.close()


async def read_request(reader: Reader) -> bytes:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head + (await reader.readexactly(length) if length else b"")


def answering(
    *responses: bytes, close_after: bool = False, log: list[bytes] | None = None
) -> Handler:
    """Answers each request on a connection with the next response (the last one repeats)."""

    async def handle(reader: Reader, writer: Writer) -> None:
        for n in range(1000):
            request = await read_request(reader)
            if log is not None:
                log.append(request)
            writer.write(responses[min(n, len(responses) - 1)])
            await writer.drain()
            if close_after:
                return

    return handle


async def get(client: HTTPClient, path: str = "/x") -> tuple[int, bytes]:
    response = await client.request("GET", path)
    try:
        return response.status, await response.read()
    finally:
        response.release()


async def test_keep_alive_reuses_one_connection() -> None:
    log: list[bytes] = []
    async with serving(answering(OK, log=log)) as served:
        client = HTTPClient(served.url)
        try:
            assert [await get(client) for _ in range(3)] == [(200, b"ok")] * 3
        finally:
            await client.aclose()
    assert served.connections == 1
    assert log[0].startswith(b"GET /v1/x HTTP/1.1\r\nHost: 127.0.0.1:")


async def test_a_connection_the_server_closed_in_the_pool_is_replaced_unseen() -> None:
    async with serving(answering(OK, close_after=True)) as served:
        client = HTTPClient(served.url)
        try:
            assert await get(client) == (200, b"ok")
            await asyncio.sleep(0.05)  # the server's close reaches the idle connection
            assert await get(client) == (200, b"ok")
            # Closed but not yet noticed: the request fails on it, and goes again on a new one.
            assert await get(client) == (200, b"ok")
        finally:
            await client.aclose()
    assert served.connections == 3


@pytest.mark.parametrize("split", [1, 3, 1000])
async def test_chunked_body_in_any_pieces(split: int) -> None:
    body = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"

    async def handle(reader: Reader, writer: Writer) -> None:
        await read_request(reader)
        for i in range(0, len(body), split):
            writer.write(body[i : i + split])
            await writer.drain()
            await asyncio.sleep(0)

    async with serving(handle) as served:
        client = HTTPClient(served.url)
        try:
            assert await get(client) == (200, b"hello world")
        finally:
            await client.aclose()


async def test_a_body_without_length_ends_with_the_connection() -> None:
    async with serving(answering(b"HTTP/1.1 200 OK\r\n\r\nall of it", close_after=True)) as served:
        client = HTTPClient(served.url)
        try:
            assert await get(client) == (200, b"all of it")
        finally:
            await client.aclose()


async def test_a_connection_lost_mid_body_is_an_error_after_what_arrived() -> None:
    partial = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nsome"
    async with serving(answering(partial, close_after=True)) as served:
        client = HTTPClient(served.url)
        try:
            response = await client.request("GET", "/x")
            assert await response.read_some() == b"some"
            with pytest.raises(TransportError):
                await response.read_some()
            response.release()
        finally:
            await client.aclose()


async def test_silence_longer_than_the_read_timeout() -> None:
    heads = [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]

    async def stall(reader: Reader, writer: Writer) -> None:
        await read_request(reader)
        writer.write(heads.pop() if heads else b"")  # a head and some body, then nothing
        await asyncio.sleep(5)

    async with serving(stall) as served:
        client = HTTPClient(served.url, read_timeout=0.2)
        try:
            response = await client.request("GET", "/x")
            assert await response.read_some() == b"abc"
            with pytest.raises(ReadTimeout):
                await response.read_some()
            response.release()
            with pytest.raises(ReadTimeout):  # no head at all, likewise
                await client.request("GET", "/x")
        finally:
            await client.aclose()


async def test_at_the_connection_limit_a_request_waits_for_a_release() -> None:
    async with serving(answering(OK)) as served:
        client = HTTPClient(served.url, max_connections=1, connect_timeout=0.3)
        try:
            first = await client.request("GET", "/x")
            with pytest.raises(TimeoutError):
                await client.request("GET", "/x")  # the only connection is busy
            waiting = asyncio.create_task(get(client))
            await asyncio.sleep(0.05)
            assert not waiting.done()
            assert await first.read() == b"ok"
            first.release()
            assert await waiting == (200, b"ok")
            # An abandoned response closes its connection, which frees the slot too.
            abandoned = await client.request("GET", "/x")
            abandoned.release()
            assert await get(client) == (200, b"ok")
        finally:
            await client.aclose()


async def test_an_unreachable_endpoint_is_a_transport_error() -> None:
    client = HTTPClient("http://127.0.0.1:9/v1", connect_timeout=1)
    try:
        with pytest.raises(TransportError):
            await client.request("GET", "/x")
    finally:
        await client.aclose()


async def test_through_an_http_proxy_the_request_names_the_whole_url() -> None:
    log: list[bytes] = []
    async with serving(answering(OK, log=log)) as proxy:
        client = HTTPClient(
            "http://models.internal:8080/v1", proxy=f"http://u:p%40ss@127.0.0.1:{proxy.port}"
        )
        try:
            assert await get(client, "/models") == (200, b"ok")
        finally:
            await client.aclose()
    assert log[0].startswith(b"GET http://models.internal:8080/v1/models HTTP/1.1\r\n")
    assert b"Host: models.internal:8080\r\n" in log[0]
    assert b"Proxy-Authorization: Basic dTpwQHNz\r\n" in log[0]  # u:p@ss


# --- HTTPS ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


def contexts(certificate: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    cert, key = certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


async def test_https_checks_the_certificate(certificate: tuple[Path, Path]) -> None:
    server_context, client_context = contexts(certificate)
    async with serving(answering(OK), server_context) as served:
        client = HTTPClient(f"https://localhost:{served.port}/v1", ssl_context=client_context)
        untrusting = HTTPClient(f"https://localhost:{served.port}/v1")  # the system's CAs
        try:
            assert [await get(client) for _ in range(2)] == [(200, b"ok")] * 2
            assert served.connections == 1  # kept alive
            with pytest.raises(TransportError):
                await get(untrusting)
        finally:
            await client.aclose()
            await untrusting.aclose()


async def test_https_through_a_proxy_tunnel(certificate: tuple[Path, Path]) -> None:
    server_context, client_context = contexts(certificate)
    connects: list[bytes] = []

    async with serving(answering(OK), server_context) as target:

        async def tunnel(reader: Reader, writer: Writer) -> None:
            connects.append(await read_request(reader))
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target.port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")

            async def pipe(source: Reader, sink: Writer) -> None:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
                sink.close()

            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        async with serving(tunnel) as proxy:
            client = HTTPClient(
                f"https://localhost:{target.port}/v1",
                proxy=f"http://127.0.0.1:{proxy.port}",
                ssl_context=client_context,
            )
            try:
                assert await get(client) == (200, b"ok")
            finally:
                await client.aclose()
    assert connects[0].startswith(f"CONNECT localhost:{target.port} HTTP/1.1\r\n".encode())
