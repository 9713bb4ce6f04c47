"""The admin page: create a project and a key for it, then sign in with that key; a project's
usage in the chart's data and its run waiting for function outputs among the live runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistantd.config import Settings
from tests.console.conftest import STREAM_TIMEOUT_MS, sign_in
from tests.harness.admin import AdminClient
from tests.harness.clients import sdk_client
from tests.harness.contract import ContractLog
from tests.harness.server import running_server
from tests.runs.conftest import Scripted

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


def test_usage_chart_and_live_runs_show_a_projects_runs(
    browser: Any, admin_server: str, scripted: Scripted, contract_log: ContractLog
) -> None:
    project, key = AdminClient(admin_server, ADMIN_KEY).project_key("charted")
    client = sdk_client(admin_server, contract_log, api_key=key)
    model = f"charted-{uuid.uuid4().hex[:8]}"
    scripted.script(
        model,
        {"text": "counted", "usage": {"prompt_tokens": 17, "completion_tokens": 6}},
        {
            "tool_calls": [{"id": "call_1", "name": "lookup"}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1},
        },
    )
    lookup = {"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}
    assistant = client.beta.assistants.create(model=model, tools=[lookup])
    done = client.beta.threads.create_and_run_poll(assistant_id=assistant.id)
    waiting = client.beta.threads.create_and_run_poll(assistant_id=assistant.id)
    assert (done.status, waiting.status) == ("completed", "requires_action")

    context = browser.new_context()
    page = context.new_page()
    sign_in(page, admin_server, ADMIN_KEY)
    page.get_by_test_id("usage-chart").wait_for()
    row = page.locator(f'[data-testid="usage-row"][data-model="{model}"]')
    assert row.get_attribute("data-project") == project
    assert row.get_by_test_id("usage-input").inner_text() == str(17 + 5)
    assert row.get_by_test_id("usage-output").inner_text() == str(6 + 1)
    assert row.get_by_test_id("usage-requests").inner_text() == "2"
    assert page.get_by_test_id("usage-bar").count() >= 1

    live = page.get_by_test_id("live-runs").get_by_test_id("live-run").filter(has_text=waiting.id)
    live.wait_for()
    assert "requires_action" in live.inner_text() and "charted" in live.inner_text()
    link = live.get_by_role("link", name=waiting.id)
    assert link.get_attribute("href") == f"/console/runs/{waiting.thread_id}/{waiting.id}"
    # The admin key reads no run: the link's inspector opens once signed in with the project's.
    link.click()
    page.get_by_test_id("sign-out").click()
    page.get_by_test_id("api-key-input").fill(key)
    page.get_by_test_id("sign-in").click()
    page.get_by_test_id("run-status").filter(has_text="requires_action").wait_for()
    # Once the run is answered it leaves the list at the next refresh.
    client.beta.threads.runs.submit_tool_outputs(
        run_id=waiting.id, thread_id=waiting.thread_id,
        tool_outputs=[{"tool_call_id": "call_1", "output": "x"}],
    )  # fmt: skip
    page.get_by_test_id("sign-out").click()
    sign_in(page, admin_server, ADMIN_KEY)
    live.wait_for(state="detached", timeout=STREAM_TIMEOUT_MS)
    context.close()
