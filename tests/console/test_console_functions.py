"""Answering a function call from the console, then reading the run in the inspector."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import WEATHER, create_assistant, send, wait_for_status
from tests.runs.conftest import Scripted, script_two_weather_calls


def answer_two_weather_calls(page: Any, scripted: Scripted) -> None:
    model = create_assistant(page, functions=[WEATHER])
    script_two_weather_calls(scripted, model)
    send(page, "Weather in Paris and Rome?")
    wait_for_status(page, "requires_action")
    calls = page.get_by_test_id("function-call")
    assert "Paris" in calls.nth(0).inner_text() and "Rome" in calls.nth(1).inner_text()
    inputs = page.get_by_test_id("tool-output-input")
    inputs.nth(0).fill("sunny")
    inputs.nth(1).fill("rainy")
    page.get_by_test_id("tool-output-submit").click()
    wait_for_status(page, "completed")


def test_answer_a_function_call_and_see_the_final_answer(page: Any, scripted: Scripted) -> None:
    page.set_viewport_size({"width": 1280, "height": 360})  # too short for the whole chat
    answer_two_weather_calls(page, scripted)
    texts = page.get_by_test_id("chat-message").all_inner_texts()
    assert "Paris is sunny, Rome is rainy." in texts[-1]
    # the chat follows the answer down, past the tool calls
    overflow, below = page.locator(".chat .messages").evaluate(
        "el => [el.scrollHeight - el.clientHeight, el.scrollHeight - el.scrollTop - el.clientHeight]"
    )
    assert overflow > 0 and below < 2
    assert page.get_by_test_id("tool-outputs").count() == 0


def test_the_inspector_shows_the_tool_calls_with_their_outputs(
    page: Any, scripted: Scripted
) -> None:
    answer_two_weather_calls(page, scripted)
    page.get_by_test_id("inspect-run").last.click()
    steps = page.get_by_test_id("run-step")
    steps.nth(1).wait_for(timeout=5000)
    text = page.locator("[data-testid=run-step][data-type=tool_calls]").first.inner_text()
    assert "get_weather" in text and "Paris" in text and "Rome" in text
    assert "sunny" in text and "rainy" in text
    assert page.locator("[data-testid=run-step][data-type=message_creation]").count() == 1
    events = page.get_by_test_id("run-event")
    events.filter(has_text="thread.run.completed").wait_for(timeout=5000)
    assert any("thread.run.requires_action" in text for text in events.all_inner_texts())
