"""The console in headless Chromium against a real server and the scripted model: sign in, create
an assistant, chat with a streamed answer; no request leaves the machine."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistantd.api.console import ASSETS
from assistantd.config import Settings
from tests.harness.server import running_server

CHROMIUM = shutil.which("chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
    ),
    pytest.mark.skipif(
        not (ASSETS / "index.html").is_file(), reason="the console is not built (make setup)"
    ),
]


@pytest.fixture(scope="module")
def console_server(
    scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("console")
    with running_server(Settings(data_dir=data_dir, llm_base_url=scripted_model_url)) as base:
        yield base


def test_sign_in_create_an_assistant_and_chat(console_server: str) -> None:
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        urls: list[str] = []
        page.on("request", lambda request: urls.append(request.url))
        page.goto(f"{console_server}/console")
        page.get_by_test_id("api-key-input").fill("sk-any")
        page.get_by_test_id("sign-in").click()
        page.get_by_test_id("assistant-new").click()
        page.get_by_test_id("assistant-instructions").fill("You are terse.")
        page.get_by_test_id("assistant-save").click()
        page.get_by_test_id("chat-input").fill("hi")
        page.get_by_test_id("chat-send").click()
        page.get_by_test_id("run-status").filter(has_text="completed").wait_for(timeout=15000)
        texts = page.get_by_test_id("chat-message").all_inner_texts()
        browser.close()
    assert "hi" in texts[0] and "Echo: hi" in texts[-1]
    assert [url for url in urls if not url.startswith(console_server)] == []
