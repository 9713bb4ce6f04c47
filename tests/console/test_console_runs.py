"""The run inspector's timings and run list, cancelling a run from the chat and from the
inspector, and code_interpreter's code, logs and chart shown inline in the chat; in headless
Chromium against a real server and the scripted model."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.console.conftest import (
    STREAM_TIMEOUT_MS,
    WEATHER,
    create_assistant,
    send,
    wait_for_status,
)
from tests.runs.conftest import Scripted
from tests.tools.code_interpreter.conftest import UNAVAILABLE

ENDLESS = {"text": "and on ", "endless": True, "chunk_delay_ms": 50}


def ms_of(page: Any, testid: str) -> float:
    text = page.get_by_test_id(testid).inner_text()
    found = re.search(r"([\d.]+) ms", text)
    assert found, f"{testid}: {text!r}"
    return float(found.group(1))


def test_the_inspector_shows_model_time_against_server_time(page: Any, scripted: Scripted) -> None:
    model = create_assistant(page)
    scripted.script(model, {"text": "Thought about it.", "first_token_delay_ms": 300})
    send(page, "think")
    wait_for_status(page, "completed")
    page.get_by_test_id("inspect-run").last.click()
    timings = page.get_by_test_id("run-timings")
    timings.wait_for(timeout=5000)
    page.get_by_test_id("run-model-time").filter(has_text="ms").wait_for(timeout=5000)
    model_ms, server_ms = ms_of(page, "run-model-time"), ms_of(page, "run-server-time")
    total_ms, ttft_ms = ms_of(page, "run-total-time"), ms_of(page, "run-ttft")
    assert 300 <= model_ms <= total_ms and 300 <= ttft_ms <= total_ms
    assert 0 <= server_ms <= total_ms
    assert "1 model call" in timings.inner_text()


def test_cancel_a_streaming_run_from_the_chat(page: Any, scripted: Scripted) -> None:
    model = create_assistant(page)
    scripted.script(model, ENDLESS)
    send(page, "go on forever")
    wait_for_status(page, "in_progress")
    page.get_by_test_id("chat-message").filter(has_text="and on").wait_for(timeout=5000)
    page.get_by_test_id("run-cancel").click()
    wait_for_status(page, "cancelled")
    assert page.get_by_test_id("run-cancel").count() == 0  # nothing left to cancel
    assert page.get_by_test_id("chat-send").is_enabled()


def test_cancel_a_live_run_from_the_inspector(page: Any, scripted: Scripted) -> None:
    model = create_assistant(page)
    scripted.script(model, ENDLESS)
    send(page, "go on forever")
    page.get_by_test_id("chat-message").filter(has_text="and on").wait_for(timeout=5000)
    page.get_by_test_id("inspect-run").last.click()
    wait_for_status(page, "in_progress")
    page.get_by_test_id("run-cancel").click()
    wait_for_status(page, "cancelled")
    page.get_by_test_id("run-event").filter(has_text="thread.run.cancelled").wait_for(
        timeout=STREAM_TIMEOUT_MS
    )
    assert page.get_by_test_id("run-cancel").count() == 0


def test_cancel_a_run_waiting_for_tool_outputs_from_the_inspector(
    page: Any, scripted: Scripted
) -> None:
    """No stream follows a run waiting for outputs: the page polls it to its end."""
    model = create_assistant(page, functions=[WEATHER])
    call = {"id": "call_paris", "name": "get_weather", "arguments": {"city": "Paris"}}
    scripted.script(model, {"tool_calls": [call]})  # (the answer after it is never asked for)
    send(page, "Weather in Paris?")
    wait_for_status(page, "requires_action")
    page.get_by_test_id("nav-inspector").click()  # no message yet to inspect it from
    page.get_by_test_id("run-item").first.get_by_role("link").click()
    wait_for_status(page, "requires_action")
    page.get_by_test_id("run-cancel").click()
    wait_for_status(page, "cancelled")
    assert page.get_by_test_id("run-cancel").count() == 0


def test_the_inspector_lists_the_projects_runs_newest_first(page: Any, scripted: Scripted) -> None:
    model = create_assistant(page)
    scripted.script(model, {"text": "first answer"}, {"text": "second answer"})
    send(page, "one")
    wait_for_status(page, "completed")
    first_thread = page.locator(".chat h2 .muted").inner_text()
    page.get_by_test_id("thread-new").click()
    send(page, "two")
    page.get_by_test_id("chat-message").filter(has_text="second answer").wait_for(
        timeout=STREAM_TIMEOUT_MS
    )
    page.get_by_test_id("nav-inspector").click()
    items = page.get_by_test_id("run-item")
    items.nth(1).wait_for(timeout=5000)
    first, second = items.nth(0).inner_text(), items.nth(1).inner_text()
    assert "completed" in first and "completed" in second and model in first
    threads = items.evaluate_all("els => els.map(e => e.dataset.threadId)")
    assert threads[0] != threads[1] and threads[1] == first_thread
    items.nth(1).get_by_role("link").click()  # the older run, in the first thread
    page.get_by_test_id("run-step").first.wait_for(timeout=5000)
    assert f"/console/runs/{first_thread}/run_" in page.url
    assert page.get_by_test_id("run-status").first.inner_text() == "completed"


@pytest.mark.skipif(UNAVAILABLE is not None, reason=f"no sandbox: {UNAVAILABLE}")
def test_code_interpreter_code_logs_and_chart_show_in_the_chat(
    page: Any, scripted: Scripted
) -> None:
    page.get_by_test_id("assistant-new").click()
    page.get_by_test_id("assistant-code-interpreter").check()
    page.get_by_test_id("assistant-model").locator("option").first.wait_for(state="attached")
    model = page.get_by_test_id("assistant-model").input_value()
    page.get_by_test_id("assistant-save").click()
    page.get_by_test_id("assistant-item").first.wait_for()
    code = (
        "import matplotlib.pyplot as plt\n"
        "plt.plot([1, 2, 3], [4, 1, 9])\n"
        "plt.savefig('/mnt/data/chart.png')\n"
        "print('plotted', 3 * 7)\n"
        "plt.show()"
    )
    scripted.script(
        model,
        {"tool_calls": [{"name": "code_interpreter", "arguments": {"code": code}}]},
        {"text": "Here is the chart."},
    )
    send(page, "plot it")
    page.get_by_test_id("chat-message").filter(has_text="Here is the chart.").wait_for(
        timeout=60000  # the sandbox's first kernel imports matplotlib
    )
    wait_for_status(page, "completed")
    assert "plt.savefig('/mnt/data/chart.png')" in page.get_by_test_id("code-input").inner_text()
    assert "plotted 21" in page.get_by_test_id("code-logs").inner_text()
    image = page.get_by_test_id("code-image").first
    image.wait_for(timeout=5000)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=code-image]')]"
        ".some(img => img.complete && img.naturalWidth > 0)",
        timeout=5000,
    )
    assert image.evaluate("img => img.naturalWidth") > 0
