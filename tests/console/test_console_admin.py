"""The admin page: create a project and a key for it, then sign in with that key."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistantd.config import Settings
from tests.console.conftest import sign_in
from tests.harness.server import running_server

ADMIN_KEY = "sk-admin-console"


@pytest.fixture(scope="module")
def admin_server(
    scripted_model_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    data_dir: Path = tmp_path_factory.mktemp("console-admin")
    settings = Settings(data_dir=data_dir, llm_base_url=scripted_model_url, admin_key=ADMIN_KEY)
    with running_server(settings) as base:
        yield base


def test_create_a_project_and_a_key_then_sign_in_with_it(browser: Any, admin_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, admin_server, ADMIN_KEY)
    page.get_by_test_id("project-name").fill("support-bot")
    page.get_by_test_id("project-create").click()
    row = page.get_by_test_id("project-row").filter(has_text="support-bot")
    row.get_by_test_id("key-create").click()
    key = row.get_by_test_id("new-key").inner_text()
    page.get_by_test_id("sign-out").click()
    sign_in(page, admin_server, key)
    page.get_by_test_id("assistant-new").wait_for()
    context.close()
    assert key.startswith("sk-")
