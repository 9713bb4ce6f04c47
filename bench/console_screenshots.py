"""Screenshots of the console's main pages into docs/console/, for the README.

    .venv/bin/python -m bench.console_screenshots [--out docs/console]

Starts the scripted model (also the embedder) and ``assistantd serve`` with an admin key, then in
headless Chromium: the sign-in page; the admin page with a project, a key and a rate limit; the
files page with two files indexed in a store and a search; the playground after a cited
file_search answer and an answered function call; the run inspector of that last run; and the
admin page again with that usage charted and a run waiting for function outputs listed live.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import httpx
import openai
from playwright.sync_api import Page, sync_playwright

from assistantd.scripted_model.testing import running_scripted_model_process
from bench.bench_streaming import assistantd

ADMIN_KEY = "sk-admin-screenshots"
VIEWPORT = {"width": 1280, "height": 860}
FILES = {
    "refunds.txt": b"Refund policy. Customers receive a refund within 14 days of a return.",
    "shipping.txt": b"Shipping policy. Parcels leave the warehouse every weekday by courier.",
}
WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def script(model_url: str, model: str, *steps: dict[str, object]) -> None:
    root = model_url.rstrip("/").removesuffix("/v1")
    body = {"model": model, "responses": list(steps)}
    httpx.post(f"{root}/_script", json=body, timeout=10).raise_for_status()


def first_model(model_url: str) -> str:
    return httpx.get(f"{model_url}/models", timeout=10).json()["data"][0]["id"]


def sign_in(page: Page, base: str, key: str) -> None:
    page.goto(f"{base}/console")
    page.get_by_test_id("api-key-input").fill(key)
    page.get_by_test_id("sign-in").click()


def admin(page: Page, base: str, model: str, out: Path) -> str:
    """A project with a key and a rate limit; returns the project key."""
    sign_in(page, base, ADMIN_KEY)
    page.get_by_test_id("project-name").fill("support-bot")
    page.get_by_test_id("project-create").click()
    row = page.get_by_test_id("project-row").filter(has_text="support-bot")
    row.get_by_test_id("key-create").click()  # a new project opens on its own
    key = row.get_by_test_id("new-key").inner_text()
    page.get_by_test_id("limit-model").fill(model)
    page.get_by_test_id("limit-requests").fill("60")
    page.get_by_test_id("limit-tokens").fill("100000")
    page.get_by_test_id("limit-save").click()
    page.get_by_test_id("rate-limit-row").first.wait_for()
    page.screenshot(path=out / "admin.png", full_page=True)
    page.get_by_test_id("sign-out").click()
    return key


def files(page: Page, out: Path) -> str:
    """Two files indexed in a store, and a search; returns the store id."""
    page.get_by_role("link", name="Files & vector stores").click()
    for name, data in FILES.items():
        upload = {"name": name, "mimeType": "text/plain", "buffer": data}
        page.get_by_test_id("file-upload").set_input_files(upload)
        page.get_by_test_id("file-row").filter(has_text=name).wait_for()
    page.get_by_test_id("store-name").fill("policies")
    page.get_by_test_id("store-create").click()
    store = page.get_by_test_id("vector-store").first
    for name in FILES:
        store.get_by_test_id("store-add-file").select_option(label=name)
        store.get_by_test_id("store-add").click()
        store.locator("li", has_text=name).get_by_text("completed").wait_for(timeout=15000)
    store.get_by_test_id("store-search-input").fill("how long does a refund take")
    store.get_by_test_id("store-search").click()
    store.get_by_test_id("search-result").first.wait_for()
    page.screenshot(path=out / "files.png", full_page=True)
    return str(store.get_attribute("data-id"))


def playground(page: Page, model_url: str, store_id: str, out: Path) -> None:
    """A cited file_search answer, then two function calls answered in the chat."""
    page.get_by_role("link", name="Playground").click()
    page.get_by_test_id("assistant-new").click()
    page.get_by_test_id("assistant-name").fill("Support")
    model = page.get_by_test_id("assistant-model").input_value()  # the server's first model
    page.get_by_test_id("assistant-instructions").fill("Answer from the policies; be terse.")
    page.get_by_test_id("assistant-file-search").check()
    page.get_by_test_id("assistant-vector-stores").fill(store_id)
    page.get_by_test_id("assistant-functions").fill(json.dumps([WEATHER], indent=2))
    page.get_by_test_id("assistant-save").click()
    page.get_by_test_id("assistant-item").first.wait_for()
    search = {"name": "file_search", "arguments": {"queries": ["refund days"]}}
    script(
        model_url,
        model,
        {"tool_calls": [search]},
        {
            "text": "Refunds arrive within 14 days of the return 【0:0†refunds.txt】.",
            "chunk_delay_ms": 5,
        },
    )
    chat(page, "How long do refunds take?", "completed")
    calls = [
        {"id": "call_paris", "name": "get_weather", "arguments": {"city": "Paris"}},
        {"id": "call_rome", "name": "get_weather", "arguments": {"city": "Rome"}},
    ]
    script(model_url, model, {"tool_calls": calls}, {"text": "Paris is sunny, Rome is rainy."})
    chat(page, "And the weather in Paris and Rome?", "requires_action")
    page.get_by_test_id("tool-output-input").nth(0).fill('{"sky": "sunny", "celsius": 21}')
    page.get_by_test_id("tool-output-input").nth(1).fill('{"sky": "rainy", "celsius": 14}')
    page.screenshot(path=out / "playground-function-call.png", full_page=True)
    page.get_by_test_id("tool-output-submit").click()
    status(page, "completed")
    page.screenshot(path=out / "playground.png", full_page=True)


def chat(page: Page, text: str, until: str) -> None:
    page.get_by_test_id("chat-input").fill(text)
    page.get_by_test_id("chat-send").click()
    status(page, until)


def status(page: Page, value: str) -> None:
    page.get_by_test_id("run-status").filter(has_text=value).wait_for(timeout=15000)


def admin_usage(page: Page, base: str, key: str, model_url: str, out: Path) -> None:
    """The project's usage in the chart, and one of its runs waiting for a function's output."""
    project = openai.OpenAI(base_url=f"{base}/v1", api_key=key)
    model = first_model(model_url)
    call = {"id": "call_lyon", "name": "get_weather", "arguments": {"city": "Lyon"}}
    script(model_url, model, {"tool_calls": [call]})
    assistant = project.beta.assistants.create(
        model=model, tools=[{"type": "function", "function": WEATHER}]
    )
    project.beta.threads.create_and_run_poll(assistant_id=assistant.id)
    page.get_by_test_id("sign-out").click()
    sign_in(page, base, ADMIN_KEY)
    page.get_by_test_id("usage-row").first.wait_for()
    page.get_by_test_id("live-run").first.wait_for()
    page.screenshot(path=out / "admin-usage.png", full_page=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("docs/console"))
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed (apt-get install chromium)")
    args.out.mkdir(parents=True, exist_ok=True)
    with (
        running_scripted_model_process() as model_url,
        tempfile.TemporaryDirectory(prefix="console-shots-") as data_dir,
    ):
        os.environ.update(
            {
                "ASSISTANTD_ADMIN_KEY": ADMIN_KEY,
                "ASSISTANTD_EMBEDDING_BACKEND": "openai",
                "ASSISTANTD_EMBEDDING_BASE_URL": model_url,
                "ASSISTANTD_EMBEDDING_MODEL": "text-embedding-3-small",
                "ASSISTANTD_EMBEDDING_DIMENSIONS": "256",
            }
        )
        with assistantd(model_url, Path(data_dir), None) as (base, _), sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport=VIEWPORT)
            page.goto(f"{base}/console")
            page.get_by_test_id("api-key-input").wait_for()
            page.screenshot(path=args.out / "sign-in.png")
            key = admin(page, base, first_model(model_url), args.out)
            sign_in(page, base, key)
            store_id = files(page, args.out)
            playground(page, model_url, store_id, args.out)
            page.get_by_test_id("inspect-run").last.click()
            page.get_by_test_id("run-step").nth(1).wait_for()
            completed = page.get_by_test_id("run-event").filter(has_text="thread.run.completed")
            completed.wait_for()
            page.get_by_test_id("run-timings").wait_for()
            page.get_by_test_id("run-item").first.wait_for()
            page.screenshot(path=args.out / "inspector.png", full_page=True)
            admin_usage(page, base, key, model_url, args.out)
            browser.close()
    print("\n".join(sorted(str(p) for p in args.out.glob("*.png"))))


if __name__ == "__main__":
    main()
