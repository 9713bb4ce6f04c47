"""Slow clients over raw sockets against a real server: connections that trickle their headers
or stall their body are answered 408 and closed, while other clients are served."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import make_settings
from tests.harness.databases import fresh_database
from tests.harness.server import running_server

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 1.0
SLOW_CLIENTS = 200
# A deadline to fail instead of hanging on the bug (connections kept open for ever), not a
# speed requirement.
GIVE_UP_SECONDS = 30.0
HEAD = b"POST /v1/assistants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
BODY = b'{"model": "m"}'


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("slow-clients")
    with fresh_database("sqlite", data_dir) as url:
        settings = make_settings(
            data_dir,
            url,
            http_header_timeout_seconds=HEADER_TIMEOUT,
            http_body_timeout_seconds=BODY_TIMEOUT,
        )
        with running_server(settings) as base:
            yield base


def _connect(server: str) -> socket.socket:
    parts = urlsplit(server)
    return socket.create_connection((parts.hostname, parts.port), timeout=GIVE_UP_SECONDS)


def _until_closed(
    sockets: list[socket.socket], trickle: bytes | None, every: float = 0.3
) -> dict[socket.socket, bytes]:
    """Read each socket to its end, sending ``trickle`` on those still open every ``every`` s;
    returns what each received. Fails if some are still open at the give-up deadline."""
    received = {sock: b"" for sock in sockets}
    open_ = set(sockets)
    deadline = time.monotonic() + GIVE_UP_SECONDS
    while open_ and time.monotonic() < deadline:
        readable, _, _ = select.select(list(open_), [], [], every)
        for sock in readable:
            try:
                data = sock.recv(65536)
            except ConnectionResetError:
                data = b""
            received[sock] += data
            if not data:
                open_.discard(sock)
        for sock in list(open_) if trickle else ():
            try:
                sock.sendall(trickle)
            except (BrokenPipeError, ConnectionResetError):
                open_.discard(sock)
    assert not open_, f"{len(open_)} of {len(sockets)} slow connections still open"
    return received


def test_trickled_headers_get_408_and_are_closed_while_others_are_served(server: str) -> None:
    slow = [_connect(server) for _ in range(SLOW_CLIENTS)]
    try:
        for sock in slow:
            sock.sendall(HEAD)  # half the headers, then a header line now and then
        answer = httpx.get(f"{server}/v1/assistants", headers={"Authorization": "Bearer k"})
        assert answer.status_code == 200
        received = _until_closed(slow, trickle=b"X-Slow: 1\r\n")
    finally:
        for sock in slow:
            sock.close()
    # A trickled line that crosses the close makes the server's kernel reset the connection,
    # which can discard the 408 before it is read: what arrived is a 408, or nothing.
    answers = {data[:13] for data in received.values()}
    assert answers <= {b"HTTP/1.1 408 ", b""} and b"HTTP/1.1 408 " in answers, answers
    assert httpx.get(f"{server}/v1/assistants", headers={"Authorization": "Bearer k"}).is_success


def test_a_stalled_body_gets_408_and_is_closed(server: str) -> None:
    with _connect(server) as sock:
        sock.sendall(HEAD + b"Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        [data] = _until_closed([sock], trickle=None).values()
    assert data.startswith(b"HTTP/1.1 408 ")


def test_a_slow_but_steady_body_is_served(server: str) -> None:
    """Only a pause counts: an upload taking longer than the bound in all still arrives."""
    body = BODY + b" " * 16
    with _connect(server) as sock:
        sock.sendall(HEAD + b"Content-Type: application/json\r\n")
        sock.sendall(b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
        for byte in body:
            sock.sendall(bytes([byte]))
            time.sleep(BODY_TIMEOUT / 10)  # 3 s in all, 0.1 s at a time
        [data] = _until_closed([sock], trickle=None).values()
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]


def test_an_idle_kept_alive_connection_is_not_taken_for_a_slow_one(server: str) -> None:
    """Between requests a connection is idle (uvicorn's keep-alive timeout), not late."""
    request = HEAD + b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(BODY)
    with _connect(server) as sock:
        for _ in range(2):
            sock.sendall(request + BODY)
            assert _response_head(sock).startswith(b"HTTP/1.1 200 ")
            time.sleep(HEADER_TIMEOUT * 1.5)


def _response_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, "the server closed the connection"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    while len(rest) < length:
        rest += sock.recv(65536)
    return head
