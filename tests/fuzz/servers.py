"""The server a campaign fuzzes: real, on a fresh database of the given backend, the scripted
model as its LLM and as its embedder (fast, offline, deterministic)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.conftest import make_settings
from tests.harness.databases import fresh_database
from tests.harness.server import running_server
from tests.vector_stores.conftest import embedding_settings


@contextmanager
def fuzzed_server(backend: str, data_dir: Path, scripted_model_url: str) -> Iterator[str]:
    """Yields the server's API base URL (``…/v1``)."""
    # The server logs each unforeseen error with its traceback; the campaign reports them.
    logging.getLogger("assistantd").setLevel(logging.CRITICAL)
    with fresh_database(backend, data_dir) as url:
        settings = make_settings(data_dir, url, **embedding_settings(scripted_model_url))
        with running_server(settings) as base:
            yield f"{base}/v1"
