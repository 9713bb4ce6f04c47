"""Fixtures for the console in headless Chromium: a server whose model and embedder are the
scripted model, a browser, a signed-in page, and the few steps every test takes through the UI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistantd.api.console import ASSETS
from assistantd.config import Settings
from tests.harness.server import running_server
from tests.runs.conftest import Scripted
from tests.vector_stores.conftest import embedding_settings

CHROMIUM = shutil.which("chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
STREAM_TIMEOUT_MS = 15000
# A function for the assistants of the tests that answer function calls.
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(item.path).is_relative_to(here):
            item.add_marker(
                pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
            )
            built = (ASSETS / "index.html").is_file()
            item.add_marker(pytest.mark.skipif(not built, reason="the console is not built"))


@pytest.fixture(scope="module")
def console_server(
    scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("console")
    settings = Settings(data_dir=data_dir, **embedding_settings(scripted_model_url))
    with running_server(settings) as base:
        yield base


@pytest.fixture(scope="session")
def scripted(scripted_model_url: str) -> Scripted:
    return Scripted(scripted_model_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Any, console_server: str) -> Iterator[Any]:
    """A fresh browser context signed in with a project key, on the playground."""
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, console_server)
    yield page
    context.close()


def sign_in(page: Any, base: str, key: str = "sk-any") -> None:
    page.goto(f"{base}/console")
    page.get_by_test_id("api-key-input").fill(key)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("sign-out").wait_for()  # signed in (and the key kept for the tab)


def create_assistant(
    page: Any,
    functions: list[dict[str, Any]] | None = None,
    vector_store_id: str | None = None,
) -> str:
    """Create an assistant in the playground's form; returns the model it uses (the form's
    default), so the test can script it."""
    page.get_by_test_id("assistant-new").click()
    page.get_by_test_id("assistant-instructions").fill("You are terse.")
    if functions:
        page.get_by_test_id("assistant-functions").fill(json.dumps(functions))
    if vector_store_id:
        page.get_by_test_id("assistant-file-search").check()
        page.get_by_test_id("assistant-vector-stores").fill(vector_store_id)
    page.get_by_test_id("assistant-model").locator("option").first.wait_for(state="attached")
    model = page.get_by_test_id("assistant-model").input_value()
    page.get_by_test_id("assistant-save").click()
    page.get_by_test_id("assistant-item").first.wait_for()
    return model


def send(page: Any, text: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()


def wait_for_status(page: Any, status: str) -> None:
    page.get_by_test_id("run-status").filter(has_text=status).wait_for(timeout=STREAM_TIMEOUT_MS)
