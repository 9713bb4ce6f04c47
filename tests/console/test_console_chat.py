"""The console in headless Chromium against a real server and the scripted model: sign in, create
an assistant, chat with a streamed answer; no request leaves the machine."""

from __future__ import annotations

from typing import Any

from tests.console.conftest import create_assistant, send, sign_in, wait_for_status


def test_sign_in_create_an_assistant_and_chat(browser: Any, console_server: str) -> None:
    context = browser.new_context()
    page = context.new_page()
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    sign_in(page, console_server)
    create_assistant(page)
    send(page, "hi")
    wait_for_status(page, "completed")
    texts = page.get_by_test_id("chat-message").all_inner_texts()
    context.close()
    assert "hi" in texts[0] and "Echo: hi" in texts[-1]
    assert [url for url in urls if not url.startswith(console_server)] == []


def test_what_is_typed_survives_the_models_arriving_late(page: Any) -> None:
    """/v1/models answers late (held back in the browser): the form keeps what was typed."""
    release = []
    page.route("**/v1/models", lambda route: release.append(route))
    page.reload()  # signed in again from sessionStorage, now with /v1/models held
    page.get_by_test_id("assistant-new").click()
    page.get_by_test_id("assistant-instructions").fill("Typed before the models came.")
    while not release:  # the held request reaches the route handler
        page.wait_for_timeout(20)
    for route in release:
        route.continue_()
    page.get_by_test_id("assistant-model").locator("option").first.wait_for(state="attached")
    instructions = page.get_by_test_id("assistant-instructions").input_value()
    assert instructions == "Typed before the models came."
