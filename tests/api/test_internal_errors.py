"""An error nobody foresaw answers OpenAI's 500 shape, and the client's connection stays usable
(its next request on the same keep-alive connection is answered)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI

from tests.conftest import make_settings
from tests.harness.databases import fresh_database
from tests.harness.server import running_server


def _add_failing_route(app: FastAPI) -> None:
    @app.get("/v1/_test/fail")
    async def fail() -> None:
        raise RuntimeError("a fault the server did not foresee")


@pytest.fixture(scope="module")
def failing_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp(f"internal-errors-{backend}")
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(data_dir, url)
        with running_server(settings, customise=_add_failing_route) as base:
            yield base


def test_unexpected_error_keeps_the_connection(failing_server: str) -> None:
    # http.client holds exactly one socket and never silently opens another for a request,
    # so the second request is answered only if the server kept that connection open.
    connection = http.client.HTTPConnection(urlsplit(failing_server).netloc, timeout=10)
    try:
        connection.request("GET", "/v1/_test/fail")
        failed = connection.getresponse()
        assert failed.status == 500
        assert json.loads(failed.read()) == {
            "error": {
                "message": "The server had an error while processing your request.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
        }
        connection.request("GET", "/v1/assistants")
        after = connection.getresponse()
        assert after.status == 200
        assert json.loads(after.read())["object"] == "list"
    finally:
        connection.close()
